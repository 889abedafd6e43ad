"""Aggregation on real data: Plymouth's 161 LSOAs with IMD 2019 to its 20 wards and 32 MSOAs.

Every expected value is computed here independently of localitygeo: an overlay by
geopandas, the published deciles, the MSOA named in each LSOA's name.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import localitygeo as lg
from localitygeo import read_layer
from localitygeo.aggregation.comparison import COMPARE_COLUMNS, compare
from localitygeo.aggregation.imd import extent_weight, imd_summary
from localitygeo.aggregation.transfer import aggregate
from localitygeo.errors import LocalityGeoWarning

pytestmark = pytest.mark.realdata

RANK = "Index of Multiple Deprivation (IMD) Rank"
DECILE = "Index of Multiple Deprivation (IMD) Decile"
POP = "Total population: mid 2015 (excluding prisoners)"
IMD_FILE = "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
POP_FILE = "File_6_-_IoD2019_Population_Denominators.csv.gz"


def read_published(path: Path) -> pd.DataFrame:
    """Read an IoD 2019 file as published: BOM, long headers, "29,199" numbers."""
    return pd.read_csv(path, encoding="utf-8-sig", thousands=",", index_col="LSOA code (2011)")


@pytest.fixture(scope="module")
def lsoas(plymouth: Path) -> gpd.GeoDataFrame:
    return read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)


@pytest.fixture(scope="module")
def wards(plymouth: Path) -> gpd.GeoDataFrame:
    return read_layer(plymouth / "wards_2013.geojson", "WD13CD", name="WD13NM").to_crs(27700)


@pytest.fixture(scope="module")
def msoas(plymouth: Path) -> gpd.GeoDataFrame:
    return read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)


@pytest.fixture(scope="module")
def national(shared_data: Path) -> pd.DataFrame:
    code = "LSOA code (2011)"
    imd = lg.read_indicators(
        shared_data / "imd2019" / IMD_FILE, code=code, columns={RANK: "rank", DECILE: "decile"}
    )
    pop = lg.read_indicators(
        shared_data / "imd2019" / POP_FILE, code=code, columns={POP: "population"}
    )
    # Cross-check the reader against pandas told about the published format.
    raw = read_published(shared_data / "imd2019" / IMD_FILE)
    assert (imd["rank"] == raw[RANK]).all() and len(imd) == 32_844
    return imd.join(pop)


@pytest.fixture(scope="module")
def data(national: pd.DataFrame, lsoas: gpd.GeoDataFrame) -> pd.DataFrame:
    return national.loc[lsoas["code"]]


KW = {"extensive": ["population"], "intensive": ["rank"], "weight": "population"}


def overlay_reference(
    data: pd.DataFrame, lsoas: gpd.GeoDataFrame, units: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Area-method aggregation written directly with geopandas.overlay and groupby."""
    pieces = gpd.overlay(
        lsoas[["code", "geometry"]].rename(columns={"code": "lsoa"}),
        units[["code", "geometry"]].rename(columns={"code": "unit"}),
        how="intersection",
        keep_geom_type=True,
    )
    pieces["area"] = pieces.area
    # Float-noise slivers along shared edges are not real overlaps.
    pieces = pieces[pieces["area"] > 1e-9 * pieces.groupby("lsoa")["area"].transform("sum")]
    pieces["share"] = pieces["area"] / pieces.groupby("lsoa")["area"].transform("sum")
    pieces = pieces.join(data, on="lsoa")
    pieces["pop"] = pieces["population"] * pieces["share"]
    pieces["pop_rank"] = pieces["pop"] * pieces["rank"]
    g = pieces.groupby("unit")[["pop", "pop_rank", "area"]].sum()
    return pd.DataFrame(
        {
            "population": g["pop"],
            "rank": g["pop_rank"] / g["pop"],
            "coverage": g["area"] / units.set_index("code").area.loc[g.index],
        }
    )


@pytest.mark.parametrize("layer", ["wards", "msoas"])
@pytest.mark.parametrize("method", ["area", "best-fit"])
def test_population_conserved(
    layer: str,
    method: str,
    request: pytest.FixtureRequest,
    data: pd.DataFrame,
    lsoas: gpd.GeoDataFrame,
) -> None:
    units = request.getfixturevalue(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalityGeoWarning)  # real data match: no warnings
        out = aggregate(data, lsoas, units, method=method, **KW)  # type: ignore[arg-type]
    assert len(out) == {"wards": 20, "msoas": 32}[layer]
    assert list(out.index) == list(units["code"])
    assert abs(out["population"].sum() - data["population"].sum()) < 1
    assert data["population"].sum() == 261_386  # mid-2015 population, 161 LSOAs
    assert out["population"].notna().all() and (out["population"] > 0).all()
    assert ((out["coverage"] > 0.99) & (out["coverage"] <= 1)).all()


