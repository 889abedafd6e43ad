"""Locality maps: colouring, escaping, gap-free simplification, atomic saving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from localitygeo import aggregate, read_boundaries
from localitygeo.errors import ColumnError
from localitygeo.maps import locality_map, save, simplify_coverage
from localitygeo.maps.locality import neighbour_colours
from localitygeo.maps.publish import outline_edges, to_web

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
    m = locality_map(city, indicator="imd_score", data=agg, k=5, attribution="Fictional data")
    path = tmp_path / "map.html"
    size = save(m, path)
    text = path.read_text()
    assert size == path.stat().st_size > 10_000
    assert text.count('class="localitygeo-legend"') == 1
    assert "Fictional data" in text
    assert text.count("\u2013") >= 5  # five class ranges in the legend
    assert '"code":"EXN01"' in text  # compact JSON
    # Localities bold and wards toggleable are both drawn.
    assert "Locality boundaries" in text and "Ward boundaries" in text


def test_names_are_escaped(city, tmp_path):
    nbhd = city["neighbourhood"].copy()
    nbhd.loc[0, "name"] = EVIL
    bset = city.with_layers(neighbourhood=nbhd)
    path = tmp_path / "evil.html"
    save(locality_map(bset, title=EVIL), path)
    text = path.read_text()
    assert EVIL not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_unknown_indicator(city):
    with pytest.raises(ColumnError, match="no indicator column 'nope'"):
        locality_map(city, indicator="nope")


def test_save_is_atomic(city, tmp_path):
    path = tmp_path / "m.html"
    path.write_text("old")
    m = locality_map(city)
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
    save(locality_map(city), path, inline=True)
    text = path.read_text()
    assert "<script src=" not in text and 'rel="stylesheet" href="http' not in text
    assert "leaflet" in text.lower() and len(text) > 100_000  # Leaflet itself is embedded
    monkeypatch.setenv("LOCALITYGEO_MAP_ASSETS", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="fetch-map-assets"):
        save(locality_map(city), tmp_path / "x.html", inline=True)
    assert not (tmp_path / "x.html").exists()
