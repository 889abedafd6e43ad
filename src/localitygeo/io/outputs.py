"""The output-path rule: an output never replaces an input.

Every command that writes calls :func:`check_outputs` before doing any work.
An output path is refused when it is

- one of the command's input files (a layer, a data table, a proposal, a
  lookup, the manifest, a Shapefile's sidecar, a GeoPackage's journal);
- an existing file or folder inside an input boundary set's folder (or an
  input folder); a *new* file there, such as a new proposal under
  ``proposals/``, is allowed;
- for a folder that would be replaced (``apply --overwrite``), a folder that
  is or contains any input;
- the same as another output of the same command;

or when its folder is missing or cannot be written. Paths are compared after
resolving symbolic links and ``..``, and by device and inode, so a hard link,
another spelling of the path or another letter case on a case-insensitive
file system is the same file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localitygeo.errors import OutputError

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet

__all__ = ["check_outputs"]

_SIDECARS = ("-journal", "-wal", "-shm")


@dataclass(frozen=True)
class _Input:
    path: Path
    role: str
    folder: bool = False


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    sa = _stat(a)
    return sa is not None and sa == _stat(b)


def _within(path: Path, folder: Path) -> bool:
    """Return whether ``path`` is ``folder`` or lies anywhere below it."""
    target = _stat(folder)
    if target is None:
        return False
    resolved = path.resolve()
    if resolved.is_relative_to(folder.resolve()):
        return True
    return any(_stat(p) == target for p in (resolved, *resolved.parents))


def _with_sidecars(path: Path, role: str) -> list[_Input]:
    """Return an input file with the files that belong to it (Shapefile parts, journals)."""
    out = [_Input(path, role)]
    folder = path.parent
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    stem = path.stem + "." if path.suffix.lower() == ".shp" else None
    for name in names:
        if name != path.name and (
            (stem is not None and name.startswith(stem))
            or any(name == path.name + s for s in _SIDECARS)
        ):
            out.append(_Input(folder / name, role))
    return out


def _set_inputs(source: str | Path | BoundarySet) -> list[_Input]:
    """Return the manifest, folder and every file a boundary set reads."""
    from localitygeo.io.manifest import read_manifest

    if isinstance(source, str | Path):
        spec, manifest = read_manifest(source)
        specs = spec["layers"]
    else:
        if source.path is None:
            return []
        manifest, specs = source.path, source.specs
    out = [_Input(manifest.parent, "the input set's folder", folder=True)]
    out += _with_sidecars(manifest, "the input set's manifest")
    for key, ls in specs.items():
        if ls.path is not None:  # None: a layer built from blocks, without a file
            out += _with_sidecars(ls.path, f"layer '{key}' of the input set")
        if ls.blocks is not None and ls.blocks.lookup is not None:
            out += _with_sidecars(ls.blocks.lookup, f"the blocks lookup of layer '{key}'")
    return out


def _check_folder(option: str, path: Path, folder_output: bool) -> None:
    parent = path.parent
    if folder_output:  # created with its parents: the nearest existing one must be writable
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if not parent.exists():
        raise OutputError(f"cannot write {option}: its folder does not exist", path=path)
    if not parent.is_dir():
        raise OutputError(f"cannot write {option}: {parent} is not a folder", path=path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {option}: its folder is not writable", path=path)


def check_outputs(
    outputs: Mapping[str, str | Path | None],
    *,
    files: Mapping[str, str | Path | None] | None = None,
    sets: Iterable[str | Path | BoundarySet] = (),
    folder: bool = False,
    replace: bool = False,
) -> None:
    """Refuse output paths that would replace an input (see the module's rules).

    Parameters
    ----------
    outputs : mapping of str to path or None
        Each output by the option that names it (``"-o"``, ``"--junit"``);
        ``None`` when that output is not asked for.
    files : mapping of str to path or None, optional
        Input files (or folders) by the option that names them.
    sets : iterable of path or BoundarySet
        Input boundary sets (a folder, a manifest or a set read from disk).
    folder : bool, default False
        The outputs are folders (created with their parents).
    replace : bool, default False
        An existing output folder would be replaced.

    Raises
    ------
    OutputError
        One line naming the output path and the input it would replace.
    """
    inputs: list[_Input] = []
    for option, f in (files or {}).items():
        if f is not None:
            p = Path(f)
            if p.is_dir():
                inputs.append(_Input(p, f"the {option} folder", folder=True))
            else:
                inputs += _with_sidecars(p, f"the {option} file")
    for s in sets:
        inputs += _set_inputs(s)
    seen: dict[str, Path] = {}
    for option, out in outputs.items():
        if out is None:
            continue
        path = Path(out)
        for other, earlier in seen.items():
            if _same(path, earlier):
                raise OutputError(f"{other} and {option} name the same file", path=path)
        seen[option] = path
        _check_one(option, path, inputs, folder=folder, replace=replace)
        _check_folder(option, path, folder)


def _check_one(
    option: str, path: Path, inputs: list[_Input], *, folder: bool, replace: bool
) -> None:
    for inp in inputs:  # the output is an input itself
        if _same(path, inp.path):
            what = f"is {inp.role}" if inp.folder else f"would replace {inp.role}"
            raise OutputError(f"{option} {what} ({inp.path}); choose another path", path=path)
    if not os.path.lexists(path):
        return  # a new file, even inside an input folder, replaces nothing
    folders_first = sorted(inputs, key=lambda i: not i.folder)
    for inp in folders_first:
        if inp.folder and _within(path, inp.path):
            raise OutputError(
                f"{option} would replace something inside {inp.role} ({inp.path}); "
                "write outputs elsewhere",
                path=path,
            )
    if folder and replace:
        for inp in folders_first:
            if _within(inp.path, path):
                raise OutputError(
                    f"{option} would replace a folder holding {inp.role} ({inp.path}); "
                    "choose another folder",
                    path=path,
                )
