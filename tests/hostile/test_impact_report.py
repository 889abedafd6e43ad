"""The impact report in each format, from a set and proposal hostile in every field.

The report of a hostile example city (names, a code, layer keys and
titles, the manifest's name and description, the proposal's name,
description and reasons, an indicator column's name) must show every text
literally: the HTML holds only the template's own elements, the Markdown
renders (with two renderers) to only the template's own elements, and the
JSON reads back exactly.
"""

from __future__ import annotations

import json

import pytest

import localitygeo as lg
from localitygeo.changes.report import render_impact
from localitygeo.maps.page import page_data
from tests.hostile.sets import everything, example_city
from tests.hostile.test_markdown import RENDERERS, _Html, shown


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("impact")
    marker = tmp / "pwned"
    hs = example_city(tmp, everything(marker))
    before = lg.read_boundaries(hs.folder)
    proposal = lg.read_proposal(hs.proposal)
    after = lg.apply(before, proposal)
    im = lg.impact(before, after, proposal, indicators=[hs.indicator])
    return hs, before, after, im, marker


def _not_evaluated(text: str, marker) -> None:
    assert not marker.exists()
    assert "SSTI49END" not in text and "PWNEDyes" not in text


MD_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"}


@pytest.mark.parametrize("render", RENDERERS, ids=lambda r: r.__name__)
def test_markdown_report_makes_no_element_from_data(hostile, render):
    hs, before, _, im, marker = hostile
    md = render_impact(im, "md", set_name=before.name, attribution=hs.text)
    _not_evaluated(md, marker)
    parsed = _Html(render(md))
    assert {t for t, _ in parsed.tags} <= MD_TAGS
    assert all(k == "style" for _, attrs in parsed.tags for k, _ in attrs)
    text = shown(hs.text)
    h1 = parsed.text.split("\n", 1)[0]
    assert h1 == f"Impact of \u201c{text}\u201d"  # the proposal's name, literally
    # the set's name and description, the layer titles (headings), the reasons
    # (notes), the attribution: each shows as the whole text
    assert parsed.text.count(text) >= 10
    assert f"{text}: measures before and after" in parsed.text
    column = shown(hs.indicator.replace("_", " "))  # headers show _ as a space
    assert f"{column} before" in parsed.text  # a column named by the payload
    assert shown(hs.code) in parsed.text


def test_html_report_holds_only_the_templates_elements(hostile):
    hs, before, after, im, marker = hostile
    from localitygeo.maps import change_map, render_html
    from localitygeo.maps.change import fixed_parent

    d = lg.diff(before, after, hs.unit)
    map_html = render_html(change_map(before, after, d, parents=fixed_parent(before, hs.unit)))
    html = render_impact(im, "html", set_name=before.name, map_html=map_html, attribution=hs.text)
    _not_evaluated(html, marker)
    parsed = _Html(html)
    tags = {t for t, _ in parsed.tags}
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "footer",
        "div",
        "iframe",
        *MD_TAGS,
    }
    assert "script" not in tags and "img" not in tags
    assert parsed.text.count(hs.text) >= 10  # exactly as in the files
    assert hs.code in parsed.text
    # The map travels in the iframe's srcdoc, and its data hold the texts exactly.
    (srcdoc,) = [dict(a)["srcdoc"] for t, a in parsed.tags if t == "iframe"]
    panes = page_data(srcdoc)
    assert panes[1]["legend"]["title"] == f"Change in {before.specs[hs.unit].title}"
    assert [hs.code, f"{hs.text} 23"] in panes[0]["layers"][0]["rows"]


def test_json_report_reads_back_exactly(hostile):
    hs, _, _, im, marker = hostile
    text = render_impact(im, "json")
    _not_evaluated(text, marker)
    data = json.loads(text)
    assert data["name"] == data["description"] == hs.text
    assert data["summary"] == im.summary and data["notes"] == im.notes
    assert hs.unit in data["units"]
    names = {u["unit"]: u["name"] for u in data["units"][hs.unit]}
    assert names[hs.code] == hs.text  # EXN24, coded CODE, renamed by the merge
    assert names["EXN01"] == f"{hs.text} 0"
