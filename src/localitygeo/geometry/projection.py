"""Reprojecting layers: the coordinates ``GeoDataFrame.to_crs`` gives, at the I/O floor.

``to_crs`` sends every coordinate through one pyproj ``Transformer`` in one
thread. For national layers that is much of a job's time (about 0.3 µs per
coordinate for CRS84 to the British National Grid, measured in December 2026,
and 5.9 million coordinates for England's output areas and LSOAs), so
:func:`to_crs` does the same transformation with three savings and no change
to any result:

- a coordinate shared by neighbouring polygons (vertex-exact layers such as
  output areas repeat more than half of theirs) is transformed once: the
  same input gives the same output, bit for bit;
- the rows are cut into one block per worker thread, with about as many
  coordinates each, and each block is reprojected whole in its thread: its
  coordinates read, its repeats found, transformed with its own
  ``Transformer`` (a ``Transformer`` is not thread-safe) and its geometries
  rebuilt. pyproj, shapely and pandas' hashing release the GIL for most of
  it; for England's output areas on 2 cores this took 0.9-1.0 s instead of
  1.6-1.8 s with only the transformation in threads;
- polygon layers are rebuilt from ragged arrays of the new coordinates
  (``shapely.from_ragged_array``, all parts at once), at half the cost of
  ``set_coordinates`` on copies; other layers go through
  ``set_coordinates``.

The transformation is the one geopandas uses (``Transformer.from_crs(src,
dst, always_xy=True)``), so every coordinate equals ``to_crs``'s exactly
(``tests/test_speed_paths.py`` checks it, also cut into blocks). Layers with
Z coordinates go through ``to_crs`` itself.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from localitygeo.profiling import stage

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

    from localitygeo.geometry.polygon_arrays import PolygonArrays

__all__ = ["reproject_arrays", "to_crs", "transform_xy"]

# Below this many coordinates one thread does it all (threads cost more than they save).
_PARALLEL = 50_000
# Coordinates sampled to decide whether removing repeats is worth it, and the
# share of distinct ones in the sample below which it is.
_SAMPLE = 200_000
_WORTH = 0.8
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)


def _workers(threads: int | None) -> int:
    return max(1, threads if threads is not None else min(4, os.cpu_count() or 1))


def to_crs(gdf: gpd.GeoDataFrame, crs: Any, *, threads: int | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` reprojected to ``crs``, equal to ``gdf.to_crs(crs)``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS (not modified).
    crs : anything pyproj.CRS takes
        The CRS to reproject to.
    threads : int, optional
        Worker threads (default: the number of CPUs, at most 4).

    Returns
    -------
    geopandas.GeoDataFrame
        The same rows and columns, with every coordinate equal to what
        ``gdf.to_crs(crs)`` gives.
    """
    import geopandas as gpd
    from pyproj import CRS

    target = CRS.from_user_input(crs)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if gdf.crs is None or shapely.has_z(geoms).any():
        return gdf.to_crs(target)  # geopandas raises, or handles Z
    out = gdf.copy()
    if gdf.crs.is_exact_same(target):
        return out
    new = reproject(geoms, gdf.crs, target, threads=threads)
    out[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=target)
    return out.set_crs(target, allow_override=True)


def reproject(geoms: np.ndarray, src: CRS, dst: CRS, *, threads: int | None = None) -> np.ndarray:
    """Return 2D ``geoms`` with every coordinate transformed from ``src`` to ``dst``.

    Null geometries stay null. See the module for how.
    """
    workers = _workers(threads)
    counts = shapely.get_num_coordinates(geoms)
    total = int(counts.sum())
    if workers == 1 or total < 2 * _PARALLEL:
        return _reproject_block(geoms, src, dst, threads)
    # one block of rows per worker, with about as many coordinates each
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.linspace(0, total, workers + 1)[1:-1], side="right")
    blocks = [block for block in np.split(geoms, cuts) if len(block)]
    with stage("reproject: blocks over threads"), ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda block: _reproject_block(block, src, dst, 1), blocks))
    return np.concatenate(done)


