"""The nesting judgement on real ONS layers: MSOAs built from LSOAs and from OAs.

For each council, MSOAs are rebuilt from LSOAs (a lookup CSV written here from
the LSOAs' names, "Plymouth 001A" is in MSOA "Plymouth 001") and from output
areas (each to its best-fit MSOA). Every expected value is computed here
independently with geopandas: the blocks dissolved after ``make_valid`` and
overlaid with the wards, or each LSOA's largest overlay piece.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import localitygeo as lg
from localitygeo.model.boundary_set import NestingRule
from localitygeo.validation.judgement import judge_nesting

from .helpers import write_manifest
from .test_validate_real import manifest_for

pytestmark = pytest.mark.realdata

COUNCILS = ["plymouth", "copeland", "telford-and-wrekin"]
CODE = "LSOA code (2011)"
POP = "Total population: mid 2015 (excluding prisoners)"


def _manifest(council: Path, folder: Path) -> Path:
    """The council's manifest, MSOAs built from LSOAs through a lookup CSV written here."""
    lsoa = gpd.read_file(council / "lsoa_2011.geojson")
    msoa = gpd.read_file(council / "msoa_2011.geojson")
    code_of = msoa.set_index("MSOA11NM")["MSOA11CD"]
    lookup = pd.DataFrame(
        {"lsoa": lsoa["LSOA11CD"], "msoa": code_of.reindex(lsoa["LSOA11NM"].str[:-1]).to_numpy()}
    )
    assert lookup["msoa"].notna().all()
    path = manifest_for(council, folder, "")
    lookup.to_csv(folder / "lsoa_msoa.csv", index=False)
    text = path.read_text(encoding="utf-8").replace(
        'name = "MSOA11NM"\n',
        'name = "MSOA11NM"\nblocks = { layer = "lsoa", lookup = "lsoa_msoa.csv" }\n',
    )
    return write_manifest(folder, text)


@pytest.fixture(scope="module")
def population(shared_data: Path) -> pd.Series:
    pop = lg.read_indicators(
        shared_data / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz",
        code=CODE,
        columns={POP: "population"},
    )
    return pop["population"]


@pytest.fixture(scope="module", params=COUNCILS)
def sets(request, shared_data, tmp_path_factory, population):
    """(council, set with MSOAs built from LSOAs, set with MSOAs built from OAs)."""
    council = shared_data / "councils" / request.param
    from_lsoa = lg.read_boundaries(_manifest(council, tmp_path_factory.mktemp(request.param)))
    lsoa = from_lsoa["lsoa"].join(population, on="code")
    assert lsoa["population"].notna().all()
    from_lsoa = from_lsoa.with_layers(lsoa=lsoa)
    msoa = lg.read_layer(council / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    layers = {k: from_lsoa[k] for k in ("oa", "ward")} | {"msoa": msoa}
    from_oa = lg.BoundarySet.from_layers(layers).with_blocks("msoa", "oa")
    return request.param, from_lsoa, from_oa, msoa


def _valid(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame[["code", "geometry"]].copy()
    out["geometry"] = out.geometry.make_valid()
    return out


def _pieces(child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    p = _valid(parent).rename(columns={"code": "pcode"})
    pieces = gpd.overlay(_valid(child), p, how="intersection", keep_geom_type=True)
    pieces["a"] = pieces.area
    return pieces[pieces["a"] > 0]


def _dissolved_best_share(blocks: gpd.GeoDataFrame, unit: str, parent: gpd.GeoDataFrame):
    """Best-parent area share of each unit: its blocks dissolved, then overlaid."""
    units = _valid(blocks).assign(unit=blocks[unit].to_numpy()).dissolve("unit")
    units = units.reset_index()[["unit", "geometry"]].rename(columns={"unit": "code"})
    pieces = _pieces(units, parent)
    return pieces.groupby("code")["a"].max() / units.set_index("code").area


@pytest.mark.parametrize("blocks", ["lsoa", "oa"])
@pytest.mark.parametrize("tolerance", [0.01, 0.05])
def test_not_nested_by_area_equals_an_overlay_of_the_dissolved_blocks(sets, blocks, tolerance):
    council, from_lsoa, from_oa, _ = sets
    bset = from_lsoa if blocks == "lsoa" else from_oa
    rule = NestingRule("msoa", "ward", tolerance)
    j = judge_nesting(bset, rule)
    assert j.method == "blocks" and j.blocks == blocks
    share = _dissolved_best_share(bset[blocks], "msoa", bset["ward"])
    mine = j.table.set_index("child_code")["share"]
    assert np.abs(mine - share.reindex(mine.index)).max() < 1e-6, council
    assert set(j.not_nested) == set(share.index[share < 1 - tolerance]), council
    # and validate reports exactly those
    report = lg.validate(replace(bset, nesting=(rule,)), rules=["not-nested"])
    assert {c[0] for c in report.issues["codes"]} == set(j.not_nested)


def test_membership_agrees_with_geometry(sets):
    council, from_lsoa, from_oa, msoa = sets
    # each LSOA's MSOA by membership is the published MSOA it lies in
    j = judge_nesting(from_lsoa, NestingRule("lsoa", "msoa", 0.001))
    assert j.method == "membership" and (j.table["share"] == 1.0).all()
    geo = lg.best_fit(from_lsoa["lsoa"], msoa).set_index("child_code")
    mine = j.table.set_index("child_code")
    assert (mine["parent_code"] == geo["parent_code"].reindex(mine.index)).all(), council
    assert geo["share"].min() > 0.999
    j = judge_nesting(from_oa, NestingRule("oa", "msoa", 0.001))
    geo = lg.best_fit(from_oa["oa"], msoa).set_index("child_code")
    mine = j.table.set_index("child_code")
    assert (mine["parent_code"] == geo["parent_code"].reindex(mine.index)).all(), council


def test_by_blocks_population_equals_a_reference(sets):
    council, from_lsoa, _, _ = sets
    rule = NestingRule("msoa", "ward", 0.01, by="blocks")
    j = judge_nesting(from_lsoa, rule)
    assert (j.table["basis"] == "blocks-population").all()
    # reference: each LSOA goes wholly to the ward holding its largest piece
    lsoa = from_lsoa["lsoa"]
    pieces = _pieces(lsoa, from_lsoa["ward"])
    best = pieces.sort_values(["code", "a", "pcode"], ascending=[True, False, True])
    best = best.drop_duplicates("code").set_index("code")["pcode"]
    frame = pd.DataFrame(
        {"msoa": lsoa["msoa"].to_numpy(), "ward": best.reindex(lsoa["code"]).to_numpy()}
    ).assign(pop=lsoa["population"].to_numpy())
    by_ward = frame.groupby(["msoa", "ward"])["pop"].sum()
    share = by_ward.groupby(level="msoa").max() / frame.groupby("msoa")["pop"].sum()
    mine = j.table.set_index("child_code")["share"]
    assert np.abs(mine - share.reindex(mine.index)).max() < 1e-12, council
    assert set(j.not_nested) == set(share.index[share < 0.99]), council
    # the LSOAs reported as straddling are those an overlay finds in two wards
    total = pieces.groupby("code")["a"].sum()
    first = pieces.groupby("code")["a"].max()
    own = lsoa.set_index("code").area
    others = (total - first) / own.reindex(total.index)
    assert set(j.block_straddles) == set(others.index[others > 0.01]), council
    assert len(j.block_straddles) > 0
