"""WKB polygons decoded straight into coordinate arrays, without building geometries.

GeoParquet stores each feature as WKB. Reading a layer only to reproject it
would build every geometry twice: once in the file's CRS (``from_wkb``), and
again from the new coordinates. :func:`decode_polygons` reads the
coordinates and the ring and part structure out of the WKB bytes with numpy
instead, so that the geometries are built once, in the CRS they are measured
in (``PolygonArrays.geometries`` in :mod:`localitygeo.geometry.polygon_arrays`).
For England's output areas that skips building and freeing 171,372
geometries of 3.96 million coordinates.

Only what it can decode exactly as GEOS would is decoded: little-endian
2D Polygons and MultiPolygons, every one non-empty, with closed rings of at
least four finite coordinates and no bytes left over. Anything else (nulls,
other types, Z or M, big-endian or malformed WKB, NaN coordinates) gives
None, and the caller reads the file the ordinary way, which reports the
problem. Every length in the WKB is checked against the bytes that hold it
before it is used, so hostile bytes cannot make the decoder loop or read out
of bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from localitygeo.geometry.polygon_arrays import PolygonArrays, offsets_of

__all__ = ["decode_polygons"]

_POLYGON, _MULTIPOLYGON = 3, 6
_HEADER = 9  # byte order (1), type (4), count (4)
_MIN_RING = 4 + 4 * 16  # a count and four coordinates
_MIN_POLYGON = _HEADER + _MIN_RING


def decode_polygons(column: Any) -> PolygonArrays | None:
    """Decode a pyarrow column of WKB Polygons and MultiPolygons into flat arrays.

    Parameters
    ----------
    column : pyarrow.Array or pyarrow.ChunkedArray
        Binary (or large binary) WKB, one feature per row.

    Returns
    -------
    PolygonArrays or None
        The features, or None when any row is not something this decodes
        exactly (see the module): then decode it with ``shapely.from_wkb``.
    """
    import pyarrow as pa

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if not all(c.type in (pa.binary(), pa.large_binary()) for c in chunks):
        return None
    if any(c.null_count for c in chunks):
        return None
    decoded = [_decode_chunk(c) for c in chunks if len(c)]
    if any(d is None for d in decoded):
        return None
    return _concatenate([d for d in decoded if d is not None])


def _u32(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Little-endian unsigned 32-bit integers at byte positions ``at`` (as int64)."""
    out = data[at].astype(np.int64)
    for k in (1, 2, 3):
        out |= data[at + k].astype(np.int64) << (8 * k)
    return out


