"""Edge pairs whose boxes meet, found with a uniform grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from localitygeo.geometry.engine.keys import stable_argsort, unique, unique_inverse
from localitygeo.geometry.engine.rings import Rings
from localitygeo.geometry.engine.types import Array

__all__ = ["EdgeIndex", "Grid", "build_index", "candidates", "local_grid"]

# Cell size in parent edges (median extent; 3 measured fastest for OA -> LSOA,
# against 1 to 8, and for LSOA -> ward, against 2). Smaller cells hold fewer pairs to
# test but register each edge in more cells.
_CELL = 3.0


@dataclass(frozen=True)
class Grid:
    """A uniform grid: cell (i, j) holds x in [gx + i*s, gx + (i+1)*s)."""

    gx: float
    gy: float
    s: float
    ny: int


@dataclass(frozen=True)
class EdgeIndex:
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
    """Split edges longer than ``s`` into pieces: (edge id, piece box, edge was split).

    The boxes come as a (4, N) array of rows xmin, ymin, xmax, ymax: numpy
    works on contiguous rows several times faster than on an (N, 4) array's
    strided columns.
    """
    ex0, ey0, ex1, ey1 = edge  # (4, N) rows
    dx = ex1 - ex0
    dy = ey1 - ey0
    m = np.maximum(np.ceil(np.maximum(np.abs(dx), np.abs(dy)) / s), 1).astype(np.int64)
    box = np.stack(
        [np.minimum(ex0, ex1), np.minimum(ey0, ey1), np.maximum(ex0, ex1), np.maximum(ey0, ey1)]
    )
    long = np.flatnonzero(m > 1)
    if len(long) == 0:
        return np.arange(edge.shape[1]), box, np.zeros(edge.shape[1], bool)
    ml = m[long]
    seg = np.repeat(long, ml)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(ml) - ml, ml)
    mm = m[seg]
    t0, t1 = k / mm, (k + 1) / mm
    x0 = ex0[seg] + t0 * dx[seg]
    y0 = ey0[seg] + t0 * dy[seg]
    x1 = ex0[seg] + t1 * dx[seg]
    y1 = ey0[seg] + t1 * dy[seg]
    pad = 1e-9 * s  # the pieces' boxes must cover the edge despite rounding
    pbox = np.stack(
        [
            np.minimum(x0, x1) - pad,
            np.minimum(y0, y1) - pad,
            np.maximum(x0, x1) + pad,
            np.maximum(y0, y1) + pad,
        ]
    )
    short = np.flatnonzero(m == 1)
    split = np.concatenate([np.zeros(len(short), bool), np.ones(len(seg), bool)])
    box = np.concatenate([np.take(box, short, axis=1), pbox], axis=1)
    return np.concatenate([short, seg]), box, split


def _entries(box: Array, grid: Grid) -> tuple[Array, Array, Array]:
    """Register (4, N) boxes in every cell they touch: (cell key, box index, flag)."""
    s = grid.s
    n = box.shape[1]
    i0 = np.floor((box[0] - grid.gx) / s).astype(np.int64)
    j0 = np.floor((box[1] - grid.gy) / s).astype(np.int64)
    i1 = np.floor((box[2] - grid.gx) / s).astype(np.int64)
    j1 = np.floor((box[3] - grid.gy) / s).astype(np.int64)
    ni = i1 - i0 + 1
    nj = j1 - j0 + 1
    cnt = ni * nj
    if (cnt == 1).all():
        return i0 * grid.ny + j0, np.arange(n), np.full(n, 3, np.int8)
    if ni.max() <= 2 and nj.max() <= 2:
        # pieces are no longer than a cell, so they touch at most 2 x 2 cells:
        # list the four corners without the general case's integer division
        base = i0 * grid.ny + j0
        wide = np.flatnonzero(ni == 2)
        tall = np.flatnonzero(nj == 2)
        both = wide[nj[wide] == 2]
        parts = ((np.arange(n), 0, 3), (wide, grid.ny, 2), (tall, 1, 1), (both, grid.ny + 1, 0))
        key = np.concatenate([base[i] + d for i, d, _ in parts])
        idx = np.concatenate([i for i, _, _ in parts])
        flag = np.concatenate([np.full(len(i), f, np.int8) for i, _, f in parts])
        return key, idx, flag
    idx = np.repeat(np.arange(n), cnt)
    k = np.arange(len(idx)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    njr = nj[idx]
    di = k // njr
    dj = k - di * njr
    flag = (di == 0).astype(np.int8) | ((dj == 0).astype(np.int8) << 1)
    return (i0[idx] + di) * grid.ny + (j0[idx] + dj), idx, flag


def build_index(edge: Array, grid: Grid, ncells: int) -> EdgeIndex:
    """Bucket the parents' edges (split into pieces no longer than a cell) by cell."""
    eid, box, split = _pieces(edge, grid.s)
    key, idx, flag = _entries(box, grid)
    order = stable_argsort(key)
    key, idx = key[order], idx[order]
    start = None
    if ncells <= 1 << 26:
        start = np.zeros(ncells + 1, np.int32 if len(key) < 1 << 31 else np.int64)
        np.cumsum(np.bincount(key, minlength=ncells), out=start[1:])
    x0, y0, x1, y1 = np.take(box, idx, axis=1)
    return EdgeIndex(key, start, eid[idx], x0, y0, x1, y1, flag[order], split[idx])


