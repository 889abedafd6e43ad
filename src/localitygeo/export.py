"""Write a boundary set to disk: one GeoPackage of layers and a manifest.

After a proposal is agreed, the changed set is what a council publishes and
keeps under version control. :func:`write_boundaries` writes every layer into
``boundaries.gpkg`` (one GeoPackage layer each, in the working CRS) and a
``boundaries.toml`` that :func:`localitygeo.read_boundaries` reads back to
the same set: codes, names, attributes, nesting rules, tolerances and which
layers are built from blocks. The folder appears whole or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from localitygeo.errors import InputError

if TYPE_CHECKING:
    from localitygeo.boundaries import BoundarySet

__all__ = ["write_boundaries"]

_GPKG = "boundaries.gpkg"


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _manifest(bset: BoundarySet) -> str:
    lines = [
        f"name = {_q(bset.name)}",
        f"crs = {_q(bset.crs.to_string())}",
    ]
    if bset.description:
        lines.append(f"description = {_q(bset.description)}")
    for key in bset.layers:
        spec = bset.specs.get(key)
        lines += [
            "",
            f"[layers.{key}]",
            f'path = "{_GPKG}"',
            f"layer = {_q(key)}",
            'code = "code"',
            'name = "name"',
        ]
        if spec is not None and spec.title:
            lines.append(f"title = {_q(spec.title)}")
        if key in bset.built_from:
            lines.append(f"blocks = {{ layer = {_q(bset.built_from[key])}, column = {_q(key)} }}")
    for rule in bset.nesting:
        lines += [
            "",
            "[[nesting]]",
            f"child = {_q(rule.child)}",
            f"parent = {_q(rule.parent)}",
            f"tolerance = {rule.tolerance!r}",
            f"severity = {_q(rule.severity)}",
            f"by = {_q(rule.by)}",
        ]
        if rule.population != "population":
            lines.append(f"population = {_q(rule.population)}")
    lines += [
        "",
        "[checks]",
        f"gap_tolerance_m2 = {bset.checks.gap_tolerance_m2!r}",
        f"overlap_tolerance_m2 = {bset.checks.overlap_tolerance_m2!r}",
    ]
    return "\n".join(lines) + "\n"


def write_boundaries(bset: BoundarySet, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``bset`` as a boundary-set folder and return its manifest's path.

    Parameters
    ----------
    bset : BoundarySet
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
    InputError
        The folder exists (without ``overwrite``) or is not a folder.
    """
    dest = Path(folder)
    if dest.exists() and not (overwrite and dest.is_dir()):
        what = "exists" if dest.is_dir() else "exists and is not a folder"
        raise InputError(f"output folder {what}; choose another or overwrite", path=dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for key, frame in bset.layers.items():
            out = frame.copy()
            for col in out.columns:
                if col != out.geometry.name and out[col].dtype == object:
                    out[col] = out[col].astype("string")
            out.to_file(tmp / _GPKG, driver="GPKG", layer=key, engine="pyogrio")
        (tmp / "boundaries.toml").write_text(_manifest(bset), encoding="utf-8")
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            os.replace(dest, old)
            os.replace(tmp, dest)
            shutil.rmtree(old)
        else:
            os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest / "boundaries.toml"
