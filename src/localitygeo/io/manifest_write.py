"""Start a boundary set from the files a council has: write its ``boundaries.toml``.

:func:`write_manifest` reads each layer file once, finds its code and name
columns when they are not given, checks the layer as
:func:`~localitygeo.read_boundaries` reads a manifest's layers (what
``validate`` reports, such as a duplicate code or an empty geometry, is left
for it to report), and writes a manifest that refers to the files where they
are (paths relative to the manifest where they share a folder with it). No
layer file is copied or changed. The manifest is read back with
:func:`~localitygeo.io.manifest.read_manifest` before it is written, so a
set that :func:`write_manifest` writes is one
:func:`~localitygeo.read_boundaries` reads.

How columns are found when not given (``columns_of``):

- the code column is a column with a value in every row, each value
  different, whose name ends in ``CD`` (the ONS convention: ``WD13CD``,
  ``LSOA11CD``), or failing that is ``code`` or ``id`` or ends in ``_code``
  or ``_id``. When no column, or more than one, qualifies at the first level
  that has any, the error lists the columns with a distinct value in every
  row and asks for the code column to be named;
- the name column is the code's ``NM`` twin (``WD13CD`` → ``WD13NM``), or
  failing that a column called ``name``; otherwise the layer has no names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localitygeo.errors import ColumnError, InputError, ManifestError, OutputError
from localitygeo.io import toml_write as _toml

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["columns_of", "write_manifest"]

MANIFEST = "boundaries.toml"
_ONS_CODE = re.compile(r"[A-Za-z0-9_]*CD")
_PLAIN_CODE = re.compile(r"(?i)(code|id|.*_code|.*_id)")
_SHOWN = 8  # candidate columns named in a message


def _distinct(frame: pd.DataFrame, column: str) -> bool:
    values = frame[column]
    return bool(values.notna().all() and values.is_unique)


def columns_of(
    frame: pd.DataFrame, *, code: str | None = None, name: str | None = None
) -> tuple[str, str | None]:
    """Return the (code, name) columns of a layer's attribute table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The layer's attributes (a geometry column is ignored).
    code, name : str, optional
        Columns already chosen; the other is found (see the module).

    Returns
    -------
    (code, name) : tuple
        The code column and the name column, or None for no names.

    Raises
    ------
    ColumnError
        ``code`` or ``name`` is not a column, or no single column qualifies
        as the code (the message lists the columns that could be).
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    attributes = [str(c) for c in frame.columns if c != geometry]
    for given, what in ((code, "code"), (name, "name")):
        if given is not None and given not in attributes:
            raise ColumnError(
                f"no {what} column {given!r}; columns are: {', '.join(attributes) or 'none'}"
            )
    if code is None:
        unique = [c for c in attributes if _distinct(frame, c)]
        for pattern in (_ONS_CODE, _PLAIN_CODE):
            found = [c for c in unique if pattern.fullmatch(c)]
            if found:
                break
        if len(found) != 1:
            shown = ", ".join(repr(c) for c in (found or unique)[:_SHOWN]) or "none"
            why = "several columns could hold the codes" if found else "no column looks like codes"
            raise ColumnError(
                f"{why}; name the code column (columns with a distinct value in every row: {shown})"
            )
        code = found[0]
    if name is None:
        twin = code[:-2] + "NM" if code.endswith("CD") else None
        if twin in attributes:
            name = twin
        else:
            plain = [c for c in attributes if c.lower() == "name" and c != code]
            name = plain[0] if plain else None
    return code, name


