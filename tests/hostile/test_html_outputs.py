"""The command line's HTML, Markdown and JSON outputs from hostile input, in a browser.

Two generated sets, each with every hostile text of the harness in every
field a user controls (tests/hostile/sets.py): the example city, and
Plymouth's real LSOAs, MSOAs and wards. For each, ``localitygeo map`` (a
choropleth of an indicator named by the payload), ``map --proposal`` and
``impact -o`` HTML, Markdown and JSON run as a user would (inputs unchanged,
no stray file, no traceback). Every HTML output is opened in headless
Chromium with the network cut: nothing runs (no dialog, ``window.__pwned``
unset, no console error, the file payload wrote nothing) and the payloads
show literally in tooltips, popups, legends, layer controls and tables.
Markdown renders to no element from data; JSON reads back exactly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .browser import Page
from .harness import run_cli
from .sets import HostileSet, everything, example_city, plymouth
from .test_markdown import RENDERERS, _Html, shown

ATTRIBUTION = "Made up © nobody"


@pytest.fixture(
    scope="module", params=["example-city", pytest.param("plymouth", marks=pytest.mark.realdata)]
)
def hostile(request, tmp_path_factory):
    """A generated set, the marker its file payload would create, and its outputs."""
    tmp = tmp_path_factory.mktemp(request.param)
    marker = tmp / "pwned"
    text = everything(marker)
    if request.param == "plymouth":
        shared = request.getfixturevalue("shared_data")
        hs = plymouth(tmp, text, shared)
    else:
        hs = example_city(tmp, text)
    out = tmp / "out"
    out.mkdir()
    return hs, marker, out


def _run(hs: HostileSet, out: Path, *args: str | Path, output: str) -> Path:
    path = out / output
    run_cli(*args, "-o", path, inputs=[hs.folder, hs.proposal], outputs=[path], expect=0)
    return path


@pytest.fixture(scope="module")
def outputs(hostile):
    hs, marker, out = hostile
    texts = ("--title", hs.text, "--attribution", hs.text)
    choropleth = ("--indicator", hs.indicator, "--from", hs.blocks, "--weight", "population")
    unit = ("--layer", hs.unit)
    impact = ("impact", hs.folder, "--proposal", hs.proposal, "--indicator", hs.indicator)
    files = {
        "map": _run(hs, out, "map", hs.folder, *unit, *choropleth, *texts, "--inline",
                    "--label", hs.text, "--labels", hs.unit, output="map.html"),
        "change": _run(hs, out, "map", hs.folder, *unit, "--proposal", hs.proposal, *texts,
                       "--inline", output="change.html"),
        **{
            suffix: _run(hs, out, *impact, *texts[2:], output=f"report.{suffix}")
            for suffix in ("html", "md", "json")
        },
    }  # fmt: skip
    assert not marker.exists()  # no template ran while writing them
    return hs, marker, files


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_no_output_holds_an_evaluated_template(outputs):
    _, marker, files = outputs
    for path in files.values():
        text = _read(path)
        assert "SSTI49END" not in text and "PWNEDyes" not in text, path.name
    assert not marker.exists()


def _text(locator) -> str:
    return locator.evaluate("el => el.textContent")


def test_map_runs_nothing_and_shows_the_texts(browser, outputs, request):
    hs, marker, files = outputs
    p = Page(browser, files["map"])
    page = p.page
    assert page.locator("img[src=x]").count() == 0 and page.locator("script").count() >= 3
    legend = _text(page.locator(".localitygeo-legend"))
    assert legend.startswith(hs.text) and legend.endswith(hs.text)  # --label, --attribution

    # --title: the page's title (browsers show control characters as spaces and
    # collapse spaces in titles)
    def plain(text: str) -> str:
        return re.sub(r"[\x00-\x20\x7f]+", " ", text).strip(" ")

    assert plain(page.title()) == plain(hs.text)
    # --labels: every unit's hostile name written on the map, as text
    names = page.locator(".localitygeo-name")
    assert names.count() > 0 and all(hs.text in _text(names.nth(i)) for i in range(3))
    assert hs.text in _text(page.locator(".leaflet-control-layers"))  # the layer's title
    assert hs.text in _text(page.locator(".leaflet-control-attribution"))
    # Hover units until a tooltip shows: its label is the indicator's (hostile)
    # column name and its name is the hostile name, as text.
    units = page.locator("path.leaflet-interactive")
    tip = ""
    for i in range(units.count()):
        box = units.nth(i).bounding_box()
        if box is None:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if page.locator(".leaflet-tooltip").count():
            tip = _text(page.locator(".leaflet-tooltip"))
            break
    assert tip.count(hs.text) >= 2  # the label (--label) and the unit's name
    p.shot(f"hostile-map-{request.node.callspec.id}")
    p.close()
    assert not marker.exists()


def test_change_map_runs_nothing_and_shows_the_texts(browser, outputs, request):
    hs, marker, files = outputs
    p = Page(browser, files["change"])
    page = p.page
    assert page.locator(".folium-map").count() == 2
    legend = _text(page.locator(".localitygeo-legend"))
    assert legend.startswith(hs.text) and legend.endswith(hs.text)
    labels = _text(page.locator(".leaflet-control-layers").nth(1))
    assert f"{hs.text} after" in labels  # the unit layer's title
    assert f"{hs.parent.replace('_', ' ').title()} boundaries" in labels  # its key
    blocks = page.locator(".folium-map").nth(1).locator('path[fill="#e34a33"]')
    box = blocks.first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert hs.text in _text(popup)
    p.shot(f"hostile-change-{request.node.callspec.id}")
    p.close()
    assert not marker.exists()


def test_impact_html_runs_nothing_and_shows_the_texts(browser, outputs, request):
    hs, marker, files = outputs
    p = Page(browser, files["html"], wait=False)
    page = p.page
    assert page.locator("img, script").count() == 0  # the report itself has no script
    body = _text(page.locator("body"))
    text = hs.text.replace("\r", "\n")  # as HTML's parser reads any text
    assert body.count(text) >= 10
    assert _text(page.locator("title")) == f"Impact of \u201c{text}\u201d"
    frame = page.frame_locator("iframe.map")
    frame.locator("path.leaflet-interactive").first.wait_for()
    assert _text(frame.locator(".localitygeo-legend")).endswith(hs.text)
    page.locator("iframe.map").scroll_into_view_if_needed()
    p.shot(f"hostile-impact-{request.node.callspec.id}")
    p.close()
    assert not marker.exists()


@pytest.mark.parametrize("render", RENDERERS, ids=lambda r: r.__name__)
def test_impact_markdown_makes_no_element_from_data(outputs, render):
    hs, _, files = outputs
    parsed = _Html(render(_read(files["md"])))
    assert {t for t, _ in parsed.tags} <= {
        "h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"
    }  # fmt: skip
    assert all(k == "style" for _, attrs in parsed.tags for k, _ in attrs)
    assert parsed.text.startswith(f"Impact of \u201c{shown(hs.text)}\u201d")
    assert parsed.text.count(shown(hs.text)) >= 10


def test_impact_json_reads_back_exactly(outputs):
    hs, _, files = outputs
    data = json.loads(_read(files["json"]))
    assert data["name"] == data["description"] == hs.text
    assert list(data["units"]) == [k for k in data["units"] if k.endswith(hs.text)]
    names = [u["name"] for table in data["units"].values() for u in table]
    assert names and all(n.startswith(hs.text) for n in names if n)
