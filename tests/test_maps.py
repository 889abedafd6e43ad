"""Locality maps: colouring, escaping, gap-free simplification, atomic saving."""

from __future__ import annotations

from pathlib import Path

import folium
import numpy as np
import pytest
import shapely
from folium.plugins import DualMap

import localitygeo as lg
from localitygeo import aggregate, read_boundaries
from localitygeo.errors import ColumnError, DataError
from localitygeo.maps import change_map, locality_map, save, simplify_coverage
from localitygeo.maps.change import MOVED_COLOUR
from localitygeo.maps.locality import neighbour_colours
from localitygeo.maps.page import layer_geometries, page_data
from localitygeo.maps.publish import assets_dir, outline_edges, to_web

REPO = Path(__file__).resolve().parents[1]
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def city():
    return read_boundaries(REPO / "boundaries" / "example-city")


def test_coverage_simplification_opens_no_gaps_or_overlaps(city):
    nbhd = city["neighbourhood"]
    simple = simplify_coverage(nbhd, 25.0)
    before = shapely.get_num_coordinates(nbhd.geometry.values).sum()
    after = shapely.get_num_coordinates(simple.geometry.values).sum()
    assert after < before
    assert shapely.coverage_is_valid(simple.geometry.values)
    union = shapely.union_all(simple.geometry.values)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert nbhd.geometry.equals(city["neighbourhood"].geometry)  # input untouched


def test_a_coverage_that_is_not_vertex_exact_is_cleaned_not_split(city, recwarn):
    nbhd = city["neighbourhood"]
    # Nudge one unit by 1 mm: its edges no longer match its neighbours' vertex for vertex.
    nudged = nbhd.copy()
    nudged.loc[0, "geometry"] = shapely.affinity.translate(nbhd.geometry.iloc[0], 0.001, 0.0)
    assert not shapely.coverage_is_valid(nudged.geometry.values)
    simple = simplify_coverage(nudged, 25.0)
    assert shapely.coverage_is_valid(simple.geometry.values)
    assert not [w for w in recwarn if "vertex-exact" in str(w.message)]
    assert nudged.geometry.iloc[0].equals(
        shapely.affinity.translate(nbhd.geometry.iloc[0], 0.001, 0.0)
    )  # input untouched


def test_outline_edges_draw_each_shared_edge_once(city):
    nbhd = city["neighbourhood"]
    net = outline_edges(nbhd, 0.0)
    assert len(net) == 1 and list(net.columns) == ["geometry"]
    perimeters = shapely.length(nbhd.geometry.values).sum()
    outer = shapely.union_all(nbhd.geometry.values).boundary.length
    # Interior edges once, the outer boundary once: (sum of perimeters + outer) / 2.
    assert net.geometry.iloc[0].length == pytest.approx((perimeters + outer) / 2, rel=1e-9)


def test_rounding_for_the_web_keeps_neighbours_edge_matched(city):
    web = to_web(simplify_coverage(city["small_area"], 10.0), precision=5)
    assert str(web.crs) == "EPSG:4326"
    assert shapely.coverage_is_valid(web.geometry.values)
    coords = shapely.get_coordinates(web.geometry.values)
    assert np.allclose(coords, np.round(coords, 5), atol=1e-12)


def test_neighbours_never_share_a_colour(city):
    nbhd = city["neighbourhood"]
    colour = neighbour_colours(nbhd)
    geoms = nbhd.geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    touching = a != b
    assert (colour[a[touching]] != colour[b[touching]]).all()
    assert colour.max() < 7  # a planar map needs few colours


