"""The package's layout: stage folders, modules that bind as modules, no private name across stages.

These are the rules of docs/conventions.md's "Layout" section, checked on the
source tree itself.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import localitygeo
from localitygeo.deprecation import OLD_PATHS

PACKAGE = Path(localitygeo.__file__).parent
STAGES = ("io", "model", "geometry", "validation", "changes", "aggregation", "maps", "cli")
TOP_LEVEL = {"__init__", "__main__", "errors", "profiling", "deprecation"}
MAX_LINES = 420  # "about 400"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


FILES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
MODULES = sorted(FILES)


def _stage(module: str) -> str:
    """``localitygeo.geometry.engine.grid`` -> ``geometry``; top-level modules are their own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def private_imports_across_stages(source: str, module: str) -> list[str]:
    """Return the ``from X import _name`` (or ``import X._mod``) of ``source`` that cross stages."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("localitygeo")
        ):
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                private = any(
                    part.startswith("_") and not part.startswith("__")
                    for part in dotted.split(".")[1:]
                )
                if private and _stage(node.module) != _stage(module):
                    found.append(f"from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                private = any(p.startswith("_") and not p.startswith("__") for p in parts[1:])
                if parts[0] == "localitygeo" and private and _stage(alias.name) != _stage(module):
                    found.append(f"import {alias.name}")
    return found


def test_each_stage_is_a_folder_with_a_docstring():
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), stage
        assert ast.get_docstring(ast.parse(init.read_text())), (
            f"{stage}/__init__.py has no docstring"
        )


def test_only_cross_cutting_modules_sit_at_the_top():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL


def test_every_module_binds_a_module():
    # One fresh interpreter: ``import a.b as m`` reads the attribute chain, so a
    # function named like its module would come back instead of the module.
    lines = ["import types, warnings", "warnings.simplefilter('error')"]
    for i, name in enumerate(MODULES):
        if name.endswith("__main__"):
            continue
        lines.append(f"import {name} as m{i}")
        lines.append(f"assert isinstance(m{i}, types.ModuleType), {name!r}")
    lines.append("import localitygeo as lg")
    lines.append("assert callable(lg.validate) and callable(lg.aggregate) and callable(lg.impact)")
    res = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr


def test_no_function_shares_its_module_name():
    clashes = []
    for name in MODULES:
        leaf = name.rsplit(".", 1)[-1]
        tree = ast.parse(_source(name))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        if leaf in defined:
            clashes.append(name)
    # and no public name of the package is also one of its folders or modules
    clashes += [
        n for n in localitygeo.__all__ if (PACKAGE / n).is_dir() or (PACKAGE / f"{n}.py").is_file()
    ]
    assert clashes == []


def _source(module: str) -> str:
    return FILES[module].read_text()


def test_no_private_name_is_imported_across_stages():
    found = {m: private_imports_across_stages(_source(m), m) for m in MODULES}
    assert {m: f for m, f in found.items() if f} == {}


def test_the_private_import_check_would_catch_one():
    planted = "from localitygeo.geometry.measure import _polygonal\nimport localitygeo.cli._echo\n"
    assert private_imports_across_stages(planted, "localitygeo.aggregation.imd") == [
        "from localitygeo.geometry.measure import _polygonal",
        "import localitygeo.cli._echo",
    ]
    # within one stage it is allowed, and so are dunders
    assert private_imports_across_stages(planted, "localitygeo.geometry.coverage") == [
        "import localitygeo.cli._echo"
    ]
    assert private_imports_across_stages("from localitygeo import __version__", "x") == []


def test_modules_stay_small():
    long = {m: n for m in MODULES if (n := len(_source(m).splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_old_paths_warn_and_give_the_same_objects(old):
    sys.modules.pop(f"localitygeo.{old}", None)
    with pytest.warns(DeprecationWarning, match=OLD_PATHS[old][0].replace(".", r"\.")):
        shim = importlib.import_module(f"localitygeo.{old}")
    names = list(shim.__all__)
    assert names, old
    for name in names:
        home = next(m for m in OLD_PATHS[old] if hasattr(importlib.import_module(m), name))
        assert getattr(shim, name) is getattr(importlib.import_module(home), name)
    with pytest.raises(AttributeError):
        shim.no_such_name  # noqa: B018


def test_moved_functions_keep_working_from_the_old_paths():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from localitygeo.boundaries import BoundarySet, read_boundaries
        from localitygeo.nesting import best_fit

        from localitygeo.io import read_layer
    assert read_boundaries is localitygeo.read_boundaries
    assert BoundarySet is localitygeo.BoundarySet
    assert best_fit is localitygeo.best_fit
    assert read_layer is localitygeo.read_layer
