"""Bad input to ``localitygeo map``: exit 2, one line naming what is wrong, nothing written.

On the example city, with hostile layer keys, names and column names
(tests/hostile/sets.py): a number of classes out of range, an unknown or
qualitative palette, unknown tiles, a layer to label that does not exist, an indicator
that holds text (in the layer drawn, or in the layer it is taken from) or
does not exist.
"""

from __future__ import annotations

import pytest

from .harness import run_cli
from .sets import everything, example_city


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("map-errors")
    marker = tmp / "pwned"
    return example_city(tmp, everything(marker)), marker, tmp


CASES = {
    # id: (arguments after the set and --layer, strings the error line names)
    "k-too-many": (["--indicator", "{indicator}", "--from", "small_area", "-k", "10000"],
                   ["10000 classes", "distinct values", "-k can be at most"]),
    "k-0": (["--indicator", "{indicator}", "--from", "small_area", "-k", "0"],
            ["0 classes", "(-k)"]),
    "text-indicator": (["--indicator", "name"],
                       ["neighbourhoods.geojson", "column 'name'", "not numbers", "EXN01"]),
    "text-from": (["--indicator", "bad", "--from", "small_area"],
                  ["small_areas.geojson", "layer 'small_area'", "column 'bad'", "EXA0001"]),
    "missing-from": (["--indicator", "nope", "--from", "small_area"],
                     ["small_areas.geojson", "no column 'nope'"]),
    "palette": (["--indicator", "{indicator}", "--from", "small_area", "--palette", "Nope"],
                ["unknown palette 'Nope'", "OrRd", "viridis"]),
    "palette-qualitative": (["--indicator", "{indicator}", "--from", "small_area",
                             "--palette", "Set1"], ["'Set1' is qualitative"]),
    "tiles": (["--tiles", "somewhere"], ["unknown tiles 'somewhere'", "none, osm"]),
    "tiles-url": (["--tiles", "https://tiles.example/a.png"], ["{z}, {x} and {y}"]),
    "labels": (["--labels", "nowhere"], ["no layer 'nowhere' to label"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_map_input_is_one_line_and_writes_nothing(hostile, case):
    hs, marker, tmp = hostile
    args, names = CASES[case]
    out = tmp / "map.html"
    args = [a.format(indicator=hs.indicator) for a in args]
    result = run_cli(
        "map", hs.folder, "--layer", hs.unit, *args, "-o", out,
        inputs=[hs.folder], watch=[hs.folder, tmp], names=names,
    )  # fmt: skip
    assert result.message.startswith("localitygeo: error: ")
    assert not out.exists() and not marker.exists()
