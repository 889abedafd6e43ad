"""Areas of every overlapping pair within one chunk of parents."""

from __future__ import annotations

import numpy as np
import shapely

from localitygeo.geometry.engine.crossings import find_crossings, spread_copies
from localitygeo.geometry.engine.grid import build_index, candidates, local_grid
from localitygeo.geometry.engine.keys import (
    next_in_group,
    stable_argsort,
    unique,
    unique_inverse,
    without,
)
from localitygeo.geometry.engine.rings import Rings, decompose, shared_edges
from localitygeo.geometry.engine.types import Array

__all__ = ["chunk_areas"]


def sort_crossings(
    grp: Array, pos: Array, t: Array, t1: Array, t2: Array, err: Array, x: Array, y: Array
) -> tuple[Array, Array]:
    """Order crossings by (group, position along the ring, t, t1, t2).

    Returns the order and, per sorted crossing, whether its place relative to
    the previous one is unsure: two crossings on one edge whose positions
    agree within their rounding errors (or, at one shared vertex, whose ε
    terms do).
    """
    key = grp * (int(pos.max(initial=0)) + 1) + pos
    order = stable_argsort(key)
    ks = key[order]
    unsure = np.zeros(len(order), bool)
    dup = np.flatnonzero(ks[1:] == ks[:-1])
    if len(dup):
        # several crossings on one edge: order them along it
        idx = unique(np.concatenate([dup, dup + 1]))
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


def stretch_sums(
    r: Rings,
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
    e = np.take(r.edge, es[rep] + np.where(r.ring_rev[ring][rep], ne[rep] - 1 - q, q), axis=1)
    first = k == 0
    last = k == n[rep] - 1
    o_x, o_y = ox[rep], oy[rep]
    sx = np.where(first, xs[rep], e[0]) - o_x
    sy = np.where(first, ys[rep], e[1]) - o_y
    tx = np.where(last, xe[rep], e[2]) - o_x
    ty = np.where(last, ye[rep], e[3]) - o_y
    return np.bincount(rep, weights=sx * ty - sy * tx, minlength=len(n))


def ring_pairs(r: Rings, gi: Array, other: Array) -> tuple[Array, Array]:
    """Every ring of geometries ``gi``, paired with ``other`` (one per geometry)."""
    n = r.geom_ring_start[gi + 1] - r.geom_ring_start[gi]
    rep = np.repeat(np.arange(len(gi)), n)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    return r.geom_ring_start[gi][rep] + k, other[rep]


def rings_inside(r: Rings, rings: Array, geoms: Array) -> tuple[Array, Array]:
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


def box_within(box: Array, outer: Array) -> Array:
    """Tell whether each box lies within the outer box of the same row."""
    return (
        (box[:, 0] >= outer[:, 0])
        & (box[:, 1] >= outer[:, 1])
        & (box[:, 2] <= outer[:, 2])
        & (box[:, 3] <= outer[:, 3])
    )


def chunk_areas(
    ageoms: Array, bgeoms: Array, pi: Array, pj: Array
) -> tuple[Array, Array, Array, Array]:
    """Areas for one chunk: (child, parent, twice the area, unsettled pair key).

    ``pi``, ``pj`` are the candidate pairs (bounding boxes meet), as indices
    into ``ageoms`` and ``bgeoms``; ``ageoms`` holds every child that meets a
    parent of the chunk, so every pair of the chunk is complete here.
    """
    A = decompose(ageoms)
    B = decompose(bgeoms)
    na = len(ageoms)
    nb = len(bgeoms)
    grid, ncells = local_grid(A, B)
    sh = shared_edges(A.edge)
    ia, ib = candidates(sh.edge, build_index(B.edge, grid, ncells), grid)
    c = spread_copies(find_crossings(sh.edge, B.edge, ia, ib), sh)
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
        o, unsure = sort_crossings(grp, pos, t, t1, t2, err, c.x, c.y)
        bad.append(pair[o][unsure])
        g_sorted = grp[o]
        sorted_groups.append(g_sorted)
        nxt = next_in_group(g_sorted)
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
        v = stretch_sums(
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
    ring_a, jj = ring_pairs(A, pi, pj)
    cand = np.flatnonzero(
        box_within(np.take(A.ring_box, ring_a, axis=0), np.take(bbounds, jj, axis=0))
    )
    ring_a, jj = without(ring_a[cand] * nb + jj[cand], sorted_groups[0], ring_a[cand], jj[cand])
    ins, unsettled = rings_inside(A, ring_a, bgeoms[jj])
    ka = A.ring_geom[ring_a] * nb + jj
    ins = np.flatnonzero(ins)
    keys.append(ka[ins])
    vals.append(A.ring_area2[ring_a[ins]])
    bad.append(ka[unsettled])
    ring_b, ii = ring_pairs(B, pj, pi)
    cand = np.flatnonzero(
        box_within(np.take(B.ring_box, ring_b, axis=0), np.take(abounds, ii, axis=0))
    )
    ring_b, ii = without(ring_b[cand] * na + ii[cand], sorted_groups[1], ring_b[cand], ii[cand])
    ins, unsettled = rings_inside(B, ring_b, ageoms[ii])
    kb = ii * nb + B.ring_geom[ring_b]
    ins = np.flatnonzero(ins)
    keys.append(kb[ins])
    vals.append(B.ring_area2[ring_b[ins]])
    bad.append(kb[unsettled])
    key = np.concatenate(keys)
    uk, inv = unique_inverse(key)
    area2 = np.bincount(inv, weights=np.concatenate(vals), minlength=len(uk))
    badk = unique(np.concatenate(bad))
    return uk // nb, uk % nb, area2, badk
