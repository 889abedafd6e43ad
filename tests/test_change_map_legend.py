"""The change map's colours and legend: units coloured alike on both panes, every style named.

A block that moves changes colour between the panes (its unit's colour
before, its new unit's after); neighbouring units differ in colour; and the
legend has a row, with a swatch drawn in the same colour and dash, for every
style the pane draws (the units' fill and outline, the parents' dashed
outline, the moved blocks). Checked in the page data and in Debian's
headless Chromium with the network cut.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

import localitygeo as lg
from localitygeo.maps import change_map, save
from localitygeo.maps.change import MOVED_COLOUR, UNIT_COLOURS, fixed_parent
from localitygeo.maps.page import page_data
from tests.hostile.browser import Page, launch

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    city = lg.read_boundaries(CITY)
    after = lg.apply(city, lg.read_proposal(CITY / "proposals" / "realign-to-wards.toml"))
    d = lg.diff(city, after, "neighbourhood")
    path = tmp_path_factory.mktemp("legend") / "change.html"
    m = change_map(city, after, d, parents=fixed_parent(city, "neighbourhood"), tiles=None)
    save(m, path, inline=True)
    return city, after, d, path, page_data(path.read_text())


def _fills(pane: dict) -> dict[str, str]:
    units = pane["layers"][0]
    return {
        row[0]: units["fill"]["colours"][i]
        for row, i in zip(units["rows"], units["fill"]["index"], strict=True)
    }


def test_units_keep_their_colour_and_neighbours_differ(drawn):
    city, after, d, _, panes = drawn
    before, now = _fills(panes[0]), _fills(panes[1])
    assert set(before.values()) | set(now.values()) <= set(UNIT_COLOURS)
    assert all(before[c] == now[c] for c in before.keys() & now.keys())  # same on both panes
    for bset, fills in ((city, before), (after, now)):
        units = bset["neighbourhood"]
        geoms = np.asarray(units.geometry.array, dtype=object)
        a, b = shapely.STRtree(geoms).query(geoms, predicate="touches")
        codes = units["code"].to_numpy()
        assert all(fills[codes[i]] != fills[codes[j]] for i, j in zip(a, b, strict=True))
    # so every moved block changes colour: from its old unit's to its new unit's
    touching = d.moved[["from_unit", "to_unit"]].drop_duplicates()
    assert all(before[f] != now[t] for f, t in touching.itertuples(index=False))


def test_legend_names_every_style(drawn):
    *_, d, _, panes = drawn
    legend = panes[1]["legend"]
    texts = [row[1] for row in legend["rows"]]
    assert texts[0] == "A colour per unit, the same on both panes"
    assert texts[1] == "Neighbourhood boundaries"
    assert texts[2] == "Ward boundaries (dashed)"
    assert texts[3].startswith(f"Moved blocks (red): {len(d.moved)} blocks moved")
    swatches = [row[0] for row in legend["rows"]]
    assert "repeating-linear-gradient" in swatches[2] and swatches[3] == MOVED_COLOUR


def test_legend_swatches_match_what_the_pane_draws(drawn):
    *_, path, _ = drawn
    with launch() as browser:
        page = Page(browser, path)
        right = page.page.locator(".folium-map").nth(1)
        styles = right.evaluate(
            """el => [...el.querySelectorAll("path[stroke]")].map(p => [
                p.getAttribute("stroke"), p.getAttribute("stroke-dasharray"),
                p.getAttribute("fill")])"""
        )
        swatches = page.page.evaluate(
            """() => [...document.querySelectorAll(".localitygeo-legend span")].map(s => {
                const c = getComputedStyle(s);
                return c.backgroundImage + " " + c.backgroundColor; })"""
        )
        rows = page.page.locator(".localitygeo-legend").inner_text()
        page.shot("change-map-legend")
        page.close()

    def rgb(hex_colour: str) -> str:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgb({r}, {g}, {b})"

    strokes = {(s, dash) for s, dash, _ in styles}
    assert len(strokes) == 3  # unit outlines, dashed ward outlines, moved-block outlines
    for stroke, dash in strokes:
        hits = [s for s in swatches if rgb(stroke) in s]
        assert hits, stroke  # a legend swatch in that colour
        assert any(("repeating" in s) == (dash is not None) for s in hits)  # and that dash
    fills = {f for *_, f in styles} - {"none", MOVED_COLOUR}
    assert fills <= set(UNIT_COLOURS)
    assert sum(rgb(c) in swatches[0] for c in UNIT_COLOURS) >= 4  # the units' swatch
    assert "Ward boundaries (dashed)" in rows and "Moved blocks" in rows


def test_legend_title_is_the_layers_title_not_its_key():
    from localitygeo.maps import render_html
    from localitygeo.maps.page import page_data

    city = lg.read_boundaries(Path(__file__).resolve().parents[1] / "boundaries" / "example-city")
    after = lg.apply(city, lg.realign(city, "neighbourhood", "ward"))
    d = lg.diff(city, after, "neighbourhood")
    panes = page_data(render_html(change_map(city, after, d, tiles=None)))
    title = city.specs["neighbourhood"].title
    assert title and title != "neighbourhood"
    assert panes[1]["legend"]["title"] == f"Change in {title}"
