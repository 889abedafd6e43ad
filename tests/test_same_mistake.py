"""The same mistake, the same error: a named population or weight column that is absent.

Every stage told to count or weight by a column it cannot find raises
ColumnError naming the column, what it was for, the layer (where the figures
are a layer's) and the file it was read from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import localitygeo as lg
from localitygeo.errors import ColumnError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "boundaries" / "example-city"


@pytest.fixture(scope="module")
def city() -> lg.BoundarySet:
    return lg.read_boundaries(EXAMPLE)


@pytest.fixture(scope="module")
def changed(city):
    proposal = lg.realign(city, "neighbourhood", "ward")
    return proposal, lg.apply(city, proposal)


@pytest.fixture(scope="module")
def table(city, tmp_path_factory):
    """The small areas' figures as a CSV read back with read_indicators."""
    path = tmp_path_factory.mktemp("data") / "figures.csv"
    frame = city["small_area"].drop(columns="geometry")[["code", "population", "imd_rank"]]
    frame.to_csv(path, index=False)
    return path, lg.read_indicators(path, code="code")


def _assert_names(err: pytest.ExceptionInfo, column: str, role: str, layer, path) -> None:
    e = err.value
    assert type(e) is ColumnError
    assert e.layer == layer
    assert e.path == str(path)
    assert f"no column '{column}' for {role}" in str(e)
    assert str(e).startswith(str(path))


def _assert_set_stages(before, after, proposal, layer, to, blocks, path) -> None:
    """realign, diff and impact given a population column the blocks lack."""
    calls = {  # each stage, told to count a column the blocks lack
        "realign": lambda: lg.realign(before, layer, to, population="electorate"),
        "diff": lambda: lg.diff(before, after, layer, population="electorate"),
        "impact": lambda: lg.impact(before, after, proposal, population="electorate"),
    }
    for call in calls.values():
        with pytest.raises(ColumnError) as err:
            call()
        _assert_names(err, "electorate", "population", blocks, path)


def test_the_set_stages_name_the_blocks_layer_and_its_file(city, changed):
    proposal, after = changed
    blocks_file = EXAMPLE / "small_areas.geojson"
    assert city.file_of("small_area") == blocks_file  # from the manifest's table
    _assert_set_stages(city, after, proposal, "neighbourhood", "ward", "small_area", blocks_file)


def test_the_default_population_column_may_be_absent(city, changed):
    # the default is a convention, not a demand: without it figures are unknown
    proposal, after = changed
    bare = city.with_layers(small_area=city["small_area"].drop(columns="population"))
    bare_after = after.with_layers(small_area=after["small_area"].drop(columns="population"))
    assert lg.diff(bare, bare_after, "neighbourhood").moved["population"].isna().all()
    assert len(lg.diff(city, after, "neighbourhood").moved) == len(proposal.moves)


def test_the_table_stages_name_the_file(city, table):
    path, data = table
    small, wards = city["small_area"], city["ward"]
    with pytest.raises(ColumnError) as err:
        lg.aggregate(data, small, wards, extensive=["population"], weight="electorate")
    _assert_names(err, "electorate", "weight", None, path)
    with pytest.raises(ColumnError) as err:
        lg.imd_summary(data, small, wards, rank="imd_rank", population="electorate")
    _assert_names(err, "electorate", "population", None, path)
    with pytest.raises(ColumnError) as err:
        lg.imd_summary(data, small, wards, rank="imd")
    _assert_names(err, "imd", "rank", None, path)
    with pytest.raises(ColumnError) as err:
        lg.compare(
            city,
            data,
            source="small_area",
            layers=["ward"],
            intensive=["imd_rank"],
            weight="electorate",
        )
    _assert_names(err, "electorate", "weight", None, path)
    # and the right column works, so the error is about the name alone
    got = lg.aggregate(data, small, wards, extensive=["population"], weight="population")
    assert got["population"].sum() == pytest.approx(data["population"].sum())


@pytest.mark.realdata
def test_a_real_council_written_and_read_back_names_its_file(plymouth, tmp_path):
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)
    msoa = lg.read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    wards = lg.read_layer(plymouth / "wards_2013.geojson", "WD13CD").to_crs(27700)
    built = lg.BoundarySet.from_layers({"lsoa": lsoa, "msoa": msoa, "wd": wards})
    manifest = lg.write_boundaries(built.with_blocks("msoa", "lsoa"), tmp_path / "plymouth")
    real = lg.read_boundaries(manifest)
    lsoa_file = real.file_of("lsoa")
    assert lsoa_file is not None and lsoa_file.parent == manifest.parent
    assert "population" not in real["lsoa"].columns
    proposal = lg.realign(real, "msoa", "wd")  # by area: the default may be absent
    after = lg.apply(real, proposal)
    _assert_set_stages(real, after, proposal, "msoa", "wd", "lsoa", lsoa_file)
