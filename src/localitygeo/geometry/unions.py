"""Unions of blocks, valid whether or not neighbouring blocks are vertex-exact.

A built layer's unit is the union of its blocks (see :mod:`localitygeo.model.blocks`).
``shapely.coverage_union_all`` is fast and exact, but only for blocks whose
shared edges have identical vertices. Real ONS layers are not like that: each
LSOA or MSOA boundary was generalised on its own and reprojected, so the
vertices of neighbours differ by up to about 20 µm, leaving slivers, tiny
overlaps and cracks between them; ``coverage_union_all`` then returns invalid
polygons (or raises). So each unit takes one of two paths:

- **exact**: the unit's blocks are a valid coverage (``coverage_invalid_edges``
  finds no edge that is unmatched, crossing or within :data:`SNAP_M` of a
  neighbour's across a gap): ``coverage_union_all``, as before;
- **cleaned**: otherwise the unit's own blocks are cleaned as a coverage with
  ``coverage_clean`` (vertices and edges within :data:`SNAP_M` snapped
  together, gaps narrower than :data:`SNAP_M` between them filled, overlaps
  between them merged) and then unioned with ``coverage_union_all``.

Only the unit's own blocks are cleaned, so a unit keeps its blocks' outline:
it gains at most the slivers narrower than :data:`SNAP_M` between its own
blocks, and its outline moves by at most :data:`SNAP_M` where two of its own
blocks meet it. Gaps and overlaps between units stay exactly those between
their blocks. With GEOS older than 3.14 (no ``coverage_clean``) the cleaned
path is replaced by ``union_all`` with the holes thinner than :data:`SNAP_M`
filled; cracks open to the outside then remain.

A unit with a single block is that block. Blocks without a geometry add
nothing; invalid ones are repaired (``make_valid``, polygonal part) first.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["SNAP_M", "union_blocks"]

#: Snapping distance and widest gap filled between a unit's own blocks, in
#: metres (the working CRS's unit). ONS layers' neighbours differ by at most
#: 20 µm (measured; see docs/performance.md), 50 times less; their
#: generalised edges are metres long, a thousand times more.
SNAP_M = 1e-3

_coverage_clean = getattr(shapely, "coverage_clean", None)  # shapely >= 2.2
_CLEAN = _coverage_clean is not None and shapely.geos_version >= (3, 14, 0)


def union_blocks(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Return the union of each run of blocks.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        The blocks, sorted by unit; in a projected CRS in metres.
    bounds : numpy.ndarray of int
        Unit ``k`` is made of ``geoms[bounds[k]:bounds[k + 1]]``.

    Returns
    -------
    numpy.ndarray of shapely geometries
        One valid (Multi)Polygon per unit (an empty Polygon for a unit none
        of whose blocks has a polygonal geometry).
    """
    from localitygeo.geometry.measure import _needs_repair, _repaired

    n = len(bounds) - 1
    unit = np.repeat(np.arange(n), np.diff(bounds))
    geoms = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = _repaired(geoms[keep], _needs_repair(geoms[keep], 1))
    unit = unit[keep]
    keep = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    geoms, unit = geoms[keep], unit[keep]
    bounds = np.searchsorted(unit, np.arange(n + 1))
    out = np.full(n, shapely.Polygon(), dtype=object)
    count = np.diff(bounds)
    single = np.flatnonzero(count == 1)
    out[single] = geoms[bounds[single]]
    several = count > 1
    exact = several & _edge_matched(geoms, unit, n)
    out[exact] = _coverage_unions(geoms, bounds, np.flatnonzero(exact))
    for k in np.flatnonzero(several & ~exact):
        out[k] = _cleaned_union(geoms[bounds[k] : bounds[k + 1]])
    bad = np.flatnonzero(several & ~shapely.is_valid(out))
    for k in bad:  # never seen; a safety net that keeps every result valid
        out[k] = shapely.union_all(geoms[bounds[k] : bounds[k + 1]])
    return out


