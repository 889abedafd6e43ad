r"""Inequality indices with optional population weights.

Every index takes the values of some units (e.g. the mean deprivation score
of each locality) and optional non-negative ``weights`` (e.g. their
population). With weights, each unit counts as that many people: integer
weights give exactly the index of the data with each row repeated that many
times. Without weights every unit counts once, and the results equal PySAL
``inequality`` (Gini, Theil, TheilD).

Writing :math:`p_i = w_i / \sum_j w_j` for the population shares and
:math:`\mu = \sum_i p_i x_i` for the weighted mean:

- Gini: :math:`G = \frac{1}{2\mu} \sum_i \sum_j p_i p_j |x_i - x_j|`,
  computed from the Lorenz curve in :math:`O(n \log n)`;
- Theil T: :math:`T = \sum_i p_i \frac{x_i}{\mu} \ln \frac{x_i}{\mu}`
  (zeros allowed, :math:`0 \ln 0 = 0`);
- mean log deviation (Theil L): :math:`L = \sum_i p_i \ln \frac{\mu}{x_i}`
  (values must be positive);
- Atkinson: :math:`A_\varepsilon = 1 - \frac{1}{\mu}\left(\sum_i p_i
  x_i^{1-\varepsilon}\right)^{1/(1-\varepsilon)}`, and
  :math:`1 - e^{\sum_i p_i \ln x_i}/\mu` for :math:`\varepsilon = 1`;
- coefficient of variation: :math:`\sqrt{\sum_i p_i (x_i - \mu)^2} / \mu`;
- quintile ratio: weighted mean of the top fifth of the population (by
  value) over that of the bottom fifth, splitting a unit that straddles a
  fifth boundary in proportion;
- slope index of inequality: slope of the weighted least-squares line of
  value on the ridit (cumulative population share at each unit's midpoint)
  when units are ordered by ``order`` (default: by value).

:func:`theil_decomposition` splits Theil T into between-group and
within-group parts: :math:`T = T_B + T_W` with
:math:`T_B = \sum_g P_g \frac{\mu_g}{\mu} \ln \frac{\mu_g}{\mu}` and
:math:`T_W = \sum_g P_g \frac{\mu_g}{\mu} T_g`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from localitygeo.errors import DataError

__all__ = [
    "TheilDecomposition",
    "atkinson",
    "cv",
    "gini",
    "mld",
    "quintile_ratio",
    "slope_index",
    "theil",
    "theil_decomposition",
]

ArrayLike: TypeAlias = "Sequence[float] | np.ndarray | pd.Series"


def _prepare(
    values: Any,
    weights: Any,
    skipna: bool,
    *,
    positive: bool = False,
    nonneg: bool = False,
    what: str = "index",
) -> tuple[np.ndarray, np.ndarray]:
    """Return (values, population shares) after checking both."""
    x = np.asarray(values, dtype=float).ravel()
    if weights is not None and np.ndim(weights) == 0:
        raise DataError(
            f"weights must be one per value, not the single number {weights!r} "
            "(atkinson takes epsilon= by keyword)"
        )
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if len(w) != len(x):
        raise DataError(f"{len(x)} values but {len(w)} weights")
    if np.isnan(w).any() or (w < 0).any():
        raise DataError("weights must be non-negative numbers (found negative or missing)")
    missing = np.isnan(x)
    if missing.any():
        if not skipna:
            raise DataError(f"{int(missing.sum())} missing value(s); drop them or pass skipna=True")
        x, w = x[~missing], w[~missing]
    if len(x) == 0:
        raise DataError("no values to measure")
    total = w.sum()
    if total <= 0:
        raise DataError("weights sum to zero")
    if positive and (x[w > 0] <= 0).any():
        raise DataError(f"{what} is defined only for positive values")
    if nonneg and (x[w > 0] < 0).any():
        raise DataError(f"{what} is defined only for non-negative values")
    p = w / total
    if np.dot(p, x) == 0 and (positive or nonneg):
        raise DataError(f"{what} is undefined when every value is zero")
    return x, p


def gini(values: ArrayLike, weights: ArrayLike | None = None, *, skipna: bool = False) -> float:
    r"""Return the Gini coefficient (0 = equal; approaches 1 = one unit has all).

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit.
    weights : array-like, optional
        Non-negative weights (e.g. population); default: every unit counts once.
    skipna : bool, default False
        Drop missing values instead of raising.

    Returns
    -------
    float
        :math:`\frac{1}{2\mu}\sum_i\sum_j p_i p_j |x_i - x_j|`.

    Raises
    ------
    DataError
        Missing values (without ``skipna``), negative values, bad weights.
    """
    x, p = _prepare(values, weights, skipna, nonneg=True, what="the Gini coefficient")
    order = np.argsort(x, kind="stable")
    x, p = x[order], p[order]
    income = p * x
    lorenz = np.cumsum(income) / income.sum()
    previous = np.concatenate([[0.0], lorenz[:-1]])
    return float(1.0 - np.sum(p * (previous + lorenz)))


def theil(values: ArrayLike, weights: ArrayLike | None = None, *, skipna: bool = False) -> float:
    r"""Return Theil's T index (0 = equal; at most ln n without weights).

    Parameters
    ----------
    values : array-like
        Non-negative values (zeros contribute 0).
    weights : array-like, optional
        Non-negative weights (e.g. population).
    skipna : bool, default False
        Drop missing values instead of raising.

    Returns
    -------
    float
        :math:`\sum_i p_i \frac{x_i}{\mu}\ln\frac{x_i}{\mu}`.
    """
    x, p = _prepare(values, weights, skipna, nonneg=True, what="Theil's T")
    return _theil(x, p)


def _theil(x: np.ndarray, p: np.ndarray) -> float:
    r = x / np.dot(p, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r), 0.0)
    return float(max(0.0, np.dot(p, terms)))


def mld(values: ArrayLike, weights: ArrayLike | None = None, *, skipna: bool = False) -> float:
    r"""Return the mean log deviation (Theil's L); values must be positive.

    Parameters
    ----------
    values : array-like
        Positive values.
    weights : array-like, optional
        Non-negative weights.
    skipna : bool, default False
        Drop missing values instead of raising.

    Returns
    -------
    float
        :math:`\sum_i p_i \ln\frac{\mu}{x_i}`.
    """
    x, p = _prepare(values, weights, skipna, positive=True, what="the mean log deviation")
    return float(max(0.0, np.dot(p, np.log(np.dot(p, x) / x))))


def atkinson(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    epsilon: float = 0.5,
    skipna: bool = False,
) -> float:
    """Return Atkinson's index for inequality aversion ``epsilon`` (in [0, 1]).

    Parameters
    ----------
    values : array-like
        Values; positive when ``epsilon >= 1``, non-negative otherwise.
    weights : array-like, optional
        Non-negative weights, one per value.
    epsilon : float, default 0.5
        Inequality aversion, at least 0 (keyword only: ``weights`` comes
        second, as in the other indices).
    skipna : bool, default False
        Drop missing values instead of raising.

    Returns
    -------
    float
        One minus the ratio of the equally-distributed equivalent to the mean.
    """
    if epsilon < 0:
        raise DataError("epsilon must be at least 0")
    x, p = _prepare(
        values, weights, skipna, positive=epsilon >= 1, nonneg=True, what="Atkinson's index"
    )
    mu = np.dot(p, x)
    if epsilon == 1:
        ede = np.exp(np.dot(p, np.log(x)))
    else:
        ede = np.dot(p, x ** (1.0 - epsilon)) ** (1.0 / (1.0 - epsilon))
    return float(min(1.0, max(0.0, 1.0 - ede / mu)))


def cv(values: ArrayLike, weights: ArrayLike | None = None, *, skipna: bool = False) -> float:
    r"""Return the coefficient of variation (population form: weighted SD over mean).

    Parameters
    ----------
    values : array-like
        Values with a non-zero mean.
    weights : array-like, optional
        Non-negative weights.
    skipna : bool, default False
        Drop missing values instead of raising.

    Returns
    -------
    float
        :math:`\sqrt{\sum_i p_i (x_i-\mu)^2}/\mu`.
    """
    x, p = _prepare(values, weights, skipna)
    mu = np.dot(p, x)
    if mu == 0:
        raise DataError("the coefficient of variation is undefined for a zero mean")
    return float(np.sqrt(np.dot(p, (x - mu) ** 2)) / abs(mu))


def _group_mean(x: np.ndarray, p: np.ndarray, lo: float, hi: float) -> float:
    """Weighted mean of the population between cumulative shares lo and hi."""
    order = np.argsort(x, kind="stable")
    x, p = x[order], p[order]
    end = np.cumsum(p)
    start = end - p
    overlap = np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0.0, None)
    return float(np.dot(overlap, x) / (hi - lo))


def quintile_ratio(
    values: ArrayLike, weights: ArrayLike | None = None, *, skipna: bool = False
) -> float:
    """Return the ratio of the top fifth's mean to the bottom fifth's mean.

    Parameters
    ----------
    values : array-like
        Values.
    weights : array-like, optional
        Non-negative weights; fifths are fifths of the total weight.
    skipna : bool, default False
        Drop missing values instead of raising.

    Returns
    -------
    float
        Mean of the highest-valued 20% of the population over the mean of
        the lowest-valued 20%; a unit straddling a boundary counts in
        proportion.
    """
    x, p = _prepare(values, weights, skipna)
    bottom = _group_mean(x, p, 0.0, 0.2)
    if bottom == 0:
        raise DataError("the bottom fifth's mean is zero: the ratio is undefined")
    return _group_mean(x, p, 0.8, 1.0) / bottom


def slope_index(
    values: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    order: ArrayLike | None = None,
    skipna: bool = False,
) -> float:
    """Return the slope index of inequality.

    Parameters
    ----------
    values : array-like
        The outcome per unit.
    weights : array-like, optional
        Non-negative weights (population).
    order : array-like, optional
        What ranks the units (e.g. a deprivation score, most deprived
        highest). Default: the values themselves.
    skipna : bool, default False
        Drop units with missing values instead of raising.

    Returns
    -------
    float
        Slope of the weighted least-squares line of value on ridit (the
        cumulative population share at each unit's midpoint): the absolute
        difference in value between the top and bottom of the ranking.
    """
    x_all = np.asarray(values, dtype=float).ravel()
    key_all = x_all if order is None else np.asarray(order, dtype=float).ravel()
    if len(key_all) != len(x_all):
        raise DataError(f"{len(x_all)} values but {len(key_all)} order keys")
    w_all = np.ones_like(x_all) if weights is None else np.asarray(weights, dtype=float).ravel()
    keep = ~(np.isnan(x_all) | np.isnan(key_all)) if skipna else np.ones(len(x_all), bool)
    x, p = _prepare(x_all[keep], w_all[keep], skipna=False)
    key = key_all[keep]
    idx = np.argsort(key, kind="stable")
    x, p = x[idx], p[idx]
    ridit = np.cumsum(p) - p / 2
    rm, xm = np.dot(p, ridit), np.dot(p, x)
    var = np.dot(p, (ridit - rm) ** 2)
    if var == 0:
        raise DataError("the slope index needs at least two units with weight")
    return float(np.dot(p, (ridit - rm) * (x - xm)) / var)


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil's T split into between-group and within-group inequality.

    Attributes
    ----------
    total, between, within : float
        ``total == between + within``.
    between_share : float
        ``between / total`` (0 when ``total`` is 0): how much of the
        inequality lies between the groups rather than within them.
    """

    total: float
    between: float
    within: float
    between_share: float


def theil_decomposition(
    values: ArrayLike,
    groups: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    skipna: bool = False,
) -> TheilDecomposition:
    """Split Theil's T of ``values`` into between- and within-``groups`` parts.

    Parameters
    ----------
    values : array-like
        Non-negative values, one per unit (e.g. LSOA deprivation scores).
    groups : array-like
        The group of each unit (e.g. its locality code).
    weights : array-like, optional
        Non-negative weights (population).
    skipna : bool, default False
        Drop units with missing values instead of raising.

    Returns
    -------
    TheilDecomposition
        ``total``, ``between``, ``within`` and ``between_share``.
    """
    x_all = np.asarray(values, dtype=float).ravel()
    g_all = pd.Series(np.asarray(groups, dtype=object).ravel())
    if len(g_all) != len(x_all):
        raise DataError(f"{len(x_all)} values but {len(g_all)} group labels")
    if g_all.isna().any():
        raise DataError(f"{int(g_all.isna().sum())} unit(s) have no group")
    w_all = np.ones_like(x_all) if weights is None else np.asarray(weights, dtype=float).ravel()
    keep = ~np.isnan(x_all) if skipna else np.ones(len(x_all), bool)
    x, p = _prepare(x_all[keep], w_all[keep], skipna=False, nonneg=True, what="Theil's T")
    codes, _ = pd.factorize(g_all[keep])
    mu = np.dot(p, x)
    pg = np.bincount(codes, weights=p)
    mug = np.bincount(codes, weights=p * x) / np.where(pg > 0, pg, 1.0)
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(r), 0.0)
        rg = mug / mu
        between_terms = np.where(rg > 0, rg * np.log(rg), 0.0)
        # Each group's own Theil T, weighted by its share of the total.
        own = x / mug[codes]
        within_terms = np.where((x > 0) & (p > 0), r * np.log(own), 0.0)
    total = float(np.dot(p, terms))
    between = float(np.dot(pg, between_terms))
    within = float(np.dot(p, within_terms))
    return TheilDecomposition(
        total=total,
        between=between,
        within=within,
        between_share=between / total if total > 0 else 0.0,
    )
