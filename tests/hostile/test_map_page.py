"""Maps keep data out of templates and script: API-level checks on the page text.

Every text a map shows (unit names and codes, the layer's title, layer keys,
the indicator's name and values, the title and the attribution) is set to a
hostile payload; the rendered page must hold each exactly in its JSON data
and nowhere else, and nothing may have been evaluated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import localitygeo as lg
from localitygeo.maps import change_map, locality_map, render_html
from localitygeo.maps.page import page_data, script_json
from localitygeo.maps.scale import readable
from tests.hostile.harness import TEMPLATE, TEMPLATE_BROKEN, hostile_texts

REPO = Path(__file__).resolve().parents[2]
CITY = REPO / "boundaries" / "example-city"


@pytest.fixture(scope="module")
def city():
    return lg.read_boundaries(CITY)


def _outside_data(page: str) -> str:
    """The page with its JSON data blocks taken out (what folium and the script wrote)."""
    import re

    return re.sub(
        r'<script type="application/json" class="localitygeo-data"[^>]*>.*?</script>',
        "",
        page,
        flags=re.DOTALL,
    )


def _hostile_city(city, text: str):
    """The city with ``text`` in every name, one code, a layer title and an indicator."""
    from dataclasses import replace

    layers = {}
    for key in ("neighbourhood", "ward", "locality"):
        frame = city[key].copy()
        frame["name"] = [f"{text} {i}" for i in range(len(frame))]
        layers[key] = frame
    nbhd = layers["neighbourhood"]
    old_code = nbhd.loc[0, "code"]
    nbhd.loc[0, "code"] = text  # a code is text from the file too
    small = city["small_area"].copy()  # whose blocks still say which unit they are in
    small["neighbourhood"] = small["neighbourhood"].replace({old_code: text})
    layers["small_area"] = small
    nbhd[text] = np.arange(len(nbhd), dtype=float)  # an indicator named by the payload
    specs = dict(city.specs)
    specs["neighbourhood"] = replace(specs["neighbourhood"], title=text)
    # a layer key is text from the manifest: draw wards under a hostile key
    hostile = city.with_layers(**layers)
    return replace(
        hostile,
        specs=specs,
        layers={**hostile.layers, text: hostile.layers["ward"]},
    )


@pytest.mark.parametrize("kind", sorted(hostile_texts(Path("/nonexistent/marker"))))
def test_every_map_text_is_data_only(city, kind, tmp_path):
    marker = tmp_path / "pwned"
    text = hostile_texts(marker)[kind]
    bset = _hostile_city(city, text)
    m = locality_map(
        bset,
        "neighbourhood",
        indicator=text,
        outlines=(text,),
        title=text,
        attribution=text,
        wards=False,
    )
    page = render_html(m)
    assert not marker.exists()  # the file payload never ran
    assert "SSTI49END" not in page and "PWNEDyes" not in page  # no template evaluated
    assert "PWNED" not in _outside_data(page)  # data only ever in the JSON block
    (data,) = page_data(page)
    units = data["layers"][0]
    assert units["name"] == text
    assert units["labels"][-1] == readable(text)
    assert units["rows"][0][:2] == [text, f"{text} 0"]
    assert [ly["name"] for ly in data["layers"][1:]] == [
        text.replace("_", " ").title() + " boundaries",
        "Locality boundaries",
    ]
    assert data["legend"]["title"] == readable(text) and data["attribution"] == text
    assert data["pageTitle"] == text


@pytest.mark.parametrize("text", [TEMPLATE, TEMPLATE_BROKEN])
def test_change_map_texts_are_data_only(city, text, tmp_path):
    marker = tmp_path / "pwned"
    bset = _hostile_city(city, text + hostile_texts(marker)["template-file"])
    after = lg.apply_moves(bset, "neighbourhood", "small_area", _moves(city))
    d = lg.diff(bset, after, "neighbourhood", blocks="small_area")
    page = render_html(change_map(bset, after, d, title=text, attribution=text))
    assert not marker.exists()
    assert "SSTI49END" not in page and "PWNED" not in _outside_data(page)
    before_pane, after_pane = page_data(page)
    assert before_pane["layers"][0]["name"].startswith(text)
    assert after_pane["legend"]["title"] == text and after_pane["legend"]["note"] == text
    moved = next(ly for ly in after_pane["layers"] if ly["name"] == "Moved blocks")
    assert moved["rows"] and all(text in row[1] for row in moved["rows"])
    assert any(text in row[2] for row in moved["rows"])  # (EXN01, renamed, becomes new)


def _moves(city):
    return lg.realign(city, "neighbourhood", "ward", blocks="small_area").moves


def test_tiles_with_template_syntax_are_refused(city):
    d = lg.diff(city, city, "neighbourhood", blocks="small_area")
    with pytest.raises(lg.errors.InputError, match=r"tiles .* template syntax"):
        change_map(city, city, d, tiles="https://x/{{ 7*7 }}/{z}/{x}/{y}.png")


@pytest.mark.parametrize(
    "text", ["</script><script>window.__pwned=1</script>", "<!--", "&amp;", "\u2028", "'\"`"]
)
def test_script_json_cannot_close_its_element_and_reads_back(text):
    import json

    out = script_json({"t": text})
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"t": text}
