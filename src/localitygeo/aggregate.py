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
:class:`~localitygeo.overlay.OverlapTable` passed as ``table=``: computed
earlier by :func:`~localitygeo.overlay.overlap_table`, or from membership by
:func:`~localitygeo.overlay.set_overlap_table` when the target is built from
the source's units (each small area then lies wholly in its own
neighbourhood, and nothing is measured). Everything after that is numpy
arithmetic on the pairs; best fit reads the same table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from localitygeo._measure import _check_codes
from localitygeo.crs import ensure_projected, same_crs
from localitygeo.errors import ColumnError, DataError, GeometryError, format_codes, warn
from localitygeo.nesting import _fit_table
from localitygeo.numbers import parse_numbers
from localitygeo.overlay import OverlapTable, overlap_table

__all__ = ["METHODS", "aggregate"]

Method = Literal["area", "best-fit"]

#: The ways :func:`aggregate` can share a source unit among target units.
METHODS: tuple[str, ...] = ("area", "best-fit")

#: Result columns the function adds itself (user columns may not use these names).
_RESERVED = ("coverage",)

# Pair shares below one part in a billion are float noise along shared edges.
_NEGLIGIBLE = 1e-9


@dataclass(frozen=True)
class Pairs:
    """How source units are shared among target units (internal, reused by imd/compare).

    Attributes
    ----------
    source_codes, target_codes : numpy.ndarray
        Codes of the (matched) source units and of all target units.
    si, tj : numpy.ndarray
        Source and target index of each pair.
    share : numpy.ndarray
        Share of the source given to the target in each pair; sums to 1 per
        source that lies in some target.
    area : numpy.ndarray
        Area weight of each pair (overlap area, or the source's covered area
        under best fit).
    coverage : numpy.ndarray
        Share of each target's area covered by the source units.
    table : OverlapTable
        The overlaps of the matched source units with the targets, from which
        all of the above was computed (best fit reads it too).
    """

    source_codes: np.ndarray
    target_codes: np.ndarray
    si: np.ndarray
    tj: np.ndarray
    share: np.ndarray
    area: np.ndarray
    coverage: np.ndarray
    table: OverlapTable


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
        :func:`localitygeo.overlay.overlap_table` (measured once, reused
        across calls) or :func:`localitygeo.overlay.set_overlap_table` (from
        membership when the target is built from the source's units). It
        must have been computed for these two layers; nothing is measured.

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
    ext, inten = _check_columns(data, extensive, intensive, weight)
    if method not in METHODS:
        raise DataError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    values = _numeric(
        _by_code(data), [*dict.fromkeys([*ext, *inten, *([weight] if weight else [])])]
    )
    pairs = overlay_pairs(
        values.index,
        source,
        target,
        method=method,
        outside_tolerance=outside_tolerance,
        strict=strict,
        threads=threads,
        table=table,
    )
    return apportion(values, pairs, extensive=ext, intensive=inten, weight=weight, strict=strict)


def overlay_pairs(
    codes: pd.Index,
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    *,
    method: Method = "area",
    outside_tolerance: float = 0.05,
    strict: bool = False,
    threads: int | None = None,
    table: OverlapTable | None = None,
) -> Pairs:
    """Match data codes to the source layer and share the sources among targets.

    Parameters
    ----------
    codes : pandas.Index
        Codes of the source units that have data.
    source, target : geopandas.GeoDataFrame
        Layers with ``code`` columns in one projected CRS.
    method : {"area", "best-fit"}, default "area"
        As for :func:`aggregate`.
    outside_tolerance : float, default 0.05
        As for :func:`aggregate`.
    strict : bool, default False
        Raise instead of warning on unmatched codes and uncovered units.
    threads : int, optional
        Worker threads for the area computation.
    table : OverlapTable, optional
        The overlaps of ``source`` and ``target``, already computed.

    Returns
    -------
    Pairs
        The source–target pairs, their shares and the targets' coverage.
    """
    if method not in METHODS:
        raise DataError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not 0.0 <= outside_tolerance <= 1.0:
        raise DataError(f"outside_tolerance must lie in [0, 1], not {outside_tolerance!r}")
    for frame, what in ((source, "source layer"), (target, "target layer")):
        ensure_projected(frame, what)
        _check_codes(frame, what)
    same_crs(source, target, ("source layer", "target layer"))

    scodes = source["code"].astype(str).to_numpy(dtype=object)
    _match_codes(codes, scodes, strict)
    # hashed (np.isin on objects is quadratic), and on object Indexes: pandas 3's
    # "str" Index makes this 40x slower (0.22 s vs 5 ms for England's LSOAs)
    keep = pd.Index(scodes, dtype=object).isin(pd.Index(codes, dtype=object))
    names = ("source layer", "target layer")
    if table is None:
        overlaps = overlap_table(source[keep], target, threads=threads, names=names)
    else:
        table.check(source, target, names)
        overlaps = table.select(keep)
    si, tj, inter = overlaps.si, overlaps.tj, overlaps.area
    t_area = overlaps.target_area
    if (t_area <= 0).any():
        bad = target["code"].to_numpy()[t_area <= 0]
        raise GeometryError(
            f"{len(bad)} target unit(s) have zero area: {format_codes(bad)}",
            layer="target layer",
            code=str(bad[0]),
        )
    ns, nt = len(overlaps.source_codes), len(t_area)
    s_area = overlaps.source_area
    real = inter >= _NEGLIGIBLE * s_area[si]
    si, tj, inter = si[real], tj[real], inter[real]
    covered = np.bincount(si, weights=inter, minlength=ns)
    coverage = np.clip(np.bincount(tj, weights=inter, minlength=nt) / t_area, 0.0, 1.0)
    outside = np.clip(1.0 - covered / np.maximum(s_area, 1e-300), 0.0, 1.0)

    src_codes = scodes[keep]
    tcodes = target["code"].astype(str).to_numpy(dtype=object)
    if method == "area":
        # Normalise over the part inside some target only when little lies outside
        # (generalised coastlines); a source straddling the edge of the study area
        # keeps its plain area shares.
        normalise = outside <= outside_tolerance + _NEGLIGIBLE  # exactly at the limit counts
        share = inter / np.where(normalise, covered, s_area)[si]
        area = inter
        lost = covered <= 0
        _report_outside(lost, src_codes, "lie outside every target unit", strict)
        _report_outside(
            ~normalise & ~lost,
            src_codes,
            f"lie more than {outside_tolerance:.0%} outside every target unit (up to "
            f"{outside[~normalise & ~lost].max(initial=0):.0%}); only the part inside is "
            "counted",
            strict,
        )
    else:
        fit = _fit_table(overlaps)
        best = fit["share"].to_numpy(dtype=float)
        away = fit["outside_share"].to_numpy(dtype=float)
        has = fit["parent_code"].notna().to_numpy() & (best >= away - _NEGLIGIBLE)
        _report_outside(~has, src_codes, "lie mostly outside every target unit", strict)
        si = np.flatnonzero(has)
        tj = pd.Index(tcodes).get_indexer(fit["parent_code"].to_numpy()[has].astype(str))
        share = np.ones(len(si))
        area = covered[si]
    empty = np.bincount(tj, minlength=nt) == 0
    if empty.any():
        _report(
            f"{int(empty.sum())} target unit(s) receive no source data; their values are "
            f"missing: {format_codes(tcodes[empty])}",
            strict,
        )
    return Pairs(src_codes, tcodes, si, tj, share, area, coverage, overlaps)


def apportion(
    table: pd.DataFrame,
    pairs: Pairs,
    *,
    extensive: Sequence[str] = (),
    intensive: Sequence[str] = (),
    weight: str | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Apply source–target ``pairs`` to the numeric columns of ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        Numeric indicators indexed by source code (str).
    pairs : Pairs
        From :func:`overlay_pairs`.
    extensive, intensive : sequence of str
        Columns to sum and to average.
    weight : str, optional
        Column weighting the intensive means (area when omitted).
    strict : bool, default False
        Raise instead of warning about missing values.

    Returns
    -------
    pandas.DataFrame
        As :func:`aggregate` returns.
    """
    nt = len(pairs.target_codes)
    rows = table.reindex(pairs.source_codes)
    si, tj, share = pairs.si, pairs.tj, pairs.share
    out: dict[str, np.ndarray] = {}
    for col in extensive:
        out[col] = _sum(rows[col].to_numpy(dtype=float), si, tj, share, nt)
    w = pairs.area
    if weight is not None:
        wv = rows[weight].to_numpy(dtype=float)
        _check_weight(wv, pairs.source_codes, weight)
        w = wv[si] * share
    for col in intensive:
        out[col] = _mean(rows[col].to_numpy(dtype=float), w, si, tj, nt, col, pairs, weight)
    for col in dict.fromkeys([*extensive, *intensive]):
        miss = np.isnan(rows[col].to_numpy(dtype=float))
        if miss.any():
            _report(
                f"column '{col}' is missing for {int(miss.sum())} source unit(s), which "
                f"contribute nothing to it: {format_codes(pairs.source_codes[miss])}",
                strict,
            )
    result = pd.DataFrame(out, index=pd.Index(pairs.target_codes, name="code"))
    result["coverage"] = pairs.coverage
    return result


def _sum(x: np.ndarray, si: np.ndarray, tj: np.ndarray, share: np.ndarray, nt: int) -> np.ndarray:
    ok = ~np.isnan(x[si])
    total = np.bincount(tj[ok], weights=x[si][ok] * share[ok], minlength=nt)
    got = np.bincount(tj[ok], minlength=nt) > 0
    return np.where(got, total, np.nan)


def _mean(
    x: np.ndarray,
    w: np.ndarray,
    si: np.ndarray,
    tj: np.ndarray,
    nt: int,
    col: str,
    pairs: Pairs,
    weight: str | None,
) -> np.ndarray:
    ok = ~np.isnan(x[si])
    den = np.bincount(tj[ok], weights=w[ok], minlength=nt)
    num = np.bincount(tj[ok], weights=x[si][ok] * w[ok], minlength=nt)
    got = np.bincount(tj[ok], minlength=nt) > 0
    zero = got & (den <= 0)
    if zero.any():
        codes = pairs.target_codes[zero]
        raise DataError(
            f"the mean of '{col}' is undefined for {len(codes)} target unit(s) whose sources "
            f"all have zero {'weight ' + repr(weight) if weight else 'area'}: "
            f"{format_codes(codes)}",
            code=str(codes[0]),
        )
    # A weighted mean lies within the values averaged; clip rounding that escapes.
    lo = np.full(nt, np.inf)
    hi = np.full(nt, -np.inf)
    np.minimum.at(lo, tj[ok], x[si][ok])
    np.maximum.at(hi, tj[ok], x[si][ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.minimum(np.maximum(num / den, lo), hi)
    return np.where(got, mean, np.nan)


def _check_weight(wv: np.ndarray, codes: np.ndarray, weight: str) -> None:
    bad = np.isnan(wv)
    if bad.any():
        raise DataError(
            f"weight column '{weight}' is missing for {int(bad.sum())} source unit(s): "
            f"{format_codes(codes[bad])}; fill or drop them before weighting",
            code=str(codes[bad][0]),
        )
    neg = wv < 0
    if neg.any():
        raise DataError(
            f"weight column '{weight}' is negative for {int(neg.sum())} source unit(s): "
            f"{format_codes(codes[neg])}",
            code=str(codes[neg][0]),
        )
    if len(wv) and not (wv > 0).any():
        raise DataError(f"weight column '{weight}' is zero for every source unit")


def _check_columns(
    data: pd.DataFrame,
    extensive: Iterable[str],
    intensive: Iterable[str],
    weight: str | None,
) -> tuple[list[str], list[str]]:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if isinstance(extensive, str) or isinstance(intensive, str):
        raise DataError("extensive and intensive take a list of column names, not one string")
    ext, inten = list(extensive), list(intensive)
    for name, cols in (("extensive", ext), ("intensive", inten)):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise DataError(f"column(s) named twice in {name}: {format_codes(dup)}")
    both = sorted(set(ext) & set(inten))
    if both:
        raise DataError(
            f"column(s) {format_codes(both)} are listed as both extensive and intensive; a "
            "count is extensive (summed), a rate or rank intensive (averaged)"
        )
    if weight is not None and weight in inten:
        raise DataError(
            f"weight column '{weight}' is intensive; weight by an extensive count such as "
            "population"
        )
    names = [*ext, *inten, *([weight] if weight is not None else [])]
    have = set(map(str, data.columns))
    missing = [c for c in names if c not in have]
    if missing:
        raise ColumnError(
            f"data has no column(s) {format_codes(missing)}; columns are: "
            f"{format_codes(list(data.columns), limit=20)}"
        )
    reserved = [c for c in [*ext, *inten] if c in _RESERVED]
    if reserved:
        raise ColumnError(
            f"column name(s) {format_codes(reserved)} are reserved for the result; rename them"
        )
    return ext, inten


def _by_code(data: pd.DataFrame) -> pd.DataFrame:
    """Return ``data`` indexed by str codes, checking they are present and unique."""
    if isinstance(data.index, pd.RangeIndex) and "code" in data.columns:
        data = data.set_index("code")
    if len(data) == 0:
        raise DataError("data have no rows")
    idx = data.index
    if idx.hasnans:
        raise DataError(f"data have {int(idx.isna().sum())} row(s) without a code")
    codes = idx.astype(str)
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise DataError(f"data have duplicate codes: {format_codes(sorted(set(codes[dup])))}")
    out = data.copy(deep=False)
    out.index = pd.Index(codes, name="code")
    return out


def _numeric(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``columns`` of ``data`` as floats; raise naming values that are not numbers."""
    out: dict[str, np.ndarray] = {}
    for col in columns:
        v = parse_numbers(data[col], col).to_numpy()
        if len(v) and np.isnan(v).all():
            raise DataError(f"column '{col}' has no values (every row is missing)")
        out[col] = v
    return pd.DataFrame(out, index=data.index)


def _match_codes(codes: pd.Index, scodes: np.ndarray, strict: bool) -> None:
    in_geom = pd.Index(scodes)
    no_geom = codes.difference(in_geom)
    no_data = in_geom.difference(codes)
    if len(no_geom):
        _report(
            f"{len(no_geom)} of {len(codes)} code(s) in the data are not in the source "
            f"layer and are ignored: {format_codes(no_geom)}",
            strict,
        )
    if len(no_data):
        _report(
            f"{len(no_data)} of {len(in_geom)} source unit(s) have no row in the data; "
            f"targets they overlap are only partly covered: {format_codes(no_data)}",
            strict,
        )
    if len(codes) and len(no_geom) == len(codes):
        raise DataError(
            "none of the data's codes is in the source layer (e.g. data "
            f"{format_codes(codes[:3])}; layer {format_codes(scodes[:3])}); is the data "
            "keyed by the right code column?"
        )


def _report_outside(mask: np.ndarray, codes: np.ndarray, what: str, strict: bool) -> None:
    if mask.any():
        _report(
            f"{int(mask.sum())} source unit(s) with data {what}; the rest of their values "
            f"are not counted: {format_codes(codes[mask])}",
            strict,
        )


def _report(message: str, strict: bool) -> None:
    if strict:
        raise DataError(message + " (strict=True)")
    warn(message, stacklevel=2 + _frames_in_package())


def _frames_in_package() -> int:
    """Count the frames from the caller of this function out to the user's code."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    n = 0
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        n += 1
        frame = frame.f_back  # type: ignore[assignment]
    return n
