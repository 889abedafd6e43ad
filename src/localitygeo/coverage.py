"""Gaps and overlaps between the units of one layer.

A layer of wards or neighbourhoods should cover its area once: no two units
overlap and nothing inside the area is left uncovered. Real files are not
vertex-exact (each layer is generalised on its own, so neighbours' edges
differ by floating-point slivers), so both checks measure area and report
only what exceeds a tolerance in square metres.

- :func:`find_overlaps` intersects each pair of units whose interiors may meet
  (found with an STRtree) and keeps pairs sharing more than the tolerance.
- :func:`find_gaps` unions the layer and keeps the holes of that union larger
  than the tolerance, naming the units around each.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.crs import ensure_projected

__all__ = ["find_gaps", "find_overlaps"]


def _valid_geoms(layer: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (index of usable rows, repaired geometries of those rows)."""
    geoms = np.asarray(layer.geometry.array, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(usable)
    g = geoms[idx].copy()
    bad = ~shapely.is_valid(g)
    if bad.any():
        g[bad] = shapely.make_valid(g[bad])
    return idx, g


def find_overlaps(layer: gpd.GeoDataFrame, tolerance_m2: float = 1.0) -> gpd.GeoDataFrame:
    """Find pairs of units that overlap by more than a tolerance.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A layer with a ``code`` column in a projected CRS.
    tolerance_m2 : float, default 1.0
        Overlaps of this area or less are ignored.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code_a``, ``code_b``, ``area_m2`` and the overlap
        ``geometry``, largest first. Empty when the layer has no overlap.
    """
    ensure_projected(layer, "layer")
    idx, g = _valid_geoms(layer)
    codes = layer["code"].to_numpy(dtype=object)[idx]
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inter = shapely.intersection(g[a], g[b])
    area = shapely.area(inter)
    big = area > tolerance_m2
    out = gpd.GeoDataFrame(
        {"code_a": codes[a[big]], "code_b": codes[b[big]], "area_m2": area[big]},
        geometry=inter[big],
        crs=layer.crs,
    )
    return out.sort_values("area_m2", ascending=False, ignore_index=True)


def find_gaps(layer: gpd.GeoDataFrame, tolerance_m2: float = 1.0) -> gpd.GeoDataFrame:
    """Find holes inside a layer's extent that no unit covers.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A layer with a ``code`` column in a projected CRS.
    tolerance_m2 : float, default 1.0
        Gaps of this area or less (such as the zero-area slivers between
        neighbours in generalised boundaries) are ignored.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``codes`` (list of the units bordering the gap), ``area_m2``
        and the gap ``geometry``, largest first.
    """
    ensure_projected(layer, "layer")
    idx, g = _valid_geoms(layer)
    codes = layer["code"].to_numpy(dtype=object)[idx]
    union = shapely.union_all(g)
    polys = shapely.get_parts(union)
    polys = polys[shapely.get_type_id(polys) == 3]  # polygons only
    rings, owner = shapely.get_rings(polys, return_index=True)
    interior = np.ones(len(rings), dtype=bool)
    interior[np.unique(owner, return_index=True)[1]] = False  # each polygon's shell comes first
    holes = np.asarray(shapely.polygons(rings[interior]), dtype=object)
    area = np.asarray(shapely.area(holes), dtype=float)
    big = area > tolerance_m2
    holes, area = holes[big], area[big]
    tree = shapely.STRtree(g)
    hi, gi = tree.query(holes, predicate="dwithin", distance=0.01)
    around = (
        pd.Series(codes[gi].astype(str), index=hi)
        .groupby(level=0)
        .agg(lambda s: sorted(s))
        .reindex(range(len(holes)))
    )
    out = gpd.GeoDataFrame(
        {"codes": [c if isinstance(c, list) else [] for c in around], "area_m2": area},
        geometry=holes,
        crs=layer.crs,
    )
    return out.sort_values("area_m2", ascending=False, ignore_index=True)