def reproject_arrays(
    arrays: PolygonArrays, src: CRS, dst: CRS, *, threads: int | None = None
) -> np.ndarray:
    """Return polygons decoded from WKB (:class:`PolygonArrays`) as geometries in ``dst``.

    The geometries are built once, from the transformed coordinates: what
    ``shapely.from_wkb`` followed by :func:`reproject` gives, bit for bit,
    without the geometries in ``src``. Rows are cut into one block per
    worker thread, as :func:`reproject` cuts them.
    """
    workers = _workers(threads)
    total = len(arrays.xy)

    def block(part: PolygonArrays) -> np.ndarray:
        with stage("reproject: coordinates"):
            new = transform_xy(part.xy, src, dst, threads=1 if workers > 1 else threads)
        with stage("reproject: new geometries"):
            return part.geometries(new)

    if workers == 1 or total < 2 * _PARALLEL:
        return block(arrays)
    ends = arrays.ring_offsets[arrays.part_offsets[arrays.geom_offsets[1:]]]
    cuts = np.searchsorted(ends, np.linspace(0, total, workers + 1)[1:-1], side="right")
    edges = [0, *(int(c) for c in cuts), len(arrays)]
    parts = [arrays.rows(lo, hi) for lo, hi in itertools.pairwise(edges) if hi > lo]
    with stage("reproject: blocks over threads"), ThreadPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(block, parts)))


def _reproject_block(geoms: np.ndarray, src: CRS, dst: CRS, threads: int | None) -> np.ndarray:
    """:func:`reproject` for one block of rows, its coordinates over ``threads``."""
    with stage("reproject: coordinates"):
        xy = shapely.get_coordinates(geoms)
        new = transform_xy(xy, src, dst, threads=threads)
    with stage("reproject: new geometries"):
        return _rebuilt(geoms, new, threads)


def transform_xy(xy: np.ndarray, src: CRS, dst: CRS, *, threads: int | None = None) -> np.ndarray:
    """Return the (N, 2) coordinates ``xy`` transformed from ``src`` to ``dst``.

    Bit for bit what one ``Transformer.from_crs(src, dst, always_xy=True)``
    gives, whatever the threads; repeated coordinates are transformed once.
    """
    n = len(xy)
    if n == 0:
        return np.zeros((0, 2))
    sample = xy[: min(n, _SAMPLE)]
    if n > _SAMPLE and len(_distinct(sample)[1]) < _WORTH * len(sample):
        codes, first = _distinct(xy)
        # np.take: row gathers by fancy indexing (``[codes]``) cost up to ten times more
        return np.take(_transform(np.take(xy, first, axis=0), src, dst, threads), codes, axis=0)
    return _transform(xy, src, dst, threads)


