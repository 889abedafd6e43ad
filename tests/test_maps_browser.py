"""Published maps opened in a real browser: Debian's headless Chromium, no network.

Every request leaving the page is intercepted: map tiles get a blank PNG made
here, anything else is refused and recorded, so a page that needs the network
fails. Each test saves a screenshot in ``test-output/browser/`` (or
``$LOCALITYGEO_TEST_OUTPUT/browser/``) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import localitygeo as lg
from localitygeo import read_boundaries
from localitygeo.maps import change_map, locality_map, save
from localitygeo.maps.change import MOVED_COLOUR
from tests.hostile.browser import Page

REPO = Path(__file__).resolve().parents[1]
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def evil_map(tmp_path_factory):
    city = read_boundaries(REPO / "boundaries" / "example-city")
    nbhd = city["neighbourhood"].copy()
    nbhd.loc[0, "name"] = EVIL
    bset = city.with_layers(neighbourhood=nbhd)
    path = tmp_path_factory.mktemp("maps") / "map.html"
    save(locality_map(bset, "neighbourhood", title="Neighbourhoods"), path, inline=True)
    return path, len(nbhd)


def _open(browser, path: Path):
    p = Page(browser, path)
    return p.page, p


def test_map_draws_offline_with_tooltips_and_legend(browser, evil_map):
    path, n_units = evil_map
    page, p = _open(browser, path)
    # One interactive path per neighbourhood (outlines are not interactive).
    assert page.locator("path.leaflet-interactive").count() == n_units
    assert page.locator(".localitygeo-legend").is_visible()
    box = page.locator("path.leaflet-interactive").nth(5).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".leaflet-tooltip")
    assert "EXN" in page.locator(".leaflet-tooltip").inner_text()
    p.shot("locality-map")
    assert p.tiles > 0  # the background asked for tiles, and got blank ones
    p.close()


def test_injected_name_shows_as_text_and_never_runs(browser, evil_map):
    path, _ = evil_map
    page, p = _open(browser, path)
    assert page.locator("img[src=x]").count() == 0
    # Hover every unit until the one with the injected name shows its tooltip.
    shown = ""
    for i in range(page.locator("path.leaflet-interactive").count()):
        box = page.locator("path.leaflet-interactive").nth(i).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = page.locator(".leaflet-tooltip")
        if tip.count() and "onerror" in tip.inner_text():
            shown = tip.inner_text()
            break
    assert EVIL in shown
    assert page.locator("img[src=x]").count() == 0
    p.shot("locality-map-injected-name")
    p.close()


def test_a_page_that_needs_the_network_fails_the_check(browser, tmp_path):
    # The harness itself: a map saved without inline assets asks for Leaflet
    # from a CDN, is refused, and its scripts fail; close() must catch that.
    city = read_boundaries(REPO / "boundaries" / "example-city")
    path = tmp_path / "online.html"
    save(locality_map(city, "neighbourhood"), path)
    p = Page(browser, path, wait=False)
    p.page.wait_for_timeout(500)
    assert any("leaflet" in url for url in p.refused)
    assert any("L is not defined" in e for e in p.errors), p.errors
    with pytest.raises(AssertionError):
        p.close()


def _moves(bset):
    """The realignment's block moves (one line to adapt when realign returns a Proposal)."""
    return lg.realign(bset, "neighbourhood", "ward", blocks="small_area").moves


@pytest.fixture(scope="module")
def change(tmp_path_factory):
    city = read_boundaries(REPO / "boundaries" / "example-city")
    after = lg.apply_moves(city, "neighbourhood", "small_area", _moves(city))
    d = lg.diff(city, after, "neighbourhood", blocks="small_area")
    # One unit that loses blocks gets a hostile name, in the after set too.
    victim = d.moved["from_unit"].iloc[0]
    named = {}
    for key, bset in (("before", city), ("after", after)):
        nbhd = bset["neighbourhood"].copy()
        nbhd.loc[nbhd["code"] == victim, "name"] = EVIL
        named[key] = bset.with_layers(neighbourhood=nbhd)
    path = tmp_path_factory.mktemp("maps") / "change.html"
    save(change_map(named["before"], named["after"], d), path, inline=True)
    return path, d, victim