@pytest.mark.parametrize("layer", ["wards", "msoas"])
def test_mean_rank_within_touching_lsoas(
    layer: str, request: pytest.FixtureRequest, data: pd.DataFrame, lsoas: gpd.GeoDataFrame
) -> None:
    units = request.getfixturevalue(layer)
    out = aggregate(data, lsoas, units, **KW)  # type: ignore[arg-type]
    li, ui = units.sindex.query(lsoas.geometry, predicate="intersects")
    ranks = data["rank"].to_numpy()[li]
    span = pd.DataFrame({"unit": units["code"].to_numpy()[ui], "rank": ranks})
    span = span.groupby("unit")["rank"].agg(["min", "max"]).loc[out.index]
    assert (out["rank"] >= span["min"]).all() and (out["rank"] <= span["max"]).all()
    # ... and is not trivially at an end: wards mix LSOAs of different ranks.
    assert ((out["rank"] > span["min"]) & (out["rank"] < span["max"])).mean() > 0.9


@pytest.mark.parametrize("layer", ["wards", "msoas"])
def test_equals_independent_overlay(
    layer: str, request: pytest.FixtureRequest, data: pd.DataFrame, lsoas: gpd.GeoDataFrame
) -> None:
    units = request.getfixturevalue(layer)
    out = aggregate(data, lsoas, units, **KW)  # type: ignore[arg-type]
    ref = overlay_reference(data, lsoas, units).loc[out.index]
    np.testing.assert_allclose(out["population"], ref["population"], rtol=1e-9)
    np.testing.assert_allclose(out["rank"], ref["rank"], rtol=1e-9)
    np.testing.assert_allclose(out["coverage"], ref["coverage"], rtol=1e-9)


def test_lsoas_nest_in_msoas_by_name(
    data: pd.DataFrame, lsoas: gpd.GeoDataFrame, msoas: gpd.GeoDataFrame
) -> None:
    # "Plymouth 001A" lies in MSOA "Plymouth 001": a reference that uses no geometry.
    by_name = data.groupby(lsoas.set_index("code")["name"].str[:-1])["population"].sum()
    expected = by_name.loc[msoas["name"]].to_numpy()
    fit = aggregate(data, lsoas, msoas, method="best-fit", **KW)  # type: ignore[arg-type]
    area = aggregate(data, lsoas, msoas, **KW)  # type: ignore[arg-type]
    np.testing.assert_array_equal(fit["population"].to_numpy(), expected)
    np.testing.assert_allclose(area["population"].to_numpy(), expected, atol=1e-6)