def candidates(edge: Array, index: EdgeIndex, grid: Grid) -> tuple[Array, Array]:
    """Pairs (edge of a chunk's children, parent edge) whose boxes meet."""
    eid, box, split = _pieces(edge, grid.s)
    key, idx, flag = _entries(box, grid)
    if index.start is not None:
        lo = index.start[key].astype(np.int64)
        cnt = index.start[key + 1] - lo
    else:
        # sorted queries: the binary searches then walk nearby memory
        ukey, inv = unique_inverse(key)
        ulo = np.searchsorted(index.key, ukey, "left")
        lo = ulo[inv]
        cnt = (np.searchsorted(index.key, ukey, "right") - ulo)[inv]
    has = np.flatnonzero(cnt)
    idx, flag, lo, cnt = idx[has], flag[has], lo[has], cnt[has]
    x0, y0, x1, y1 = np.take(box, idx, axis=1)
    rep = np.repeat(np.arange(len(idx)), cnt)
    j = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(len(rep))
    # the boxes must meet in x (fewer than half do), then in y. Masks become
    # index lists first: taking by index is several times faster than by mask.
    ok = x0[rep] <= index.x1[j]
    ok &= index.x0[j] <= x1[rep]
    k = np.flatnonzero(ok)
    rep, j = rep[k], j[k]
    ok = y0[rep] <= index.y1[j]
    ok &= index.y0[j] <= y1[rep]
    # report each overlapping pair once: in the cell holding the low corner of the overlap
    ok &= (flag[rep] | index.flag[j]) == 3
    k = np.flatnonzero(ok)
    rep, j = rep[k], j[k]
    ia = eid[idx[rep]]
    ib = index.edge[j]
    multi = split[idx[rep]] | index.split[j]
    if multi.any():
        # pieces of split (long) edges can meet in several cells: keep each pair once
        nb = int(ib.max()) + 1
        u = unique(ia[multi] * nb + ib[multi])
        ia = np.concatenate([ia[~multi], u // nb])
        ib = np.concatenate([ib[~multi], u % nb])
    return ia, ib


def local_grid(A: Rings, B: Rings) -> tuple[Grid, int]:
    """Lay a grid over both layers' edges, cells _CELL times the parents' median edge."""
    e = B.edge
    ext = np.maximum(np.abs(e[2] - e[0]), np.abs(e[3] - e[1]))
    s = _CELL * float(np.median(ext)) if len(ext) else 1.0
    lo = np.minimum(A.ring_box[:, :2].min(axis=0), B.ring_box[:, :2].min(axis=0))
    hi = np.maximum(A.ring_box[:, 2:].max(axis=0), B.ring_box[:, 2:].max(axis=0))
    s = max(s, 1e-9 * float(max(hi[0] - lo[0], hi[1] - lo[1])), 1e-300)
    ny = int((hi[1] - lo[1]) / s) + 3
    nx = int((hi[0] - lo[0]) / s) + 3
    return Grid(float(lo[0]) - s, float(lo[1]) - s, s, ny), nx * ny
