"""validate() on the real ONS boundaries of three councils."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from localitygeo import BoundarySet, read_boundaries, validate
from localitygeo.model.boundary_set import NestingRule

from .helpers import write_manifest

COUNCILS = ["plymouth", "copeland", "telford-and-wrekin"]

# Invalid geometries in the published files (checked independently in
# test_invalid_geometries_are_exactly_the_real_ones).
REAL_INVALID = {
    "plymouth": {"E00075928"},
    "copeland": set(),
    "telford-and-wrekin": {"E00071467", "E01014146"},
}


def manifest_for(council_dir: Path, folder: Path, nesting: str) -> Path:
    return write_manifest(
        folder,
        f"""
name = "{council_dir.name}"
crs = "EPSG:27700"
[layers.oa]
path = "{council_dir / "oa_2011.geojson"}"
code = "OA11CD"
[layers.lsoa]
path = "{council_dir / "lsoa_2011.geojson"}"
code = "LSOA11CD"
name = "LSOA11NM"
[layers.msoa]
path = "{council_dir / "msoa_2011.geojson"}"
code = "MSOA11CD"
name = "MSOA11NM"
[layers.ward]
path = "{council_dir / "wards_2013.geojson"}"
code = "WD13CD"
name = "WD13NM"
{nesting}
[checks]
gap_tolerance_m2 = 1.0
overlap_tolerance_m2 = 1.0
""",
    )


NEST_OA_LSOA_MSOA = """
[[nesting]]
child = "oa"
parent = "lsoa"
tolerance = 0.001
[[nesting]]
child = "lsoa"
parent = "msoa"
tolerance = 0.001
"""


@pytest.fixture(scope="module", params=COUNCILS)
def council_report(request, shared_data, tmp_path_factory):
    council = request.param
    folder = tmp_path_factory.mktemp(council)
    bset = read_boundaries(
        manifest_for(shared_data / "councils" / council, folder, NEST_OA_LSOA_MSOA)
    )
    return council, bset, validate(bset)


def test_statistical_layers_nest_at_0_001(council_report):
    council, _, report = council_report
    assert not (report.issues["rule"].isin(["not-nested", "orphan"])).any(), council
    for rule_id in ("oa->lsoa", "lsoa->msoa"):
        table = report.assignments[rule_id]
        assert table["share"].min() >= 0.999
        assert table["parent_code"].notna().all()


def test_no_gap_or_overlap_at_1_m2(council_report):
    _council, _, report = council_report
    found = report.issues[report.issues["rule"].isin(["gap", "overlap"])]
    assert found.empty, found.to_string()


def test_invalid_geometries_are_exactly_the_real_ones(council_report):
    council, bset, report = council_report
    reported = {
        c
        for codes in report.issues.loc[report.issues["rule"] == "invalid-geometry", "codes"]
        for c in codes
    }
    # Independent check straight from the files with shapely.
    independent = set()
    for key in ("oa", "lsoa", "msoa", "ward"):
        raw = gpd.read_file(bset.specs[key].path)
        bad = ~shapely.is_valid(raw.geometry.values)
        independent |= set(raw.loc[bad, bset.specs[key].code])
    assert reported == independent == REAL_INVALID[council]
    msgs = report.issues.loc[report.issues["rule"] == "invalid-geometry", "message"]
    assert all("Self-intersection" in m or "Ring" in m or "Hole" in m for m in msgs)


def _overlay_best_share(child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame):
    """Best-parent share per child, computed independently with geopandas.overlay."""
    c = child[["code", "geometry"]].copy()
    c["geometry"] = c.geometry.make_valid()
    p = parent[["code", "geometry"]].rename(columns={"code": "pcode"})
    p["geometry"] = p.geometry.make_valid()
    pieces = gpd.overlay(c, p, how="intersection", keep_geom_type=True)
    pieces["a"] = pieces.geometry.area
    best = pieces.groupby("code")["a"].max()
    return best / c.set_index("code").geometry.area.loc[best.index]


@pytest.mark.parametrize("council", COUNCILS)
@pytest.mark.parametrize("tolerance", [0.01, 0.05])
def test_msoa_ward_reports_exactly_the_straddlers(shared_data, tmp_path, council, tolerance):
    nesting = f"""
