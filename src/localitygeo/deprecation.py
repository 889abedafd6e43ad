"""Old import paths and parameter names, kept for one release.

Before the stage layout (0.1), modules sat flat in the package:
``localitygeo.boundaries``, ``localitygeo.nesting``... :data:`OLD_PATHS` maps
each one still served to its new home. Importing an old path works, warns
with a :class:`DeprecationWarning` naming the new path, and gives a thin
module whose attributes are the new module's own objects. :func:`renamed`
does the same for a function's renamed keyword parameters.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

__all__ = ["OLD_PATHS", "install", "renamed"]

F = TypeVar("F", bound=Callable[..., Any])

#: Old module (under ``localitygeo.``) -> the modules that replaced it (the first
#: named in the warning; attributes are looked up in each in turn).
OLD_PATHS: dict[str, tuple[str, ...]] = {
    "boundaries": ("localitygeo.model.boundary_set", "localitygeo.io.manifest"),
    "blocks": ("localitygeo.model.blocks",),
    "crs": ("localitygeo.geometry.crs",),
    "nesting": ("localitygeo.geometry.fitting",),
    "overlay": ("localitygeo.geometry.overlay", "localitygeo.geometry.overlap_cache"),
    "coverage": ("localitygeo.geometry.coverage",),
    "judgement": ("localitygeo.validation.judgement",),
    "report": ("localitygeo.validation.report",),
    "formats": ("localitygeo.validation.renderers",),
    "proposal": ("localitygeo.changes.proposal",),
    "change": ("localitygeo.changes.operations",),
    "impact_report": ("localitygeo.changes.report", "localitygeo.changes.report_tables"),
    "imd": ("localitygeo.aggregation.imd",),
    "inequality": ("localitygeo.aggregation.inequality",),
    "indicators": ("localitygeo.io.tables",),
    "numbers": ("localitygeo.io.numbers",),
    "coordinates": ("localitygeo.io.coordinates",),
    "safecsv": ("localitygeo.io.safecsv",),
    "export": ("localitygeo.io.export",),
    "example": ("localitygeo.io.example_city", "localitygeo.io.example_files"),
}

_PREFIX = "localitygeo."


class _Loader(importlib.abc.Loader):
    def __init__(self, new: tuple[str, ...]) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        warnings.warn(
            f"{module.__name__} is deprecated and will be removed in the next release; "
            f"import {' or '.join(self.new)} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        homes = [importlib.import_module(m) for m in self.new]
        module.__doc__ = homes[0].__doc__
        module.__all__ = [n for m in homes for n in getattr(m, "__all__", [])]  # type: ignore[attr-defined]

        def __getattr__(name: str) -> Any:
            for home in homes:
                if hasattr(home, name):
                    return getattr(home, name)
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

        def __dir__() -> list[str]:
            return sorted({n for m in homes for n in dir(m)})

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__dir__ = __dir__  # type: ignore[method-assign]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_PREFIX):
            return None
        new = OLD_PATHS.get(fullname[len(_PREFIX) :])
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(new))


def install() -> None:
    """Serve :data:`OLD_PATHS` (once per interpreter)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Accept a parameter's old keyword for one release, with a :class:`DeprecationWarning`.

    Parameters
    ----------
    **old_to_new : str
        Old keyword -> new parameter name, e.g. ``renamed(bset="boundary_set")``.

    Returns
    -------
    callable
        A decorator. Calling the function with an old keyword warns and passes
        the value under its new name; giving both is a ``TypeError``.
    """

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old}= and {new}=; use {new}=")
                    warnings.warn(
                        f"{func.__name__}({old}=...) is deprecated; use {new}=",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return cast(F, call)

    return wrap
