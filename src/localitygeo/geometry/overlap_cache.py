"""Overlap tables kept for the length of one call, so no pair of layers is measured twice.

An :class:`OverlapCache` is keyed by the two layers' contents (a fingerprint
of codes and geometries), so a table is reused only for the same data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np

from localitygeo.geometry.overlay import OverlapTable

if TYPE_CHECKING:
    pass

__all__ = ["OverlapCache"]


class OverlapCache:
    """Overlap tables already measured, reused while their two layers are unchanged.

    Pass one to :func:`overlap_table` or :func:`localitygeo.judge_nesting`
    as ``cache=``. A table is reused for a (source, target) pair of layers
    with the same codes in the same order, the same CRS and the very same
    geometry objects (a copy of a layer with other columns qualifies;
    reprojected, rebuilt or re-read geometry does not). The cache keeps the
    layers' geometries it has seen alive.

    Examples
    --------
    >>> cache = OverlapCache()
    >>> j = judge_nesting(bset, rule, cache=cache)  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._tables: dict[tuple[object, object], OverlapTable] = {}
        self._kept: list[object] = []
        self.hits = 0

    def get(self, source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> OverlapTable | None:
        """Return the table kept for these two layers, or None."""
        found = self._tables.get((_fingerprint(source), _fingerprint(target)))
        self.hits += found is not None
        return found

    def put(self, source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, table: OverlapTable) -> None:
        """Keep ``table`` as the overlap of these two layers.

        Parameters
        ----------
        source, target : geopandas.GeoDataFrame
            The two layers, as measured.
        table : OverlapTable
            Their overlaps.
        """
        self._tables[(_fingerprint(source), _fingerprint(target))] = table
        # the fingerprints hold object ids: keep the objects alive so ids stay unique
        self._kept.append((source.geometry.array, target.geometry.array))


def _fingerprint(frame: gpd.GeoDataFrame) -> tuple[object, ...]:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    return (
        str(frame.crs),
        tuple(frame["code"].astype(str).to_numpy(dtype=object)),
        tuple(map(id, geoms)),
    )
