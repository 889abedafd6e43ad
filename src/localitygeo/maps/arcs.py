"""Layers as shared arcs with quantised, delta-encoded integer coordinates.

A published map draws one coloured layer (polygons) and some outline layers
(lines). Drawn as GeoJSON, every edge two units share is written twice, every
edge an outline shares with the coloured layer again, and every coordinate as
a decimal. Here all the layers become one network of *arcs* (lines between
junctions), each written once:

1. each layer is made a vertex-exact coverage (shapely's ``coverage_clean``);
2. the outline layers' vertices are snapped to the coloured layer's
   vertices within ``snap_m``, and the coloured layer's vertices lying on an
   outline's segments (within 0.1 m) put into them (separately generalised
   layers, such as wards over output areas, follow the same line where they
   meet; an LSOA line is never pulled onto a corner inside an output area);
3. the boundaries of all layers are noded and dissolved into arcs that meet
   only at their ends;
4. the arcs are simplified together, keeping their ends and never making two
   of them cross (GEOS' topology-preserving simplifier), so neighbours, whose
   rings use the very same arcs, can never part;
5. coordinates go to longitude/latitude and onto an integer grid of
   ``10**-precision`` degrees, and the result is checked: no arc crosses or
   runs along another, none crosses itself, every unit is a valid polygon and
   no two overlap. Where the grid breaks that, a grid ten times finer is
   tried (twice), then publishing is refused.

Each unit of the coloured layer is written as polygons of rings of arc
references (``i`` the arc as stored, ``-1 - i`` reversed, as in TopoJSON);
each outline layer as the list of arcs that draw it. Integers are written as
text: zigzag-signed, five bits to a character, 32 characters ending a number
and 32 continuing it (:func:`encode_ints`), a form that needs no escaping in
JSON or HTML. ``page.js`` decodes it; :func:`decode` is the same decoder in
Python, for tests and checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from localitygeo.errors import GeometryError
from localitygeo.maps.arc_codec import (
    DIGITS,
    _arc_points,
    _lines,
    _ring,
    decode,
    decode_ints,
    encode_ints,
)

__all__ = ["DIGITS", "Topology", "build_topology", "decode", "decode_ints", "encode_ints"]

_FINER = 2  # times a grid ten times finer is tried before refusing
_ON_EDGE = 0.1  # metres: a vertex this close to an outline's segment is put into it


@dataclass(frozen=True)
class Topology:
    """Layers as shared quantised arcs, ready for the page.

    Attributes
    ----------
    transform : tuple of float
        ``(x0, y0, kx, ky)``: longitude = x0 + x * kx, latitude = y0 + y * ky.
    arcs : list of numpy.ndarray
        Each arc's integer grid coordinates, shape (n, 2), n >= 2.
    shapes : list
        Per unit of the coloured layer: polygons, each a list of rings (the
        exterior first), each a list of arc references.
    lines : dict of str to numpy.ndarray
        Per outline layer, the sorted indices of the arcs that draw it.
    """

    transform: tuple[float, float, float, float]
    arcs: list[np.ndarray]
    shapes: list[list[list[list[int]]]]
    lines: dict[str, np.ndarray]

    def page_arcs(self) -> dict[str, Any]:
        """Return the arcs as the page's data: ``{"transform": [...], "arcs": text}``.

        The text holds, for each arc, its number of points, its first point
        and the differences between consecutive points.
        """
        flat: list[np.ndarray] = []
        for a in self.arcs:
            steps = np.vstack([a[:1], np.diff(a, axis=0)])
            flat.append(np.concatenate([[len(a)], steps.ravel()]))
        joined = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
        return {"transform": list(self.transform), "arcs": encode_ints(joined)}

    def page_shapes(self) -> str:
        """Return the coloured layer's units as text (see :func:`decode`)."""
        flat: list[int] = []
        for polygons in self.shapes:
            flat.append(len(polygons))
            for rings in polygons:
                flat.append(len(rings))
                for refs in rings:
                    flat.append(len(refs))
                    flat.extend(refs)
        return encode_ints(flat)

    def page_lines(self, key: str) -> str:
        """Return an outline layer's arcs as text: their count, then index differences."""
        ids = self.lines[key]
        return encode_ints(np.concatenate([[len(ids)], np.diff(ids, prepend=0)]))


