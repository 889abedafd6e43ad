"""Impact of a realignment on real data: Plymouth's MSOAs, built from LSOAs, onto its wards."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import localitygeo as lg
from localitygeo.aggregation.inequality import theil_decomposition

pytestmark = pytest.mark.realdata

CODE = "LSOA code (2011)"
RANK = "Index of Multiple Deprivation (IMD) Rank"
POP = "Total population: mid 2015 (excluding prisoners)"


@pytest.fixture(scope="module")
def plymouth_set(plymouth, shared_data):
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)
    imd = lg.read_indicators(
        shared_data / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        code=CODE,
        columns={RANK: "rank"},
    )
    pop = lg.read_indicators(
        shared_data / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz",
        code=CODE,
        columns={POP: "population"},
    )
    lsoa = lsoa.join(imd.join(pop), on="code")
    msoa = lg.read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    wards = lg.read_layer(plymouth / "wards_2013.geojson", "WD13CD").to_crs(27700)
    bset = lg.BoundarySet.from_layers(
        {"lsoa": lsoa, "msoa": msoa, "ward": wards},
        nesting=[lg.NestingRule("msoa", "ward", 0.05)],
    )
    return bset.with_blocks("msoa", "lsoa")


def test_msoas_from_lsoas_match_their_names(plymouth_set):
    # An LSOA's name is its MSOA's name plus a letter: an independent lookup.
    lsoa = plymouth_set["lsoa"]
    by_name = lsoa["name"].str[:-1].str.strip()
    names = plymouth_set["msoa"].set_index("code")["name"]
    assert (names.reindex(lsoa["msoa"]).to_numpy() == by_name.to_numpy()).all()


def test_realignment_impact_on_plymouth(plymouth_set):
    before = plymouth_set
    proposal = lg.realign(before, "msoa", "ward")
    after = lg.apply(before, proposal)
    im = lg.impact(before, after, proposal, indicators=["rank"])
    lsoa = before["lsoa"]
    total = lsoa["population"].sum()
    t = im.units["msoa"]
    assert t["population_before"].sum() == t["population_after"].sum() == total
    # moved people are exactly the moved LSOAs' people
    moved = im.moved
    assert set(moved["block"]) == set(proposal.moves["block"])
    assert (
        moved["population"].sum() == lsoa.set_index("code").loc[moved["block"], "population"].sum()
    )
    # MSOAs split across wards: before, from each LSOA's ward by an independent overlay
    pieces = gpd.overlay(
        lsoa[["code", "msoa", "geometry"]],
        before["ward"][["code", "geometry"]].rename(columns={"code": "ward"}),
    )
    pieces["a"] = pieces.area
    best = pieces.sort_values("a").groupby("code").tail(1).set_index("code")["ward"]
    split = (
        lsoa.assign(ward=best.reindex(lsoa["code"]).to_numpy()).groupby("msoa")["ward"].nunique()
    )
    m = im.metrics.set_index(["layer", "id"])["before"]
    assert m[("msoa", "split:ward")] == (split > 1).sum() > 0
    assert im.metrics.set_index(["layer", "id"])["after"][("msoa", "split:ward")] == 0
    # the between-MSOA share of inequality in rank, after, computed directly
    a_lsoa = after["lsoa"]
    dec = theil_decomposition(a_lsoa["rank"], a_lsoa["msoa"], a_lsoa["population"])
    got = im.metrics.set_index(["layer", "id"])["after"][("msoa", "between_share:rank")]
    assert got == pytest.approx(dec.between_share)
    # every MSOA's population-weighted mean rank lies within its LSOAs' ranks
    grouped = a_lsoa.groupby("msoa")["rank"]
    mean = t["rank_after"].dropna()
    assert (mean >= grouped.min().reindex(mean.index) - 1e-9).all()
    assert (mean <= grouped.max().reindex(mean.index) + 1e-9).all()
    want = a_lsoa.groupby("msoa").apply(
        lambda g: np.average(g["rank"], weights=g["population"]), include_groups=False
    )
    assert np.allclose(mean.to_numpy(), pd.Series(want).reindex(mean.index).to_numpy())
    assert im.summary[0].startswith(f"{len(moved)} LSOAs move to another MSOA, with ")