[[nesting]]
child = "msoa"
parent = "ward"
tolerance = {tolerance}
"""
    bset = read_boundaries(manifest_for(shared_data / "councils" / council, tmp_path, nesting))
    report = validate(bset, rules=["not-nested", "orphan"])
    reported = {
        codes[0] for codes in report.issues.loc[report.issues["rule"] == "not-nested", "codes"]
    }
    share = _overlay_best_share(bset["msoa"], bset["ward"])
    expected = set(share.index[share < 1 - tolerance])
    assert reported == expected
    assert expected, "MSOAs are known to straddle wards in every council"
    table = report.assignments["msoa->ward"].set_index("child_code")
    assert (table["share"] - share.reindex(table.index)).abs().max() < 1e-9


def test_cut_gap_and_overlap_of_a_few_metres_are_found(plymouth):
    lsoa = gpd.read_file(plymouth / "lsoa_2011.geojson").to_crs(27700)
    lsoa = lsoa.rename(columns={"LSOA11CD": "code"})
    victim = lsoa.index[10]
    inner = lsoa.geometry[victim].representative_point()
    hole = shapely.box(inner.x - 1.5, inner.y - 1.5, inner.x + 1.5, inner.y + 1.5)  # 9 m²
    cut = lsoa.copy()
    cut.loc[victim, "geometry"] = lsoa.geometry[victim].difference(hole)
    # An overlap: grow a neighbour by a 2 m x 2 m square inside the victim.
    other = lsoa.index[11]
    corner = shapely.box(inner.x + 10, inner.y + 10, inner.x + 12, inner.y + 12)  # 4 m²
    assert lsoa.geometry[victim].contains(corner)
    cut.loc[other, "geometry"] = lsoa.geometry[other].union(corner)
    bset = BoundarySet.from_layers({"lsoa": cut})
    report = validate(bset, rules=["gap", "overlap"])
    gaps = report.issues[report.issues["rule"] == "gap"]
    assert len(gaps) == 1
    assert gaps["area_m2"].iloc[0] == pytest.approx(9.0, abs=1e-3)
    assert gaps["codes"].iloc[0] == [lsoa.loc[victim, "code"]]
    overlaps = report.issues[report.issues["rule"] == "overlap"]
    assert len(overlaps) == 1
    assert overlaps["area_m2"].iloc[0] == pytest.approx(4.0, abs=1e-3)
    assert set(overlaps["codes"].iloc[0]) == {lsoa.loc[victim, "code"], lsoa.loc[other, "code"]}
    # The untouched layer reports nothing: the ~1,300 slivers are not gaps.
    clean = validate(BoundarySet.from_layers({"lsoa": lsoa}), rules=["gap", "overlap"])
    assert clean.ok and clean.issues.empty


def test_orphan_child_outside_every_parent(plymouth):
    wards = gpd.read_file(plymouth / "wards_2013.geojson").to_crs(27700)
    wards = wards.rename(columns={"WD13CD": "code"})
    lsoa = gpd.read_file(plymouth / "lsoa_2011.geojson").to_crs(27700)
    lsoa = lsoa.rename(columns={"LSOA11CD": "code"})
    far = lsoa.iloc[[0]].copy()
    far["code"] = "FAR"
    far["geometry"] = far.geometry.translate(50_000, 0)
    layers = {
        "lsoa": gpd.GeoDataFrame(gpd.pd.concat([lsoa, far], ignore_index=True), crs=lsoa.crs),
        "ward": wards,
    }
    bset = BoundarySet.from_layers(layers, nesting=[NestingRule("lsoa", "ward", 0.1)])
    report = validate(bset, rules=["orphan", "not-nested"])
    orphans = report.issues[report.issues["rule"] == "orphan"]
    assert list(orphans["codes"]) == [["FAR"]]
