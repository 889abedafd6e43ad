"""``localitygeo map`` without ``--layer`` colours the set's middle layer, or says to choose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import localitygeo as lg
from localitygeo.cli.map_cmd import middle_layer
from localitygeo.maps import render_html
from localitygeo.maps.page import page_data
from localitygeo.model.boundary_set import NestingRule

CITY = Path(__file__).resolve().parents[1] / "boundaries" / "example-city"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "localitygeo", "map", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_example_city_maps_its_neighbourhoods_by_default(tmp_path):
    city = lg.read_boundaries(CITY)
    assert middle_layer(city) == "neighbourhood"
    out = tmp_path / "map.html"
    r = _cli(str(CITY), "--tiles", "none", "-o", str(out))
    assert r.returncode == 0, r.stderr
    drawn = page_data(out.read_text(encoding="utf-8"))[0]
    expected = page_data(render_html(lg.maps.locality_map(city, "neighbourhood", tiles=None)))[0]
    assert [x["name"] for x in drawn["layers"]] == [x["name"] for x in expected["layers"]]


def test_a_set_with_no_single_middle_layer_asks_for_layer(tmp_path):
    city = lg.read_boundaries(CITY)
    flat = lg.BoundarySet.from_layers(
        {"small_area": city["small_area"], "ward": city["ward"]},
        nesting=[NestingRule("small_area", "ward")],
    )
    with pytest.raises(Exception, match="--layer"):
        middle_layer(flat)
    folder = lg.write_boundaries(flat, tmp_path / "flat").parent
    r = _cli(str(folder), "-o", str(tmp_path / "m.html"))
    assert r.returncode == 2
    assert "--layer" in r.stderr and "small_area, ward" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.html").exists()