# -- building -------------------------------------------------------------------------


def _coverage(geoms: np.ndarray) -> np.ndarray:
    from localitygeo.maps.publish import _as_coverage

    return _as_coverage(geoms)[0]


def _snap_outline(edges: Any, reference: Any, snap: float) -> Any:
    """Return an outline's lines snapped onto the coloured layer's vertices.

    Each outline vertex within ``snap`` of a vertex of the coloured layer
    moves onto the nearest one; then the coloured layer's vertices lying
    within :data:`_ON_EDGE` of an outline segment are inserted into it, so
    where the two layers run together they are the same line. Inserting
    vertices from ``snap`` away (GEOS' snapping of segments) would pull an
    LSOA line through an output area onto the corner of an edge inside it.
    """
    xy, owner = shapely.get_coordinates(shapely.get_parts(edges), return_index=True)
    points = shapely.get_parts(reference)
    moved, onto = shapely.STRtree(points).query_nearest(
        shapely.points(xy), max_distance=snap, all_matches=False
    )
    xy[moved] = shapely.get_coordinates(points[onto])
    lines = np.asarray(shapely.linestrings(xy, indices=owner), dtype=object)
    lines = lines[shapely.length(lines) > 0]
    return shapely.snap(shapely.multilinestrings(lines), reference, min(snap, _ON_EDGE))


