"""Builders of broken and hostile input files for the input-side corpus.

Every file is made here, by code, from the example city that ships in
``boundaries/example-city`` or from the shared real data; nothing is copied
into the repository.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .harness import REPO

EXAMPLE = REPO / "boundaries" / "example-city"


def example_copy(tmp: Path, name: str = "city") -> Path:
    """Copy the example city's boundary set to ``tmp/name`` and return the folder."""
    dest = tmp / name
    shutil.copytree(EXAMPLE, dest)
    return dest


def load_json(path: Path) -> Any:
    """Return a JSON file's content."""
    return json.loads(path.read_text(encoding="utf-8"))


def edit_geojson(path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """Rewrite the GeoJSON at ``path`` after ``change`` edits its parsed content in place."""
    doc = load_json(path)
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def one_ring(feature: dict[str, Any]) -> list[list[float]]:
    """Return the outer ring of a Polygon or MultiPolygon feature's first polygon."""
    geom = feature["geometry"]
    coords = geom["coordinates"]
    return coords[0] if geom["type"] == "Polygon" else coords[0][0]


def indicator_csv(path: Path, layer_file: Path, columns: dict[str, str]) -> Path:
    """Write a CSV keyed by the ``code`` of ``layer_file`` with each of ``columns`` taken
    from the layer's property of that name (``{csv column: property}``)."""
    feats = load_json(layer_file)["features"]
    lines = ["code," + ",".join(columns)]
    for f in feats:
        props = f["properties"]
        lines.append(props["code"] + "," + ",".join(str(props[c]) for c in columns.values()))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replace_cell(path: Path, row: int, column: str, value: str) -> Path:
    """Replace one cell of a simple CSV (no quoted commas) by ``value`` (quoted)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row + 1].split(",")
    cells[header.index(column)] = '"' + value.replace('"', '""') + '"'
    lines[row + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_set(tmp: Path, name: str = "small") -> Path:
    """A two-layer set of the example city (small areas and wards, nothing built) in ``tmp``."""
    dest = tmp / name
    dest.mkdir()
    for file in ("small_areas.geojson", "wards.geojson"):
        shutil.copy(EXAMPLE / file, dest / file)
    (dest / "boundaries.toml").write_text(
        'crs = "EPSG:27700"\n[layers.small_area]\npath = "small_areas.geojson"\ncode = "code"\n'
        '[layers.ward]\npath = "wards.geojson"\ncode = "code"\nname = "name"\n',
        encoding="utf-8",
    )
    return dest


def aggregate_cli(bset: Path, data: Path, *more: str, expect: int = 2, names=()) -> Any:
    """Run ``localitygeo aggregate`` of ``data`` (keyed by ``code``) from small areas to wards."""
    from .harness import run_cli

    return run_cli(
        "aggregate",
        bset,
        "--data",
        data,
        "--data-code",
        "code",
        "--from",
        "small_area",
        "--to",
        "ward",
        *more,
        inputs=[bset, data],
        expect=expect,
        names=names,
    )