def _moved_paths(page, pane: int):
    return page.locator(".folium-map").nth(pane).locator('path[fill="#e34a33"]')


def test_change_map_draws_both_panes_and_the_moved_blocks(browser, change):
    path, d, _ = change
    page, p = _open(browser, path)
    panes = page.locator(".folium-map")
    assert panes.count() == 2
    left, right = (panes.nth(i).bounding_box() for i in range(2))
    assert left["x"] + left["width"] <= right["x"] + 1  # side by side
    titles = [
        page.locator(f'.localitygeo-pane-title[data-side="{s}"]') for s in ("before", "after")
    ]
    assert [t.inner_text() for t in titles] == ["Before", "After"]
    n_before = page.locator(".folium-map").nth(0).locator("path.leaflet-interactive").count()
    n_after = page.locator(".folium-map").nth(1).locator("path.leaflet-interactive").count()
    moved = len(d.moved)
    # Units plus one path per moved block on each pane.
    assert n_before == (d.units["area_before"] > 0).sum() + moved
    assert n_after == (d.units["area_after"] > 0).sum() + moved
    assert _moved_paths(page, 0).count() == moved and _moved_paths(page, 1).count() == moved
    assert f"{moved} blocks moved" in page.locator(".localitygeo-legend").inner_text()
    # The panes move together (Leaflet.Sync): zoom the left one, the right one follows.
    zooms = (
        "() => Object.keys(window).filter(k => /^map_[0-9a-f]+$/.test(k))"
        ".map(k => window[k].getZoom())"
    )
    start = page.evaluate(zooms)
    assert len(start) == 2 and start[0] == start[1]
    panes.nth(0).locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(f"() => ({zooms})().every(z => z === {start[0] + 1})")
    p.shot("change-map")
    p.close()


def test_change_map_popup_names_from_to_and_population(browser, change):
    path, d, victim = change
    page, p = _open(browser, path)
    row = d.moved[d.moved["from_unit"] == victim].iloc[0]
    text = ""
    blocks = _moved_paths(page, 1)
    for i in range(blocks.count()):
        blocks.nth(i).click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        if row["block"] in popup.inner_text():
            text = popup.inner_text()
            break
    assert row["block"] in text
    assert f"{victim} {EVIL}" in text  # the hostile name is shown as text...
    assert page.locator("img[src=x]").count() == 0  # ...and never becomes an element
    assert row["to_unit"] in text
    assert f"{int(row['population']):,}" in text
    p.shot("change-map-popup")
    p.close()