def _probe_points(arcs: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Return, per arc, its longest segment's midpoint and a point ``eps`` to its left."""
    coords, owner = shapely.get_coordinates(arcs, return_index=True)
    same = owner[1:] == owner[:-1]
    seg = np.flatnonzero(same)
    d = coords[seg + 1] - coords[seg]
    length = np.hypot(d[:, 0], d[:, 1])
    # the longest segment of each arc: sort by (arc, length) and take each arc's last
    order = np.lexsort((length, owner[seg]))
    last = np.flatnonzero(np.r_[owner[seg][order][1:] != owner[seg][order][:-1], True])
    best = order[last]
    mid = (coords[seg[best]] + coords[seg[best] + 1]) / 2
    unit = d[best] / length[best][:, None]
    normal = np.column_stack([-unit[:, 1], unit[:, 0]])
    return mid, mid + eps * normal


def _sides(
    mid: np.ndarray, left_pt: np.ndarray, polygons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the polygon on each arc's left and right (-1 for none).

    An arc bounds the polygons whose boundary passes through its probe
    point ``mid``; each of those is on the side where it holds ``left_pt``,
    a point just to the left (never a point in another polygon: an outline
    running close beside a unit's edge cannot misplace it).
    """
    left = np.full(len(mid), -1)
    right = np.full(len(mid), -1)
    rings = shapely.boundary(polygons)
    a, g = shapely.STRtree(rings).query(shapely.points(mid), predicate="dwithin", distance=1e-6)
    on_left = shapely.contains_xy(polygons[g], left_pt[a, 0], left_pt[a, 1])
    for side, pick in ((left, on_left), (right, ~on_left)):
        arc, unit = a[pick], g[pick]
        if len(np.unique(arc)) != len(arc):
            raise GeometryError("two units lie on the same side of an edge")
        side[arc] = unit
    return left, right


def _rings(left: np.ndarray, right: np.ndarray, ends: np.ndarray) -> list[tuple[int, list[int]]]:
    """Chain each unit's half-edges (the unit on their left) into closed rings.

    ``ends`` holds each arc's start and end node. Returns (unit, arc refs) per ring.
    """
    fwd = np.flatnonzero(left >= 0)
    rev = np.flatnonzero(right >= 0)
    unit = np.concatenate([left[fwd], right[rev]])
    ref = np.concatenate([fwd, -1 - rev])
    nodes = int(ends.max()) + 1 if len(ends) else 1
    key = unit * nodes + np.concatenate([ends[fwd, 0], ends[rev, 1]])
    wanted = unit * nodes + np.concatenate([ends[fwd, 1], ends[rev, 0]])
    order = np.argsort(key, kind="stable")
    first = np.searchsorted(key[order], wanted, side="left")
    stop = np.searchsorted(key[order], wanted, side="right")
    if (first == stop).any():
        raise GeometryError("a unit's boundary does not close into rings")
    start = key % nodes
    used = np.zeros(len(ref), dtype=bool)
    taken = np.zeros(len(ref), dtype=np.int64)  # half-edges taken from each node's bucket
    rings: list[tuple[int, list[int]]] = []
    for h0 in range(len(ref)):  # each half-edge is visited once, in exactly one ring
        if used[h0]:
            continue
        refs, h = [], h0
        while True:
            used[h] = True
            refs.append((int(ref[h]), int(start[h])))
            p, q = int(first[h]), int(stop[h])
            # a unit touching itself at a node has several ways on: take an unused one
            while p + taken[p] < q and used[order[p + taken[p]]]:
                taken[p] += 1
            if p + taken[p] == q:
                break
            h = int(order[p + taken[p]])
        rings.extend((int(unit[h0]), loop) for loop in _simple_loops(refs))
    return rings


def _simple_loops(refs: list[tuple[int, int]]) -> list[list[int]]:
    """Split a closed walk of (arc ref, start node) where it revisits a node.

    A unit touching itself at a point (an island joined to it at a corner)
    is walked as a figure of eight; split there it is two rings, each simple.
    """
    loops: list[list[int]] = []
    stack: list[tuple[int, int]] = []
    seen: dict[int, int] = {}
    for r, n in refs:
        if n in seen:
            k = seen[n]
            loops.append([x for x, _ in stack[k:]])
            for _, m in stack[k:]:
                del seen[m]
            del stack[k:]
        seen[n] = len(stack)
        stack.append((r, n))
    loops.append([x for x, _ in stack])
    return loops


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) / 2


def _dedupe(q: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Return which grid points to keep: no point repeats its predecessor in an arc."""
    n = len(q)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    new_run = first | np.r_[True, (q[1:] != q[:-1]).any(axis=1)]
    run = np.cumsum(new_run) - 1
    run_has_last = np.zeros(run[-1] + 1 if n else 0, dtype=bool)
    run_has_last[run[last]] = True
    return (new_run & ~(run_has_last[run] & ~first)) | last


def _quantise(
    arcs: np.ndarray, to_web: Transformer, grid: float
) -> tuple[tuple[float, float, float, float], list[np.ndarray]]:
    coords, owner = shapely.get_coordinates(arcs, return_index=True)
    lon, lat = to_web.transform(coords[:, 0], coords[:, 1])
    x0, y0 = float(np.floor(lon.min() / grid) * grid), float(np.floor(lat.min() / grid) * grid)
    q = np.column_stack([np.rint((lon - x0) / grid), np.rint((lat - y0) / grid)]).astype(np.int64)
    keep = _dedupe(q, owner)
    q, owner = q[keep], owner[keep]
    bounds = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    return (x0, y0, grid, grid), np.split(q, bounds[1:])


def _problems(topo: Topology, valid: np.ndarray) -> str | None:
    """Return what the grid broke (crossing arcs, invalid or overlapping units), or None.

    ``valid`` says which units were valid polygons before (only those are checked).
    """
    points = _arc_points(topo.arcs, topo.transform)
    lines = _lines(points)
    real = shapely.length(lines) > 0
    if not shapely.is_simple(lines[real]).all():
        return "an arc crosses itself"
    # Within each outline layer no two arcs may cross (the coloured layer's are
    # checked below, as polygons); a ward line crossing an output area's edge
    # where the two differ by less than the grid is no error.
    for key, ids in topo.lines.items():
        mine = lines[ids][real[ids]]
        tree = shapely.STRtree(mine)
        for predicate in ("crosses", "overlaps"):
            a, b = tree.query(mine, predicate=predicate)
            if (a != b).any():
                return f"two arcs of the {key} outlines cross or run along each other"
    units = np.asarray(
        [
            shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in (_rings_of(p, points))])
            for p in topo.shapes
        ],
        dtype=object,
    )
    units = units[valid]
    if len(units) and not shapely.is_valid(units).all():
        return "a unit is no longer a valid polygon"
    if len(units) and not shapely.coverage_is_valid(units):
        return "two units overlap"
    return None


def _rings_of(polygons: list[list[list[int]]], points: list[np.ndarray]) -> list[list[np.ndarray]]:
    return [[_ring(refs, points) for refs in rings] for rings in polygons]


def build_topology(
    units: gpd.GeoDataFrame,
    outlines: dict[str, gpd.GeoDataFrame],
    *,
    tolerance_m: float,
    precision: int = 5,
    snap_m: float | None = None,
) -> Topology:
    """Return a coloured layer and outline layers as one network of shared, quantised arcs.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        The coloured layer: polygons in a projected CRS (metres).
    outlines : dict of str to geopandas.GeoDataFrame
        Outline layers by key, in the same CRS.
    tolerance_m : float
        Simplification tolerance in metres (0 keeps every vertex).
    precision : int, default 5
        The grid is ``10**-precision`` degrees (5 is about 1 m).
    snap_m : float, optional
        Outline vertices this close to the coloured layer's are moved onto
        them; default a fifth of ``tolerance_m`` (at least 0.1 m).

    Returns
    -------
    Topology

    Raises
    ------
    GeometryError
        Even a grid a hundred times finer makes arcs cross or units overlap.
    """
    snap = max(tolerance_m / 5, 0.1) if snap_m is None else snap_m
    base = _coverage(np.asarray(units.geometry.array, dtype=object))
    base = base.copy()
    base[shapely.is_missing(base)] = shapely.Polygon()
    valid = shapely.is_valid(base)
    reference = shapely.multipoints(shapely.get_coordinates(base))
    drawn: dict[str, Any] = {}
    for key, layer in outlines.items():
        if layer.crs != units.crs:  # pragma: no cover - callers pass one set's layers
            raise GeometryError("outline layers must be in the coloured layer's CRS", layer=key)
        edges = shapely.union_all(shapely.boundary(_coverage(np.asarray(layer.geometry.array))))
        drawn[key] = _snap_outline(edges, reference, snap) if snap > 0 else edges
    network = shapely.union_all(np.concatenate([shapely.boundary(base), list(drawn.values())]))
    arcs = shapely.get_parts(shapely.line_merge(network))
    arcs = arcs[shapely.get_type_id(arcs) == 1]
    mid, left_pt = _probe_points(arcs, 1e-4)
    left, right = _sides(mid, left_pt, base)
    ends_xy = np.vstack([shapely.get_coordinates(shapely.get_point(arcs, i)) for i in (0, -1)])
    _, node = np.unique(ends_xy, axis=0, return_inverse=True)
    ends = node.reshape(2, -1).T
    exact = [np.asarray(shapely.get_coordinates(a)) for a in arcs]
    polygons: list[list[list[list[int]]]] = [[] for _ in range(len(base))]
    holes: list[tuple[int, list[int]]] = []
    for unit, refs in _rings(left, right, ends):
        if _signed_area(_ring(refs, exact)) > 0:
            polygons[unit].append([refs])
        else:
            holes.append((unit, refs))
    for unit, refs in holes:
        inside = shapely.points(_ring(refs, exact)[0])
        outer = [shapely.Polygon(_ring(p[0], exact)) for p in polygons[unit]]
        hit = [i for i, o in enumerate(outer) if shapely.covers(o, inside)]
        if not hit:
            raise GeometryError("a hole lies outside its unit's polygons")
        polygons[unit][min(hit, key=lambda i: outer[i].area)].append(refs)
    near = {
        key: np.flatnonzero(shapely.dwithin(shapely.points(mid), lines, 1e-6))
        for key, lines in drawn.items()
    }
    if tolerance_m > 0:
        simple = shapely.get_parts(
            shapely.simplify(shapely.multilinestrings(arcs), tolerance_m, preserve_topology=True)
        )
        if len(simple) != len(arcs):  # pragma: no cover - GEOS keeps every line
            raise GeometryError("simplification dropped arcs")
        arcs = simple
    to_web = Transformer.from_crs(units.crs, "EPSG:4326", always_xy=True)
    grid = 10.0**-precision
    for _ in range(_FINER + 1):
        transform, grid_arcs = _quantise(arcs, to_web, grid)
        topo = Topology(transform, grid_arcs, polygons, near)
        problem = _problems(topo, valid)
        if problem is None:
            return topo
        grid /= 10
    raise GeometryError(f"publishing would break the map's topology: {problem}")
