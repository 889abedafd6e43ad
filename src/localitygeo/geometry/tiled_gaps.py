"""The holes of a layer's union, found tile by tile and merged exactly.

A gap is a hole of ``shapely.union_all`` of a layer's units. Unioning a
national layer at once is slow (GEOS nodes every micrometre sliver between
neighbours in ever larger operands), so :func:`gap_holes` gets the same
holes without that union:

1. The units are split by recursive bisection of their boxes' centres into
   ``2**depth`` tiles (siblings in a binary tree are neighbours): tiles of
   at most :data:`TILE_EXACT` units where most vertices are shared with a
   neighbour (as in output areas), else of at most :data:`TILE` units (small
   unions of units whose edges differ by slivers cost less per unit).
2. Each tile's units are unioned: with ``coverage_union_all`` when they are
   a valid coverage (``coverage_is_valid``: vertex-exact neighbours, as
   output areas mostly are), otherwise with ``union_all``.
3. Going up the tree, two siblings' unions are unioned; before going on,
   each union's holes are taken out and filled (only its shells go up).

Why this is exact. Let ``W`` be a group's union with its children's holes
filled, and ``h`` a hole of ``W``. The boundary of ``h`` lies on units'
boundaries, so every bounded part of the plane that no unit covers and that
lies in ``h`` is bounded by units meeting ``h``: it is a hole of the union of
those few units, lying in ``h``, and a hole of the whole layer's union.
Conversely every hole of the layer's union either lies in a hole of some
group's ``W`` (and is found there), or lies outside every tile's filled
union, and then it is a hole of the union of all of them, which the root's
``W`` is. Filling a group's holes never changes the outside of its union,
which is all the groups above it see. Holes no larger than the tolerance
are dropped when found: every hole of the layer inside them is smaller
still. A hole found from two groups (one enclosing the other's tiles) is
kept once. The tests compare the result with the holes of one
``union_all`` on real layers; ``benchmarks/bench_national.py`` does so on
England's.

What is reported for a hole is the polygon its ring encloses, islands of
units inside it included, as the holes of ``union_all`` are.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely

__all__ = ["GROW", "TILE", "TILE_EXACT", "Unsettled", "gap_holes", "settle_holes"]

#: Units per tile, at most, in layers whose neighbours' vertices mostly
#: differ (England's LSOAs and MSOAs: 8-16 units measured fastest).
TILE = 16

#: Units per tile, at most, in layers whose vertices are mostly shared
#: (England's output areas: 128-256 measured fastest).
TILE_EXACT = 128


def gap_holes(g: np.ndarray, tolerance_m2: float, threads: int | None = None) -> np.ndarray:
    """Return the holes of ``union_all(g)`` larger than a tolerance, as polygons.

    Parameters
    ----------
    g : numpy.ndarray of shapely geometries
        Valid geometries (collections' non-polygonal parts are ignored, as
        they add no area to a union).
    tolerance_m2 : float
        Holes of this area or less are left out.
    threads : int, optional
        Threads for the GEOS calls (default: up to 2).

    Returns
    -------
    numpy.ndarray of shapely Polygons
        The area enclosed by each hole's ring, in no particular order.
    """
    poly = _polygonal(np.asarray(g, dtype=object))
    workers = threads if threads is not None else min(2, os.cpu_count() or 1)
    shared = _shared_vertices(poly)
    exact = len(poly) > 0 and float(shared.mean()) >= 0.5
    tiles = _tiles(poly, TILE_EXACT if exact else TILE)
    tree = shapely.STRtree(poly)
    found: list[Any] = []
    shells = _in_threads(lambda t: _tile_unions(poly, t, shared), tiles, workers)
    while True:
        holes, shells = _holes_and_shells(shells)
        found.extend(_uncovered(holes, poly, tree, tolerance_m2))
        if len(shells) == 1:
            break
        pairs = shells.reshape(-1, 2)
        shells = _in_threads(lambda p: shapely.union(p[:, 0], p[:, 1]), pairs, workers)
    return _distinct(found)


def _polygonal(g: np.ndarray) -> np.ndarray:
    """Return the present geometries of ``g``, collections reduced to their polygons."""
    from localitygeo.geometry.coverage import _polygonal_all
    from localitygeo.geometry.measure import _polygonal as one

    g = _polygonal_all(g[~(shapely.is_missing(g) | shapely.is_empty(g))], one)
    return g[~shapely.is_empty(g)]


def _tiles(g: np.ndarray, size: int) -> list[np.ndarray]:
    """Split rows of ``g`` into ``2**depth`` tiles of at most ``size`` rows, in tree order.

    Each split halves a tile at the median of its boxes' centres along the
    tile's longer side.
    """
    b = shapely.bounds(g)
    centre = np.stack([b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1)
    depth = max(0, int(np.ceil(np.log2(max(len(g), 1) / size))))
    tiles = [np.arange(len(g))]
    for _ in range(depth):
        nxt = []
        for ix in tiles:
            c = centre[ix]
            axis = int(np.ptp(c[:, 1]) > np.ptp(c[:, 0])) if len(ix) else 0
            order = ix[np.argsort(c[:, axis], kind="stable")]
            half = len(order) // 2
            nxt += [order[:half], order[half:]]
        tiles = nxt
    return tiles


def _tile_unions(g: np.ndarray, tiles: list[np.ndarray], shared: np.ndarray) -> np.ndarray:
    """Return each tile's union: ``coverage_union_all`` where its units are a valid coverage.

    ``shared`` is the share of each unit's vertices that other units have
    too; a tile is checked as a coverage (which costs about four times the
    coverage union) only where most are shared, as they are in a valid one.
    """
    out = np.empty(len(tiles), dtype=object)
    for k, ix in enumerate(tiles):
        units = g[ix]
        if len(units) > 1 and shared[ix].mean() >= 0.5 and shapely.coverage_is_valid(units):
            out[k] = shapely.coverage_union_all(units)
        else:
            out[k] = shapely.union_all(units) if len(units) else shapely.Polygon()
    return out


def _shared_vertices(g: np.ndarray) -> np.ndarray:
    """Return, per geometry, the share of its vertices that another geometry has too."""
    xy, owner = shapely.get_coordinates(g, return_index=True)
    # equal coordinates hash alike; a collision only makes a tile worth checking
    h = np.ascontiguousarray(xy[:, 0]).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= np.ascontiguousarray(xy[:, 1]).view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    order = np.argsort(h, kind="stable")
    h, o = h[order], owner[order]
    other = (h[1:] == h[:-1]) & (o[1:] != o[:-1])
    hit = np.zeros(len(h), dtype=bool)
    hit[1:] |= other
    hit[:-1] |= other
    count = np.bincount(owner, minlength=len(g))
    return np.bincount(o, weights=hit, minlength=len(g)) / np.maximum(count, 1)


def _holes_and_shells(unions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the holes of ``unions`` (as polygons) and each union with its holes filled."""
    parts, owner = shapely.get_parts(unions, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    rings, part = shapely.get_rings(parts, return_index=True)
    interior = np.ones(len(rings), dtype=bool)
    interior[np.unique(part, return_index=True)[1]] = False  # each polygon's shell comes first
    holes = np.asarray(shapely.polygons(rings[interior]), dtype=object)
    filled = np.asarray(shapely.polygons(rings[~interior]), dtype=object)
    # a part lying in another part's hole (an island) is inside that part's filled shell
    several = np.flatnonzero(np.bincount(owner, minlength=len(unions))[owner] > 1)
    inner = np.zeros(len(parts), dtype=bool)
    if len(several):
        pts = shapely.point_on_surface(parts[several])
        pi, si = shapely.STRtree(filled[several]).query(pts, predicate="within")
        pi, si = several[pi], several[si]
        inner[pi[(pi != si) & (owner[pi] == owner[si])]] = True
    keep = ~inner
    shells = np.full(len(unions), shapely.Polygon(), dtype=object)
    merged = np.asarray(shapely.multipolygons(filled[keep], indices=owner[keep]), dtype=object)
    shells[: len(merged)] = merged.reshape(-1)
    return holes, shells


def _uncovered(
    holes: np.ndarray, g: np.ndarray, tree: shapely.STRtree, tolerance_m2: float
) -> list[Any]:
    """Return the layer's holes (larger than the tolerance) that lie inside ``holes``.

    They are the holes, lying inside each hole, of the union of the units
    meeting it (those around it, and any inside it) and of their neighbours:
    the same GEOS union as the whole layer's, on a few units. The neighbours
    join the units round a hole as the whole layer's union does (a hole
    enclosed by parts of one unit that touch at points is a hole of the
    union only once another unit joins those parts). Overlaying the hole
    with the units instead fails on some real holes whose ring follows a
    unit's edges to the micrometre.
    """
    return settle_holes(
        holes[np.asarray(shapely.area(holes)) > tolerance_m2], g, tree, tolerance_m2
    )


def settle_holes(
    holes: np.ndarray,
    g: np.ndarray,
    tree: shapely.STRtree,
    tolerance_m2: float,
    reach: float = 0.0,
    outside: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[Any]:
    """Return the holes of the layer ``g`` larger than the tolerance that lie inside ``holes``.

    Each of ``holes`` is a region bounded by units of ``g``, or a little
    larger (a snapped union's hole, widened by how far snapping moved
    anything); see :func:`_uncovered` for how it is settled. Units within
    ``reach`` of a hole, and of those units, count as meeting it (where
    neighbours may be parted by slivers that wide). With ``reach``, a hole
    whose uncovered region runs past those units is settled with more of
    them, ring by ring; ``outside`` (points -> whether they lie clear
    outside the layer) ends that as soon as the region reaches the outside.
    """
    if len(holes) == 0:
        return []

    def meeting(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if reach > 0:
            pairs = tree.query(x, predicate="dwithin", distance=reach)
        else:
            pairs = tree.query(x, predicate="intersects")
        return pairs[0], pairs[1]

    hi, gi = meeting(holes)
    out: list[Any] = []
    for k, h in enumerate(holes):
        near = gi[hi == k]
        near = np.unique(np.concatenate([near, meeting(g[near])[1]]))
        for _ in range(GROW + 1 if reach > 0 else 1):
            union = shapely.union_all(g[near])
            found = _inside(union, h, tolerance_m2)
            if len(found) or reach == 0:
                break
            more = _leaks(union, h, near, meeting, outside)
            if len(more) == 0:
                break  # settled: not a hole over the tolerance
            near = np.union1d(near, more)
        else:
            raise Unsettled(f"a snapped hole's tails reach past {len(near)} units")
        out.extend(found)
    return out


#: How many more rings of units :func:`settle_holes` adds round a snapped
#: hole whose micrometre tails reach past the units round it, before it
#: gives up (:class:`Unsettled`).
GROW = 3


class Unsettled(Exception):
    """:func:`settle_holes` could not tell whether a snapped hole is one of the layer's."""


def _inside(union: Any, h: Any, tolerance_m2: float) -> np.ndarray:
    """Return the holes of ``union`` larger than the tolerance lying in ``h``."""
    local, _ = _holes_and_shells(np.array([union], dtype=object))
    area = np.asarray(shapely.area(local))
    local, area = local[area > tolerance_m2], area[area > tolerance_m2]
    # a point of the hole in h, or (where that point falls in a micrometre
    # tail reaching out of h) most of its area, or most of h (two snapped
    # holes joined by micrometre tails into one of the layer's)
    inside = shapely.contains(h, shapely.point_on_surface(local))
    rest = np.flatnonzero(~inside)
    if len(rest):
        shared = np.asarray(shapely.area(shapely.intersection(local[rest], h)))
        inside[rest] = (shared > 0.5 * area[rest]) | (shared > 0.5 * shapely.area(h))
    return np.asarray(local[inside], dtype=object)


def _leaks(
    union: Any,
    h: Any,
    near: np.ndarray,
    meeting: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    outside: Callable[[np.ndarray], np.ndarray] | None,
) -> np.ndarray:
    """Return more units to settle ``h`` with, or none if it is settled.

    Where the region of ``h`` that ``union`` leaves uncovered reaches the
    edge of its box, the layer's hole (if it is one) has tails running past
    these units: the units those open parts meet are added. None: that
    region is enclosed (and no larger than the tolerance), it reaches a point
    clear outside the layer (``outside``), or no unit is left to add.
    """
    box = shapely.box(*shapely.bounds(union))
    free = np.asarray(shapely.get_parts(shapely.difference(box, union)), dtype=object)
    free = free[np.asarray(shapely.area(shapely.intersection(free, h))) > 0]
    free = free[shapely.intersects(free, box.exterior)]
    if len(free) == 0:
        return np.zeros(0, dtype=np.intp)
    if outside is not None:
        edge = shapely.get_parts(shapely.intersection(free, box.exterior))
        if outside(shapely.point_on_surface(edge)).any():
            return np.zeros(0, dtype=np.intp)
    return np.setdiff1d(meeting(free)[1], near)


def _distinct(found: list[Any]) -> np.ndarray:
    """Return ``found`` with each hole once (found from two groups, one inside the other).

    Two copies of a hole have the same area and each holds the other's
    interior point; nested holes differ in area by at least an island.
    """
    if not found:
        return np.empty(0, dtype=object)
    holes = np.array(found, dtype=object)
    pts = shapely.point_on_surface(holes)
    area = np.asarray(shapely.area(holes))
    pi, qi = shapely.STRtree(holes).query(pts, predicate="intersects")
    same = (qi < pi) & shapely.intersects(holes[pi], pts[qi])
    same &= np.abs(area[pi] - area[qi]) <= 1e-6 * area[pi]
    dup = np.zeros(len(holes), dtype=bool)
    dup[pi[same]] = True
    return holes[~dup]


def _in_threads(fn: Any, items: Any, workers: int) -> np.ndarray:
    """Apply ``fn`` to chunks of ``items`` over threads (GEOS releases the GIL)."""
    n = len(items)
    if workers <= 1 or n < 2 * workers:
        return np.asarray(fn(items), dtype=object).reshape(-1)
    edges = np.linspace(0, n, 4 * workers + 1).astype(int)
    chunks = [items[a:b] for a, b in itertools.pairwise(edges) if b > a]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(
            [np.asarray(r, dtype=object).reshape(-1) for r in pool.map(fn, chunks)]
        )
