"""The fictional example city: deterministic, plausible, and straddling as designed."""

from __future__ import annotations

import filecmp
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from localitygeo import read_boundaries, validate
from localitygeo.io.example_city import build_example_city
from localitygeo.io.example_files import write_example_city

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "boundaries" / "example-city"


@pytest.fixture(scope="module")
def city():
    return build_example_city()


def test_regenerates_byte_identical(tmp_path):
    write_example_city(tmp_path)
    names = sorted(str(p.relative_to(COMMITTED)) for p in COMMITTED.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert "proposals/realign-to-wards.toml" in names
    _match, mismatch, errors = filecmp.cmpfiles(COMMITTED, tmp_path, names, shallow=False)
    assert not mismatch and not errors


def test_shape_of_the_city(city):
    assert 750 <= len(city["small_area"]) <= 950
    assert len(city["ward"]) == 20
    assert len(city["neighbourhood"]) == 43
    assert len(city["locality"]) == 6
    pop = city["small_area"]["population"]
    assert (pop > 0).all() and 150_000 < pop.sum() < 300_000
    for key in ("ward", "neighbourhood", "locality"):
        assert (city[key].geom_type == "Polygon").all(), f"every {key} is contiguous"


def test_small_areas_are_a_gapless_coverage(city):
    geoms = city["small_area"].geometry.values
    assert shapely.coverage_is_valid(geoms)
    union = shapely.union_all(geoms)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0


def _best_share(child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame):
    pieces = gpd.overlay(
        child[["code", "geometry"]], parent[["code", "geometry"]].rename(columns={"code": "p"})
    )
    pieces["a"] = pieces.area
    return pieces.groupby("code")["a"].max() / child.set_index("code").area


def test_nesting_by_construction(city):
    assert _best_share(city["small_area"], city["neighbourhood"]).min() > 0.999999
    assert _best_share(city["small_area"], city["ward"]).min() > 0.999999
    assert _best_share(city["neighbourhood"], city["locality"]).min() > 0.999999
    straddle = _best_share(city["neighbourhood"], city["ward"])
    assert 6 <= (straddle < 0.99).sum() <= 10


def test_committed_set_validates_to_exactly_the_straddlers(city):
    report = validate(read_boundaries(COMMITTED))
    assert set(report.issues["rule"]) == {"not-nested"}
    reported = {codes[0] for codes in report.issues["codes"]}
    share = _best_share(city["neighbourhood"], city["ward"])
    assert reported == set(share.index[share < 0.99])


def test_indicator_has_a_spatial_pattern(city):
    sa = city["small_area"]
    dock = shapely.Point(250_000, 58_200)
    near = sa.geometry.centroid.distance(dock) < 2000
    assert sa.loc[near, "imd_score"].mean() > 1.5 * sa.loc[~near, "imd_score"].mean()
    # Rank 1 is the most deprived: ranks fall as scores rise.
    assert sa["imd_score"].rank().corr(sa["imd_rank"].rank()) < -0.99