def test_wards_differ_between_methods_only_where_lsoas_straddle(
    data: pd.DataFrame, lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    area = aggregate(data, lsoas, wards, **KW)  # type: ignore[arg-type]
    fit = aggregate(data, lsoas, wards, method="best-fit", **KW)  # type: ignore[arg-type]
    # Best fit counts whole LSOAs, so its populations are integers; area shares are not.
    assert (fit["population"] == fit["population"].round()).all()
    assert (area["population"] != area["population"].round()).any()
    # 28 of 161 LSOAs straddle wards, by at most 6% of their area: ward totals move a little.
    diff = (area["population"] - fit["population"]).abs() / fit["population"]
    assert 0 < diff.max() < 0.06


def test_imd_summary_on_real_wards(
    data: pd.DataFrame,
    lsoas: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
) -> None:
    out = imd_summary(data, lsoas, wards, rank="rank", population="population")
    agg = aggregate(data, lsoas, wards, **KW)  # type: ignore[arg-type]
    np.testing.assert_allclose(out["mean_rank"], agg["rank"], rtol=1e-12)
    # Decile 1 LSOAs counted by best fit add up to the published count for Plymouth.
    assert out["n_decile1"].sum() == (data["decile"] == 1).sum() == 28
    assert ((out["extent"] >= out["share_decile1"]) & (out["extent"] <= 1)).all()
    assert (out["share_decile1"] <= 1).all() and (out["share_decile1"] >= 0).all()


def test_imd_summary_for_the_whole_city_equals_direct_computation(
    data: pd.DataFrame, lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    city = gpd.GeoDataFrame(
        {"code": ["E06000026"], "name": ["Plymouth"]},
        geometry=[wards.union_all()],
        crs=wards.crs,
    )
    out = imd_summary(data, lsoas, city, rank="rank", population="population").iloc[0]
    pop, rank = data["population"].to_numpy(float), data["rank"].to_numpy(float)
    # Percentile by integer arithmetic: ceil(100 r / n) = -(-100 r // n).
    pct = -(-100 * data["rank"].to_numpy() // 32844)
    assert out["population"] == pytest.approx(pop.sum())
    assert out["mean_rank"] == pytest.approx((pop * rank).sum() / pop.sum(), rel=1e-12)
    assert out["extent"] == pytest.approx((pop * extent_weight(pct)).sum() / pop.sum(), rel=1e-12)
    d1 = (data["decile"] == 1).to_numpy()
    assert out["share_decile1"] == pytest.approx(pop[d1].sum() / pop.sum(), rel=1e-12)
    assert out["n_decile1"] == 28


# --- compare(): layers side by side ------------------------------------------------------------


def weighted_gini(x: np.ndarray, w: np.ndarray) -> float:
    """Gini by its definition: half the mean absolute difference over the mean."""
    p = w / w.sum()
    mu = (p * x).sum()
    return float((p[:, None] * p[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * mu))


def between_share(x: np.ndarray, groups: np.ndarray, w: np.ndarray) -> float:
    """Theil T between groups over total, written out."""
    p = w / w.sum()
    mu = (p * x).sum()
    total = (p * x / mu * np.log(x / mu)).sum()
    frame = pd.DataFrame({"g": groups, "p": p, "px": p * x}).groupby("g").sum()
    mug = frame["px"] / frame["p"]
    between = (frame["p"] * mug / mu * np.log(mug / mu)).sum()
    return float(between / total)


@pytest.fixture(scope="module")
def bset(
    lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, msoas: gpd.GeoDataFrame
) -> lg.BoundarySet:
    # "district": the 32 MSOAs in 4 groups by number, so LSOA ⊂ MSOA ⊂ district nest.
    group = msoas["name"].str[-3:].astype(int).map(lambda n: f"D{(n - 1) // 8}")
    district = msoas.assign(code=group.to_numpy()).dissolve("code", as_index=False)
    city = gpd.GeoDataFrame(
        {"code": ["E06000026"], "name": ["Plymouth"]}, geometry=[wards.union_all()], crs=wards.crs
    )
    return lg.BoundarySet.from_layers(
        {
            "lsoa": lsoas,
            "ward": wards,
            "msoa": msoas,
            "district": district[["code", "geometry"]],
            "city": city,
        }
    )


def test_compare_layers_side_by_side(bset: lg.BoundarySet, data: pd.DataFrame) -> None:
    layers = ["lsoa", "msoa", "district", "city", "ward"]
    table = compare(
        bset,
        data,
        source="lsoa",
        layers=layers,
        extensive=["population"],
        intensive=["rank"],
        weight="population",
    )
    assert list(table.columns) == COMPARE_COLUMNS
    assert list(zip(table["layer"], table["indicator"], strict=True)) == [
        (layer, ind) for layer in layers for ind in ("rank", "population")
    ]
    rank = table[table["indicator"] == "rank"].set_index("layer")
    assert rank["n_units"].to_dict() == {
        "lsoa": 161,
        "msoa": 32,
        "district": 4,
        "city": 1,
        "ward": 20,
    }
    # Population is conserved, so every layer has the city's population-weighted mean rank.
    pop, r = data["population"].to_numpy(float), data["rank"].to_numpy(float)
    np.testing.assert_allclose(rank["mean"], (pop * r).sum() / pop.sum(), rtol=1e-9)
    assert rank.loc["lsoa", "min"] == r.min() and rank.loc["lsoa", "max"] == r.max()
    # Inequality falls as units get coarser (averaging within them), down to none for one unit.
    gini = rank["gini"]
    assert gini["lsoa"] > gini["msoa"] > gini["district"] > gini["city"] == 0
    # Between-unit share of the LSOAs' inequality: all of it when each LSOA is its own unit,
    # none for the whole city, and monotone for nested groupings.
    share = rank["between_share"]
    assert share["lsoa"] == pytest.approx(1.0)
    assert share["city"] == pytest.approx(0.0, abs=1e-12)
    assert 1 > share["msoa"] > share["district"] > 0
    assert 0 < share["ward"] < 1


def test_compare_matches_written_out_indices(
    bset: lg.BoundarySet, data: pd.DataFrame, lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    table = compare(
        bset, data, source="lsoa", layers=["ward"], intensive=["rank"], weight="population"
    ).iloc[0]
    agg = aggregate(data, lsoas, wards, **KW)  # type: ignore[arg-type]
    x, w = agg["rank"].to_numpy(), agg["population"].to_numpy()
    assert table["gini"] == pytest.approx(weighted_gini(x, w), rel=1e-9)
    p = w / w.sum()
    mu = (p * x).sum()
    assert table["theil"] == pytest.approx((p * x / mu * np.log(x / mu)).sum(), rel=1e-9)
    assert table["mld"] == pytest.approx((p * np.log(mu / x)).sum(), rel=1e-9)
    assert table["cv"] == pytest.approx(np.sqrt((p * (x - mu) ** 2).sum()) / mu, rel=1e-9)
    assert table["range"] == pytest.approx(x.max() - x.min())
    # The between share groups LSOAs by best-fit ward, computed independently here.
    li, wi = wards.sindex.query(lsoas.geometry, predicate="intersects")
    inter = lsoas.geometry.values[li].intersection(wards.geometry.values[wi]).area
    pieces = pd.DataFrame({"l": li, "w": wi, "a": inter}).sort_values(["l", "a"])
    best = pieces.groupby("l").tail(1).set_index("l")["w"].sort_index()
    groups = wards["code"].to_numpy()[best.to_numpy()]
    expected = between_share(
        data["rank"].to_numpy(float), groups, data["population"].to_numpy(float)
    )
    assert table["between_share"] == pytest.approx(expected, rel=1e-9)


def test_compare_unweighted_and_errors(bset: lg.BoundarySet, data: pd.DataFrame) -> None:
    table = compare(bset, data, source="lsoa", layers=["ward"], intensive=["rank"]).iloc[0]
    agg = aggregate(data, bset["lsoa"], bset["ward"], intensive=["rank"])
    assert table["mean"] == pytest.approx(agg["rank"].mean())
    assert table["gini"] == pytest.approx(weighted_gini(agg["rank"].to_numpy(), np.ones(20)))
    with pytest.raises(lg.errors.ManifestError, match="no layer 'locality'"):
        compare(bset, data, source="lsoa", layers=["locality"], intensive=["rank"])
    with pytest.raises(lg.errors.ManifestError, match="at least one layer"):
        compare(bset, data, source="lsoa", layers=[], intensive=["rank"])
    with pytest.raises(lg.errors.DataError, match="at least one extensive or intensive"):
        compare(bset, data, source="lsoa", layers=["ward"])
    with pytest.raises(lg.errors.DataError, match=r"'ward', indicator 'shifted'.*non-negative"):
        compare(
            bset,
            data.assign(shifted=data["rank"] - 20000),
            source="lsoa",
            layers=["ward"],
            intensive=["shifted"],
        )


def test_crs_measures_real_layers_read_in_degrees(
    plymouth: Path, data: pd.DataFrame, lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> None:
    # The files as published (CRS84 here): crs= reprojects copies, and the answer
    # is the one for layers reprojected by hand; the inputs stay in degrees.
    raw_lsoa = read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD").to_crs(4326)
    raw_ward = read_layer(plymouth / "wards_2013.geojson", "WD13CD").to_crs(4326)
    with pytest.raises(lg.LocalityGeoError, match="pass crs="):
        imd_summary(data, raw_lsoa, raw_ward, rank="rank")
    got = imd_summary(data, raw_lsoa, raw_ward, rank="rank", crs="EPSG:27700")
    ref = imd_summary(data, lsoas, wards, rank="rank")
    pd.testing.assert_frame_equal(got, ref, rtol=1e-9)
    assert raw_lsoa.crs.to_epsg() == 4326
    gaps = lg.find_gaps(raw_lsoa, crs=27700)
    pd.testing.assert_series_equal(
        gaps["area_m2"], lg.find_gaps(lsoas)["area_m2"], rtol=1e-6, check_index=False
    )
