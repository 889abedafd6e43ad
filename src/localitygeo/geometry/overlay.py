"""The overlap of two layers, as a table of pairs computed once and reused.

:func:`overlap_table` measures every overlapping (source unit, target unit)
pair of two layers with the exact area engine (``localitygeo.geometry.engine``):
the area of each intersection, without building intersection geometries.
Best fit (:func:`localitygeo.best_fit`), aggregation
(:func:`localitygeo.aggregate`, :func:`localitygeo.imd_summary`) and the
nesting judgement (:func:`localitygeo.judge_nesting`) all start from such a
table, and accept one through ``table=``, so one overlay serves several
questions about the same two layers.

Where a boundary set says how one layer is built from another's blocks,
nothing needs measuring: :func:`set_overlap_table` returns the table from
membership (every block lies wholly in its own unit) and falls back to
geometry otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.errors import DataError, format_codes
from localitygeo.geometry.crs import REPROJECT_FIRST, ensure_projected, same_crs
from localitygeo.geometry.measure import Progress, _measurable, _overlaps, check_codes

if TYPE_CHECKING:
    from localitygeo.geometry.overlap_cache import OverlapCache
    from localitygeo.model.boundary_set import BoundarySet

__all__ = ["OverlapTable", "membership", "overlap_table", "set_overlap_table"]

#: Ways an :class:`OverlapTable` is obtained.
BASES = ("geometry", "membership")


@dataclass(frozen=True)
class OverlapTable:
    """Every overlapping pair of a source and a target layer, with its area.

    Build one with :func:`overlap_table` (measured) or
    :func:`set_overlap_table` (from membership where a boundary set knows
    it). Pass it as ``table=`` to :func:`localitygeo.best_fit`,
    :func:`localitygeo.aggregate` or :func:`localitygeo.imd_summary` to
    reuse it.

    Attributes
    ----------
    source_codes, target_codes : numpy.ndarray
        The layers' codes (as str), in their row order.
    source_area, target_area : numpy.ndarray
        Area of each unit, in square metres of the layers' CRS (of the
        repaired geometry where a geometry was invalid).
    si, tj : numpy.ndarray
        Source and target row of each pair (integer positions).
    area : numpy.ndarray
        Area of each pair's intersection; every one is positive.
    basis : str
        ``"geometry"`` (measured) or ``"membership"`` (each source unit lies
        wholly in the target unit it belongs to).
    source_geometry, target_geometry : numpy.ndarray
        The geometries measured (invalid ones repaired, in a copy).
    crs : object
        The layers' CRS.
    """

    source_codes: np.ndarray
    target_codes: np.ndarray
    source_area: np.ndarray
    target_area: np.ndarray
    si: np.ndarray
    tj: np.ndarray
    area: np.ndarray
    basis: str
    source_geometry: np.ndarray
    target_geometry: np.ndarray
    crs: object = None

    def __len__(self) -> int:
        """Return the number of pairs."""
        return len(self.si)

    def to_frame(self) -> pd.DataFrame:
        """Return the pairs as a DataFrame: ``source_code``, ``target_code``, ``area_m2``."""
        return pd.DataFrame(
            {
                "source_code": self.source_codes[self.si],
                "target_code": self.target_codes[self.tj],
                "area_m2": self.area,
            }
        )

    def check(
        self,
        source: gpd.GeoDataFrame,
        target: gpd.GeoDataFrame,
        *,
        names: tuple[str, str] = ("source layer", "target layer"),
    ) -> None:
        """Raise DataError unless the table was computed for these two layers.

        The layers must have the codes the table has, in the same order, and
        its CRS.

        Parameters
        ----------
        source, target : geopandas.GeoDataFrame
            The layers about to be measured with this table.
        names : tuple of str, default ("source layer", "target layer")
            How to name the two layers in the message.

        Raises
        ------
        DataError
            The table was computed for other layers.
        """
        for frame, codes, what in (
            (source, self.source_codes, names[0]),
            (target, self.target_codes, names[1]),
        ):
            mine = frame["code"].astype(str).to_numpy(dtype=object)
            if len(mine) != len(codes) or not (mine == codes).all():
                raise DataError(
                    f"table= was computed for another {what} ({len(codes)} units, first "
                    f"{format_codes(codes[:3])}) than the one given ({len(mine)} units, first "
                    f"{format_codes(mine[:3])}); compute it with overlap_table(source, target)"
                )
            if self.crs is not None and frame.crs is not None and not frame.crs.equals(self.crs):
                raise DataError(f"table= was computed in {self.crs}, not the {what}'s {frame.crs}")

    def select(self, rows: np.ndarray) -> OverlapTable:
        """Return the table restricted to the source rows where ``rows`` is True.

        Parameters
        ----------
        rows : numpy.ndarray of bool
            One flag per source unit of the table.

        Returns
        -------
        OverlapTable
            A new table over the kept source units (the targets are kept).
        """
        rows = np.asarray(rows, dtype=bool)
        new = np.cumsum(rows) - 1
        mine = rows[self.si]
        return OverlapTable(
            source_codes=self.source_codes[rows],
            target_codes=self.target_codes,
            source_area=self.source_area[rows],
            target_area=self.target_area,
            si=new[self.si[mine]],
            tj=self.tj[mine],
            area=self.area[mine],
            basis=self.basis,
            source_geometry=self.source_geometry[rows],
            target_geometry=self.target_geometry,
            crs=self.crs,
        )


def overlap_table(
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    *,
    threads: int | None = None,
    progress: Progress | None = None,
    names: tuple[str, str] = ("source layer", "target layer"),
    cache: OverlapCache | None = None,
) -> OverlapTable:
    """Measure every overlapping pair of two layers.

    Parameters
    ----------
    source, target : geopandas.GeoDataFrame
        Layers with a unique ``code`` column, in one projected CRS.
    threads : int, optional
        Worker threads for the area engine (default: CPUs, at most 4).
    progress : callable, optional
        Called as ``progress(done, total)`` while areas are computed.
    names : tuple of str
        How errors name the two layers.
    cache : OverlapCache, optional
        Return the table measured earlier for the same two layers, if any,
        and keep this one for later calls.

    Returns
    -------
    OverlapTable
        Pairs with a positive intersection area, ``basis == "geometry"``.

    Raises
    ------
    CRSError
        Either layer is in a geographic CRS, or their CRSs differ.
    InputError
        A layer has missing or repeated codes.
    GeometryError
        A layer has null, empty or non-polygonal geometry.

    Notes
    -----
    Invalid geometries are repaired (in a copy) with :func:`shapely.make_valid`
    first. Areas agree with a GEOS overlay to about 1e-12 of a unit's area.

    Examples
    --------
    >>> t = overlap_table(lsoas, wards)  # doctest: +SKIP
    >>> best = best_fit(lsoas, wards, table=t)  # doctest: +SKIP
    >>> totals = aggregate(imd, lsoas, wards, extensive=["population"], table=t)  # doctest: +SKIP
    """
    found = None if cache is None else cache.get(source, target)
    if found is not None:
        return found
    for frame, what in ((source, names[0]), (target, names[1])):
        ensure_projected(
            frame,
            what,
            fix=REPROJECT_FIRST,
        )
        check_codes(frame, what)
    same_crs(source, target, names, fix=REPROJECT_FIRST)
    sgeom, tgeom, si, tj, area = _overlaps(source, target, threads, progress, names)
    made = _make(source, target, sgeom, tgeom, si, tj, area, "geometry")
    if cache is not None:
        cache.put(source, target, made)
    return made


def _make(
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    sgeom: np.ndarray,
    tgeom: np.ndarray,
    si: np.ndarray,
    tj: np.ndarray,
    area: np.ndarray,
    basis: str,
) -> OverlapTable:
    return OverlapTable(
        source_codes=source["code"].astype(str).to_numpy(dtype=object),
        target_codes=target["code"].astype(str).to_numpy(dtype=object),
        source_area=shapely.area(sgeom),
        target_area=shapely.area(tgeom),
        si=np.asarray(si, dtype=np.intp),
        tj=np.asarray(tj, dtype=np.intp),
        area=np.asarray(area, dtype=float),
        basis=basis,
        source_geometry=sgeom,
        target_geometry=tgeom,
        crs=source.crs,
    )


def membership_table(
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    unit_of: np.ndarray,
    names: tuple[str, str] = ("source layer", "target layer"),
    *,
    measure_target: bool = True,
) -> OverlapTable:
    """Return the table of blocks that lie wholly in their own unit.

    Parameters
    ----------
    source, target : geopandas.GeoDataFrame
        The blocks and the layer built from them.
    unit_of : numpy.ndarray
        For each source row, the code of the target unit it belongs to.
    names : tuple of str
        How errors name the two layers.
    measure_target : bool, default True
        False when the target's areas are not needed: its geometry is then
        neither checked nor repaired, and ``target_area`` is NaN.

    Returns
    -------
    OverlapTable
        One pair per source unit whose unit is in ``target``, its area the
        source unit's whole area; ``basis == "membership"``.
    """
    for frame, what in ((source, names[0]), (target, names[1])):
        check_codes(frame, what)
    same_crs(source, target, names, fix=REPROJECT_FIRST)
    sgeom = _measurable(source, names[0])
    if measure_target:
        tgeom = _measurable(target, names[1])
    else:
        tgeom = np.asarray(target.geometry.array, dtype=object)
    tj = pd.Index(target["code"].astype(str).to_numpy(dtype=object)).get_indexer(
        pd.Index(np.asarray(unit_of, dtype=object)).astype(str)
    )
    si = np.flatnonzero(tj >= 0)
    made = _make(source, target, sgeom, tgeom, si, tj[si], shapely.area(sgeom)[si], "membership")
    if measure_target:
        return made
    return replace(made, target_area=np.full(len(tgeom), np.nan))


def membership(
    layers: Mapping[str, gpd.GeoDataFrame],
    built_from: Mapping[str, str],
    lower: str,
    upper: str,
) -> pd.Series | None:
    """Return the unit of ``upper`` each unit of ``lower`` belongs to, if the set says.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        A boundary set's layers.
    built_from : mapping of str to str
        Built layer -> the layer of blocks it is built from
        (:attr:`BoundarySet.built_from`).
    lower, upper : str
        Layer keys.

    Returns
    -------
    pandas.Series or None
        When ``upper`` is built from ``lower``'s units, directly or through
        layers in between (localities from neighbourhoods from small areas),
        one value per row of ``lower`` in its order (index: its codes): the
        code of the ``upper`` unit holding it. Otherwise (or when a layer of
        blocks lacks the column naming its units) None.
    """
    chain = [upper]
    while chain[-1] != lower and chain[-1] in built_from and len(chain) <= len(built_from):
        chain.append(built_from[chain[-1]])
    if len(chain) < 2 or chain[-1] != lower:
        return None
    # each layer of blocks carries a column named after the layer built from it
    if any(above not in layers[below].columns for above, below in pairwise(chain)):
        return None
    frame = layers[lower]
    current = frame[chain[-2]].to_numpy(dtype=object)
    for above, below in zip(reversed(chain[:-2]), reversed(chain[1:-1]), strict=True):
        step = layers[below]
        step = step.loc[~step["code"].duplicated()].set_index("code")[above]
        current = step.reindex(current).to_numpy(dtype=object)
    return pd.Series(current, index=frame["code"].to_numpy(dtype=object), name=upper)


def set_overlap_table(
    boundary_set: BoundarySet,
    source: str,
    target: str,
    *,
    threads: int | None = None,
    progress: Progress | None = None,
) -> OverlapTable:
    """Return the overlap table of two layers of a set, from membership where it is known.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set holding both layers.
    source, target : str
        Layer keys.
    threads : int, optional
        Worker threads when the table must be measured.
    progress : callable, optional
        As for :func:`overlap_table`.

    Returns
    -------
    OverlapTable
        When ``target`` is built (directly or through layers in between)
        from ``source``'s units, every source unit lies wholly in its unit and
        nothing is measured (``basis == "membership"``); otherwise
        :func:`overlap_table` of the two layers.
    """
    known = known_overlap_table(boundary_set, source, target)
    if known is not None:
        return known
    names = (f"layer '{source}'", f"layer '{target}'")
    src, tgt = boundary_set[source], boundary_set[target]
    return overlap_table(src, tgt, threads=threads, progress=progress, names=names)


def known_overlap_table(boundary_set: BoundarySet, source: str, target: str) -> OverlapTable | None:
    """Return the table from membership when ``target`` is built from ``source``; else None."""
    up = membership(boundary_set.layers, boundary_set.built_from, source, target)
    if up is None:
        return None
    names = (f"layer '{source}'", f"layer '{target}'")
    src, tgt = boundary_set[source], boundary_set[target]
    return membership_table(src, tgt, up.to_numpy(dtype=object), names)
