"""realign → apply → validate → impact on a real council: one chain that agrees with itself.

Plymouth's MSOAs are built from LSOA blocks (each LSOA's MSOA from its name:
"Plymouth 001A" is in "Plymouth 001"), with the mid-2015 population of the
published IMD denominators, and realigned onto the 2013 wards, with LSOA
blocks and with output-area blocks (a blocks layer the MSOAs are not built
from). The proposal applies to the set it was computed on, in Python and on
the command line; afterwards ``validate`` with the rule realign judges by
(``by = "blocks"``) finds no MSOA not nested, and impact's ``split:ward``
before and after is validate's not-nested count for the same rule.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import localitygeo as lg
from localitygeo.cli import main
from localitygeo.model.boundary_set import NestingRule

pytestmark = pytest.mark.realdata

CODE = "LSOA code (2011)"
POP = "Total population: mid 2015 (excluding prisoners)"
BNG = "EPSG:27700"


@pytest.fixture(scope="module")
def layers(plymouth: Path, shared_data: Path) -> dict[str, gpd.GeoDataFrame]:
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(BNG)
    pop = lg.read_indicators(
        shared_data / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz",
        code=CODE,
        columns={POP: "population"},
    )
    lsoa = lsoa.join(pop, on="code")
    msoa = lg.read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(BNG)
    lsoa["msoa"] = msoa.set_index("name")["code"].reindex(lsoa["name"].str[:-1]).to_numpy()
    assert lsoa["msoa"].notna().all() and lsoa["population"].notna().all()
    ward = lg.read_layer(plymouth / "wards_2013.geojson", "WD13CD", name="WD13NM").to_crs(BNG)
    oa = lg.read_layer(plymouth / "oa_2011.geojson", "OA11CD", strict=False).to_crs(BNG)
    oa["geometry"] = oa.geometry.make_valid()  # one Plymouth OA is invalid as published
    return {"oa": oa, "lsoa": lsoa, "msoa": msoa, "ward": ward}


def _set(layers: dict[str, gpd.GeoDataFrame], by: str) -> lg.BoundarySet:
    return lg.BoundarySet.from_layers(
        dict(layers), nesting=[NestingRule("msoa", "ward", 0.01, by=by)]
    ).with_blocks("msoa", "lsoa")


def _not_nested(bset: lg.BoundarySet) -> int:
    issues = lg.validate(bset, rules=["not-nested"]).issues
    return int((issues["rule"] == "not-nested").sum())


def _split(im: lg.Impact) -> tuple[float, float]:
    row = im.metrics.set_index(["layer", "id"]).loc[("msoa", "split:ward")]
    return float(row["before"]), float(row["after"])


_CHAINS: dict[tuple[str, str], tuple] = {}


def _chain(layers, blocks: str, by: str) -> tuple:
    """Realign and apply once per (blocks, by) for the whole module."""
    if (blocks, by) not in _CHAINS:
        bset = _set(layers, by)
        proposal = lg.realign(bset, "msoa", "ward", blocks=blocks)
        after = lg.apply(bset, proposal)  # the very set it was computed on
        _CHAINS[(blocks, by)] = (blocks, by, bset, proposal, after)
    return _CHAINS[(blocks, by)]


@pytest.fixture(params=[("lsoa", "blocks"), ("oa", "blocks"), ("lsoa", "area")])
def chain(request, layers):
    return _chain(layers, *request.param)


def test_realign_proposal_applies_and_nests_by_blocks(chain):
    blocks, by, bset, proposal, after = chain
    assert proposal.operations and all(o["blocks_layer"] == blocks for o in proposal.operations)
    assert after.built_from["msoa"] == blocks
    # the judgement realign makes: each block wholly in its best-fit ward
    rule = NestingRule("msoa", "ward", 0.01, by="blocks")
    assert len(lg.judge_nesting(after, rule).not_nested) == 0
    if by == "blocks":
        assert _not_nested(after) == 0  # validate with the rule realign judged by
    assert not lg.realign(after, "msoa", "ward").operations  # nothing left to move
    # every block and person is still in exactly one MSOA
    units = after[blocks].groupby("msoa").size()
    assert units.sum() == len(bset[blocks]) and set(units.index) == set(after["msoa"]["code"])


def test_impact_split_is_validates_count_before_and_after(chain):
    blocks, _by, bset, proposal, after = chain
    im = lg.impact(bset, after, proposal)
    # before: the set as apply measured it, built from the proposal's blocks
    base = bset if blocks == "lsoa" else bset.with_blocks("msoa", blocks)
    assert _split(im) == (_not_nested(base), _not_nested(after))
    assert _split(im)[0] > 0


def test_by_blocks_before_matches_an_independent_overlay(layers):
    # Each LSOA's ward by largest overlap (geopandas here), each MSOA's share the
    # population of its LSOAs in its best ward: not nested below 99%.
    lsoa, ward = layers["lsoa"], layers["ward"]
    pieces = gpd.overlay(
        lsoa[["code", "geometry"]].assign(geometry=shapely.make_valid(lsoa.geometry.values)),
        ward[["code", "geometry"]].rename(columns={"code": "ward"}),
        keep_geom_type=True,
    )
    pieces["a"] = pieces.area
    best = pieces.sort_values(["a", "ward"]).groupby("code")["ward"].last()
    frame = lsoa.assign(ward=best.reindex(lsoa["code"]).to_numpy())
    per = frame.groupby(["msoa", "ward"])["population"].sum()
    share = per.groupby(level=0).max() / per.groupby(level=0).sum()
    assert _not_nested(_set(layers, "blocks")) == int((share < 0.99).sum()) > 0


def test_by_area_after_realign_is_explained_by_straddling_blocks(layers):
    _blocks, _by, bset, proposal, after = _chain(layers, "lsoa", "area")
    left = _not_nested(after)
    im = lg.impact(bset, after, proposal)
    assert _split(im)[1] == left > 0  # LSOAs straddle wards: by area, some MSOAs cannot nest
    assert any("block-straddles" in line for line in im.summary)
    assert any("block-straddles" in line for line in proposal.summary)


def test_lsoa_realign_is_one_an_officer_would_read(layers):
    _blocks, _by, bset, proposal, _after = _chain(layers, "lsoa", "blocks")
    moves = proposal.moves
    text = " ".join(proposal.summary)
    assert f"{moves['population'].sum():,.0f} people" in text
    assert 'by = "blocks"' in text and "before" in text and "after" in text
    # pieces join neighbouring MSOAs: no LSOA becomes an MSOA of its own
    new = [o for o in proposal.operations if o.get("new")]
    assert len({o["name"] for o in new}) == len(new)
    assert moves["to_unit"].isin(bset["msoa"]["code"]).mean() > 0.9
    share = proposal.moves.groupby("to_unit")["population"].sum()
    assert share.max() < lg.realign(bset, "msoa", "ward", min_new=0).moves["population"].sum()


# -- the command line ----------------------------------------------------------


@pytest.fixture(scope="module")
def written(layers, tmp_path_factory):
    folder = tmp_path_factory.mktemp("plymouth") / "set"
    lg.write_boundaries(_set(layers, "blocks"), folder)
    return folder


def _run(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.mark.parametrize("blocks", ["lsoa", "oa"])
def test_command_line_chain(written, tmp_path, blocks, capsys):
    proposal = tmp_path / "p.toml"
    extra = [] if blocks == "lsoa" else ["--blocks", blocks]
    assert _run("realign", written, "--layer", "msoa", "--to", "ward", *extra, "-o", proposal) == 0
    said = capsys.readouterr().out
    assert "judged by blocks" in said
    # OAs carry no population here: said, and never counted as nobody
    assert ("has no 'population' column" in said) == (blocks == "oa")
    assert (" people)" in said) == (blocks == "lsoa")
    after = tmp_path / "after"
    assert _run("apply", written, "--proposal", proposal, "-o", after) == 0
    report = tmp_path / "v.json"
    code = _run("validate", after, "--rule", "not-nested", "--format", "json", "-o", report)
    assert code == 0 and json.loads(report.read_text())["ok"]
    im = tmp_path / "im.json"
    assert _run("impact", written, "--proposal", proposal, "--format", "json", "-o", im) == 0
    metrics = pd.DataFrame(json.loads(im.read_text())["metrics"]).set_index(["layer", "id"])
    split = metrics.loc[("msoa", "split:ward")]
    base = lg.read_boundaries(written)
    if blocks != "lsoa":
        base = base.with_blocks("msoa", blocks)
    assert (split["before"], split["after"]) == (_not_nested(base), 0)
    # the written set: built from the proposal's blocks, no stale lookup, usual permissions
    back = lg.read_boundaries(after)
    assert back.built_from["msoa"] == blocks
    assert ("msoa" in back["lsoa"].columns) == (blocks == "lsoa")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(after.stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((after / "boundaries.toml").stat().st_mode) == 0o666 & ~mask
