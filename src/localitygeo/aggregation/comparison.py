"""Comparing the layers of a boundary set on the same indicators.

:func:`compare` aggregates a small-area indicator table to several layers of a
boundary set (wards, neighbourhoods, localities) and puts them side by side:
for each layer and indicator, the range across units, the mean, inequality
indices between the units, and how much of the small areas' inequality lies
between those units rather than within them. It answers "how unequal are our
localities?" and "does this boundary change alter that?".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from localitygeo.aggregation.columns import by_code, check_columns, numeric
from localitygeo.aggregation.inequality import cv, gini, mld, theil, theil_decomposition
from localitygeo.aggregation.pairs import apportion, overlay_pairs
from localitygeo.aggregation.transfer import Method
from localitygeo.errors import DataError, ManifestError
from localitygeo.geometry.fitting import fit_table
from localitygeo.geometry.overlay import OverlapTable, known_overlap_table
from localitygeo.model.boundary_set import BoundarySet

__all__ = ["COMPARE_COLUMNS", "compare"]

#: Columns of the table :func:`compare` returns.
COMPARE_COLUMNS = [
    "layer",
    "indicator",
    "kind",
    "n_units",
    "min",
    "max",
    "range",
    "mean",
    "gini",
    "theil",
    "mld",
    "cv",
    "between_share",
]


def compare(
    boundary_set: BoundarySet,
    data: pd.DataFrame,
    *,
    source: str,
    layers: Sequence[str],
    extensive: Iterable[str] = (),
    intensive: Iterable[str] = (),
    weight: str | None = None,
    method: Method = "area",
    strict: bool = False,
    threads: int | None = None,
) -> pd.DataFrame:
    """Put layers side by side: spread, mean and inequality of each indicator.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set holding the ``source`` layer and every layer in ``layers``.
    data : pandas.DataFrame
        Indicators indexed by the codes of the ``source`` layer.
    source : str
        Layer key the data are keyed by (e.g. ``"lsoa"``).
    layers : sequence of str
        Layer keys to compare (e.g. ``["ward", "neighbourhood", "locality"]``).
        Naming ``source`` itself gives the small-area baseline.
    extensive, intensive : iterable of str
        Count columns and rate/score/rank columns, as for
        :func:`localitygeo.aggregate`.
    weight : str, optional
        Extensive column (population) weighting the intensive means and the
        inequality indices of intensive indicators.
    method : {"area", "best-fit"}, default "area"
        How small areas are shared among units for the aggregated values.
    strict : bool, default False
        Raise instead of warning when codes do not match.
    threads : int, optional
        Worker threads for the overlays.

    Returns
    -------
    pandas.DataFrame
        One row per layer and indicator (layers in the order given), with
        columns ``layer``, ``indicator``, ``kind`` (``"intensive"`` or
        ``"extensive"``), ``n_units`` (units with a value), ``min``, ``max``,
        ``range`` of the units' values, ``mean``, the inequality indices
        ``gini``, ``theil`` (T), ``mld`` (Theil L) and ``cv`` between the
        units, and ``between_share``: the share of the Theil T of the
        small-area values that lies between the layer's units (grouping each
        small area by its best-fit unit). ``mld`` is missing (NaN) when a
        unit's value is 0, where the mean log deviation is undefined.

    Raises
    ------
    ManifestError
        A layer key is not in the set, or ``layers`` is empty.
    ColumnError, DataError
        As for :func:`localitygeo.aggregate`; also when an index is undefined
        (negative values for Gini and Theil, zero or negative values for the
        mean log deviation, a zero mean).

    Notes
    -----
    For an intensive indicator with a ``weight`` every index counts each unit
    with its (apportioned) weight, so a ward of 15,000 people counts three
    times a ward of 5,000, and ``mean`` is the population-weighted mean.
    Without a weight, and for extensive indicators (counts), every unit
    counts once and ``mean`` is the plain mean per unit. The between-unit
    share is computed from the small-area values with the same weights.
    """
    if isinstance(layers, str):
        raise ManifestError("layers takes a list of layer keys, not one string")
    keys = list(layers)
    if not keys:
        raise ManifestError("name at least one layer to compare")
    src = boundary_set[source]
    units = {key: boundary_set[key] for key in keys}  # raises for unknown keys
    ext, inten = check_columns(data, extensive, intensive, weight)
    if not ext and not inten:
        raise DataError("name at least one extensive or intensive column to compare")
    columns = list(dict.fromkeys([*ext, *inten, *([weight] if weight else [])]))
    table = numeric(by_code(data), columns)
    # Small areas in the data and in the layer: the baseline and the groups.
    in_layer = table.index.isin(src["code"].astype(str))
    small = table[in_layer]

    rows: list[dict[str, object]] = []
    for key in keys:
        if key == source:
            values, groups = small, pd.Series(small.index, index=small.index)
        else:
            # from membership when the layer is built from the small areas; else
            # measured, once: the groups below read the same overlaps
            pairs = overlay_pairs(
                table.index,
                src,
                units[key],
                method=method,
                strict=strict,
                threads=threads,
                table=known_overlap_table(boundary_set, source, key),
            )
            # The weight is apportioned too: it weights the units' indices.
            summed = list(dict.fromkeys([*ext, *([weight] if weight else [])]))
            values = apportion(
                table, pairs, extensive=summed, intensive=inten, weight=weight, strict=strict
            )
            groups = _best_fit_groups(pairs.table, small.index)
        for col in [*inten, *ext]:
            kind = "intensive" if col in inten else "extensive"
            w_unit = values[weight] if (weight and kind == "intensive") else None
            w_small = small[weight] if (weight and kind == "intensive") else None
            rows.append(
                {
                    "layer": key,
                    "indicator": col,
                    "kind": kind,
                    **_indices(values[col], w_unit, key, col),
                    "between_share": _between(small[col], groups, w_small),
                }
            )
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _best_fit_groups(overlaps: OverlapTable, codes: pd.Index) -> pd.Series:
    """Return the best-fit unit of each small area (missing outside every unit)."""
    fit = fit_table(overlaps)
    return pd.Series(
        fit["parent_code"].to_numpy(dtype=object), index=fit["child_code"].astype(str)
    ).reindex(codes)


def _indices(x: pd.Series, w: pd.Series | None, layer: str, col: str) -> dict[str, float | int]:
    have = x.notna().to_numpy().copy()
    if w is not None:
        have &= w.notna().to_numpy() & (w.to_numpy(dtype=float) > 0)
    v = x.to_numpy(dtype=float)[have]
    wv = None if w is None else w.to_numpy(dtype=float)[have]
    if len(v) == 0:
        raise DataError(f"no unit of layer '{layer}' has a value of '{col}'")
    try:
        positive = bool((v > 0).all())
        return {
            "n_units": len(v),
            "min": float(v.min()),
            "max": float(v.max()),
            "range": float(v.max() - v.min()),
            "mean": float(np.average(v, weights=wv)),
            "gini": gini(v, wv),
            "theil": theil(v, wv),
            "mld": mld(v, wv) if positive else float("nan"),
            "cv": cv(v, wv),
        }
    except DataError as exc:
        raise DataError(f"layer '{layer}', indicator '{col}': {exc.message}") from exc


def _between(x: pd.Series, groups: pd.Series, w: pd.Series | None) -> float:
    keep = x.notna().to_numpy() & groups.notna().to_numpy()
    if not keep.any():
        return float("nan")
    weights = None if w is None else w.to_numpy(dtype=float)[keep]
    return theil_decomposition(
        x.to_numpy(dtype=float)[keep], groups.to_numpy(dtype=object)[keep], weights
    ).between_share
