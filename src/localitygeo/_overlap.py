"""Exact areas of every overlapping pair of polygons from two layers.

This is the engine behind :func:`localitygeo.best_fit`. It computes
``area(a_i ∩ b_j)`` for all pairs without building any intersection geometry,
from the boundaries alone (Green's theorem):

    area(A ∩ B) = ½ ∮ (x dy − y dx) over ∂(A ∩ B)
                = ½ [ Σ cross products along the parts of ∂A inside B
                    + Σ cross products along the parts of ∂B inside A ]

Rings are oriented so that the polygon's interior lies on the left of every
edge (shells counter-clockwise, holes clockwise). Along a ring, "inside the
other polygon" changes only where the ring crosses the other polygon's
boundary, and the direction of the crossing says which way. So the work is:

1. find the edge pairs (edge of A, edge of B) whose bounding boxes meet, with a
   uniform grid: parents' edges are bucketed once, each chunk of children
   looks up the cells its edges touch;
2. decide which pairs cross, with orientation tests that are exact (floating
   point where its error bound allows, exact rationals otherwise) and with
   degenerate cases (shared vertices, collinear shared edges) resolved by a
   symbolic perturbation: layer B is shifted by ε·(1, η), ε and η infinitely
   small. The perturbed configuration has only proper crossings and the areas
   are continuous in ε, so the result is the exact area of the unperturbed
   pair;
3. sort the crossings along each ring (per pair of ring and other polygon), and
   sum the cross products of the stretches between an "enter" and the next
   "exit";
4. rings with no crossing lie wholly inside or outside the other polygon: one
   point-in-polygon test (GEOS) decides, at a vertex not on the other boundary.

Every step checks what it relies on (crossings alternate enter/exit along
every ring; both sides of a crossing agree; a test vertex off the boundary
exists) and pairs that fail a check are computed with a GEOS overlay instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["NonFiniteError", "intersection_areas"]

Array = npt.NDArray[Any]
Progress = Callable[[int, int], None]

# Shewchuk's error bound for the floating-point orientation test.
_ERRBOUND = 3.3306690738754716e-16
# Direction of the symbolic shift of the parent layer: any slope that no edge has.
_KAPPA = 0.6180339887498949
# Parents per chunk: small enough for the chunk's arrays to stay in cache.
_CHUNK = 240


class NonFiniteError(ValueError):
    """A geometry has a NaN or infinite coordinate (GEOS calls it invalid)."""


@dataclass(frozen=True)
class _Rings:
    """A polygon layer as oriented rings and edges (struct of arrays)."""

    x: Array  # vertex coordinates; rings closed; interior on the left
    y: Array
    ring_start: Array  # (R+1) offsets into x, y
    ring_geom: Array  # (R) geometry of each ring
    ring_area2: Array  # (R) twice the signed ring area (shells > 0, holes < 0)
    ring_box: Array  # (R, 4) xmin, ymin, xmax, ymax
    geom_ring_start: Array  # (G+1) offsets into rings
    edge: Array  # (E, 4) x0, y0, x1, y1 of each edge (zero-length edges dropped)
    edge_ring: Array  # (E) ring of each edge
    ring_edge_start: Array  # (R+1) offsets into edges
    ring_rev: Array  # (R) the ring's edges are stored against its travel order

    def travel(self, ring: Array, pos: Array) -> Array:
        """Storage position <-> position in travel order (the map is its own inverse)."""
        ne = self.ring_edge_start[ring + 1] - self.ring_edge_start[ring]
        return np.where(self.ring_rev[ring], ne - 1 - pos, pos)


def _rings(geoms: Array) -> _Rings:
    """Decompose valid (Multi)Polygons into oriented rings and edges."""
    n = len(geoms)
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    xy = shapely.get_coordinates(geoms)
    if not np.isfinite(xy).all():
        raise NonFiniteError("a geometry has a NaN or infinite coordinate")
    ncoord = shapely.get_num_coordinates(geoms)
    if simple.all():
        rgeom = np.arange(n)
        rcount = ncoord
        hole = np.zeros(n, bool)
    else:
        cx = np.flatnonzero(~simple)
        parts, pidx = shapely.get_parts(geoms[cx], return_index=True)
        rings, ridx = shapely.get_rings(parts, return_index=True)
        first = np.ones(len(ridx), bool)
        first[1:] = ridx[1:] != ridx[:-1]
        sx = np.flatnonzero(simple)
        rgeom = np.concatenate([sx, cx[pidx[ridx]]])
        rcount = np.concatenate([ncoord[sx], shapely.get_num_coordinates(rings)])
        hole = np.concatenate([np.zeros(len(sx), bool), ~first])
        order = np.argsort(rgeom, kind="stable")
        rgeom, rcount, hole = rgeom[order], rcount[order], hole[order]
    nr = len(rgeom)
    rstart = np.zeros(nr + 1, np.int64)
    np.cumsum(rcount, out=rstart[1:])
    x = np.ascontiguousarray(xy[:, 0])
    y = np.ascontiguousarray(xy[:, 1])
    nv = len(x)
    # twice the signed ring areas, each from its ring's first vertex (for accuracy)
    xs = x - np.repeat(x[rstart[:-1]], rcount)
    ys = y - np.repeat(y[rstart[:-1]], rcount)
    cross = xs[:-1] * ys[1:] - xs[1:] * ys[:-1]
    cross[rstart[1:-1] - 1] = 0.0  # no term between one ring's end and the next start
    a2 = np.add.reduceat(cross, rstart[:-1]) if nr else np.zeros(0)
    a2[rcount <= 1] = 0.0
    # interior on the left: shells counter-clockwise, holes clockwise. A ring
    # stored the other way round gets its edges reversed in place (so its
    # travel order is its storage order backwards).
    rev = np.where(hole, a2 > 0, a2 < 0)
    a2 = np.where(rev, -a2, a2)
    notlast = np.ones(nv, bool)
    notlast[rstart[1:] - 1] = False
    i0 = np.flatnonzero(notlast)
    er = np.repeat(np.arange(nr), rcount - 1)
    edge = np.empty((len(i0), 4))
    if rev.all() or not rev.any():
        a, b = (i0 + 1, i0) if nr and rev[0] else (i0, i0 + 1)
        edge[:, 0], edge[:, 1], edge[:, 2], edge[:, 3] = x[a], y[a], x[b], y[b]
    else:
        f = rev[er]
        x0, y0, x1, y1 = x[i0], y[i0], x[i0 + 1], y[i0 + 1]
        edge[:, 0] = np.where(f, x1, x0)
        edge[:, 1] = np.where(f, y1, y0)
        edge[:, 2] = np.where(f, x0, x1)
        edge[:, 3] = np.where(f, y0, y1)
    keep = (edge[:, 0] != edge[:, 2]) | (edge[:, 1] != edge[:, 3])
    if not keep.all():
        edge, er = edge[keep], er[keep]
    restart = np.zeros(nr + 1, np.int64)
    np.cumsum(np.bincount(er, minlength=nr), out=restart[1:])
    if simple.all():  # one ring per geometry: GEOS has the boxes
        box = shapely.bounds(geoms)
    else:
        box = np.empty((nr, 4))
        box[:, 0] = np.minimum.reduceat(x, rstart[:-1])
        box[:, 1] = np.minimum.reduceat(y, rstart[:-1])
        box[:, 2] = np.maximum.reduceat(x, rstart[:-1])
        box[:, 3] = np.maximum.reduceat(y, rstart[:-1])
    grs = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rgeom, minlength=n), out=grs[1:])
    return _Rings(x, y, rstart, rgeom, a2, box, grs, edge, er, restart, rev)


@dataclass(frozen=True)
class _Shared:
    """A layer's edges with each shared edge stored once, in a canonical direction.

    In a coverage (output areas, say) every inner edge belongs to two rings;
    testing it once halves the work.
    """

    edge: Array  # (U, 4) unique edges, lower endpoint first
    copy_start: Array  # (U+1) offsets into copy
    copy: Array  # (E) edge ids grouped by unique edge
    flipped: Array  # (E) the edge runs against its unique edge


def _shared(edge: Array) -> _Shared:
    n = len(edge)
    x0, y0, x1, y1 = edge[:, 0], edge[:, 1], edge[:, 2], edge[:, 3]
    flipped = (x0 > x1) | ((x0 == x1) & (y0 > y1))
    cols = (
        np.where(flipped, x1, x0),
        np.where(flipped, y1, y0),
        np.where(flipped, x0, x1),
        np.where(flipped, y0, y1),
    )
    h = cols[0].view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= cols[1].view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= cols[2].view(np.uint64) * np.uint64(0x165667B19E3779F9)
    h ^= cols[3].view(np.uint64) * np.uint64(0x27D4EB2F165667C5)
    order = _argsort((h >> np.uint64(2)).astype(np.int64) >> max(n - 1, 1).bit_length())
    c = [col[order] for col in cols]
    # equal edges have equal hashes, so sort next to each other (a colliding
    # different edge in between only costs a missed merge)
    new = np.ones(n, bool)
    new[1:] = (c[0][1:] != c[0][:-1]) | (c[1][1:] != c[1][:-1])
    new[1:] |= (c[2][1:] != c[2][:-1]) | (c[3][1:] != c[3][:-1])
    u = np.empty((int(new.sum()), 4))
    for k in range(4):
        u[:, k] = c[k][new]
    return _Shared(u, np.append(np.flatnonzero(new), n), order, flipped)


def _copies(c: _Crossings, sh: _Shared) -> _Crossings:
    """Crossings found on unique edges -> crossings on every edge sharing it."""
    start = sh.copy_start[c.a_edge]
    n = sh.copy_start[c.a_edge + 1] - start
    rec = np.repeat(np.arange(len(n)), n)
    edge = sh.copy[np.repeat(start - (np.cumsum(n) - n), n) + np.arange(len(rec))]
    f = sh.flipped[edge]
    t = c.t[rec]
    return _Crossings(
        edge,
        c.b_edge[rec],
        np.where(f, 1.0 - t, t),
        np.where(f, -c.t1[rec], c.t1[rec]),
        np.where(f, -c.t2[rec], c.t2[rec]),
        c.t_err[rec],
        c.u[rec],
        c.u1[rec],
        c.u2[rec],
        c.u_err[rec],
        c.x[rec],
        c.y[rec],
        c.a_enters[rec] ^ f,
        c.consistent[rec],
    )


# --------------------------------------------------------------------------- grid


@dataclass(frozen=True)
class _Grid:
    """A uniform grid: cell (i, j) holds x in [gx + i*s, gx + (i+1)*s)."""

    gx: float
    gy: float
    s: float
    ny: int


@dataclass(frozen=True)
class _Index:
    """Parent edges bucketed by grid cell, sorted by cell key."""

    key: Array  # (N) cell key, sorted
    start: Array | None  # (cells+1) first entry of each cell, when the grid is small enough
    edge: Array  # (N) parent edge id
    x0: Array  # (N) box of the edge piece registered in this cell
    y0: Array
    x1: Array
    y1: Array
    flag: Array  # (N) bit 0: cell is the piece's first column; bit 1: first row
    split: Array  # (N) the edge was split into several pieces


def _pieces(edge: Array, s: float) -> tuple[Array, Array, Array]:
    """Split edges longer than ``s`` into pieces: (edge id, piece box, edge was split)."""
    dx = edge[:, 2] - edge[:, 0]
    dy = edge[:, 3] - edge[:, 1]
    m = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy)) / s), 1).astype(np.int64)
    box = np.empty((len(edge), 4))
    np.minimum(edge[:, 0], edge[:, 2], out=box[:, 0])
    np.minimum(edge[:, 1], edge[:, 3], out=box[:, 1])
    np.maximum(edge[:, 0], edge[:, 2], out=box[:, 2])
    np.maximum(edge[:, 1], edge[:, 3], out=box[:, 3])
    long = np.flatnonzero(m > 1)
    ids = np.arange(len(edge))
    if len(long) == 0:
        return ids, box, np.zeros(len(edge), bool)
    ml = m[long]
    seg = np.repeat(long, ml)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(ml) - ml, ml)
    mm = m[seg]
    t0, t1 = k / mm, (k + 1) / mm
    x0 = edge[seg, 0] + t0 * dx[seg]
    y0 = edge[seg, 1] + t0 * dy[seg]
    x1 = edge[seg, 0] + t1 * dx[seg]
    y1 = edge[seg, 1] + t1 * dy[seg]
    pad = 1e-9 * s  # the pieces' boxes must cover the edge despite rounding
    pbox = np.empty((len(seg), 4))
    pbox[:, 0] = np.minimum(x0, x1) - pad
    pbox[:, 1] = np.minimum(y0, y1) - pad
    pbox[:, 2] = np.maximum(x0, x1) + pad
    pbox[:, 3] = np.maximum(y0, y1) + pad
    short = m == 1
    split = np.concatenate([np.zeros(int(short.sum()), bool), np.ones(len(seg), bool)])
    return np.concatenate([ids[short], seg]), np.concatenate([box[short], pbox]), split


def _entries(box: Array, grid: _Grid) -> tuple[Array, Array, Array]:
    """Register boxes in every cell they touch: (cell key, box index, flag)."""
    s = grid.s
    i0 = np.floor((box[:, 0] - grid.gx) / s).astype(np.int64)
    j0 = np.floor((box[:, 1] - grid.gy) / s).astype(np.int64)
    i1 = np.floor((box[:, 2] - grid.gx) / s).astype(np.int64)
    j1 = np.floor((box[:, 3] - grid.gy) / s).astype(np.int64)
    nj = j1 - j0 + 1
    cnt = (i1 - i0 + 1) * nj
    if (cnt == 1).all():
        return i0 * grid.ny + j0, np.arange(len(box)), np.full(len(box), 3, np.int8)
    idx = np.repeat(np.arange(len(box)), cnt)
    k = np.arange(len(idx)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    njr = nj[idx]
    di = k // njr
    dj = k - di * njr
    flag = (di == 0).astype(np.int8) | ((dj == 0).astype(np.int8) << 1)
    return (i0[idx] + di) * grid.ny + (j0[idx] + dj), idx, flag


def _unique(key: Array) -> Array:
    """Sorted unique values (sort-based; numpy's hash-based unique is slower here)."""
    k = np.sort(key)
    keep = np.ones(len(k), bool)
    keep[1:] = k[1:] != k[:-1]
    return k[keep]


def _unique_inverse(key: Array) -> tuple[Array, Array]:
    """Sorted unique values of non-negative int64 keys and the index of each key."""
    o = _argsort(key)
    k = key[o]
    new = np.ones(len(k), bool)
    new[1:] = k[1:] != k[:-1]
    inv = np.empty(len(k), np.int64)
    inv[o] = np.cumsum(new) - 1
    return k[new], inv


def _argsort(key: Array) -> Array:
    """Stable argsort of non-negative int64 keys (packs key and position: fast)."""
    n = len(key)
    shift = max(n - 1, 1).bit_length()
    if n and int(key.max()) < (1 << (62 - shift)):
        packed = np.sort((key << shift) | np.arange(n))
        return packed & ((1 << shift) - 1)
    return np.argsort(key, kind="stable")


def _index(edge: Array, grid: _Grid, ncells: int) -> _Index:
    eid, box, split = _pieces(edge, grid.s)
    key, idx, flag = _entries(box, grid)
    order = _argsort(key)
    key, idx = key[order], idx[order]
    start = None
    if ncells <= 1 << 26:
        start = np.zeros(ncells + 1, np.int32 if len(key) < 1 << 31 else np.int64)
        np.cumsum(np.bincount(key, minlength=ncells), out=start[1:])
    b = box[idx]
    return _Index(
        key,
        start,
        eid[idx],
        np.ascontiguousarray(b[:, 0]),
        np.ascontiguousarray(b[:, 1]),
        np.ascontiguousarray(b[:, 2]),
        np.ascontiguousarray(b[:, 3]),
        flag[order],
        split[idx],
    )


def _candidates(edge: Array, index: _Index, grid: _Grid) -> tuple[Array, Array]:
    """Pairs (edge of a chunk's children, parent edge) whose boxes meet."""
    eid, box, split = _pieces(edge, grid.s)
    key, idx, flag = _entries(box, grid)
    if index.start is not None:
        lo = index.start[key].astype(np.int64)
        cnt = index.start[key + 1] - lo
    else:
        # sorted queries: the binary searches then walk nearby memory
        ukey, inv = _unique_inverse(key)
        ulo = np.searchsorted(index.key, ukey, "left")
        lo = ulo[inv]
        cnt = (np.searchsorted(index.key, ukey, "right") - ulo)[inv]
    has = np.flatnonzero(cnt)
    idx, flag, lo, cnt = idx[has], flag[has], lo[has], cnt[has]
    b = box[idx]
    x0, y0, x1, y1 = (np.ascontiguousarray(b[:, k]) for k in range(4))
    rep = np.repeat(np.arange(len(idx)), cnt)
    j = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(len(rep))
    # report each overlapping pair once: in the cell holding the low corner of the overlap
    ok = (flag[rep] | index.flag[j]) == 3
    ok &= x0[rep] <= index.x1[j]
    ok &= index.x0[j] <= x1[rep]
    rep, j = rep[ok], j[ok]
    ok = (y0[rep] <= index.y1[j]) & (index.y0[j] <= y1[rep])
    rep, j = rep[ok], j[ok]
    ia = eid[idx[rep]]
    ib = index.edge[j]
    multi = split[idx[rep]] | index.split[j]
    if multi.any():
        # pieces of split (long) edges can meet in several cells: keep each pair once
        nb = int(ib.max()) + 1
        u = _unique(ia[multi] * nb + ib[multi])
        ia = np.concatenate([ia[~multi], u // nb])
        ib = np.concatenate([ib[~multi], u % nb])
    return ia, ib


# --------------------------------------------------------------------- crossings


def _orient(ux: Array, uy: Array, vx: Array, vy: Array) -> tuple[Array, Array, Array, Array]:
    """cross(u, v): (value, error bound, certainty flag, exact-zero flag).

    The bound is Shewchuk's for the floating-point orientation test; a value
    whose factors include an exact 0 is exactly 0.
    """
    left = ux * vy
    right = uy * vx
    det = left - right
    bound = _ERRBOUND * (np.abs(left) + np.abs(right))
    zero = (left == 0) & (right == 0)
    sure = (np.abs(det) > bound) | zero
    return det, bound, sure, zero


def _exact_signs(ax: Array, ay: Array, bx: Array, by: Array, cx: Array, cy: Array) -> Array:
    """Exact sign of cross(b - a, c - a), in rationals (only for the few unsure cases)."""
    out = np.empty(len(ax))
    for k in range(len(ax)):
        a_x, a_y = Fraction(ax[k]), Fraction(ay[k])
        v = (Fraction(bx[k]) - a_x) * (Fraction(cy[k]) - a_y) - (Fraction(by[k]) - a_y) * (
            Fraction(cx[k]) - a_x
        )
        out[k] = (v > 0) - (v < 0)
    return out


def _shift_sign(x0: Array, y0: Array, x1: Array, y1: Array) -> Array:
    """Sign of cross(d, w) for d = (x1 - x0, y1 - y0) and the shift w = (1, κ), exact.

    If d is parallel to w (never, in practice) the shift's second-order part
    (0, 1) decides: the sign of d's x component.
    """
    dx, dy = x1 - x0, y1 - y0
    f = dx * _KAPPA - dy
    sign = np.sign(f)
    unsure = np.flatnonzero(np.abs(f) <= 1e-15 * (np.abs(dx) * _KAPPA + np.abs(dy)))
    for k in unsure:
        v = (Fraction(x1[k]) - Fraction(x0[k])) * Fraction(_KAPPA) - (
            Fraction(y1[k]) - Fraction(y0[k])
        )
        sign[k] = (v > 0) - (v < 0) if v != 0 else np.sign(dx[k])
    return sign


def _signs(
    det: Array,
    sure: Array,
    zero: Array,
    points: tuple[Array, Array, Array, Array, Array, Array],
    shifted: Callable[[Array], Array],
) -> tuple[Array, Array]:
    """Orientation signs, exact, with zeros broken by the symbolic shift of layer B.

    ``shifted(k)`` gives the sign that the shift gives the orientations ``k``
    that are exactly zero. Returns (sign, exactly-zero-before-the-shift).
    """
    sign = np.sign(det)
    zero = zero.copy()
    unsure = np.flatnonzero(~sure)
    if len(unsure):
        exact = _exact_signs(*(p[unsure] for p in points))
        sign[unsure] = exact
        zero[unsure] = exact == 0
    z = np.flatnonzero(zero)
    if len(z):
        sign[z] = shifted(z)
    return sign, zero


@dataclass(frozen=True)
class _Crossings:
    """Proper crossings between child edges and parent edges (after the shift)."""

    a_edge: Array
    b_edge: Array
    t: Array  # position along the child edge ...
    t1: Array  # ... its ε and ε² terms (for ties) ...
    t2: Array
    t_err: Array  # ... and a bound on its rounding error (0: exactly a shared vertex)
    u: Array  # the same along the parent edge
    u1: Array
    u2: Array
    u_err: Array
    x: Array  # crossing point
    y: Array
    a_enters: Array  # the child ring enters the parent here
    consistent: Array  # both sides of the crossing agree (always, barring a bug)


def _crossings(ea: Array, eb: Array, ia: Array, ib: Array) -> _Crossings:
    """Test candidate pairs (child edge ia, parent edge ib) for proper crossings.

    Layer B (parents) is shifted by ε·(1, κ) + ε²·(0, 1), ε infinitely small:
    an orientation that is exactly zero takes the sign of its ε term (or of
    its ε² term if that vanishes). The direction κ is arbitrary, so that two
    crossings at one shared vertex are told apart by their ε terms.
    """
    a = ea[ia]
    b = eb[ib]
    ax, ay, bx, by = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    px, py, qx, qy = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    dx, dy = bx - ax, by - ay
    ex, ey = qx - px, qy - py
    # parent points against the child edge's line: orient(a, b, p + εw) = o_p + ε·cross(d, w)
    o_p, e_p, s, z = _orient(dx, dy, px - ax, py - ay)
    s_p, z_p = _signs(
        o_p, s, z, (ax, ay, bx, by, px, py), lambda k: _shift_sign(ax[k], ay[k], bx[k], by[k])
    )
    o_q, e_q, s, z = _orient(dx, dy, qx - ax, qy - ay)
    s_q, z_q = _signs(
        o_q, s, z, (ax, ay, bx, by, qx, qy), lambda k: _shift_sign(ax[k], ay[k], bx[k], by[k])
    )
    k = np.flatnonzero(s_p != s_q)
    ax, ay, bx, by, px, py, qx, qy = (v[k] for v in (ax, ay, bx, by, px, py, qx, qy))
    dx, dy, ex, ey = dx[k], dy[k], ex[k], ey[k]
    o_p, o_q, e_p, e_q, z_p, z_q, s_q = (v[k] for v in (o_p, o_q, e_p, e_q, z_p, z_q, s_q))
    # child points against the parent edge's line: orient(p', q', a) = o_a - ε·cross(e, w)
    o_a, e_a, s, z = _orient(ex, ey, ax - px, ay - py)
    s_a, z_a = _signs(
        o_a, s, z, (px, py, qx, qy, ax, ay), lambda k: -_shift_sign(px[k], py[k], qx[k], qy[k])
    )
    o_b, e_b, s, z = _orient(ex, ey, bx - px, by - py)
    s_b, z_b = _signs(
        o_b, s, z, (px, py, qx, qy, bx, by), lambda k: -_shift_sign(px[k], py[k], qx[k], qy[k])
    )
    h = np.flatnonzero(s_a != s_b)
    k = k[h]
    ax, ay, bx, by, px, py, qx, qy = (v[h] for v in (ax, ay, bx, by, px, py, qx, qy))
    dx, dy, ex, ey = dx[h], dy[h], ex[h], ey[h]
    o_p, o_q, o_a, o_b = o_p[h], o_q[h], o_a[h], o_b[h]
    e_p, e_q, e_a, e_b = e_p[h], e_q[h], e_a[h], e_b[h]
    z_p, z_q, z_a, z_b, s_q, s_b = z_p[h], z_q[h], z_a[h], z_b[h], s_q[h], s_b[h]
    with np.errstate(divide="ignore", invalid="ignore"):
        # t(ε) = (o_a − ε·cross(e, w) − ε²·cross(e, v)) / (o_a − o_b); likewise u(ε)
        den_t = o_a - o_b
        den_u = o_p - o_q
        t = np.clip(o_a / den_t, 0.0, 1.0)
        u = np.clip(o_p / den_u, 0.0, 1.0)
        t1, t2 = (ey - ex * _KAPPA) / den_t, -ex / den_t
        u1, u2 = (dx * _KAPPA - dy) / den_u, dx / den_u
        # a float that was not sure of its sign may be off by its whole size
        err_a = np.where(z_a, 0.0, np.maximum(e_a, np.abs(o_a) * (e_a >= np.abs(o_a))))
        err_b = np.where(z_b, 0.0, np.maximum(e_b, np.abs(o_b) * (e_b >= np.abs(o_b))))
        err_p = np.where(z_p, 0.0, np.maximum(e_p, np.abs(o_p) * (e_p >= np.abs(o_p))))
        err_q = np.where(z_q, 0.0, np.maximum(e_q, np.abs(o_q) * (e_q >= np.abs(o_q))))
        t_err = 2 * (err_a + err_b) / np.abs(den_t) + 4e-16
        u_err = 2 * (err_p + err_q) / np.abs(den_u) + 4e-16
        x = ax + t * dx
        y = ay + t * dy
        # a vertex exactly on the other edge's line is the crossing point itself
        for zz, tv, uv, xv, yv in (
            (z_b, 1.0, ((bx - px) * ex + (by - py) * ey) / (ex * ex + ey * ey), bx, by),
            (z_a, 0.0, ((ax - px) * ex + (ay - py) * ey) / (ex * ex + ey * ey), ax, ay),
            (z_q, ((qx - ax) * dx + (qy - ay) * dy) / (dx * dx + dy * dy), 1.0, qx, qy),
            (z_p, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, px, py),
        ):
            if zz.any():
                t = np.where(zz, tv, t)
                u = np.where(zz, uv, u)
                x = np.where(zz, xv, x)
                y = np.where(zz, yv, y)
        exact = z_a | z_b | z_p | z_q
        t_err = np.where(exact, 0.0, t_err)
        u_err = np.where(exact, 0.0, u_err)
    a_enters = s_b > 0
    return _Crossings(
        ia[k], ib[k], t, t1, t2, t_err, u, u1, u2, u_err, x, y, a_enters, a_enters != (s_q > 0)
    )


# ------------------------------------------------------------------ ring stretches


def _order(
    grp: Array, pos: Array, t: Array, t1: Array, t2: Array, err: Array, x: Array, y: Array
) -> tuple[Array, Array]:
    """Order crossings by (group, position along the ring, t, t1, t2).

    Returns the order and, per sorted crossing, whether its place relative to
    the previous one is unsure: two crossings on one edge whose positions
    agree within their rounding errors (or, at one shared vertex, whose ε
    terms do).
    """
    key = grp * (int(pos.max(initial=0)) + 1) + pos
    order = _argsort(key)
    ks = key[order]
    unsure = np.zeros(len(order), bool)
    dup = np.flatnonzero(ks[1:] == ks[:-1])
    if len(dup):
        # several crossings on one edge: order them along it
        idx = _unique(np.concatenate([dup, dup + 1]))
        sub = order[idx]
        order[idx] = sub[np.lexsort((t2[sub], t1[sub], t[sub], ks[idx]))]
        i, j = order[dup], order[dup + 1]
        d0 = t[j] - t[i]
        e0 = err[i] + err[j]
        vertex = (d0 == 0) & (e0 == 0) & (x[i] == x[j]) & (y[i] == y[j])
        near = (d0 <= e0) & ~vertex
        tie = 1e-12 * (np.abs(t1[i]) + np.abs(t1[j]))
        near |= vertex & (np.abs(t1[j] - t1[i]) <= tie) & (t1[j] != t1[i])
        same = vertex & (t1[j] == t1[i])
        near |= same & (np.abs(t2[j] - t2[i]) <= 1e-12 * (np.abs(t2[i]) + np.abs(t2[j])))
        unsure[dup + 1] = near
    return order, unsure


def _next_in_group(grp: Array) -> Array:
    """Index of the next element of the same group, cyclically (grp sorted)."""
    n = len(grp)
    nxt = np.arange(1, n + 1)
    if n == 0:
        return nxt
    last = np.ones(n, bool)
    last[:-1] = grp[1:] != grp[:-1]
    first = np.ones(n, bool)
    first[1:] = last[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    nxt[last] = start[last]
    return nxt


def _stretch_sums(
    r: _Rings,
    ring: Array,
    pos_s: Array,
    xs: Array,
    ys: Array,
    pos_e: Array,
    xe: Array,
    ye: Array,
    wrap: Array,
    ox: Array,
    oy: Array,
) -> Array:
    """Twice the signed area swept, seen from (ox, oy), by ring stretches.

    A stretch runs from point (xs, ys) on edge ``pos_s`` of ``ring`` along the
    ring to point (xe, ye) on edge ``pos_e`` (past the ring's end if ``wrap``);
    positions count edges in the ring's travel order.
    """
    es = r.ring_edge_start[ring]
    ne = r.ring_edge_start[ring + 1] - es
    n = pos_e + np.where(wrap, ne, 0) - pos_s + 1
    rep = np.repeat(np.arange(len(n)), n)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    q = (pos_s[rep] + k) % ne[rep]  # position in travel order
    e = r.edge[es[rep] + np.where(r.ring_rev[ring][rep], ne[rep] - 1 - q, q)]
    first = k == 0
    last = k == n[rep] - 1
    o_x, o_y = ox[rep], oy[rep]
    sx = np.where(first, xs[rep], e[:, 0]) - o_x
    sy = np.where(first, ys[rep], e[:, 1]) - o_y
    tx = np.where(last, xe[rep], e[:, 2]) - o_x
    ty = np.where(last, ye[rep], e[:, 3]) - o_y
    return np.bincount(rep, weights=sx * ty - sy * tx, minlength=len(n))


def _ring_pairs(r: _Rings, gi: Array, other: Array) -> tuple[Array, Array]:
    """Every ring of geometries ``gi``, paired with ``other`` (one per geometry)."""
    n = r.geom_ring_start[gi + 1] - r.geom_ring_start[gi]
    rep = np.repeat(np.arange(len(gi)), n)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    return r.geom_ring_start[gi][rep] + k, other[rep]


def _inside(r: _Rings, rings: Array, geoms: Array) -> tuple[Array, Array]:
    """Tell whether each ring (crossing nothing of ``geoms[k]``) is inside ``geoms[k]``.

    Tests ring vertices until one is off the other polygon's boundary. Returns
    (inside, unsettled) where unsettled rings had every vertex on the boundary.
    """
    inside = np.zeros(len(rings), bool)
    unsettled = np.zeros(len(rings), bool)
    todo = np.arange(len(rings))
    nv = r.ring_start[rings + 1] - r.ring_start[rings] - 1
    k = 0
    while len(todo):
        v = r.ring_start[rings[todo]] + k
        g = geoms[todo]
        ins = shapely.contains_xy(g, r.x[v], r.y[v])
        off = ins.copy()
        off[~ins] = ~shapely.intersects_xy(g[~ins], r.x[v[~ins]], r.y[v[~ins]])
        inside[todo[off]] = ins[off]
        todo = todo[~off]
        k += 1
        done = nv[todo] <= k
        unsettled[todo[done]] = True
        todo = todo[~done]
    return inside, unsettled


def _box_within(box: Array, outer: Array) -> Array:
    return (
        (box[:, 0] >= outer[:, 0])
        & (box[:, 1] >= outer[:, 1])
        & (box[:, 2] <= outer[:, 2])
        & (box[:, 3] <= outer[:, 3])
    )


def _chunk(ageoms: Array, bgeoms: Array, pi: Array, pj: Array) -> tuple[Array, Array, Array, Array]:
    """Areas for one chunk: (child, parent, twice the area, unsettled pair key).

    ``pi``, ``pj`` are the candidate pairs (bounding boxes meet), as indices
    into ``ageoms`` and ``bgeoms``; ``ageoms`` holds every child that meets a
    parent of the chunk, so every pair of the chunk is complete here.
    """
    A = _rings(ageoms)
    B = _rings(bgeoms)
    na = len(ageoms)
    nb = len(bgeoms)
    grid, ncells = _local_grid(A, B)
    sh = _shared(A.edge)
    ia, ib = _candidates(sh.edge, _index(B.edge, grid, ncells), grid)
    c = _copies(_crossings(sh.edge, B.edge, ia, ib), sh)
    ra = A.edge_ring[c.a_edge]
    rb = B.edge_ring[c.b_edge]
    ga = A.ring_geom[ra]
    gb = B.ring_geom[rb]
    pair = ga * nb + gb
    gox = A.x[A.ring_start[A.geom_ring_start[:-1]]]
    goy = A.y[A.ring_start[A.geom_ring_start[:-1]]]
    keys, vals, bad = [], [], [pair[~c.consistent]]
    sorted_groups = []
    sides = (
        (A, ra, ra * nb + gb, c.a_edge, c.t, c.t1, c.t2, c.t_err, c.a_enters),
        (B, rb, rb * na + ga, c.b_edge, c.u, c.u1, c.u2, c.u_err, ~c.a_enters),
    )
    for r, ring, grp, edge, t, t1, t2, err, enters in sides:
        pos = r.travel(ring, edge - r.ring_edge_start[ring])
        o, unsure = _order(grp, pos, t, t1, t2, err, c.x, c.y)
        bad.append(pair[o][unsure])
        g_sorted = grp[o]
        sorted_groups.append(g_sorted)
        nxt = _next_in_group(g_sorted)
        en = enters[o]
        bad.append(pair[o][en == en[nxt]])  # enter and exit must alternate
        # stretches run from each crossing to the next one along the ring; those
        # from an "enter" are inside the other polygon. Sum whichever kind is
        # shorter: inside = ring total - outside.
        ring_o, pos_o = ring[o], pos[o]
        ne = r.ring_edge_start[ring_o + 1] - r.ring_edge_start[ring_o]
        wrap = nxt <= np.arange(len(o))
        length = pos_o[nxt] + np.where(wrap, ne, 0) - pos_o + 1
        first = np.ones(len(o), bool)
        first[1:] = g_sorted[1:] != g_sorted[:-1]
        gid = np.cumsum(first) - 1
        inside_len = np.bincount(gid, weights=np.where(en, length, 0))
        outside_len = np.bincount(gid, weights=np.where(en, 0, length))
        use_inside = inside_len <= outside_len
        s = np.flatnonzero(en == use_inside[gid])
        e = nxt[s]
        os_, oe = o[s], o[e]
        g = ga[os_]
        v = _stretch_sums(
            r,
            ring_o[s],
            pos_o[s],
            c.x[os_],
            c.y[os_],
            pos_o[e],
            c.x[oe],
            c.y[oe],
            wrap[s],
            gox[g],
            goy[g],
        )
        vals.append(np.where(en[s], v, -v))
        keys.append(pair[os_])
        # groups summed by their outside stretches: add the whole ring
        og = np.flatnonzero(first & ~use_inside[gid])
        vals.append(r.ring_area2[ring_o[og]])
        keys.append(pair[o[og]])
    # rings that cross nothing of the other polygon lie wholly inside or outside it
    abounds = shapely.bounds(ageoms)
    bbounds = shapely.bounds(bgeoms)
    ring_a, jj = _ring_pairs(A, pi, pj)
    cand = _box_within(A.ring_box[ring_a], bbounds[jj])
    ring_a, jj = _without(ring_a[cand] * nb + jj[cand], sorted_groups[0], ring_a[cand], jj[cand])
    ins, unsettled = _inside(A, ring_a, bgeoms[jj])
    ka = A.ring_geom[ring_a] * nb + jj
    keys.append(ka[ins])
    vals.append(A.ring_area2[ring_a[ins]])
    bad.append(ka[unsettled])
    ring_b, ii = _ring_pairs(B, pj, pi)
    cand = _box_within(B.ring_box[ring_b], abounds[ii])
    ring_b, ii = _without(ring_b[cand] * na + ii[cand], sorted_groups[1], ring_b[cand], ii[cand])
    ins, unsettled = _inside(B, ring_b, ageoms[ii])
    kb = ii * nb + B.ring_geom[ring_b]
    keys.append(kb[ins])
    vals.append(B.ring_area2[ring_b[ins]])
    bad.append(kb[unsettled])
    key = np.concatenate(keys)
    uk, inv = _unique_inverse(key)
    area2 = np.bincount(inv, weights=np.concatenate(vals), minlength=len(uk))
    badk = _unique(np.concatenate(bad))
    return uk // nb, uk % nb, area2, badk


def _local_grid(A: _Rings, B: _Rings) -> tuple[_Grid, int]:
    """Lay a grid over both layers' edges, cells about twice the parents' median edge."""
    e = B.edge
    ext = np.maximum(np.abs(e[:, 2] - e[:, 0]), np.abs(e[:, 3] - e[:, 1]))
    s = 3.0 * float(np.median(ext)) if len(ext) else 1.0
    lo = np.minimum(A.ring_box[:, :2].min(axis=0), B.ring_box[:, :2].min(axis=0))
    hi = np.maximum(A.ring_box[:, 2:].max(axis=0), B.ring_box[:, 2:].max(axis=0))
    s = max(s, 1e-9 * float(max(hi[0] - lo[0], hi[1] - lo[1])), 1e-300)
    ny = int((hi[1] - lo[1]) / s) + 3
    nx = int((hi[0] - lo[0]) / s) + 3
    return _Grid(float(lo[0]) - s, float(lo[1]) - s, s, ny), nx * ny


def _member(key: Array, sorted_set: Array) -> Array:
    """Tell whether each key is in ``sorted_set`` (sorted)."""
    if len(sorted_set) == 0:
        return np.zeros(len(key), bool)
    at = np.minimum(np.searchsorted(sorted_set, key), len(sorted_set) - 1)
    return sorted_set[at] == key


def _without(key: Array, exclude: Array, *arrays: Array) -> tuple[Array, ...]:
    """Drop the rows whose key is in ``exclude`` (sorted)."""
    keep = ~_member(key, exclude)
    return tuple(a[keep] for a in arrays)


def _morton(bounds: Array) -> Array:
    """Z-order code of box centres, to cut a layer into compact chunks."""
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2

    def spread(v: Array) -> Array:
        lo, hi = v.min(), v.max()
        q = ((v - lo) / max(hi - lo, 1e-300) * 65535).astype(np.uint64)
        q = (q | (q << np.uint64(8))) & np.uint64(0x00FF00FF)
        q = (q | (q << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        q = (q | (q << np.uint64(2))) & np.uint64(0x33333333)
        return (q | (q << np.uint64(1))) & np.uint64(0x55555555)

    return spread(cx) | (spread(cy) << np.uint64(1))


def intersection_areas(
    a: Array,
    b: Array,
    *,
    threads: int | None = None,
    progress: Progress | None = None,
    fallback: bool = True,
) -> tuple[Array, Array, Array]:
    """Exact ``area(a[i] ∩ b[j])`` for every pair of polygons whose boxes meet.

    Parameters
    ----------
    a, b : numpy.ndarray of shapely geometries
        Valid, non-empty Polygons and MultiPolygons, in one projected CRS.
    threads : int, optional
        Worker threads (default: the number of CPUs, at most 4). Much of the
        work is numpy arithmetic, which runs outside the GIL.
    progress : callable, optional
        Called as ``progress(done, total)`` as chunks of ``b`` finish.
    fallback : bool, default True
        Compute the rare pairs the engine cannot settle with a GEOS overlay.
        If False they are returned with an area of NaN (for callers that
        have not yet checked the geometries' validity, which GEOS needs).

    Returns
    -------
    (i, j, area) : tuple of numpy.ndarray
        Indices into ``a`` and ``b`` and the area of their intersection.
        Pairs that only touch may be listed with an area of 0 (or within
        rounding of 0).

    Raises
    ------
    ValueError
        A geometry is not a non-empty Polygon or MultiPolygon.
    NonFiniteError
        A geometry has a NaN or infinite coordinate.
    """
    nb = len(b)
    if len(a) == 0 or nb == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    for g in (a, b):
        if not np.isin(shapely.get_type_id(g), (3, 6)).all() or shapely.is_empty(g).any():
            raise ValueError("intersection_areas needs non-empty Polygons and MultiPolygons")
    pi, pj = shapely.STRtree(a).query(b)[::-1]
    if len(pi) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    # chunks of nearby parents (z-order), among those that meet some child
    used = _unique(pj)
    order = used[np.argsort(_morton(shapely.bounds(b[used])), kind="stable")]
    chunk_of = np.empty(nb, np.int64)
    chunk_of[order] = np.arange(len(order)) // _CHUNK
    by_chunk = _argsort(chunk_of[pj])
    pi, pj = pi[by_chunk], pj[by_chunk]
    nchunks = (len(order) + _CHUNK - 1) // _CHUNK
    cut = np.searchsorted(chunk_of[pj], np.arange(nchunks + 1))

    def work(k: int) -> tuple[Array, Array, Array, Array]:
        bj = np.sort(order[k * _CHUNK : (k + 1) * _CHUNK])
        qi, qj = pi[cut[k] : cut[k + 1]], pj[cut[k] : cut[k + 1]]
        ai = _unique(qi)
        li, lj = np.searchsorted(ai, qi), np.searchsorted(bj, qj)
        i, j, area2, bad = _chunk(a[ai], b[bj], li, lj)
        nbl = len(bj)
        return ai[i], bj[j], area2 / 2.0, ai[bad // nbl] * nb + bj[bad % nbl]

    workers = max(1, threads if threads is not None else min(4, os.cpu_count() or 1))
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = pool.map(work, range(nchunks)) if workers > 1 else map(work, range(nchunks))
        for k, res in enumerate(done):
            results.append(res)
            if progress is not None:
                progress(min(len(order), (k + 1) * _CHUNK), len(order))
    i = np.concatenate([r[0] for r in results])
    j = np.concatenate([r[1] for r in results])
    area = np.concatenate([r[2] for r in results])
    bad = _unique(np.concatenate([r[3] for r in results]))
    if len(bad):
        keep = ~_member(i * nb + j, bad)
        bi, bj = bad // nb, bad % nb
        i = np.concatenate([i[keep], bi])
        j = np.concatenate([j[keep], bj])
        redo = shapely.area(shapely.intersection(a[bi], b[bj])) if fallback else np.nan
        area = np.concatenate([area[keep], np.broadcast_to(redo, len(bi))])
    return i, j, area