def _entry(folder: Path, key: str, source: Any) -> dict[str, Any]:
    """Read one layer file, find its columns and check it: its manifest entry."""
    import geopandas as gpd

    from localitygeo.io.layers import _checked, _read_raw

    spec = dict(source) if isinstance(source, Mapping) else {"path": source}
    if spec.get("path") is None and spec.get("blocks") is not None:  # no file: a lookup
        about_file = sorted(set(spec) - {"path", "blocks"})
        if about_file:
            raise ManifestError(
                f"layer {key!r} has no file, so its units come from its blocks; "
                f"{', '.join(map(str, about_file))} would describe a file"
            )
        return {"path": None, "blocks": _blocks(folder, key, spec["blocks"])}
    unknown = set(spec) - {"path", "code", "name", "layer", "blocks"}
    if unknown or not isinstance(spec.get("path"), (str, os.PathLike)):
        raise ManifestError(
            f"layer {key!r}: give a path, or a mapping of path, code, name, layer and blocks "
            f"(not {', '.join(sorted(map(str, unknown))) or 'without a path'})"
        )
    path = Path(spec["path"]).absolute()
    layer = spec.get("layer")
    where = str(layer) if layer is not None else path.stem
    raw, kind = _read_raw(path, layer, "pyogrio", where)
    if not isinstance(raw, gpd.GeoDataFrame) or len(raw) == 0:  # the reader's error says why
        _checked(raw, kind, path, where, "code", None, None, None, True, True)
    try:
        code, name = columns_of(raw, code=spec.get("code"), name=spec.get("name"))
    except ColumnError as exc:
        raise ColumnError(f"layer {key!r}: {exc.args[0]}", path=path, layer=where) from None
    # strict=False: as a manifest's layers are read, so that what validate would report
    # (a duplicate code, an empty geometry) is its finding, not a refusal here
    _checked(raw, kind, path, where, code, name, None, None, True, False)
    entry = {"path": _shown(path, folder), "code": code, "name": name, "layer": layer}
    if spec.get("blocks") is not None:
        entry["blocks"] = _blocks(folder, key, spec["blocks"])
    return entry


def _shown(path: Path, folder: Path) -> str:
    """``path`` as the manifest in ``folder`` names it: relative where they share a folder."""
    path = path.absolute()
    try:
        if Path(os.path.commonpath([path, folder.absolute()])) != Path(path.anchor):
            return Path(os.path.relpath(path, folder.absolute())).as_posix()
    except ValueError:  # another drive
        pass
    return path.as_posix()  # sharing no folder with the set but the root: absolute


def _blocks(folder: Path, key: str, value: Any) -> str | dict[str, str]:
    """Return a layer's ``blocks`` value: the blocks layer, or a table with a lookup file."""
    if isinstance(value, str):
        return value
    allowed = {"layer", "lookup", "block_code", "unit_code", "column", "unit_name"}
    if not isinstance(value, Mapping) or set(value) - allowed or "layer" not in value:
        raise ManifestError(
            f"layer {key!r}: blocks is a layer name or a mapping of {', '.join(sorted(allowed))} "
            "with a layer"
        )
    out = {str(k): str(v) for k, v in value.items()}
    if "lookup" in value:
        lookup = Path(value["lookup"])
        if not lookup.is_file():
            raise InputError("lookup file not found", path=lookup, layer=key)
        out["lookup"] = _shown(lookup, folder)
    return out


def _text(
    set_name: str | None,
    crs: str | None,
    entries: Mapping[str, Mapping[str, Any]],
    nesting: Iterable[tuple[str, str]],
) -> str:
    q = _toml.value
    lines = ["# written by localitygeo init: edit freely (see docs/manifest.md)"]
    if set_name is not None:
        lines.append(f"name = {q(set_name)}")
    if crs is not None:
        lines.append(f"crs = {q(crs)}")
    for key, e in entries.items():
        lines += ["", _toml.table("layers", key)]
        if e["path"] is not None:  # None: a layer without a file, built from its blocks
            lines += [f"path = {q(e['path'])}", f"code = {q(e['code'])}"]
            if e["name"] is not None:
                lines.append(f"name = {q(e['name'])}")
            if e["layer"] is not None:
                lines.append(f"layer = {q(e['layer'])}")
        if "blocks" in e:
            lines.append(f"blocks = {q(e['blocks'])}")
    for child, parent in nesting:
        lines += ["", "[[nesting]]", f"child = {q(child)}", f"parent = {q(parent)}"]
    return "\n".join(lines) + "\n"


