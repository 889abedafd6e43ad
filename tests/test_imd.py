"""imd_summary(): national percentiles, the extent taper, a hand-worked case, bad input."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from localitygeo.aggregation.imd import (
    IMD2019_LSOA_COUNT,
    SUMMARY_COLUMNS,
    extent_weight,
    imd_summary,
    national_percentile,
)
from localitygeo.errors import ColumnError, DataError, LocalityGeoWarning

BNG = "EPSG:27700"


def boxes(bounds: list[tuple[float, float, float, float]], prefix: str) -> gpd.GeoDataFrame:
    codes = [f"{prefix}{i}" for i in range(len(bounds))]
    geoms = [shapely.box(400000 + a, 200000 + b, 400000 + c, 200000 + d) for a, b, c, d in bounds]
    return gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=geoms, crs=BNG)


def test_national_percentile_boundaries() -> None:
    n = IMD2019_LSOA_COUNT
    r = np.array([1, 328, 329, 3284, 3285, 9853, 9854, 32844])
    # 100 * 3284 / 32844 = 9.9988 -> 10; 3285 -> 10.0018 -> 11; 9853 -> 29.9994 -> 30.
    assert national_percentile(r, n).tolist() == [1, 1, 2, 10, 11, 30, 31, 100]
    # Exactly on a boundary: 100 * 25 / 250 = 10 stays in percentile 10.
    assert national_percentile(np.array([25, 26]), 250).tolist() == [10, 11]


@given(st.integers(1, 200_000), st.data())
def test_national_percentile_is_the_ceiling(n: int, data: st.DataObject) -> None:
    r = data.draw(st.integers(1, n))
    assert national_percentile(np.array([r]), n)[0] == math.ceil(100 * r / n)


def test_extent_weights_follow_the_technical_report() -> None:
    p = np.array([1, 10, 11, 12, 20, 29, 30, 31, 100, np.nan])
    w = extent_weight(p)
    expected = [1, 1, 0.95, 0.95 - 0.9 / 19, 0.95 - 9 * 0.9 / 19, 0.05 + 0.9 / 19, 0.05, 0, 0]
    np.testing.assert_allclose(w[:-1], expected, rtol=1e-12, atol=1e-15)
    assert np.isnan(w[-1])
    # Linear taper: equal steps from 11 to 30, falling 0.9 over 19 steps.
    steps = np.diff(extent_weight(np.arange(11, 31)))
    np.testing.assert_allclose(steps, -0.9 / 19, rtol=1e-12)


# S0 wholly in T0; S1 split 60/40 between T0 and T1; S2 wholly in T1.
SOURCE = boxes([(0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100)], "S")
TARGET = boxes([(0, 0, 160, 100), (160, 0, 300, 100)], "T")
# With 100 areas nationally, rank r is percentile r: deciles 1, 2 and 5.
DATA = pd.DataFrame({"rank": [5, 20, 50], "pop": [100, 300, 50]}, index=["S0", "S1", "S2"])


def test_hand_worked_summary() -> None:
    out = imd_summary(DATA, SOURCE, TARGET, rank="rank", population="pop", national_count=100)
    assert list(out.columns) == SUMMARY_COLUMNS
    w20 = 0.95 - 0.9 * 9 / 19
    t0, t1 = out.loc["T0"], out.loc["T1"]
    assert t0["population"] == pytest.approx(280)
    assert t1["population"] == pytest.approx(170)
    assert t0["mean_rank"] == pytest.approx((100 * 5 + 180 * 20) / 280)
    assert t1["mean_rank"] == pytest.approx((120 * 20 + 50 * 50) / 170)
    assert t0["extent"] == pytest.approx((100 * 1 + 180 * w20) / 280)
    assert t1["extent"] == pytest.approx(120 * w20 / 170)
    assert t0["share_decile1"] == pytest.approx(100 / 280)
    assert t1["share_decile1"] == 0
    assert out["n_decile1"].tolist() == [1, 0]
    assert out["n_decile1"].dtype == np.int64
    assert out["coverage"].tolist() == pytest.approx([1, 1])


def test_best_fit_method_and_decile_count() -> None:
    data = DATA.assign(rank=[5, 8, 50])  # S1 is in decile 1 too; its best fit is T0
    out = imd_summary(
        data, SOURCE, TARGET, rank="rank", population="pop", national_count=100, method="best-fit"
    )
    assert out["population"].tolist() == [400, 50]
    assert out["share_decile1"].tolist() == [1.0, 0.0]
    assert out["n_decile1"].tolist() == [2, 0]
    area = imd_summary(data, SOURCE, TARGET, rank="rank", population="pop", national_count=100)
    # n_decile1 counts whole areas by best fit whatever the method.
    assert area["n_decile1"].tolist() == [2, 0]
    assert area.loc["T1", "share_decile1"] == pytest.approx(120 / 170)


def test_published_number_format_is_accepted() -> None:
    data = DATA.assign(rank=[5.0, 20.0, 50.0], pop=[100.0, 300.0, 50.0])
    a = imd_summary(data, SOURCE, TARGET, rank="rank", population="pop", national_count=100)
    b = imd_summary(DATA, SOURCE, TARGET, rank="rank", population="pop", national_count=100)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("ranks", "kwargs", "match"),
    [
        ([5, 20, 101], {}, r"1 value\(s\) that are not national ranks from 1 to 100.*S2: 101"),
        ([0, 20, 50], {}, "not national ranks"),
        ([5, 20.5, 50], {}, "S1: 20.5"),
        ([5, 20, 50], {"national_count": 0}, "must be positive"),
        ([5, 20, 50], {"national_count": 10.5}, "whole number"),
    ],
)
def test_bad_ranks(ranks: list[float], kwargs: dict[str, object], match: str) -> None:
    args = {"national_count": 100, **kwargs}
    with pytest.raises(DataError, match=match):
        imd_summary(
            DATA.assign(rank=ranks),
            SOURCE,
            TARGET,
            rank="rank",
            population="pop",
            **args,  # type: ignore[arg-type]
        )


def test_bad_columns_and_population() -> None:
    with pytest.raises(ColumnError, match="no column 'IMD rank'"):
        imd_summary(DATA, SOURCE, TARGET, rank="IMD rank", population="pop")
    with pytest.raises(DataError, match="same column"):
        imd_summary(DATA, SOURCE, TARGET, rank="rank", population="rank")
    with pytest.raises(DataError, match="'pop' is negative"):
        imd_summary(DATA.assign(pop=[1, -1, 1]), SOURCE, TARGET, rank="rank", population="pop")
    with pytest.raises(DataError, match="undefined for 1 target"):
        imd_summary(DATA.assign(pop=[1, 0, 0]), SOURCE, TARGET, rank="rank", population="pop")


def test_warnings_point_at_the_caller() -> None:
    data = pd.concat([DATA, pd.DataFrame({"rank": [1], "pop": [5]}, index=["X9"])])
    with pytest.warns(LocalityGeoWarning, match=r"1 of 4 code\(s\) in the data.*X9") as rec:
        imd_summary(data, SOURCE, TARGET, rank="rank", population="pop", national_count=100)
    assert all(w.filename == __file__ for w in rec)