def _distinct(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (code per row, row of each code's first appearance) of bitwise-equal rows.

    Rows are hashed to 64 bits and grouped by hash; rows whose hash collides
    with a different row's are given codes of their own, so rows share a
    code only when their bits are equal.
    """
    import pandas as pd

    bits = np.ascontiguousarray(xy).view(np.uint64).reshape(-1, 2)
    bx, by = bits[:, 0], bits[:, 1]
    h = (bx * _K1) ^ (by * _K2)
    codes, uniq = pd.factorize(h)
    n = len(xy)
    first = np.empty(len(uniq), np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    same = np.take(first, codes)  # each row's first row with its hash
    clash = np.flatnonzero((np.take(bx, same) != bx) | (np.take(by, same) != by))
    if len(clash):  # a hash collision: those rows are their own
        codes = codes.copy()
        codes[clash] = len(first) + np.arange(len(clash))
        first = np.concatenate([first, clash])
    return codes, first


def _transform(xy: np.ndarray, src: CRS, dst: CRS, threads: int | None) -> np.ndarray:
    """Transform ``xy`` in one chunk per worker, each with its own Transformer."""
    from pyproj import Transformer

    out = np.empty_like(xy)
    workers = _workers(threads) if len(xy) >= _PARALLEL else 1
    cuts = np.linspace(0, len(xy), workers + 1).astype(np.int64)

    def work(k: int) -> None:
        lo, hi = cuts[k], cuts[k + 1]
        t = Transformer.from_crs(src, dst, always_xy=True)
        x, y = t.transform(xy[lo:hi, 0], xy[lo:hi, 1])
        out[lo:hi, 0], out[lo:hi, 1] = x, y

    _run(work, workers)
    return out


def _rebuilt(geoms: np.ndarray, xy: np.ndarray, threads: int | None) -> np.ndarray:
    """Return copies of ``geoms`` holding coordinates ``xy`` (in get_coordinates order)."""
    tid = shapely.get_type_id(geoms)
    present = tid >= 0
    if np.isin(tid, (-1, 3, 6)).all() and not shapely.is_empty(geoms[present]).any():
        return _rebuilt_polygons(geoms, tid, xy)
    workers = _workers(threads) if len(xy) >= _PARALLEL else 1
    offsets = np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(geoms))])
    chunks = 4 * workers if workers > 1 else 1
    cuts = np.linspace(0, len(geoms), chunks + 1).astype(np.int64)
    out = np.empty(len(geoms), dtype=object)

    def work(k: int) -> None:
        lo, hi = cuts[k], cuts[k + 1]
        out[lo:hi] = shapely.set_coordinates(geoms[lo:hi].copy(), xy[offsets[lo] : offsets[hi]])

    _run(work, chunks)
    return out


def _rebuilt_polygons(geoms: np.ndarray, tid: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """``_rebuilt`` for non-empty Polygons and MultiPolygons (and nulls), from ragged arrays.

    Building every part at once from its ring offsets (``from_ragged_array``)
    costs half of what ``set_coordinates`` does on copies. The offsets of a
    polygon without holes are its coordinate count; only the others (holes,
    several parts) are asked for theirs. ``get_coordinates`` lists a
    geometry's parts and rings in the order ``from_ragged_array`` reads them.
    """
    n = len(geoms)
    simple = (tid == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    plain = np.flatnonzero(simple)
    other = np.flatnonzero((tid >= 0) & ~simple)
    # every ring (and part), tagged with its geometry, then put in geometry order
    ring_geom, ring_len = plain, shapely.get_num_coordinates(geoms[plain])
    part_geom, part_rings = plain, np.ones(len(plain), np.int64)
    if len(other):
        _, _, offs = shapely.to_ragged_array(geoms[other])
        per_part = np.diff(offs[1])
        per_geom = np.diff(offs[2]) if len(offs) == 3 else np.ones(len(other), np.int64)
        ring_owner = np.repeat(np.repeat(other, per_geom), per_part)
        ring_geom = np.concatenate([ring_geom, ring_owner])
        ring_len = np.concatenate([ring_len, np.diff(offs[0])])
        part_geom = np.concatenate([part_geom, np.repeat(other, per_geom)])
        part_rings = np.concatenate([part_rings, per_part])
        by_ring = np.argsort(ring_geom, kind="stable")
        by_part = np.argsort(part_geom, kind="stable")
        ring_len, part_geom, part_rings = ring_len[by_ring], part_geom[by_part], part_rings[by_part]
    ring_off = np.zeros(len(ring_len) + 1, np.int64)
    np.cumsum(ring_len, out=ring_off[1:])
    part_off = np.zeros(len(part_rings) + 1, np.int64)
    np.cumsum(part_rings, out=part_off[1:])
    parts = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (ring_off, part_off))
    out = np.empty(n, dtype=object)
    first = np.searchsorted(part_geom, np.arange(n))  # each geometry's first part
    single = np.flatnonzero(tid == 3)
    out[single] = parts[first[single]]
    multi = tid[part_geom] == 6
    if multi.any():
        owners = part_geom[multi]
        rank = np.searchsorted(np.flatnonzero(tid == 6), owners)
        out[tid == 6] = shapely.multipolygons(parts[multi], indices=rank)
    return out


def _run(work: Any, n: int) -> None:
    if n == 1:
        work(0)
        return
    with ThreadPoolExecutor(max_workers=min(n, 4)) as pool:
        list(pool.map(work, range(n)))
