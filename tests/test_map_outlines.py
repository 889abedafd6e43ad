"""Maps find the layers they outline in the set's nesting rules, not in the example's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

import localitygeo as lg
from localitygeo.errors import ManifestError
from localitygeo.maps import change_map, locality_map, render_html
from localitygeo.maps.page import page_data

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rekeyed() -> lg.BoundarySet:
    """The example city under other keys: no layer is called 'ward' or 'locality'."""
    city = lg.read_boundaries(REPO / "boundaries" / "example-city")
    layers = {"oa": city["small_area"], "nb": city["neighbourhood"]}
    layers |= {"wd": city["ward"], "loc": city["locality"]}
    rules = [lg.NestingRule("nb", "wd"), lg.NestingRule("nb", "loc")]
    built = lg.BoundarySet.from_layers(layers, nesting=rules)
    built = built.with_blocks("nb", "oa", column="neighbourhood")
    return built.with_blocks("loc", "nb", column="locality")


def outlines(m) -> dict[str, str]:
    """The outline layers of a map's (first) pane, by name: "bold" or "dashed"."""
    layers = page_data(render_html(m))[0]["layers"][1:]
    return {
        ly["name"]: "dashed" if ly["style"].get("dashArray") else "bold"
        for ly in layers
        if ly["name"] != "Moved blocks"
    }


def test_locality_map_outlines_the_coarsest_parent_and_a_fixed_one(rekeyed):
    assert set(rekeyed) == {"oa", "nb", "wd", "loc"}
    # loc (6 units) is coarser than wd (20); loc is built from nb, wd is not
    assert len(rekeyed["loc"]) < len(rekeyed["wd"])
    assert outlines(locality_map(rekeyed, "nb", tiles=None)) == {
        "Loc boundaries": "bold",
        "Wd boundaries": "dashed",
    }
    # small areas nest in nb, and through it in loc and wd
    assert outlines(locality_map(rekeyed, "oa", tiles=None)) == {
        "Loc boundaries": "bold",
        "Wd boundaries": "dashed",
    }
    assert outlines(locality_map(rekeyed, "wd", tiles=None)) == {}  # nests in nothing


def test_named_outlines_are_drawn_or_refused_and_false_draws_none(rekeyed):
    m = locality_map(rekeyed, "oa", tiles=None, localities="wd", wards="nb")
    assert outlines(m) == {"Wd boundaries": "bold", "Nb boundaries": "dashed"}
    assert outlines(locality_map(rekeyed, "nb", tiles=None, localities=False, wards=False)) == {}
    for option in ("localities", "wards"):
        with pytest.raises(ManifestError, match=rf"{option}='ward': no layer 'ward'; .*oa, nb"):
            locality_map(rekeyed, "nb", tiles=None, **{option: "ward"})


def test_change_map_outlines_the_layer_the_change_nests_in(rekeyed):
    proposal = lg.realign(rekeyed, "nb", "wd")
    after = lg.apply(rekeyed, proposal)
    d = lg.diff(rekeyed, after, "nb")
    assert len(d.moved) > 0
    assert outlines(change_map(rekeyed, after, d, tiles=None)) == {"Wd boundaries": "dashed"}
    assert outlines(change_map(rekeyed, after, d, tiles=None, parents="loc")) == {
        "Loc boundaries": "dashed"
    }
    assert outlines(change_map(rekeyed, after, d, tiles=None, parents=False)) == {}
    with pytest.raises(ManifestError, match="parents='ward': no layer 'ward'"):
        change_map(rekeyed, after, d, tiles=None, parents="ward")


@pytest.mark.realdata
def test_a_real_council_keyed_lsoa_msoa_wd(plymouth):
    read = lg.read_layer
    lsoa = read(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)
    msoa = read(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    wards = read(plymouth / "wards_2013.geojson", "WD13CD", name="WD13NM").to_crs(27700)
    real = lg.BoundarySet.from_layers(
        {"lsoa": lsoa, "msoa": msoa, "wd": wards}, nesting=[lg.NestingRule("msoa", "wd")]
    ).with_blocks("msoa", "lsoa")
    assert len(real["wd"]) < len(real["msoa"])  # wards are the coarsest
    # LSOAs nest in the MSOAs built from them and through them in the wards;
    # MSOAs are built from LSOAs, so only the wards are left to draw
    assert outlines(locality_map(real, "lsoa", tiles=None)) == {"Wd boundaries": "bold"}
    assert outlines(locality_map(real, "msoa", tiles=None)) == {"Wd boundaries": "bold"}
    proposal = lg.realign(real, "msoa", "wd")
    after = lg.apply(real, proposal)
    d = lg.diff(real, after, "msoa")
    assert outlines(change_map(real, after, d, tiles=None)) == {"Wd boundaries": "dashed"}
