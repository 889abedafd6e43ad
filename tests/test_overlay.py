"""Overlap tables: measured once per call, or taken from membership.

aggregate, imd_summary and compare read one source x target table per call
(counted here by wrapping the engine's driver, never timed), and to a layer
built from the source's units they read membership and measure nothing. The
expected values are computed here independently: group-bys of the blocks'
values through the lookup, and the same functions on geometry alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import localitygeo as lg
from localitygeo.aggregation.comparison import compare
from localitygeo.aggregation.imd import extent_weight, imd_summary, national_percentile
from localitygeo.aggregation.inequality import theil_decomposition
from localitygeo.aggregation.transfer import aggregate
from localitygeo.errors import DataError
from localitygeo.geometry import overlay
from localitygeo.geometry.fitting import best_fit
from localitygeo.geometry.overlap_cache import OverlapCache
from localitygeo.geometry.overlay import overlap_table, set_overlap_table

from .helpers import dissolve_by, grid_layer

CITY = Path(__file__).resolve().parents[1] / "boundaries" / "example-city"
EXE = Path(sys.executable).parent / "localitygeo"


@pytest.fixture(scope="module")
def city() -> lg.BoundarySet:
    return lg.read_boundaries(CITY)


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record (sources, targets) of every run of the area engine's driver."""
    runs: list[tuple[int, int]] = []
    real = overlay._overlaps

    def counted(source, target, *args, **kwargs):
        runs.append((len(source), len(target)))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(overlay, "_overlaps", counted)
    return runs


def small_area_data(bset: lg.BoundarySet) -> pd.DataFrame:
    return bset["small_area"].set_index("code")[["population", "imd_score", "imd_rank"]]


def reference(blocks: pd.DataFrame, unit_of: pd.Series) -> pd.DataFrame:
    """Population and population-weighted imd_score per unit, by group-by."""
    frame = blocks.assign(unit=unit_of.reindex(blocks.index).to_numpy())
    frame["pw"] = frame["population"] * frame["imd_score"]
    g = frame.groupby("unit")[["population", "pw"]].sum()
    return pd.DataFrame({"population": g["population"], "imd_score": g["pw"] / g["population"]})


KW = {"extensive": ["population"], "intensive": ["imd_score"], "weight": "population"}


def test_overlap_table_is_what_best_fit_reads(city):
    sa, ward = city["small_area"], city["ward"]
    t = overlap_table(sa, ward)
    assert t.basis == "geometry" and len(t) == len(t.to_frame())
    assert list(t.to_frame().columns) == ["source_code", "target_code", "area_m2"]
    # every small area's pieces add up to its area (the wards cover the city)
    per = t.to_frame().groupby("source_code")["area_m2"].sum()
    assert np.allclose(per.reindex(t.source_codes), t.source_area, rtol=1e-9)
    pd.testing.assert_frame_equal(best_fit(sa, ward, table=t), best_fit(sa, ward))
    with pytest.raises(DataError, match="table= was computed for another child layer"):
        best_fit(sa.iloc[1:], ward, table=t)
    with pytest.raises(DataError, match="crs= or table="):
        best_fit(sa, ward, table=t, crs="EPSG:27700")
    half = t.select(np.arange(len(sa)) % 2 == 0)
    assert list(half.source_codes) == list(t.source_codes[::2])
    pd.testing.assert_frame_equal(
        best_fit(sa.iloc[::2], ward, table=half), best_fit(sa.iloc[::2], ward)
    )


def test_a_cache_measures_a_pair_of_layers_once(city, engine_runs):
    cache = OverlapCache()
    sa, ward = city["small_area"], city["ward"]
    a = overlap_table(sa, ward, cache=cache)
    b = overlap_table(sa.assign(extra=1), ward.copy(), cache=cache)  # same geometry objects
    assert a is b and engine_runs == [(len(sa), len(ward))] and cache.hits == 1
    moved = ward.assign(geometry=ward.geometry.translate(1, 0))
    overlap_table(sa, moved, cache=cache)
    assert len(engine_runs) == 2


