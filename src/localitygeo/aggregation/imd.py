"""Deprivation summaries of larger units from the English Indices of Deprivation.

The Indices of Deprivation rank every small area (LSOA) in England from 1
(most deprived) to 32,844. :func:`imd_summary` summarises the ranks of the
small areas in each ward, neighbourhood or locality the way the IMD technical
report summarises local authority districts, always against *national*
percentiles (not percentiles within the council):

``mean_rank``
    Population-weighted mean rank (lower is more deprived).
``extent``
    Share of the population living in the most deprived 30% of small areas
    nationally, weighted by how deprived: with the national percentile of rank
    ``r`` being ``ceil(100 * r / national_count)``, a small area counts with
    weight 1 in percentiles 1 to 10, tapering linearly from 0.95 at percentile
    11 to 0.05 at percentile 30, and 0 above.
``share_decile1``
    Share of the population living in small areas in the most deprived tenth
    nationally (percentile 10 or below).
``n_decile1``
    Number of small areas in national decile 1 whose best-fit unit is this
    one (a count of whole areas, whatever the aggregation method).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from localitygeo.aggregation.columns import by_code, numeric
from localitygeo.aggregation.pairs import apportion, overlay_pairs
from localitygeo.aggregation.transfer import Method
from localitygeo.errors import DataError, missing_column
from localitygeo.geometry.fitting import fit_table
from localitygeo.geometry.overlay import OverlapTable

__all__ = ["IMD2019_LSOA_COUNT", "extent_weight", "imd_summary", "national_percentile"]

#: Number of LSOAs ranked in the English Indices of Deprivation 2019 (and 2015).
IMD2019_LSOA_COUNT = 32844

SUMMARY_COLUMNS = ["population", "mean_rank", "extent", "share_decile1", "n_decile1", "coverage"]


def national_percentile(rank: np.ndarray, national_count: int = IMD2019_LSOA_COUNT) -> np.ndarray:
    """Return the national percentile (1 to 100) of each rank.

    Parameters
    ----------
    rank : numpy.ndarray
        Ranks from 1 (most deprived) to ``national_count``; NaN stays NaN.
    national_count : int, default 32844
        Number of small areas ranked nationally.

    Returns
    -------
    numpy.ndarray
        ``ceil(100 * rank / national_count)`` as floats.
    """
    r = np.asarray(rank, dtype=float)
    # Round before ceil so that 100 * r / n landing a hair above an integer
    # through floating point does not jump a percentile.
    return np.ceil(np.round(100.0 * r / national_count, 9))


def extent_weight(percentile: np.ndarray) -> np.ndarray:
    """Return the IMD "extent" weight of each national percentile.

    Parameters
    ----------
    percentile : numpy.ndarray
        National percentiles, 1 (most deprived) to 100.

    Returns
    -------
    numpy.ndarray
        1 for percentiles 1 to 10, ``0.95 - 0.9 * (p - 11) / 19`` for 11 to 30
        (0.95 at 11 down to 0.05 at 30), 0 above 30; NaN stays NaN.
    """
    p = np.asarray(percentile, dtype=float)
    taper = 0.95 - 0.9 * (p - 11.0) / 19.0
    w = np.where(p <= 10, 1.0, np.where(p <= 30, taper, 0.0))
    return np.where(np.isnan(p), np.nan, w)


def imd_summary(
    data: pd.DataFrame,
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    *,
    rank: str,
    population: str = "population",
    national_count: int = IMD2019_LSOA_COUNT,
    method: Method = "area",
    strict: bool = False,
    threads: int | None = None,
    table: OverlapTable | None = None,
    crs: object = None,
) -> pd.DataFrame:
    """Summarise small-area deprivation ranks for larger units.

    Parameters
    ----------
    data : pandas.DataFrame
        Indexed by small-area code, holding the national ``rank`` and the
        ``population`` of each small area (e.g. IMD 2019 File 1 joined to
        File 6, read with :func:`localitygeo.read_indicators`).
    source, target : geopandas.GeoDataFrame
        The small areas and the units to summarise for, with ``code``
        columns, in one projected CRS.
    rank : str
        Column of national ranks, 1 = most deprived.
    population : str, default "population"
        Column of population counts (the weights).
    national_count : int, default 32844
        Number of small areas ranked nationally (32,844 LSOAs for IMD 2019).
    method : {"area", "best-fit"}, default "area"
        How small areas are shared among units (see :func:`localitygeo.aggregate`).
    strict : bool, default False
        Raise instead of warning when codes do not match.
    threads : int, optional
        Worker threads for the overlay.
    table : OverlapTable, optional
        The source × target overlaps, already computed (see
        :func:`localitygeo.aggregate`): from
        :func:`~localitygeo.geometry.overlay.set_overlap_table`, a layer built from
        the small areas is summarised from membership, measuring nothing.
        Either way the overlaps are computed at most once per call, and the
        decile-1 counts read the same table.
    crs : optional
        As for :func:`~localitygeo.aggregate`: reproject both layers to it first.

    Returns
    -------
    pandas.DataFrame
        Indexed by target code: ``population`` (apportioned), ``mean_rank``,
        ``extent``, ``share_decile1`` (shares in [0, 1]), ``n_decile1``
        (integer) and ``coverage``.

    Raises
    ------
    ColumnError
        ``rank`` or ``population`` is not a column of ``data``.
    DataError
        Ranks are not whole numbers from 1 to ``national_count``, or the
        population is missing, negative or zero for a unit.

    Notes
    -----
    The extent and decile measures use national percentiles, as the IMD
    technical report does for local authority districts, so a ward's extent
    can be compared with any other ward in England.
    """
    if isinstance(national_count, bool) or not isinstance(national_count, int | np.integer):
        raise DataError(f"national_count must be a whole number, not {national_count!r}")
    if national_count < 1:
        raise DataError(f"national_count must be positive, not {national_count}")
    for col, role in ((rank, "rank"), (population, "population")):
        if col not in data.columns:
            raise missing_column(col, data.columns, role=role, path=data.attrs.get("path"))
    if rank == population:
        raise DataError(f"rank and population are the same column '{rank}'")
    values = numeric(by_code(data), [rank, population])
    r = values[rank].to_numpy()
    _check_ranks(r, values.index.to_numpy(), rank, national_count)
    pct = national_percentile(r, national_count)
    # Work under the user's column names so that messages name them.
    taken = {rank, population}
    ext_col = next(c for c in ("extent", "_extent", "__extent") if c not in taken)
    d1_col = next(c for c in ("share_decile1", "_share_decile1", "__d1") if c not in taken)
    derived = pd.DataFrame(
        {
            population: values[population].to_numpy(),
            rank: r,
            ext_col: extent_weight(pct),
            d1_col: np.where(np.isnan(pct), np.nan, (pct <= 10).astype(float)),
        },
        index=values.index,
    )
    pairs = overlay_pairs(
        derived.index,
        source,
        target,
        method=method,
        strict=strict,
        threads=threads,
        table=table,
        crs=crs,
    )
    out = apportion(
        derived,
        pairs,
        extensive=[population],
        intensive=[rank, ext_col, d1_col],
        weight=population,
        strict=strict,
    )
    out = out.rename(
        columns={
            population: "population",
            rank: "mean_rank",
            ext_col: "extent",
            d1_col: "share_decile1",
        }
    )
    out["n_decile1"] = _count_decile1(pairs.table, derived.index[pct <= 10])
    return out[SUMMARY_COLUMNS]


def _check_ranks(r: np.ndarray, codes: np.ndarray, column: str, national_count: int) -> None:
    have = ~np.isnan(r)
    bad = have & ((r < 1) | (r > national_count) | (r != np.round(r)))
    if bad.any():
        shown = ", ".join(f"{c}: {v:g}" for c, v in zip(codes[bad][:3], r[bad][:3], strict=True))
        raise DataError(
            f"column '{column}' has {int(bad.sum())} value(s) that are not national ranks "
            f"from 1 to {national_count}, first {shown}; is national_count right?",
            code=str(codes[bad][0]),
        )


def _count_decile1(table: OverlapTable, decile1: pd.Index) -> np.ndarray:
    """Count decile-1 small areas per target by best fit, from the call's overlaps."""
    counts = np.zeros(len(table.target_codes), dtype=np.int64)
    keep = pd.Index(table.source_codes, dtype=object).isin(pd.Index(decile1, dtype=object))
    if not keep.any():
        return counts
    fit = fit_table(table.select(keep))
    parents = fit["parent_code"].dropna().astype(str)
    idx = pd.Index(table.target_codes).get_indexer(parents.to_numpy())
    return np.bincount(idx[idx >= 0], minlength=len(counts)).astype(np.int64)
