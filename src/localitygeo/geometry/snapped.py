"""A layer snapped onto itself, to find its gaps and overlaps as a coverage.

Real layers are near-coverages: output areas and wards share their
neighbours' vertices exactly, while LSOAs and MSOAs repeat them a micrometre
or so off (each is written out on its own). Checked as they are, GEOS nodes
every such sliver (the holes of one ``union_all`` of England's LSOAs take
minutes). Snapped first, they are a valid coverage almost everywhere, which
GEOS checks and unions in linear time (``coverage_invalid_edges``,
``coverage_union_all``); the few units it flags are unioned the general way.

How the layer is snapped. Vertices falling in one cell of a
:data:`SNAP_CELL` grid move to the first of them (in layer order), but only
where they all lie within :data:`SNAP_MAX` of it: no vertex moves farther,
and a cell holding two real vertices (or split by a cell edge) stays as it
was, which leaves its units flagged. A unit that snapping makes invalid
keeps its own vertices. Units whose vertices all stay put are not copied,
and a layer whose neighbours share their vertices (told from a sample of
:data:`SAMPLE` units) is not snapped at all.

What this changes, and what it cannot. Every edge moves by at most the
largest distance ``d`` any of its unit's vertices moved, so snapped and
original units differ only within ``d`` of their edges:

* gaps: where nothing moved (``d == 0``, as in output areas and wards) the
  snapped union is the layer's union and its holes are the gaps. Otherwise
  the snapped union's holes are candidates, each settled on the original
  units (:func:`~localitygeo.geometry.tiled_gaps.settle_holes`: the holes of
  the union of the units around it, widened ring by ring while the
  uncovered region runs out past them, and ended as soon as that region
  reaches a point clear of the layer, as one of England's LSOAs, joined to
  the sea by micrometre channels, does): the reported gaps are holes of the
  layer's own union, with their own areas. Where a candidate cannot be
  settled in a few rings, the layer is searched tile by tile
  (:mod:`~localitygeo.geometry.tiled_gaps`) instead, as it is where
  snapping leaves more than :data:`FLAGGED_MAX` of the units flagged. A
  hole that snapping closes altogether lies everywhere within ``d`` of an
  edge, a sliver under ``2 d`` wide; snapped holes are not used where the
  tolerance is smaller than such a sliver :data:`SLIVER_LENGTH` long;
* overlaps: two unflagged units do not overlap once snapped, so they can
  overlap only within ``d`` of their edges, by at most ``2 (d_a p_a + d_b
  p_b)`` for perimeters ``p``. Only pairs in which a unit is flagged, or
  could overlap by more than half the tolerance that way, are measured
  (exactly, as before).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = [
    "FLAGGED_MAX",
    "SAMPLE",
    "SLIVER_LENGTH",
    "SNAP_CELL",
    "SNAP_MAX",
    "SnappedLayer",
    "gap_holes",
    "snap_layer",
]

#: Grid cell (metres) in which vertices are snapped together.
SNAP_CELL = 1e-3

#: No vertex moves farther than this (metres) when snapped.
SNAP_MAX = 2e-5

#: Where more than this share of units is flagged once snapped, gaps are
#: found tile by tile instead (:mod:`localitygeo.geometry.tiled_gaps`).
FLAGGED_MAX = 0.25

#: Metres: a gap that snapping could hide is a sliver narrower than twice
#: the farthest any vertex moved (``d``); it is found tile by tile instead
#: where the tolerance is under such a sliver this long (``2 d`` times it).
SLIVER_LENGTH = 5_000.0


@dataclass(frozen=True)
class SnappedLayer:
    """A layer's polygons, snapped onto each other, and what GEOS says of them.

    Attributes
    ----------
    polygons : numpy.ndarray
        The layer's valid geometries reduced to their polygons (empty where
        none), in the layer's order.
    snapped : numpy.ndarray
        The same, snapped (the very objects of ``polygons`` where no vertex
        moved).
    moved : numpy.ndarray
        Per unit, the farthest any of its vertices moved (metres).
    flagged : numpy.ndarray
        Per unit, whether ``coverage_invalid_edges`` of the snapped layer
        finds an edge of it that does not match its neighbours'.
    present : numpy.ndarray
        Per unit, whether it has any polygon.
    tree : shapely.STRtree
        Of ``polygons`` (indices are the layer's; empty units are never found).
    """

    polygons: np.ndarray
    snapped: np.ndarray
    moved: np.ndarray
    flagged: np.ndarray
    present: np.ndarray
    tree: shapely.STRtree

    def finds_gaps(self, tolerance_m2: float) -> bool:
        """Whether gaps over this tolerance are found on this snapped layer.

        Not where more than :data:`FLAGGED_MAX` of its units are flagged
        (snapping did not make it a coverage), nor where a sliver of the
        tolerance's area could be as narrow as ``2 d`` and shorter than
        :data:`SLIVER_LENGTH`.
        """
        if not self.present.any():
            return True
        d = float(self.moved.max())
        flagged = float(self.flagged[self.present].mean())
        return flagged <= FLAGGED_MAX and 2.0 * d * SLIVER_LENGTH <= tolerance_m2

    def overlap_suspects(self, tolerance_m2: float) -> np.ndarray:
        """Return the units that may overlap a neighbour by more than half the tolerance.

        The flagged units, and those whose snapping moved their edges enough
        (``2 d p`` over a quarter of the tolerance) for an overlap of that
        size to hide along them.
        """
        margin = 2.0 * self.moved * np.asarray(shapely.length(self.polygons), dtype=float)
        return self.present & (self.flagged | (margin > tolerance_m2 / 4.0))


def snap_layer(g: np.ndarray) -> SnappedLayer:
    """Snap a layer's valid geometries onto each other and check them as a coverage.

    Parameters
    ----------
    g : numpy.ndarray of shapely geometries
        Valid geometries in a projected CRS (collections from ``make_valid``
        are reduced to their polygons).

    Returns
    -------
    SnappedLayer
    """
    from localitygeo.geometry.coverage import _polygonal_all
    from localitygeo.geometry.measure import _polygonal

    poly = _polygonal_all(np.asarray(g, dtype=object), _polygonal)
    poly = poly.copy()
    poly[shapely.is_missing(poly)] = shapely.Polygon()
    present = ~shapely.is_empty(poly)
    tree = shapely.STRtree(poly)
    if _vertex_exact(poly, present, tree):  # nothing to snap: checked as it is
        snapped, moved = poly, np.zeros(len(poly))
    else:
        snapped, moved = _snap(poly)
    flagged = np.zeros(len(poly), dtype=bool)
    if present.any():
        edges = shapely.coverage_invalid_edges(snapped[present])
        flagged[present] = ~shapely.is_empty(edges)
    return SnappedLayer(poly, snapped, moved, flagged, present, tree)


#: Units looked at (round the layer's middle one) to tell a layer whose
#: neighbours share their vertices exactly.
SAMPLE = 500


def _vertex_exact(poly: np.ndarray, present: np.ndarray, tree: shapely.STRtree) -> bool:
    """Whether most vertices of a sample of neighbouring units are shared exactly.

    Output areas and wards share theirs (snapping moves nothing there, at
    the cost of sorting every coordinate); LSOAs and MSOAs share almost none.
    Only a choice of method: either way the answer is the same.
    """
    from localitygeo.geometry.tiled_gaps import _shared_vertices

    present = np.flatnonzero(present)
    if len(present) <= SAMPLE:
        sample = present
    else:
        b = shapely.bounds(poly[present])
        x0, y0 = np.nanmin(b[:, 0]), np.nanmin(b[:, 1])
        x1, y1 = np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
        side = np.sqrt((x1 - x0) * (y1 - y0) / len(present) * SAMPLE) / 2.0
        mid = b[len(b) // 2]
        cx, cy = (mid[0] + mid[2]) / 2.0, (mid[1] + mid[3]) / 2.0
        box = shapely.box(cx - side, cy - side, cx + side, cy + side)
        sample = tree.query(box)
    if len(sample) < 2:
        return False
    return float(_shared_vertices(poly[sample]).mean()) >= 0.5


def _snap(poly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the snapped polygons and, per polygon, how far its vertices moved."""
    xy, owner = shapely.get_coordinates(poly, return_index=True)
    moved = np.zeros(len(poly))
    if len(xy) == 0:
        return poly.copy(), moved
    # a hash of the cell (truncated: the two cells either side of 0 are one); a
    # collision only puts far-apart vertices in one cell, which then moves none
    # of them (they are not within SNAP_MAX)
    with np.errstate(invalid="ignore", over="ignore"):
        cell = (xy * (1.0 / SNAP_CELL)).astype(np.int64).view(np.uint64)
        key = cell[:, 0] * np.uint64(0x9E3779B97F4A7C15)
        key ^= cell[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.empty(len(ks), dtype=bool)
    start[0] = True
    np.not_equal(ks[1:], ks[:-1], out=start[1:])
    starts = np.flatnonzero(start)
    sx, sy = xy[order, 0], xy[order, 1]
    counts = np.diff(np.append(starts, len(ks)))
    # each cell's first vertex (in layer order: the sort is stable)
    rx, ry = np.repeat(sx[starts], counts), np.repeat(sy[starts], counts)
    dist = np.maximum(np.abs(sx - rx), np.abs(sy - ry))
    ok = np.repeat(np.maximum.reduceat(dist, starts) <= SNAP_MAX, counts)  # never NaN
    ok &= dist > 0.0
    at = order[ok]
    new = xy.copy()
    new[at, 0], new[at, 1] = rx[ok], ry[ok]
    shift = np.zeros(len(xy))
    shift[at] = dist[ok]
    firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    moved[owner[firsts]] = np.maximum.reduceat(shift, firsts)
    out = poly.copy()
    sel = np.flatnonzero(moved > 0)
    if len(sel):
        mine = (moved > 0)[owner]
        out[sel] = shapely.transform(poly[sel], lambda _: new[mine])
        broken = ~shapely.is_valid(out[sel])
        out[sel[broken]] = poly[sel[broken]]
        moved[sel[broken]] = 0.0
    return out, moved


def snapped_union(layer: SnappedLayer) -> shapely.Geometry:
    """Return the union of the snapped layer: its valid coverage at once, then the rest."""
    present = layer.present
    good = layer.snapped[present & ~layer.flagged]
    rest = layer.snapped[present & layer.flagged]
    parts = list(rest)
    if len(good):
        parts.append(shapely.coverage_union_all(good))
    return shapely.union_all(np.array(parts, dtype=object)) if parts else shapely.Polygon()


def gap_holes(g: np.ndarray, tolerance_m2: float, layer: SnappedLayer | None = None) -> np.ndarray:
    """Return the holes of ``union_all(g)`` larger than the tolerance, as polygons.

    Parameters
    ----------
    g : numpy.ndarray of shapely geometries
        Valid geometries.
    tolerance_m2 : float
        Holes of this area or less are left out.
    layer : SnappedLayer, optional
        ``snap_layer(g)``, if already computed.

    Returns
    -------
    numpy.ndarray of shapely Polygons
        The area enclosed by each hole's ring (islands of units in it
        included), in no particular order.
    """
    from localitygeo.geometry import tiled_gaps

    layer = snap_layer(g) if layer is None else layer
    if not layer.finds_gaps(tolerance_m2):
        return tiled_gaps.gap_holes(layer.polygons, tolerance_m2)
    try:
        union = snapped_union(layer)
    except shapely.errors.GEOSException:  # not a coverage after all: the general way
        return tiled_gaps.gap_holes(layer.polygons, tolerance_m2)
    holes, shells = tiled_gaps._holes_and_shells(np.array([union], dtype=object))
    area = np.asarray(shapely.area(holes), dtype=float)
    d = float(layer.moved.max()) if len(layer.moved) else 0.0
    if d == 0.0:  # nothing moved: these are the layer's own holes
        return holes[area > tolerance_m2]
    # a hole of the layer differs from the snapped one within d of its edges
    margin = 2.0 * d * np.asarray(shapely.length(holes), dtype=float)
    candidates = holes[area + margin > tolerance_m2 / 2.0]
    if len(candidates) == 0:
        return np.empty(0, dtype=object)
    candidates = shapely.buffer(candidates, 2.0 * d, quad_segs=2)
    filled = shells[0]
    shapely.prepare(filled)

    def outside(points: np.ndarray) -> np.ndarray:
        # clear of the filled snapped union: no unit, moved back, reaches there
        return ~np.asarray(shapely.dwithin(filled, points, 4.0 * d), dtype=bool)

    try:
        found = tiled_gaps.settle_holes(
            candidates, layer.polygons, layer.tree, tolerance_m2, reach=4.0 * d, outside=outside
        )
    except (tiled_gaps.Unsettled, shapely.errors.GEOSException):
        return tiled_gaps.gap_holes(layer.polygons, tolerance_m2)
    return tiled_gaps._distinct(found)