def test_one_engine_run_per_call(city, engine_runs):
    data = small_area_data(city)
    sa, ward = city["small_area"], city["ward"]
    aggregate(data, sa, ward, method="best-fit", **KW)
    assert engine_runs == [(len(sa), len(ward))]
    imd_summary(data, sa, ward, rank="imd_rank", population="population", national_count=32844)
    assert len(engine_runs) == 2
    compare(city, data, source="small_area", layers=["ward", "neighbourhood", "locality"], **KW)
    # wards are measured once; neighbourhoods and localities come from membership
    assert len(engine_runs) == 3


@pytest.mark.parametrize("method", ["area", "best-fit"])
@pytest.mark.parametrize("layer", ["neighbourhood", "locality"])
def test_aggregate_to_a_built_layer_from_membership(city, engine_runs, method, layer):
    data = small_area_data(city)
    t = set_overlap_table(city, "small_area", layer)
    assert t.basis == "membership" and engine_runs == []
    got = aggregate(data, city["small_area"], city[layer], method=method, table=t, **KW)
    assert engine_runs == []
    unit_of = city["small_area"].set_index("code")["neighbourhood"]
    if layer == "locality":
        unit_of = unit_of.map(city["neighbourhood"].set_index("code")["locality"])
    want = reference(data, unit_of).reindex(got.index)
    assert np.allclose(got["population"], want["population"], rtol=0, atol=1e-9)
    assert np.allclose(got["imd_score"], want["imd_score"], rtol=1e-12)
    # and the same as measuring the geometry (the example city is vertex-exact)
    geo = aggregate(data, city["small_area"], city[layer], method=method, **KW)
    assert np.allclose(got[["population", "imd_score"]], geo[["population", "imd_score"]])
    assert np.allclose(got["coverage"], geo["coverage"], atol=1e-9)


def test_set_overlap_table_measures_other_layers(city):
    t = set_overlap_table(city, "small_area", "ward")
    assert t.basis == "geometry"
    assert len(t) > len(city["small_area"]) - 1


def test_compare_on_built_layers_equals_a_reference(city, engine_runs):
    data = small_area_data(city)
    got = compare(city, data, source="small_area", layers=["neighbourhood"], **KW)
    assert engine_runs == []
    unit_of = city["small_area"].set_index("code")["neighbourhood"]
    ref = reference(data, unit_of)
    row = got.set_index(["indicator"]).loc["imd_score"]
    w = ref["population"].to_numpy()
    assert row["mean"] == pytest.approx(np.average(ref["imd_score"], weights=w))
    dec = theil_decomposition(
        data["imd_score"].to_numpy(), unit_of.reindex(data.index).to_numpy(), data["population"]
    )
    assert row["between_share"] == pytest.approx(dec.between_share)
    assert row["n_units"] == len(city["neighbourhood"])


