"""A polygon layer as oriented rings and edges, and its shared edges."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from localitygeo.geometry.engine.keys import stable_argsort
from localitygeo.geometry.engine.types import Array, NonFiniteError

__all__ = ["Rings", "Shared", "decompose", "shared_edges"]


@dataclass(frozen=True)
class Rings:
    """A polygon layer as oriented rings and edges (struct of arrays)."""

    x: Array  # vertex coordinates; rings closed; interior on the left
    y: Array
    ring_start: Array  # (R+1) offsets into x, y
    ring_geom: Array  # (R) geometry of each ring
    ring_area2: Array  # (R) twice the signed ring area (shells > 0, holes < 0)
    ring_box: Array  # (R, 4) xmin, ymin, xmax, ymax
    geom_ring_start: Array  # (G+1) offsets into rings
    edge: Array  # (4, E) rows x0, y0, x1, y1: the edges (zero-length ones dropped)
    edge_ring: Array  # (E) ring of each edge
    ring_edge_start: Array  # (R+1) offsets into edges
    ring_rev: Array  # (R) the ring's edges are stored against its travel order

    def travel(self, ring: Array, pos: Array) -> Array:
        """Storage position <-> position in travel order (the map is its own inverse)."""
        ne = self.ring_edge_start[ring + 1] - self.ring_edge_start[ring]
        return np.where(self.ring_rev[ring], ne - 1 - pos, pos)


def decompose(geoms: Array) -> Rings:
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
    # rows, not columns: numpy is several times faster on contiguous rows
    edge = np.empty((4, len(i0)))
    if rev.all() or not rev.any():
        a, b = (i0 + 1, i0) if nr and rev[0] else (i0, i0 + 1)
        edge[0], edge[1], edge[2], edge[3] = x[a], y[a], x[b], y[b]
    else:
        f = rev[er]
        x0, y0, x1, y1 = x[i0], y[i0], x[i0 + 1], y[i0 + 1]
        edge[0] = np.where(f, x1, x0)
        edge[1] = np.where(f, y1, y0)
        edge[2] = np.where(f, x0, x1)
        edge[3] = np.where(f, y0, y1)
    keep = (edge[0] != edge[2]) | (edge[1] != edge[3])
    if not keep.all():
        kept = np.flatnonzero(keep)
        edge, er = np.take(edge, kept, axis=1), er[kept]
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
    return Rings(x, y, rstart, rgeom, a2, box, grs, edge, er, restart, rev)


@dataclass(frozen=True)
class Shared:
    """A layer's edges with each shared edge stored once, in a canonical direction.

    In a coverage (output areas, say) every inner edge belongs to two rings;
    testing it once halves the work.
    """

    edge: Array  # (4, U) unique edges (rows x0, y0, x1, y1), lower endpoint first
    copy_start: Array  # (U+1) offsets into copy
    copy: Array  # (E) edge ids grouped by unique edge
    flipped: Array  # (E) the edge runs against its unique edge


def shared_edges(edge: Array) -> Shared:
    """Merge edges that are equal up to direction (hashed, then sorted)."""
    n = edge.shape[1]
    x0, y0, x1, y1 = edge
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
    order = stable_argsort((h >> np.uint64(2)).astype(np.int64) >> max(n - 1, 1).bit_length())
    c = [col[order] for col in cols]
    # equal edges have equal hashes, so sort next to each other (a colliding
    # different edge in between only costs a missed merge)
    new = np.ones(n, bool)
    new[1:] = (c[0][1:] != c[0][:-1]) | (c[1][1:] != c[1][:-1])
    new[1:] |= (c[2][1:] != c[2][:-1]) | (c[3][1:] != c[3][:-1])
    first = np.flatnonzero(new)  # taking by index is faster than by mask
    u = np.stack([col[first] for col in c])
    return Shared(u, np.append(first, n), order, flipped)
