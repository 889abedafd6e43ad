"""Gaps and overlaps between the units of one layer.

A layer of wards or neighbourhoods should cover its area once: no two units
overlap and nothing inside the area is left uncovered. Real files are not
vertex-exact (each layer is generalised on its own, so neighbours' edges
differ by floating-point slivers), so both checks measure area and report
only what exceeds a tolerance in square metres.

Both start from the layer snapped onto itself
(:mod:`localitygeo.geometry.snapped`), which GEOS checks as a coverage:

- :func:`find_overlaps` measures, with the exact area engine
  (:mod:`localitygeo.geometry.engine`), the pairs in which a unit may
  overlap a neighbour by more than half the tolerance (the units the
  coverage check flags, and those snapping moved enough to hide such an
  overlap), and intersects with GEOS only the pairs that may share more
  than the tolerance, which it keeps if they do: the pairs and areas a GEOS
  intersection of every pair gives.
- :func:`find_gaps` keeps the holes of the layer's union larger than the
  tolerance, naming the units around each: the holes of the snapped
  union, settled on the layer's own units, or found tile by tile
  (:mod:`localitygeo.geometry.tiled_gaps`) where that cannot be done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.geometry.crs import ensure_projected, measure_in

if TYPE_CHECKING:
    from localitygeo.geometry.snapped import SnappedLayer

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
    layer: gpd.GeoDataFrame,
    idx: np.ndarray,
    g: np.ndarray,
    tolerance_m2: float,
    snapped: SnappedLayer | None = None,
) -> gpd.GeoDataFrame:
    """:func:`find_overlaps` of rows ``idx`` of ``layer``, whose valid geometries are ``g``.

    ``snapped`` is ``snap_layer(g)``, if already computed.
    """
    codes = layer["code"].to_numpy(dtype=object)[idx]
    a, b, area, inter = overlap_pairs(g, tolerance_m2, snapped=snapped)
    out = gpd.GeoDataFrame(
        {"code_a": codes[a], "code_b": codes[b], "area_m2": area},
        geometry=inter,
        crs=layer.crs,
    )
    return out.sort_values("area_m2", ascending=False, ignore_index=True)


def overlap_pairs(
    g: np.ndarray,
    tolerance_m2: float,
    threads: int | None = None,
    snapped: SnappedLayer | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (a, b, area, geometry) of the pairs ``a < b`` of valid ``g`` overlapping > tolerance.

    Only pairs with a unit that may overlap by more than half the tolerance
    are measured (:meth:`SnappedLayer.overlap_suspects`: the layer snapped
    onto itself is a valid coverage elsewhere, so other pairs overlap by
    less). The engine's exact areas pick the pairs that may (over half the
    tolerance, or unsettled); their GEOS intersections and areas decide.
    """
    from localitygeo.geometry.engine import intersection_areas
    from localitygeo.geometry.snapped import snap_layer

    layer = snap_layer(g) if snapped is None else snapped
    poly = layer.polygons
    suspect = np.flatnonzero(layer.overlap_suspects(tolerance_m2))
    if len(suspect) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0), np.empty(0, dtype=object)
    # the suspects against every unit their boxes meet (empty units are never met)
    near = np.unique(layer.tree.query(poly[suspect])[1])
    si, nj, area = intersection_areas(poly[suspect], poly[near], threads=threads)
    i, j = suspect[si], near[nj]
    keep = (i != j) & ~(area <= 0.5 * tolerance_m2)  # NaN: unsettled, measured below
    lo, hi = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
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
    layer: gpd.GeoDataFrame,
    idx: np.ndarray,
    g: np.ndarray,
    tolerance_m2: float,
    snapped: SnappedLayer | None = None,
) -> gpd.GeoDataFrame:
    """:func:`find_gaps` of rows ``idx`` of ``layer``, whose valid geometries are ``g``.

    ``snapped`` is ``snap_layer(g)``, if already computed.
    """
    codes = layer["code"].to_numpy(dtype=object)[idx]
    holes = gap_holes(g, tolerance_m2, snapped=snapped)
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


def gap_holes(
    g: np.ndarray, tolerance_m2: float, snapped: SnappedLayer | None = None
) -> np.ndarray:
    """Return the holes of ``union_all(g)`` larger than the tolerance (valid ``g``).

    Found on the layer snapped onto itself (:mod:`localitygeo.geometry.snapped`),
    without the union of the whole layer.
    """
    from localitygeo.geometry.snapped import gap_holes as holes

    return holes(g, tolerance_m2, layer=snapped)