def test_choropleth_tooltips_legend_and_attribution(city, tmp_path):
    data = city["small_area"].set_index("code")[["population", "imd_score"]]
    agg = aggregate(
        data,
        city["small_area"],
        city["neighbourhood"],
        extensive=["population"],
        intensive=["imd_score"],
        weight="population",
    )
    m = locality_map(
        city, "neighbourhood", indicator="imd_score", data=agg, k=5, attribution="Fictional data"
    )
    path = tmp_path / "map.html"
    written = save(m, path)
    text = path.read_text()
    assert isinstance(written, Path) and written == path
    assert path.stat().st_size > 10_000
    assert text.count('class="localitygeo-data"') == 1  # one map, drawn from one data block
    assert "openstreetmap.org/copyright" in text  # the tiles keep their own credit
    (page,) = page_data(text)
    assert len(page["legend"]["rows"]) == 5  # five class ranges in the legend
    assert all("\u2013" in row[1] for row in page["legend"]["rows"])
    assert page["legend"]["note"] == page["attribution"] == "Fictional data"
    units = page["layers"][0]
    assert units["labels"] == ["Code", "Name", "IMD score"]
    first = city["neighbourhood"].iloc[0]
    assert units["rows"][0][:2] == [first["code"], first["name"]]
    # Every score is written with the same decimals, and rounds the value.
    (decimals,) = {len(row[2].partition(".")[2]) for row in units["rows"]}
    score = agg.loc[first["code"], "imd_score"]
    assert units["rows"][0][2] == f"{score:,.{decimals}f}"
    shapes = layer_geometries(page, units)
    assert len(shapes) == len(units["rows"]) == len(city["neighbourhood"])
    assert "geojson" not in units  # drawn from the map's shared arcs
    assert '"labels":["Code","Name","IMD score"]' in text  # compact JSON
    # Localities bold and wards toggleable are both drawn; wards start hidden.
    shown = {ly["name"]: ly["show"] for ly in page["layers"][1:]}
    assert shown == {"Ward boundaries": False, "Locality boundaries": True}


def test_names_are_escaped(city, tmp_path):
    nbhd = city["neighbourhood"].copy()
    nbhd.loc[0, "name"] = EVIL
    bset = city.with_layers(neighbourhood=nbhd)
    path = tmp_path / "evil.html"
    save(locality_map(bset, "neighbourhood", title=EVIL, labels="neighbourhood"), path)
    text = path.read_text()
    assert EVIL not in text and "<img" not in text  # never raw in the page...
    (page,) = page_data(text)
    assert page["layers"][0]["rows"][0][1] == EVIL  # ...but exact in its data
    assert page["pageTitle"] == EVIL
    assert EVIL in page["names"]["texts"]  # a name written on the map is data too


@pytest.mark.parametrize("k", [0, -1, 2.5, True, 10_000])
def test_the_number_of_classes_is_checked(city, k):
    with pytest.raises(DataError, match=r"number of classes|-k can be at most"):
        locality_map(city, "small_area", indicator="population", k=k)


def test_a_text_indicator_is_refused_naming_the_column_and_units(city):
    with pytest.raises(DataError, match=r"column 'name' holds values that are not numbers: EXN01"):
        locality_map(city, "neighbourhood", indicator="name")
    small = city["small_area"].copy()
    small["score"] = np.inf
    with pytest.raises(DataError, match="infinite values"):
        locality_map(city.with_layers(small_area=small), "small_area", indicator="score")
    small["score"] = np.nan
    with pytest.raises(DataError, match="no values"):
        locality_map(city.with_layers(small_area=small), "small_area", indicator="score")


def test_a_constant_indicator_in_equal_intervals_is_a_clean_error(city):
    small = city["small_area"].assign(score=1.0)
    with pytest.raises(DataError, match="only 1 distinct value, so -k can be at most 1"):
        locality_map(city.with_layers(small_area=small), "small_area", indicator="score")
    with pytest.raises(DataError, match="cannot classify indicator 'score'"):
        locality_map(
            city.with_layers(small_area=small),
            "small_area",
            indicator="score",
            scheme="equal_interval",
            k=1,
        )


def test_unknown_indicator(city):
    with pytest.raises(ColumnError, match="no indicator column 'nope'"):
        locality_map(city, "neighbourhood", indicator="nope")


def test_save_is_atomic(city, tmp_path):
    path = tmp_path / "m.html"
    path.write_text("old")
    m = locality_map(city, "neighbourhood")
    save(m, path)
    assert path.read_text() != "old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".m.html")]
    assert np.isfinite(path.stat().st_size)