def test_aggregate_command_reads_membership(city, tmp_path):
    data = small_area_data(city)
    data.to_csv(tmp_path / "sa.csv")
    res = subprocess.run(
        [str(EXE), "aggregate", str(CITY), "--data", str(tmp_path / "sa.csv"),
         "--data-code", "code", "--from", "small_area", "--to", "neighbourhood",
         "--extensive", "population", "--intensive", "imd_score", "--weight", "population"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(pd.io.common.StringIO(res.stdout), index_col="code")
    want = reference(data, city["small_area"].set_index("code")["neighbourhood"])
    assert np.allclose(out["population"], want["population"].reindex(out.index))
    assert np.allclose(out["imd_score"], want["imd_score"].reindex(out.index), rtol=1e-9)


@st.composite
def groupings(draw):
    n = draw(st.integers(2, 9))
    groups = draw(st.lists(st.sampled_from("PQR"), min_size=n, max_size=n))
    people = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
    perm = draw(st.permutations(range(n)))
    return n, groups, people, perm


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groupings())
def test_membership_equals_geometry_whatever_the_row_order(grouping):
    n, groups, people, perm = grouping
    if sum(people) == 0:
        people = [1] * n
    blocks = grid_layer(n, 1).assign(unit=groups, population=people, score=np.arange(n) + 1.0)
    bset = lg.BoundarySet.from_layers(
        {"block": blocks, "unit": dissolve_by(blocks, groups)}
    ).with_blocks("unit", "block")
    data = blocks.set_index("code")[["population", "score"]]
    kw = {"extensive": ["population"], "intensive": ["score"]}
    t = set_overlap_table(bset, "block", "unit")
    mine = aggregate(data, bset["block"], bset["unit"], table=t, **kw)
    geo = aggregate(data, bset["block"], bset["unit"], **kw)
    assert np.allclose(mine.to_numpy(), geo.to_numpy())
    assert ((mine["coverage"] >= 0) & (mine["coverage"] <= 1)).all()
    shuffled = bset.with_layers(block=bset["block"].iloc[list(perm)], unit=bset["unit"].iloc[::-1])
    t2 = set_overlap_table(shuffled, "block", "unit")
    again = aggregate(data.iloc[::-1], shuffled["block"], shuffled["unit"], table=t2, **kw)
    pd.testing.assert_frame_equal(mine.sort_index(), again.sort_index(), atol=1e-12)


@pytest.fixture(scope="module")
def plymouth_built(plymouth: Path, shared_data: Path):
    """Plymouth's LSOAs with IMD 2019 rank and population, MSOAs built from them."""
    code = "LSOA code (2011)"
    imd = lg.read_indicators(
        shared_data / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        code=code,
        columns={"Index of Multiple Deprivation (IMD) Rank": "rank"},
    )
    pop = lg.read_indicators(
        shared_data / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz",
        code=code,
        columns={"Total population: mid 2015 (excluding prisoners)": "population"},
    )
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)
    msoa = lg.read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    # the MSOA named in each LSOA's name: an independent lookup
    lsoa["msoa"] = msoa.set_index("name")["code"].reindex(lsoa["name"].str[:-1]).to_numpy()
    bset = lg.BoundarySet.from_layers({"lsoa": lsoa, "msoa": msoa}).with_blocks("msoa", "lsoa")
    return bset, imd.join(pop).loc[lsoa["code"]], msoa


def test_imd_summary_on_msoas_built_from_lsoas(plymouth_built, engine_runs):
    bset, data, msoa_file = plymouth_built
    t = set_overlap_table(bset, "lsoa", "msoa")
    got = imd_summary(
        data, bset["lsoa"], bset["msoa"], rank="rank", population="population", table=t
    )
    assert engine_runs == []
    # reference by group-by through the lookup
    unit = bset["lsoa"].set_index("code")["msoa"].reindex(data.index)
    pct = national_percentile(data["rank"].to_numpy())
    f = data.assign(unit=unit.to_numpy(), ext=extent_weight(pct), d1=(pct <= 10) * 1.0)
    for col in ("rank", "ext", "d1"):
        f[col + "_w"] = f[col] * f["population"]
    g = f.groupby("unit")
    want = pd.DataFrame(
        {
            "population": g["population"].sum(),
            "mean_rank": g["rank_w"].sum() / g["population"].sum(),
            "extent": g["ext_w"].sum() / g["population"].sum(),
            "share_decile1": g["d1_w"].sum() / g["population"].sum(),
            "n_decile1": g["d1"].sum().astype(int),
        }
    ).reindex(got.index)
    for col in want.columns:
        assert np.allclose(got[col], want[col], rtol=1e-12), col
    assert got["population"].sum() == data["population"].sum()
    # measured against the published MSOAs, which the LSOAs nest in, best fit agrees
    geo = imd_summary(
        data, bset["lsoa"], msoa_file, rank="rank", population="population", method="best-fit"
    )
    assert len(engine_runs) == 1
    for col in want.columns:
        assert np.allclose(geo[col], want[col], rtol=1e-12), col


def test_compare_on_plymouth_built_msoas(plymouth_built, engine_runs):
    bset, data, _ = plymouth_built
    got = compare(
        bset, data, source="lsoa", layers=["lsoa", "msoa"], intensive=["rank"], weight="population"
    )
    assert engine_runs == []
    msoa = got.set_index("layer").loc["msoa"]
    unit = bset["lsoa"].set_index("code")["msoa"].reindex(data.index)
    dec = theil_decomposition(data["rank"].to_numpy(), unit.to_numpy(), data["population"])
    assert msoa["between_share"] == pytest.approx(dec.between_share, rel=1e-12)
    assert msoa["n_units"] == len(bset["msoa"])
