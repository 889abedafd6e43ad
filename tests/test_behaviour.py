"""The same behaviour across stages: a set is a mapping, writers return the path written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest

import localitygeo as lg
from localitygeo.errors import ManifestError
from localitygeo.maps import locality_map, save

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "boundaries" / "example-city"
KEYS = ["small_area", "ward", "neighbourhood", "locality"]  # the manifest's order


@pytest.fixture(scope="module")
def city() -> lg.BoundarySet:
    return lg.read_boundaries(EXAMPLE)


def test_a_set_is_a_read_only_mapping_of_its_layers(city):
    manifest = (EXAMPLE / "boundaries.toml").read_text(encoding="utf-8")
    assert [k for k in KEYS if f"[layers.{k}]" in manifest] == KEYS
    assert isinstance(city, Mapping)
    assert "ward" in city and "nope" not in city and 0 not in city
    assert list(city) == list(city.keys()) == KEYS
    assert len(city) == 4
    assert [len(v) for v in city.values()] == [len(city[k]) for k in KEYS]
    assert [k for k, _ in city.items()] == KEYS
    assert all(v is city[k] for k, v in city.items())
    assert city.get("ward") is city["ward"]
    assert city.get("nope") is None and city.get("nope", 7) == 7
    assert dict(city).keys() == city.layers.keys()
    with pytest.raises(ManifestError, match="no layer 'nope'; the set has: small_area, ward"):
        city["nope"]
    with pytest.raises(TypeError):
        city["ward"] = city["ward"]  # type: ignore[index]


def test_a_built_set_is_a_mapping_too(city):
    small = lg.BoundarySet.from_layers({"a": city["ward"], "b": city["locality"]})
    assert list(small) == ["a", "b"] and "a" in small and "ward" not in small
    assert len(small.with_layers(c=city["ward"])) == 3 and len(small) == 2


def test_writers_return_the_path_written(city, tmp_path):
    frame = pd.DataFrame({"code": ["a", "b"], "n": [1, 2]})
    text = lg.write_csv(frame, index=False)
    assert isinstance(text, str) and text.splitlines()[0] == "code,n"
    written = lg.write_csv(frame, str(tmp_path / "t.csv"), index=False)
    assert written == tmp_path / "t.csv" and isinstance(written, Path)
    assert written.read_text(encoding="utf-8") == text
    page = save(locality_map(city, "neighbourhood", tiles=None), tmp_path / "m.html")
    assert page == tmp_path / "m.html" and page.read_text(encoding="utf-8").startswith("<!")
    manifest = lg.write_boundaries(city, tmp_path / "set")
    assert manifest == tmp_path / "set" / "boundaries.toml" and manifest.exists()
