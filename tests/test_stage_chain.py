"""Each stage takes the previous stage's result as it comes, in Python and on the command line.

read_boundaries -> validate -> realign -> apply -> impact -> write_impact ->
aggregate on the new set -> locality_map -> save, with no glue between them;
then the same through `localitygeo realign`, `impact`, `apply`, `validate`,
`aggregate` and `map`, each reading what the one before wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import localitygeo as lg
from localitygeo.changes.report import write_impact
from localitygeo.maps import locality_map, save
from localitygeo.maps.page import page_data

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"


def _cli(*args: str | Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("localitygeo")
    return subprocess.run(
        [str(exe), *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False
    )


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    out = tmp_path_factory.mktemp("chain")
    city = lg.read_boundaries(CITY)
    report = lg.validate(city, rules=["not-nested"])
    proposal = lg.realign(city, "neighbourhood", "ward")
    after = lg.apply(city, proposal)
    im = lg.impact(city, after, proposal, indicators=["imd_score"])
    written = write_impact(im, out / "impact.json")
    figures = lg.write_csv(
        pd.DataFrame(after["small_area"].drop(columns="geometry")), out / "figures.csv"
    )
    data = lg.read_indicators(figures, code="code", columns=["population", "imd_score"])
    scores = lg.aggregate(
        data,
        after["small_area"],
        after["neighbourhood"],
        extensive=["population"],
        intensive=["imd_score"],
        weight="population",
    )
    m = locality_map(after, "neighbourhood", "imd_score", data=scores, tiles=None)
    page = save(m, out / "map.html")
    return {
        "city": city, "report": report, "proposal": proposal, "after": after, "im": im,
        "written": written, "scores": scores, "page": page, "out": out,
    }  # fmt: skip


def test_the_python_chain(chain):
    city, after, im = chain["city"], chain["after"], chain["im"]
    # validate found what realign fixes, and the applied set passes
    assert not chain["report"].ok
    assert lg.validate(after, rules=["not-nested"]).ok
    # the impact's moved blocks are the proposal's, and the report on disk is that impact
    assert set(im.moved["block"]) == set(chain["proposal"].moves["block"])
    assert json.loads(chain["written"].read_text(encoding="utf-8"))["summary"] == im.summary
    # aggregating the new set by area agrees with the impact's block counts
    got = chain["scores"]["population"].sort_index()
    want = im.units["neighbourhood"]["population_after"].dropna().sort_index()
    np.testing.assert_allclose(got.to_numpy(), want.reindex(got.index).to_numpy(), rtol=1e-6)
    assert got.sum() == pytest.approx(city["small_area"]["population"].sum())
    # the saved map draws the new neighbourhoods
    (doc,) = page_data(chain["page"].read_text(encoding="utf-8"))
    assert len(doc["layers"][0]["rows"]) == len(after["neighbourhood"])


def test_the_command_line_chain(chain, tmp_path):
    p = tmp_path / "p.toml"
    r = _cli("realign", CITY, "--layer", "neighbourhood", "--to", "ward", "-o", p)
    assert r.returncode == 0, r.stderr
    written = lg.read_proposal(p)  # the file holds the operations realign returns
    assert [o.params["blocks"] for o in written.operations] == [
        o.params["blocks"] for o in chain["proposal"].operations
    ]
    report = tmp_path / "impact.json"
    r = _cli("impact", CITY, "--proposal", p, "--indicator", "imd_score", "--no-map", "-o", report)
    assert r.returncode == 0, r.stderr
    assert f"wrote {report} (" in r.stdout
    # the file proposal gives the impact the Python chain measured
    assert json.loads(report.read_text(encoding="utf-8"))["summary"] == chain["im"].summary
    new_set = tmp_path / "after"
    r = _cli("apply", CITY, "--proposal", p, "-o", new_set)
    assert r.returncode == 0, r.stderr
    r = _cli("validate", new_set, "--rule", "not-nested")
    assert r.returncode == 0, r.stdout + r.stderr
    table = tmp_path / "n.csv"
    r = _cli(
        "aggregate", new_set, "--data", chain["out"] / "figures.csv", "--data-code", "code",
        "--from", "small_area", "--to", "neighbourhood", "--extensive", "population", "-o", table,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(table).set_index("code")["population"].sort_index()
    want = chain["scores"]["population"].sort_index()
    np.testing.assert_allclose(got.to_numpy(), want.reindex(got.index).to_numpy(), rtol=1e-6)
    page = tmp_path / "m.html"
    r = _cli("map", new_set, "--layer", "neighbourhood", "--tiles", "none", "-o", page)
    assert r.returncode == 0, r.stderr
    assert f"{page.stat().st_size:,} bytes" in r.stdout  # the size printed is the file's
    (doc,) = page_data(page.read_text(encoding="utf-8"))
    assert len(doc["layers"][0]["rows"]) == len(chain["after"]["neighbourhood"])


def test_layers_from_memory_without_names_go_through_the_chain(plymouth):
    # from_layers gives every layer a name column, as read_layer does; a set of
    # frames with codes only used to fail in change_map (KeyError: 'name')
    import geopandas as gpd

    from localitygeo.maps import change_map

    def codes_only(file: str, code: str) -> gpd.GeoDataFrame:
        gdf = gpd.read_file(plymouth / file).to_crs(27700)
        return gdf.rename(columns={code: "code"})[["code", "geometry"]]

    oa, lsoa = codes_only("oa_2011.geojson", "OA11CD"), codes_only("lsoa_2011.geojson", "LSOA11CD")
    ward = codes_only("wards_2013.geojson", "WD13CD")
    bset = lg.BoundarySet.from_layers(
        {"oa": oa, "lsoa": lsoa, "ward": ward}, nesting=[lg.NestingRule("lsoa", "ward")]
    )
    assert list(oa.columns) == ["code", "geometry"]  # the input is not changed
    assert bset.layers["lsoa"]["name"].isna().all()
    proposal = lg.realign(bset, layer="lsoa", to="ward", blocks="oa")
    after = lg.apply(bset, proposal)
    change = lg.diff(bset, after, "lsoa", blocks="oa")
    assert change_map(bset, after, change) is not None
    assert (after.layers["lsoa"]["code"].isin(lsoa["code"])).all()