def _decode_chunk(arr: Any) -> PolygonArrays | None:
    import pyarrow as pa

    wide = arr.type == pa.large_binary()
    buffers = arr.buffers()
    raw = np.frombuffer(buffers[1], dtype=np.int64 if wide else np.int32)
    offsets: np.ndarray = raw[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data: np.ndarray = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    start, end = offsets[:-1], offsets[1:]
    if (end - start < _MIN_POLYGON).any() or end[-1] > len(data):
        return None
    if (data[start] != 1).any():  # big-endian
        return None
    kind = _u32(data, start + 1)
    if not np.isin(kind, (_POLYGON, _MULTIPOLYGON)).all():
        return None
    rings: list[tuple[np.ndarray, np.ndarray]] = []  # (first coordinate byte, count)
    parts: list[tuple[np.ndarray, np.ndarray]] = []  # (header byte, rings)
    multi = kind == _MULTIPOLYGON
    n_parts = np.ones(len(arr), np.int64)
    ends = np.empty(len(arr), np.int64)
    single = np.flatnonzero(~multi)
    done = _polygons(data, start[single], end[single], rings, parts)
    if done is None:
        return None
    ends[single] = done
    many = np.flatnonzero(multi)
    if len(many):
        count = _u32(data, start[many] + 5)
        if (count == 0).any() or (
            count > (end[many] - start[many] - _HEADER) // _MIN_POLYGON
        ).any():
            return None
        n_parts[many] = count
        at, limit = start[many] + _HEADER, end[many]
        for k in range(int(count.max())):
            live = np.flatnonzero(count > k)
            done = _polygons(data, at[live], limit[live], rings, parts)
            if done is None:
                return None
            at[live] = done
        ends[many] = at
    if (ends != end).any():  # bytes left over
        return None
    ring_at, ring_n = (np.concatenate(v) for v in zip(*rings, strict=True))
    order = np.argsort(ring_at, kind="stable")  # the WKB's own order
    ring_at, ring_n = ring_at[order], ring_n[order]
    part_at, part_rings = (np.concatenate(v) for v in zip(*parts, strict=True))
    part_rings = part_rings[np.argsort(part_at, kind="stable")]
    # the coordinates are the bytes between the headers: keep those, in one pass
    ring_end = ring_at + 16 * ring_n
    lengths = np.empty(2 * len(ring_at) + 1, np.int64)
    lengths[0:-1:2] = ring_at - np.concatenate([[0], ring_end[:-1]])
    lengths[1::2] = 16 * ring_n
    lengths[-1] = len(data) - ring_end[-1]
    keep = np.zeros(len(lengths), bool)
    keep[1::2] = True
    xy = data[np.repeat(keep, lengths)].view("<f8").astype(np.float64, copy=False).reshape(-1, 2)
    ring_offsets = offsets_of(ring_n)
    if not np.isfinite(xy).all():
        return None
    if not (xy[ring_offsets[:-1]] == xy[ring_offsets[1:] - 1]).all():  # a ring not closed
        return None
    return PolygonArrays(xy, ring_offsets, offsets_of(part_rings), offsets_of(n_parts), multi)


def _polygons(
    data: np.ndarray,
    at: np.ndarray,
    limit: np.ndarray,
    rings: list[tuple[np.ndarray, np.ndarray]],
    parts: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray | None:
    """Walk the Polygons whose WKB starts at bytes ``at``; return where each ends.

    ``limit`` is the end of the feature holding each. Rings and parts found
    are appended to ``rings`` and ``parts``. None if any is not a
    little-endian Polygon of closed-ring size within its bytes.
    """
    if len(at) == 0:
        return at
    if (limit - at < _MIN_POLYGON).any() or (data[at] != 1).any():
        return None
    if (_u32(data, at + 1) != _POLYGON).any():
        return None
    count = _u32(data, at + 5)
    if (count == 0).any() or (count > (limit - at - _HEADER) // _MIN_RING).any():
        return None
    parts.append((at, count))
    cursor = at + _HEADER
    for r in range(int(count.max())):
        live = np.flatnonzero(count > r)
        here = cursor[live]
        room = limit[live] - here - 4
        if (room < 0).any():
            return None
        n = _u32(data, here)
        if (n < 4).any() or (n > room // 16).any():
            return None
        rings.append((here + 4, n))
        cursor[live] = here + 4 + 16 * n
    return cursor


def _concatenate(pieces: list[PolygonArrays]) -> PolygonArrays:
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        empty = np.zeros(1, np.int64)
        return PolygonArrays(np.zeros((0, 2)), empty, empty, empty, np.zeros(0, bool))

    xy = np.concatenate([p.xy for p in pieces])
    return PolygonArrays(
        xy,
        _rebased([p.ring_offsets for p in pieces], [len(p.xy) for p in pieces]),
        _rebased([p.part_offsets for p in pieces], [len(p.ring_offsets) - 1 for p in pieces]),
        _rebased([p.geom_offsets for p in pieces], [len(p.part_offsets) - 1 for p in pieces]),
        np.concatenate([p.multi for p in pieces]),
    )


def _rebased(offsets: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Join offset arrays, each shifted by the total size of those before it."""
    shift = np.cumsum([0, *sizes[:-1]])
    return np.concatenate(
        [offsets[0]] + [o[1:] + s for o, s in zip(offsets[1:], shift[1:], strict=True)]
    )
