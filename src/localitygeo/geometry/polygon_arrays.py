"""Polygon layers as flat coordinate arrays: the layout of ``shapely.from_ragged_array``.

:class:`PolygonArrays` holds a layer's Polygons and MultiPolygons as one
array of coordinates and three arrays of offsets (rings, parts, features).
It is what :func:`localitygeo.io.wkb_decode.decode_polygons` reads out of WKB,
and what :func:`localitygeo.geometry.projection.reproject_arrays` transforms
and builds geometries from, once, in the CRS that measures them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["PolygonArrays", "offsets_of"]


@dataclass(frozen=True)
class PolygonArrays:
    """Polygons and MultiPolygons as flat arrays (the layout of ``from_ragged_array``).

    Attributes
    ----------
    xy : numpy.ndarray
        (N, 2) coordinates, ring after ring, in the order of the WKB.
    ring_offsets : numpy.ndarray
        (R + 1,) where each ring starts in ``xy``.
    part_offsets : numpy.ndarray
        (P + 1,) where each polygon (part) starts in the rings; its first
        ring is its shell.
    geom_offsets : numpy.ndarray
        (G + 1,) where each feature starts in the parts.
    multi : numpy.ndarray
        (G,) True for a MultiPolygon, False for a Polygon.
    """

    xy: np.ndarray
    ring_offsets: np.ndarray
    part_offsets: np.ndarray
    geom_offsets: np.ndarray
    multi: np.ndarray

    def __len__(self) -> int:
        return len(self.multi)

    def rows(self, lo: int, hi: int) -> PolygonArrays:
        """Return features ``lo`` to ``hi`` (exclusive) as arrays of their own."""
        p0, p1 = int(self.geom_offsets[lo]), int(self.geom_offsets[hi])
        r0, r1 = int(self.part_offsets[p0]), int(self.part_offsets[p1])
        c0, c1 = int(self.ring_offsets[r0]), int(self.ring_offsets[r1])
        return PolygonArrays(
            self.xy[c0:c1],
            self.ring_offsets[r0 : r1 + 1] - c0,
            self.part_offsets[p0 : p1 + 1] - r0,
            self.geom_offsets[lo : hi + 1] - p0,
            self.multi[lo:hi],
        )

    def bounds(self) -> np.ndarray:
        """Return each feature's (xmin, ymin, xmax, ymax), as ``shapely.bounds`` gives.

        GEOS takes a polygon's box from its shell alone (a hole outside the
        shell of an invalid polygon does not widen it), so this does too.
        """
        starts = self.ring_offsets[:-1]
        x, y = self.xy[:, 0], self.xy[:, 1]
        per_ring = [f.reduceat(v, starts) for f in (np.minimum, np.maximum) for v in (x, y)]
        shells = self.part_offsets[:-1]
        first = self.geom_offsets[:-1]
        xmin, ymin, xmax, ymax = (
            f.reduceat(r[shells], first)
            for f, r in zip((np.minimum, np.minimum, np.maximum, np.maximum), per_ring, strict=True)
        )
        return np.column_stack([xmin, ymin, xmax, ymax])

    def geometries(self, xy: np.ndarray | None = None) -> np.ndarray:
        """Return the features as shapely geometries, with coordinates ``xy`` if given.

        ``xy`` replaces :attr:`xy` row for row (the same coordinates
        transformed, say). A Polygon comes back a Polygon and a MultiPolygon
        a MultiPolygon, even of one part, as ``from_wkb`` gives them.
        """
        coords = self.xy if xy is None else xy
        parts = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, coords, (self.ring_offsets, self.part_offsets)
        )
        n = len(self)
        first = self.geom_offsets[:-1]
        out = np.empty(n, dtype=object)
        single = ~self.multi
        out[single] = parts[first[single]]
        if self.multi.any():
            owner = np.repeat(np.arange(n), np.diff(self.geom_offsets))
            in_multi = self.multi[owner]
            rank = np.cumsum(self.multi) - 1  # each MultiPolygon's place among them
            out[self.multi] = shapely.multipolygons(parts[in_multi], indices=rank[owner[in_multi]])
        return out


def offsets_of(counts: np.ndarray) -> np.ndarray:
    """Return the offsets (length ``len(counts) + 1``, from 0) of runs of ``counts``."""
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out