def test_impact_report_with_its_change_map(browser, tmp_path):
    import subprocess
    import sys

    city = REPO / "boundaries" / "example-city"
    out = tmp_path / "impact.html"
    exe = Path(sys.executable).with_name("localitygeo")
    r = subprocess.run(
        [str(exe), "impact", str(city), "--proposal",
         str(city / "proposals" / "realign-to-wards.toml"), "--indicator", "imd_score",
         "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    page = Page(browser, out, wait=False)
    body = page.page.inner_text("body")
    assert body.index("Summary") < body.index("measures before and after")
    assert "small areas move to another neighbourhood" in body
    frame = page.page.frame_locator("iframe.map")
    moved = lg.realign(read_boundaries(city), "neighbourhood", "ward").moves
    # both panes draw the moved blocks
    frame.locator("path.leaflet-interactive").first.wait_for()
    red = frame.locator(f'path.leaflet-interactive[fill="{MOVED_COLOUR}"]')
    assert red.count() == 2 * len(moved)
    page.page.locator("iframe.map").scroll_into_view_if_needed()
    page.shot("impact-report")
    page.close()


IMD_FILE = "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
IMD_RANK = "Index of Multiple Deprivation (IMD) Rank"


@pytest.fixture(scope="module")
def imd_map(tmp_path_factory, shared_data):
    """Copeland's 49 LSOAs coloured by IMD 2019 rank, tiles off, ward names written on."""
    copeland = shared_data / "councils" / "copeland"
    lsoa = lg.read_layer(copeland / "lsoa_2011.geojson", code="LSOA11CD", name="LSOA11NM")
    wards = lg.read_layer(copeland / "wards_2013.geojson", code="WD13CD", name="WD13NM")
    bset = lg.BoundarySet.from_layers({"lsoa": lsoa, "ward": wards}, crs="EPSG:27700")
    imd = lg.read_indicators(
        shared_data / "imd2019" / IMD_FILE,
        "LSOA code (2011)",
        columns={IMD_RANK: "imd_rank"},
        numeric=["imd_rank"],
    )
    path = tmp_path_factory.mktemp("maps") / "imd.html"
    m = locality_map(bset, "lsoa", "imd_rank", data=imd, k=5, tiles=None, labels="ward")
    save(m, path, inline=True)
    ranks = imd["imd_rank"].reindex(bset["lsoa"]["code"]).to_numpy()
    return path, bset, ranks


def test_real_imd_map_draws_the_most_deprived_darkest(browser, imd_map):
    import mapclassify

    from localitygeo.maps.scale import luminance

    path, bset, ranks = imd_map
    page, p = _open(browser, path)
    codes = list(bset["lsoa"]["code"])
    units = page.locator("path.leaflet-interactive")
    assert units.count() == len(codes)

    def fill(i: int) -> str:
        # The i-th drawn unit is the i-th LSOA: hovering it shows that LSOA's code.
        box = units.nth(i).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(f".leaflet-tooltip:has-text('{codes[i]}')")
        return units.nth(i).get_attribute("fill")

    worst, best = int(ranks.argmin()), int(ranks.argmax())
    assert luminance(fill(worst)) < luminance(fill(best))
    # Legend: the human title, which end is worse, and the data's classes in order.
    legend = page.locator(".localitygeo-legend")
    assert legend.locator("strong").inner_text() == IMD_RANK
    assert "Darker is worse" in legend.inner_text()
    reference = mapclassify.Quantiles(ranks.astype(float), k=5)
    expected = [
        f"{int(ranks[reference.yb == c].min()):,} – {int(ranks[reference.yb == c].max()):,}"
        for c in range(5)
    ]
    rows = legend.locator(".localitygeo-legend-row")
    assert [rows.nth(i).inner_text().strip() for i in range(rows.count())] == expected
    swatches = [
        luminance(rows.nth(i).locator("span").evaluate("e => getComputedStyle(e).backgroundColor"))
        for i in range(rows.count())
    ]
    assert swatches == sorted(swatches)  # darkest first: the lowest ranks
    # Ward names written on the map, as text.
    names = page.locator(".localitygeo-name")
    assert sorted(names.all_inner_texts()) == sorted(bset["ward"]["name"])
    assert page.title() == f"{IMD_RANK}: LSOA"
    page.mouse.move(5, 690)  # no tooltip in the picture
    p.shot("imd-rank-map")
    assert p.tiles == 0  # tiles off: not one request leaves the page (close() checks the rest)
    p.close()


def test_page_decodes_the_arcs_as_python_does(browser, imd_map):
    import json

    import numpy as np
    import shapely

    from localitygeo.maps.page import layer_geometries, page_data

    path, bset, _ = imd_map
    page, p = _open(browser, path)
    drawn = page.evaluate("() => JSON.stringify(window.localitygeo.drawn)")
    p.close()
    (doc,) = page_data(path.read_text(encoding="utf-8"))
    layers = json.loads(drawn)
    assert [ly["name"] for ly in layers] == [ly["name"] for ly in doc["layers"]]
    for shown, spec in zip(layers, doc["layers"], strict=True):
        ours = layer_geometries(doc, spec)
        theirs = [
            shapely.from_geojson(json.dumps(f["geometry"])) for f in shown["geojson"]["features"]
        ]
        assert len(theirs) == len(ours)
        for a, b in zip(ours, theirs, strict=True):  # the same points, ring by ring
            assert shapely.get_num_geometries(a) == shapely.get_num_geometries(b)
            assert np.allclose(shapely.get_coordinates(a), shapely.get_coordinates(b), atol=1e-9)
    assert len(layers[0]["geojson"]["features"]) == len(bset["lsoa"])