def test_map_command(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "m.html"
    exe = Path(sys.executable).parent / "localitygeo"
    res = subprocess.run(
        [
            str(exe),
            "map",
            str(REPO / "boundaries" / "example-city"),
            "--indicator",
            "imd_score",
            "--from",
            "small_area",
            "--weight",
            "population",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "KiB" in res.stdout and out.exists()
    # The size report: parts in bytes that add up to the file's size.
    parts = {
        line[:36].strip(): int(line[36:].replace(",", "").split()[0])
        for line in res.stdout.splitlines()[1:]
        if line.endswith(" bytes")
    }
    assert sum(parts.values()) == out.stat().st_size
    assert parts["coordinates (shared arcs)"] > parts["units (rings of arcs)"] > 0
    assert parts["tooltips"] > 0 and "GeoJSON" not in parts and "Leaflet, inlined" not in parts
    bad = subprocess.run(
        [
            str(exe),
            "map",
            str(REPO / "boundaries" / "example-city"),
            "--indicator",
            "nope",
            "-o",
            str(tmp_path / "x.html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "no indicator column 'nope'" in bad.stderr
    assert not (tmp_path / "x.html").exists()


def test_inline_map_needs_no_network(city, tmp_path, monkeypatch):
    from localitygeo.errors import InputError

    path = tmp_path / "offline.html"
    save(locality_map(city, "neighbourhood"), path, inline=True)
    text = path.read_text()
    assert "<script src=" not in text and 'rel="stylesheet" href="http' not in text
    assert "leaflet" in text.lower() and len(text) > 100_000  # Leaflet itself is embedded
    monkeypatch.setenv("LOCALITYGEO_MAP_ASSETS", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="fetch-map-assets"):
        save(locality_map(city, "neighbourhood"), tmp_path / "x.html", inline=True)
    assert not (tmp_path / "x.html").exists()


def _moves(bset):
    """The realignment's block moves (one line to adapt when realign returns a Proposal)."""
    return lg.realign(bset, "neighbourhood", "ward", blocks="small_area").moves


@pytest.fixture(scope="module")
def change(city):
    after = lg.apply_moves(city, "neighbourhood", "small_area", _moves(city))
    return after, lg.diff(city, after, "neighbourhood", blocks="small_area")


def test_change_map_shows_moved_blocks_on_both_panes(city, change, tmp_path):
    after, d = change
    assert len(d.moved) > 0
    m = change_map(city, after, d)
    assert isinstance(m, DualMap) and isinstance(m.m1, folium.Map)
    path = tmp_path / "change.html"
    save(m, path)
    text = path.read_text()
    panes = page_data(text)
    assert [p["title"]["side"] for p in panes] == ["before", "after"]
    blocks = [ly for p in panes for ly in p["layers"] if ly["name"] == "Moved blocks"]
    assert len(blocks) == 2  # one moved-blocks layer per pane
    for ly in blocks:
        assert ly["labels"] == ["Block", "From", "To", "Population"] and ly["detail"] == "popup"
        assert sorted(row[0] for row in ly["rows"]) == sorted(d.moved["block"])
        assert len(ly["geojson"]["features"]) == len(ly["rows"])
    first = d.moved.iloc[0]
    shown = next(row for row in blocks[0]["rows"] if row[0] == first["block"])
    name_from = city["neighbourhood"].set_index("code").loc[first["from_unit"], "name"]
    name_to = after["neighbourhood"].set_index("code").loc[first["to_unit"], "name"]
    assert shown[1] == f"{first['from_unit']} {name_from}"
    assert shown[2] == f"{first['to_unit']} {name_to}"
    assert shown[3] == f"{int(first['population']):,}"
    units = [p["layers"][0] for p in panes]
    assert [len(ly["rows"]) for ly in units] == [
        len(city["neighbourhood"]),
        len(after["neighbourhood"]),
    ]
    assert "L.Map.Sync" in text or "Leaflet.Sync" in text
    total = int(d.moved["population"].sum())
    assert panes[0]["legend"] is None  # one legend, on the right pane
    assert panes[1]["legend"]["rows"][-1] == [
        MOVED_COLOUR,
        f"Moved blocks (red): {len(d.moved)} blocks moved, population {total:,}",
    ]


def test_change_map_escapes_names(city, change, tmp_path):
    after, d = change
    victim = d.moved["to_unit"].iloc[0]
    nbhd = after["neighbourhood"].copy()
    nbhd.loc[nbhd["code"] == victim, "name"] = EVIL
    path = tmp_path / "evil.html"
    save(change_map(city, after.with_layers(neighbourhood=nbhd), d, title=EVIL), path)
    text = path.read_text()
    assert EVIL not in text and "<img" not in text
    _, after_pane = page_data(text)
    assert after_pane["legend"]["title"] == EVIL
    (moved,) = (ly for ly in after_pane["layers"] if ly["name"] == "Moved blocks")
    assert any(row[2] == f"{victim} {EVIL}" for row in moved["rows"])
    assert [victim, EVIL] in after_pane["layers"][0]["rows"]
    assert after["neighbourhood"].loc[nbhd["code"] == victim, "name"].iloc[0] != EVIL  # untouched


def test_change_map_with_nothing_moved(city, tmp_path):
    d = lg.diff(city, city, "neighbourhood", blocks="small_area")
    assert d.moved.empty
    path = tmp_path / "same.html"
    save(change_map(city, city, d, tiles=None, parents=False), path)
    text = path.read_text()
    assert "No block moved" in text
    assert not [ly for p in page_data(text) for ly in p["layers"] if ly["name"] == "Moved blocks"]
    assert "tile.openstreetmap.org" not in text and "Ward boundaries" not in text


def test_inline_change_map_embeds_leaflet_sync(city, change, tmp_path, monkeypatch):
    from localitygeo.errors import InputError

    after, d = change
    path = tmp_path / "offline.html"
    save(change_map(city, after, d), path, inline=True)
    text = path.read_text()
    assert "<script src=" not in text and 'rel="stylesheet" href="http' not in text
    assert "L.Map.include" in text or "L.Sync" in text  # Leaflet.Sync itself is embedded
    assert "url(images/" not in text and "url(data:image/png;base64," in text
    # Without Leaflet.Sync fetched, saving offline fails and writes nothing.
    partial = tmp_path / "assets"
    partial.mkdir()
    for f in ("leaflet.js", "leaflet.css"):
        (partial / f).write_text((assets_dir() / f).read_text())
    monkeypatch.setenv("LOCALITYGEO_MAP_ASSETS", str(partial))
    with pytest.raises(InputError, match=r"L\.Map\.Sync\.js .*fetch-map-assets"):
        save(change_map(city, after, d), tmp_path / "x.html", inline=True)
    assert not (tmp_path / "x.html").exists()


@pytest.mark.realdata
def test_publishing_plymouth_output_areas_opens_no_gaps_or_overlaps(plymouth, recwarn):
    # Real ONS layers are not vertex-exact (LSOAs here); publishing must still not
    # open slivers between neighbours, after simplification and rounding.
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", code="LSOA11CD").to_crs(27700)
    assert not shapely.coverage_is_valid(lsoa.geometry.values)
    web = to_web(simplify_coverage(lsoa, 10.0))
    assert not [w for w in recwarn if "vertex-exact" in str(w.message)]
    assert len(web) == len(lsoa)
    back = web.to_crs(27700)
    assert lg.find_gaps(back).empty and lg.find_overlaps(back).empty
    edges = outline_edges(lsoa, 10.0).geometry.iloc[0]
    polygons = shapely.length(simplify_coverage(lsoa, 10.0).geometry.values).sum()
    assert edges.length < 0.6 * polygons  # inner edges drawn once, not twice


def test_size_report_counts_inlined_leaflet(city, tmp_path):
    from localitygeo.maps.page import size_report

    path = tmp_path / "offline.html"
    save(locality_map(city, "neighbourhood"), path, inline=True)
    parts = dict(size_report(path.read_text()))
    leaflet = (assets_dir() / "leaflet.js").stat().st_size
    assert parts["Leaflet, inlined"] > leaflet  # the script and its styles
    assert sum(parts.values()) == path.stat().st_size