def _coverage_unions(geoms: np.ndarray, bounds: np.ndarray, units: np.ndarray) -> np.ndarray:
    """``coverage_union_all`` of each of ``units``' runs of blocks, in a few GEOS calls.

    Units are padded with None (which GEOS skips) to rows of a power-of-two
    width, one call per width, so no row holds more than twice its blocks.
    """
    out = np.empty(len(units), dtype=object)
    count = bounds[units + 1] - bounds[units]
    width = 1 << np.ceil(np.log2(np.maximum(count, 1))).astype(np.int64)
    for w in np.unique(width):
        sel = np.flatnonzero(width == w)
        c = count[sel]
        row = np.repeat(np.arange(len(sel)), c)
        col = np.arange(len(row)) - np.repeat(np.cumsum(c) - c, c)
        rows = np.full((len(sel), int(w)), None, dtype=object)
        rows[row, col] = geoms[bounds[units[sel]][row] + col]
        out[sel] = shapely.coverage_union_all(rows, axis=1)
    return out


def _edge_matched(geoms: np.ndarray, unit: np.ndarray, n: int) -> np.ndarray:
    """Tell, per unit, whether its blocks form a valid coverage (vertex-exact).

    Units of several blocks none of whose vertices coincides with another
    block's of the unit cannot be vertex-exact neighbours: they are settled
    without the (costlier) GEOS check. The check runs once over the blocks of
    the other units; a block flagged against another unit's block sends its
    unit down the cleaned path too, which is merely slower.
    """
    xy, gi = shapely.get_coordinates(geoms, return_index=True)
    shared = np.zeros(n, bool)
    if len(xy):
        # equal (unit, x, y) hash alike and sort together (stable: by block
        # within); a collision only costs a GEOS check
        u = unit[gi].astype(np.uint64)
        h = np.ascontiguousarray(xy[:, 0]).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h ^= np.ascontiguousarray(xy[:, 1]).view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        h ^= u * np.uint64(0x165667B19E3779F9)
        order = np.argsort(h, kind="stable")
        h, g = h[order], gi[order]
        same = (h[1:] == h[:-1]) & (g[1:] != g[:-1])
        shared[unit[g[1:][same]]] = True
    ok = np.zeros(n, bool)
    check = np.flatnonzero(shared[unit])
    if len(check):
        edges = shapely.coverage_invalid_edges(geoms[check], gap_width=SNAP_M)
        flagged = np.bincount(unit[check], weights=~shapely.is_empty(edges), minlength=n)
        ok = shared & (flagged == 0)
    return ok


def _cleaned_union(blocks: np.ndarray) -> shapely.Geometry:
    """Union of blocks that are not a valid coverage (see the module docstring)."""
    if _CLEAN and _coverage_clean is not None:
        cleaned = _coverage_clean(blocks, snapping_distance=SNAP_M, gap_width=SNAP_M)
        return shapely.coverage_union_all(cleaned)
    return _fill_thin_holes(shapely.union_all(blocks))


def _fill_thin_holes(geom: shapely.Geometry) -> shapely.Geometry:
    """Return ``geom`` without its holes thinner than :data:`SNAP_M` on average.

    A hole's mean width is twice its area over its perimeter (a sliver of
    width w and length L has area wL and perimeter about 2L).
    """
    parts = shapely.get_parts(geom)
    rings, part = shapely.get_rings(parts, return_index=True)
    shell = np.ones(len(rings), bool)
    shell[1:] = part[1:] != part[:-1]
    area = shapely.area(shapely.polygons(rings))
    thin = ~shell & (2 * area < SNAP_M * shapely.length(rings))
    if not thin.any():
        return geom
    polys = np.asarray(shapely.polygons(rings[~thin], indices=part[~thin]), dtype=object)
    return shapely.union_all(polys) if len(polys) > 1 else polys[0]
