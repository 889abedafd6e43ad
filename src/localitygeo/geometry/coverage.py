"""Gaps and overlaps between the units of one layer.

A layer of wards or neighbourhoods should cover its area once: no two units
overlap and nothing inside the area is left uncovered. Real files are not
vertex-exact (each layer is generalised on its own, so neighbours' edges
differ by floating-point slivers), so both checks measure area and report
only what exceeds a tolerance in square metres.

- :func:`find_overlaps` measures the overlap of every pair of units whose
  boxes meet with the exact area engine (:mod:`localitygeo.geometry.engine`, the
  layer against itself), and intersects with GEOS only the pairs that may
  share more than the tolerance, which it keeps if they do: the pairs and
  areas a GEOS intersection of every pair gives, without intersecting the
  hundreds of thousands of neighbours of a national layer.
- :func:`find_gaps` keeps the holes of the layer's union larger than the
  tolerance, naming the units around each; the holes are found tile by tile
  (:mod:`localitygeo.geometry.tiled_gaps`) without unioning the whole layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.geometry.crs import ensure_projected, measure_in

__all__ = ["find_gaps", "find_overlaps"]


def valid_geoms(
    layer: gpd.GeoDataFrame, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return (index of usable rows, repaired geometries of those rows).

    ``valid`` (per row, from ``shapely.is_valid``) saves computing it again.
    """
    geoms = np.asarray(layer.geometry.array, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(usable)
    g = geoms[idx].copy()
    bad = ~(shapely.is_valid(g) if valid is None else valid[idx])
    if bad.any():
        g[bad] = shapely.make_valid(g[bad])
    return idx, g


def find_overlaps(
    layer: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0, crs: object = None
) -> gpd.GeoDataFrame:
    """Find pairs of units that overlap by more than a tolerance.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A layer with a ``code`` column in a projected CRS.
    tolerance_m2 : float, default 1.0
        Overlaps of this area or less are ignored.
    crs : optional
        Reproject ``layer`` to this CRS before measuring (the result is in
        it too). Without it the layer must be in a projected CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code_a``, ``code_b``, ``area_m2`` and the overlap
        ``geometry``, largest first. Empty when the layer has no overlap.
    """
    (layer,) = measure_in(crs, layer)
    ensure_projected(layer, "layer")
    return overlaps_of(layer, *valid_geoms(layer), tolerance_m2)


def overlaps_of(
    layer: gpd.GeoDataFrame, idx: np.ndarray, g: np.ndarray, tolerance_m2: float
) -> gpd.GeoDataFrame:
    """:func:`find_overlaps` of rows ``idx`` of ``layer``, whose valid geometries are ``g``."""
    codes = layer["code"].to_numpy(dtype=object)[idx]
    a, b, area, inter = overlap_pairs(g, tolerance_m2)
    out = gpd.GeoDataFrame(
        {"code_a": codes[a], "code_b": codes[b], "area_m2": area},
        geometry=inter,
        crs=layer.crs,
    )
    return out.sort_values("area_m2", ascending=False, ignore_index=True)


def overlap_pairs(
    g: np.ndarray, tolerance_m2: float, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (a, b, area, geometry) of the pairs ``a < b`` of valid ``g`` overlapping > tolerance.

    The engine's exact areas pick the pairs that may (over half the
    tolerance, or unsettled); their GEOS intersections and areas decide.
    """
    from localitygeo.geometry.engine import intersection_areas
    from localitygeo.geometry.measure import _polygonal

    poly = _polygonal_all(g, _polygonal)
    ok = np.flatnonzero(~shapely.is_empty(poly))
    i, j, area = intersection_areas(poly[ok], poly[ok], threads=threads)
    i, j = ok[i], ok[j]
    maybe = (i < j) & ~(area <= 0.5 * tolerance_m2)  # NaN: unsettled, measured below
    a, b = i[maybe], j[maybe]
    inter = np.asarray(shapely.intersection(g[a], g[b]), dtype=object)
    measured = np.asarray(shapely.area(inter), dtype=float)
    big = measured > tolerance_m2
    return a[big], b[big], measured[big], inter[big]


def _polygonal_all(g: np.ndarray, polygonal: Callable[[Any], Any]) -> np.ndarray:
    """Return ``g`` with collections (from make_valid) reduced to their polygons."""
    other = np.flatnonzero(~np.isin(shapely.get_type_id(g), (3, 6)))
    if len(other) == 0:
        return g
    out = g.copy()
    out[other] = [polygonal(x) for x in g[other]]
    return out


def find_gaps(
    layer: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0, crs: object = None
) -> gpd.GeoDataFrame:
    """Find holes inside a layer's extent that no unit covers.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A layer with a ``code`` column in a projected CRS.
    tolerance_m2 : float, default 1.0
        Gaps of this area or less (such as the zero-area slivers between
        neighbours in generalised boundaries) are ignored.

    crs : optional
        Reproject ``layer`` to this CRS before measuring (the result is in
        it too). Without it the layer must be in a projected CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``codes`` (list of the units bordering the gap), ``area_m2``
        and the gap ``geometry``, largest first.
    """
    (layer,) = measure_in(crs, layer)
    ensure_projected(layer, "layer")
    return gaps_of(layer, *valid_geoms(layer), tolerance_m2)


def gaps_of(
    layer: gpd.GeoDataFrame, idx: np.ndarray, g: np.ndarray, tolerance_m2: float
) -> gpd.GeoDataFrame:
    """:func:`find_gaps` of rows ``idx`` of ``layer``, whose valid geometries are ``g``."""
    codes = layer["code"].to_numpy(dtype=object)[idx]
    holes = gap_holes(g, tolerance_m2)
    area = np.asarray(shapely.area(holes), dtype=float)
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


def gap_holes(g: np.ndarray, tolerance_m2: float) -> np.ndarray:
    """Return the holes of ``union_all(g)`` larger than the tolerance (valid ``g``).

    Found tile by tile (:mod:`localitygeo.geometry.tiled_gaps`), without the
    union of the whole layer.
    """
    from localitygeo.geometry.tiled_gaps import gap_holes as tiled

    return tiled(g, tolerance_m2)
