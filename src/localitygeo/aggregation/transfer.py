"""Aggregating small-area indicators to larger units.

:func:`aggregate` takes a table of indicators keyed by the codes of a source
layer (LSOAs, output areas) and returns them for the units of a target layer
(wards, neighbourhoods, localities):

* **extensive** columns (counts: population, claimants) are apportioned to
  targets and summed;
* **intensive** columns (rates, scores, ranks) become weighted means: weighted
  by an apportioned extensive ``weight`` column such as population when one is
  given, by area otherwise.

Two methods say how a source is shared among targets:

``"area"``
    Each source is split among the targets it overlaps in proportion to the
    area of the overlap, normalised over the part of the source that lies in
    some target. When the two layers' generalised coastlines disagree, a
    source's share in the sea is handed to the targets it does overlap, so
    totals are conserved.
``"best-fit"``
    Each source goes wholly to the target holding most of its area
    (:func:`localitygeo.best_fit`).

The source × target intersection areas are computed once per call, exactly,
by the area engine behind :func:`localitygeo.best_fit` (from where the
boundaries cross, without building intersection geometries; spread over
threads while GEOS checks validity in another), or taken from an
:class:`~localitygeo.geometry.overlay.OverlapTable` passed as ``table=``: computed
earlier by :func:`~localitygeo.geometry.overlay.overlap_table`, or from membership by
:func:`~localitygeo.geometry.overlay.set_overlap_table` when the target is built from
the source's units (each small area then lies wholly in its own
neighbourhood, and nothing is measured). Everything after that is numpy
arithmetic on the pairs; best fit reads the same table.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import pandas as pd

from localitygeo.aggregation.columns import (
    by_code,
    check_columns,
    numeric,
)
from localitygeo.aggregation.pairs import (
    METHODS,
    Method,
    apportion,
    overlay_pairs,
)
from localitygeo.errors import DataError
from localitygeo.geometry.overlay import OverlapTable

__all__ = ["METHODS", "aggregate"]


def aggregate(
    data: pd.DataFrame,
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    *,
    extensive: Iterable[str] = (),
    intensive: Iterable[str] = (),
    weight: str | None = None,
    method: Method = "area",
    strict: bool = False,
    outside_tolerance: float = 0.05,
    threads: int | None = None,
    table: OverlapTable | None = None,
    crs: object = None,
) -> pd.DataFrame:
    """Aggregate indicators from source units to target units.

    Parameters
    ----------
    data : pandas.DataFrame
        Indicators indexed by source code (as
        :func:`localitygeo.read_indicators` returns). A frame with a default
        integer index and a ``code`` column is also accepted.
    source, target : geopandas.GeoDataFrame
        Layers with a unique ``code`` column (as
        :func:`localitygeo.read_layer` returns), in one projected CRS.
    extensive : iterable of str, optional
        Count columns: apportioned and summed.
    intensive : iterable of str, optional
        Rate, score or rank columns: weighted means.
    weight : str, optional
        An extensive column of ``data`` (such as population) to weight the
        intensive means by, apportioned like the extensive columns. Without
        it the means are weighted by area.
    method : {"area", "best-fit"}, default "area"
        Split each source among targets by area share, or give it wholly to
        its best-fit target.
    strict : bool, default False
        Raise :class:`~localitygeo.errors.DataError` instead of warning when
        codes in ``data`` are not in ``source`` (or the reverse), when source
        units lie outside every target, or when target units get no data.
    outside_tolerance : float, default 0.05
        Largest share of a source unit's area that may lie outside every
        target and still be handed to the targets it overlaps (method
        ``"area"``): generalised layers disagree along coastlines by a few
        per cent at most. A source further outside (straddling the edge of
        the study area) keeps its plain area shares and the part outside is
        not counted, with a warning. Under ``"best-fit"`` a source is
        assigned unless more of it lies outside every target than in its
        best target.
    threads : int, optional
        Worker threads for the area computation (default: CPUs, at most 4).
    table : OverlapTable, optional
        The source × target overlaps, from
        :func:`localitygeo.geometry.overlay.overlap_table` (measured once, reused
        across calls) or :func:`localitygeo.geometry.overlay.set_overlap_table` (from
        membership when the target is built from the source's units). It
        must have been computed for these two layers; nothing is measured.
    crs : optional
        Reproject ``source`` and ``target`` to this CRS (anything
        :func:`~localitygeo.geometry.crs.parse_crs` reads) before measuring.
        Without it both must already share one projected CRS. Not with
        ``table``.

    Returns
    -------
    pandas.DataFrame
        One row per target unit, indexed by target code (index name
        ``code``) in the target layer's order: the extensive columns, the
        intensive columns, then ``coverage``, the share of the target's area
        covered by source units that have data (0 to 1). A column is missing
        (NaN) for a target only when no source with a value for it
        contributes to that target; every such case is warned about.

    Raises
    ------
    ColumnError
        A named column is not in ``data``, or uses a reserved name.
    DataError
        A column is named twice or as both extensive and intensive, is
        non-numeric or entirely missing; the weight is missing, negative or
        sums to zero where a mean needs it; codes do not match with
        ``strict=True``; ``table`` was computed for other layers.
    CRSError
        A layer is in a geographic CRS, or the layers' CRSs differ.
    GeometryError
        A layer has null or empty geometry, or a target has no area.

    Warns
    -----
    LocalityGeoWarning
        Codes in ``data`` but not in ``source`` and the reverse (with counts
        and examples), sources outside every target, targets with no data,
        columns with some missing values.

    Examples
    --------
    >>> wards = aggregate(imd, lsoas, wards, extensive=["population"],
    ...                   intensive=["rank"], weight="population")  # doctest: +SKIP
    >>> t = set_overlap_table(bset, "lsoa", "neighbourhood")  # doctest: +SKIP
    >>> hoods = aggregate(imd, bset["lsoa"], bset["neighbourhood"],
    ...                   extensive=["population"], table=t)  # doctest: +SKIP
    """
    ext, inten = check_columns(data, extensive, intensive, weight)
    if method not in METHODS:
        raise DataError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    values = numeric(by_code(data), [*dict.fromkeys([*ext, *inten, *([weight] if weight else [])])])
    pairs = overlay_pairs(
        values.index,
        source,
        target,
        method=method,
        outside_tolerance=outside_tolerance,
        strict=strict,
        threads=threads,
        table=table,
        crs=crs,
    )
    return apportion(values, pairs, extensive=ext, intensive=inten, weight=weight, strict=strict)
