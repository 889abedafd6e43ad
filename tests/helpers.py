"""Small builders shared by tests (not fixtures, so hypothesis can call them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import shapely

BNG = "EPSG:27700"


def grid_layer(
    nx: int,
    ny: int,
    size: float = 100.0,
    prefix: str = "C",
    x0: float = 400000.0,
    y0: float = 200000.0,
) -> gpd.GeoDataFrame:
    """A vertex-exact grid of square units with codes ``{prefix}{i:03d}``."""
    boxes, codes = [], []
    for j in range(ny):
        for i in range(nx):
            boxes.append(
                shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
            )
            codes.append(f"{prefix}{j * nx + i:03d}")
    return gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=boxes, crs=BNG)


def dissolve_by(layer: gpd.GeoDataFrame, groups: Sequence[str]) -> gpd.GeoDataFrame:
    """Union ``layer``'s units into parents named by ``groups`` (one per row)."""
    g = layer.assign(parent=list(groups)).dissolve("parent", as_index=False)
    return gpd.GeoDataFrame(
        {"code": g["parent"], "name": g["parent"]}, geometry=g.geometry.values, crs=layer.crs
    )


def write_manifest(folder: Path, text: str) -> Path:
    """Write ``boundaries.toml`` with ``text`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "boundaries.toml"
    path.write_text(text, encoding="utf-8")
    return path
