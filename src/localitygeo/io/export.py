"""Write a boundary set to disk: one GeoPackage of layers and a manifest.

After a proposal is agreed, the changed set is what a council publishes and
keeps under version control. :func:`write_boundaries` writes every layer into
``boundaries.gpkg`` (one GeoPackage layer each, in the working CRS) and a
``boundaries.toml`` that :func:`localitygeo.read_boundaries` reads back to
the same set: codes, names, attributes, nesting rules, tolerances and which
layers are built from blocks. The folder appears whole or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from localitygeo.deprecation import renamed
from localitygeo.errors import OutputError
from localitygeo.io import toml_write as _toml

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet

__all__ = ["write_boundaries"]

_GPKG = "boundaries.gpkg"


def _manifest(bset: BoundarySet, renamed: dict[str, dict[object, str]] | None = None) -> str:
    q = _toml.value
    renamed = renamed or {}
    lines = [f"name = {q(bset.name)}", f"crs = {q(bset.crs.to_string())}"]
    if bset.description:
        lines.append(f"description = {q(bset.description)}")
    for key in bset.layers:
        spec = bset.specs.get(key)
        lines += ["", _toml.table("layers", key), f"path = {q(_GPKG)}", f"layer = {q(key)}"]
        lines += ['code = "code"', 'name = "name"']
        if spec is not None and spec.title:
            lines.append(f"title = {q(spec.title)}")
        if spec is not None and spec.indicators:
            names = renamed.get(key, {})  # a column written under another name keeps its entry
            entries = {names.get(c, c): dict(e) for c, e in spec.indicators.items()}
            lines.append(f"indicators = {q(entries)}")
        if key in bset.built_from:
            lines.append(f"blocks = {q({'layer': bset.built_from[key], 'column': key})}")
    for rule in bset.nesting:
        lines += ["", "[[nesting]]", f"child = {q(rule.child)}", f"parent = {q(rule.parent)}"]
        lines += [f"tolerance = {q(rule.tolerance)}", f"severity = {q(rule.severity)}"]
        lines.append(f"by = {q(rule.by)}")
        if rule.population != "population":
            lines.append(f"population = {q(rule.population)}")
    lines += [
        "",
        "[checks]",
        f"gap_tolerance_m2 = {q(bset.checks.gap_tolerance_m2)}",
        f"overlap_tolerance_m2 = {q(bset.checks.overlap_tolerance_m2)}",
    ]
    return "\n".join(lines) + "\n"


def _refuse_nul(bset: BoundarySet, dest: Path) -> None:
    """Raise if text holds NUL, which GDAL (a C library) would silently cut short."""
    why = "holds a NUL character, which a GeoPackage cannot store"
    for key, frame in bset.layers.items():
        if "\x00" in key:
            raise OutputError(f"the layer key {key!r} {why}", path=dest)
        for col in frame.columns:
            if "\x00" in str(col):
                raise OutputError(f"column {str(col)!r} {why}", path=dest, layer=key)
            if col == frame.geometry.name or frame[col].dtype.kind not in "OUS":
                continue
            try:
                bad = frame[col].astype(object).str.contains("\x00", regex=False)
            except AttributeError:  # no text in this column
                continue
            bad = bad.fillna(False).astype(bool)
            if bad.any():
                code = str(frame.loc[bad, "code"].iloc[0]) if "code" in frame else None
                raise OutputError(f"column {col!r} {why}", path=dest, layer=key, code=code)


def _unclash(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[object, str]]:
    """Rename columns equal to an earlier one but for case (``Name`` beside ``name``).

    GeoPackage (SQLite) field names are case-insensitive, and KML sources
    always carry a ``Name``: the canonical ``code``, ``name`` and geometry
    columns keep their names and any other column that clashes becomes
    ``<column>_2`` (``_3``...). Returns the frame and the renames made.
    """
    geometry = frame.geometry.name if hasattr(frame, "geometry") else None
    first = [c for c in ("code", "name", geometry) if c in frame.columns]
    taken = {str(c).lower() for c in first}
    renames: dict[object, str] = {}
    for col in frame.columns:
        if col in first:
            continue
        name = str(col)
        k = 2
        while name.lower() in taken:
            name, k = f"{col}_{k}", k + 1
        taken.add(name.lower())
        if name != col:
            renames[col] = name
    return (frame.rename(columns=renames) if renames else frame), renames


@renamed(bset="boundary_set")
def write_boundaries(
    boundary_set: BoundarySet, folder: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``boundary_set`` as a boundary-set folder and return its manifest's path.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set to write (for instance from :func:`localitygeo.apply`).
    folder : str or pathlib.Path
        The folder to create. It is built beside its final place and moved
        there at the end, so a failure leaves nothing behind.
    overwrite : bool, default False
        Replace an existing folder.

    Returns
    -------
    pathlib.Path
        ``folder/boundaries.toml``.

    Raises
    ------
    OutputError
        The folder exists (without ``overwrite``) or is not a folder; it is
        (or holds) one of the set's own files; it cannot be written.

    Notes
    -----
    A source column differing from another only in case (``Name`` beside
    the canonical ``name``) is written as ``Name_2``: GeoPackage field names
    are case-insensitive.
    """
    from localitygeo.io.atomic import atomic_folder
    from localitygeo.io.outputs import check_outputs

    dest = Path(folder)
    if dest.exists() and not (overwrite and dest.is_dir()):
        what = "exists" if dest.is_dir() else "exists and is not a folder"
        raise OutputError(f"output folder {what}; choose another or overwrite", path=dest)
    check_outputs({"the output folder": dest}, sets=[boundary_set], folder=True, replace=overwrite)
    _refuse_nul(boundary_set, dest)
    renamed: dict[str, dict[object, str]] = {}
    with atomic_folder(dest, replace=overwrite) as tmp:
        for key, frame in boundary_set.layers.items():
            out, renamed[key] = _unclash(frame.copy())
            for col in out.columns:
                if col != out.geometry.name and out[col].dtype == object:
                    out[col] = out[col].astype("string")
            out.to_file(tmp / _GPKG, driver="GPKG", layer=key, engine="pyogrio")
        (tmp / "boundaries.toml").write_text(_manifest(boundary_set, renamed), encoding="utf-8")
    return dest / "boundaries.toml"
