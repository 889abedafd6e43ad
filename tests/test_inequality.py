"""Inequality indices: PySAL agreement, weights as repetition, invariants, hand cases."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from inequality.gini import Gini
from inequality.theil import Theil, TheilD

from localitygeo.aggregation import inequality as ineq
from localitygeo.errors import DataError

INDICES = {
    "gini": ineq.gini,
    "theil": ineq.theil,
    "mld": ineq.mld,
    "atkinson": ineq.atkinson,
    "cv": ineq.cv,
    "quintile_ratio": ineq.quintile_ratio,
}

positive = st.lists(st.floats(0.5, 1000, allow_nan=False), min_size=2, max_size=40)


@pytest.mark.parametrize("seed", range(5))
def test_unweighted_equals_pysal(seed):
    rng = np.random.default_rng(seed)
    y = rng.gamma(2.0, 10.0, 200)
    groups = rng.integers(0, 7, 200)
    assert ineq.gini(y) == pytest.approx(Gini(y).g, abs=1e-9)
    assert ineq.theil(y) == pytest.approx(float(Theil(y).T), abs=1e-9)
    d = ineq.theil_decomposition(y, groups)
    ref = TheilD(y, groups)
    assert d.total == pytest.approx(float(ref.T), abs=1e-9)
    assert d.between == pytest.approx(float(np.squeeze(ref.bg)), abs=1e-9)
    assert d.within == pytest.approx(float(np.squeeze(ref.wg)), abs=1e-9)


def test_hand_worked_cases():
    # Two people with 1 and 3: mean 2; mean absolute difference 1 -> Gini 1/4.
    assert ineq.gini([1, 3]) == pytest.approx(0.25)
    # Theil T = 1/2 (0.5 ln 0.5 + 1.5 ln 1.5); L = 1/2 (ln 2 + ln 2/3).
    assert ineq.theil([1, 3]) == pytest.approx(0.5 * (0.5 * np.log(0.5) + 1.5 * np.log(1.5)))
    assert ineq.mld([1, 3]) == pytest.approx(0.5 * (np.log(2) + np.log(2 / 3)))
    assert ineq.cv([1, 3]) == pytest.approx(0.5)
    # Atkinson eps=1: 1 - geometric mean / mean = 1 - sqrt(3)/2.
    assert ineq.atkinson([1, 3], epsilon=1) == pytest.approx(1 - np.sqrt(3) / 2)
    # Five equal-weight units 1..5: top fifth is 5, bottom fifth is 1.
    assert ineq.quintile_ratio([1, 2, 3, 4, 5]) == pytest.approx(5.0)
    # Values rising by 10 per unit: the ridits are 0.1..0.9, the slope 10 / 0.2 = 50.
    assert ineq.slope_index([10, 20, 30, 40, 50]) == pytest.approx(50.0)
    assert ineq.slope_index([10, 20, 30, 40, 50], order=[5, 4, 3, 2, 1]) == pytest.approx(-50.0)


def test_quintile_ratio_splits_a_straddling_unit():
    # Weights 1 and 4 (shares 0.2 and 0.8): bottom fifth is exactly the first unit.
    assert ineq.quintile_ratio([2, 10], weights=[1, 4]) == pytest.approx(5.0)
    # Weights 1 and 1: each fifth lies inside one unit.
    assert ineq.quintile_ratio([2, 10], weights=[1, 1]) == pytest.approx(5.0)


@settings(max_examples=60, deadline=None)
@given(positive, st.lists(st.integers(0, 4), min_size=40, max_size=40))
def test_integer_weights_equal_repeated_rows(values, counts):
    w = np.array(counts[: len(values)])
    if w.sum() == 0:
        w[0] = 1
    x = np.array(values)
    repeated = np.repeat(x, w)
    for name, fn in INDICES.items():
        assert fn(x, weights=w) == pytest.approx(fn(repeated), rel=1e-9, abs=1e-12), name
    d1 = ineq.theil_decomposition(x, np.arange(len(x)) % 3, weights=w)
    d2 = ineq.theil_decomposition(repeated, np.repeat(np.arange(len(x)) % 3, w))
    assert d1.between == pytest.approx(d2.between, rel=1e-9, abs=1e-12)
    # (The slope index is defined on units at their ridit midpoints, so repeating
    # rows spreads their ridits and changes it: it is tested by hand instead.)


@settings(max_examples=60, deadline=None)
@given(positive, st.floats(0.01, 100))
def test_scale_invariance_and_bounds(values, c):
    x = np.array(values)
    for name in ("gini", "theil", "mld", "atkinson", "cv"):
        fn = INDICES[name]
        assert fn(c * x) == pytest.approx(fn(x), rel=1e-7, abs=1e-12), name
    assert 0 <= ineq.gini(x) < 1
    assert 0 <= ineq.atkinson(x) <= 1
    assert 0 <= ineq.theil(x) <= np.log(len(x)) + 1e-12


@settings(max_examples=40, deadline=None)
@given(positive, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(values, rnd):
    x = np.array(values)
    w = np.arange(1, len(x) + 1, dtype=float)
    perm = list(range(len(x)))
    rnd.shuffle(perm)
    for name, fn in INDICES.items():
        assert fn(x[perm], weights=w[perm]) == pytest.approx(fn(x, weights=w), rel=1e-9), name


@settings(max_examples=60, deadline=None)
@given(
    positive,
    st.lists(st.integers(0, 5), min_size=40, max_size=40),
    st.lists(st.floats(0.1, 10), min_size=40, max_size=40),
)
def test_decomposition_adds_up(values, groups, weights):
    x = np.array(values)
    d = ineq.theil_decomposition(x, groups[: len(x)], weights=weights[: len(x)])
    assert d.total == pytest.approx(d.between + d.within, abs=1e-12)
    assert d.total == pytest.approx(ineq.theil(x, weights=weights[: len(x)]), abs=1e-12)
    assert d.between >= -1e-15 and d.within >= -1e-15
    assert -1e-12 <= d.between_share <= 1 + 1e-12  # rounding: between can be -2e-16


def test_equal_values_have_no_inequality():
    x = [7.0] * 5
    assert ineq.gini(x) == pytest.approx(0, abs=1e-15)
    assert ineq.theil(x) == pytest.approx(0, abs=1e-15)
    assert ineq.theil_decomposition(x, list("aabbc")).between_share == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ineq.gini([1, np.nan]), "missing value"),
        (lambda: ineq.gini([1, 2], weights=[1, -1]), "non-negative"),
        (lambda: ineq.gini([1, 2], weights=[0, 0]), "sum to zero"),
        (lambda: ineq.gini([1, 2], weights=[1]), "2 values but 1 weights"),
        (lambda: ineq.mld([0, 2]), "positive"),
        (lambda: ineq.theil([-1, 2]), "non-negative"),
        (lambda: ineq.atkinson([0, 2], epsilon=1.5), "positive"),
        (lambda: ineq.gini([]), "no values"),
        (lambda: ineq.theil_decomposition([1, 2], ["a", None]), "no group"),
    ],
)
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(DataError, match=message):
        call()


def test_skipna():
    assert ineq.gini([1, 3, np.nan], skipna=True) == pytest.approx(0.25)


def test_atkinson_takes_weights_second_and_refuses_a_scalar_weight():
    x, w = [1.0, 2.0, 6.0], [3.0, 1.0, 1.0]
    by_keyword = ineq.atkinson(x, weights=w, epsilon=1.5)
    assert ineq.atkinson(x, w, epsilon=1.5) == by_keyword
    # the old order atkinson(values, epsilon) must not silently weight by epsilon
    with pytest.raises(DataError, match="epsilon= by keyword"):
        ineq.atkinson(x, 0.5)