def write_manifest(
    folder: str | Path,
    layers: Mapping[str, Any],
    *,
    nesting: Iterable[tuple[str, str]] = (),
    name: str | None = None,
    crs: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``folder/boundaries.toml`` for layer files where they are.

    Parameters
    ----------
    folder : str or pathlib.Path
        The boundary set's folder (created if missing).
    layers : mapping
        Layer name → the file's path, or a mapping with ``path`` and any of
        ``code``, ``name`` (columns), ``layer`` (inside a multi-layer file)
        and ``blocks``: the layer whose units it is built from, or a mapping
        with that ``layer`` and a ``lookup`` CSV file (and the manifest's
        other ``blocks`` keys; see docs/manifest.md). A mapping with
        ``blocks`` and no ``path`` is a layer without a file, its units taken
        from the lookup (``unit_name`` naming its column of names) or from a
        column of the blocks layer. Columns not given are found (see the
        module).
    nesting : iterable of (child, parent)
        Nesting rules, with the default tolerance and severity.
    name : str, optional
        The set's name (default: the folder's name).
    crs : str, optional
        The projected working CRS (default: chosen from the data when read).
    overwrite : bool, default False
        Replace a manifest already in ``folder``.

    Returns
    -------
    pathlib.Path
        The manifest written (:func:`~localitygeo.io.manifest.read_manifest`
        tells what was chosen for each layer).

    Raises
    ------
    LocalityGeoError
        What :func:`~localitygeo.read_layer` raises for a layer file
        (InputError also for a missing lookup file); ColumnError when a code
        column cannot be found; ManifestError for a nesting rule or a blocks
        layer naming an unknown layer, layers built from each other in a
        cycle, or no layers; CRSError for a CRS that is not projected;
        OutputError when the manifest exists (without ``overwrite``) or would
        replace a layer file.
    """
    from localitygeo.geometry.crs import parse_crs
    from localitygeo.io.atomic import write_text_atomic
    from localitygeo.io.manifest import read_manifest
    from localitygeo.io.outputs import check_outputs
    from localitygeo.model.blocks import order_built

    folder = Path(folder)
    target = folder / MANIFEST
    if not layers:
        raise ManifestError("a boundary set needs at least one layer", path=target)
    if target.exists() and not overwrite:
        raise OutputError(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    sources = {k: v.get("path") if isinstance(v, Mapping) else v for k, v in layers.items()}
    paths = {f"layer {k}": Path(f) for k, f in sources.items() if isinstance(f, (str, os.PathLike))}
    # folder=True: the manifest's folder may be missing (it is created with its parents)
    check_outputs({"the manifest": target}, files=paths, folder=True)
    rules = [(str(c), str(p)) for c, p in nesting]
    for child, parent in rules:
        missing = [n for n in (child, parent) if n not in layers]
        if missing or child == parent:
            raise ManifestError(
                f"nesting {child}:{parent} names "
                + (f"no layer {missing[0]!r}" if missing else "one layer twice")
                + f"; layers are: {', '.join(map(str, layers))}",
                path=target,
            )
    if crs is not None:
        parse_crs(crs, "crs", projected=True)
    built = {
        str(k): v["blocks"] if isinstance(v["blocks"], str) else v["blocks"].get("layer")
        for k, v in layers.items()
        if isinstance(v, Mapping) and v.get("blocks") is not None
    }
    for key, below in built.items():
        if below not in layers or below == key:
            raise ManifestError(
                f"layer {key!r} is built from blocks of {below!r}, which is not another layer; "
                f"layers are: {', '.join(map(str, layers))}",
                path=target,
            )
    order_built(built)  # a cycle is refused here, before any file is read
    entries = {str(k): _entry(folder, str(k), v) for k, v in layers.items()}
    text = _text(name, crs, entries, rules)
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".{MANIFEST}.check"
    try:  # read back before it replaces anything: the set must be readable as written
        write_text_atomic(probe, text)
        read_manifest(probe)
    finally:
        probe.unlink(missing_ok=True)
    return write_text_atomic(target, text)
