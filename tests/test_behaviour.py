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


def assert_same_sets(a: lg.BoundarySet, b: lg.BoundarySet) -> None:
    """Same layers, unit codes, attribute columns and values, and geometry."""
    assert list(a) == list(b)
    assert a.built_from == b.built_from
    for key in a:
        x, y = a[key].set_index("code"), b[key].set_index("code")
        assert x.columns.tolist() == y.columns.tolist(), key
        assert sorted(x.index) == sorted(y.index), key
        y = y.loc[x.index]
        attrs = [c for c in x.columns if c != x.geometry.name]
        pd.testing.assert_frame_equal(pd.DataFrame(x[attrs]), pd.DataFrame(y[attrs]), obj=key)
        assert x.geometry.geom_equals_exact(y.geometry, 1e-6).all(), key


@pytest.mark.parametrize("min_new", [None, 1.0])
def test_apply_and_apply_moves_agree_on_the_example(city, min_new):
    proposal = lg.realign(city, "neighbourhood", "ward", min_new=min_new)
    moves = proposal.moves
    assert moves is not None and len(moves) > 0
    by_apply = lg.apply(city, proposal)
    by_moves = lg.apply_moves(city, "neighbourhood", "small_area", moves)
    assert_same_sets(by_apply, by_moves)
    nb = by_apply["neighbourhood"].set_index("code")
    fresh = nb.index[nb["new"].astype(bool)]
    assert set(fresh) == set(moves["to_unit"]) - set(city["neighbourhood"]["code"])
    if min_new is not None:  # small pieces become new units, named after their ward
        assert len(fresh) > 0
        ward_names = city["ward"].set_index("code")["name"]
        parent = moves.drop_duplicates("to_unit").set_index("to_unit")["parent"]
        for code in fresh:
            assert nb.loc[code, "name"].startswith(
                f"{ward_names[parent[code]]} (new neighbourhood)"
            )
    # a hand-made table (no from_unit or reason) gives the same set again
    bare = lg.apply_moves(
        city, "neighbourhood", "small_area", moves[["block", "to_unit", "parent"]]
    )
    assert_same_sets(by_apply, bare)


@pytest.mark.realdata
def test_apply_and_apply_moves_agree_on_a_real_council(plymouth):
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)
    msoa = lg.read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    wards = lg.read_layer(plymouth / "wards_2013.geojson", "WD13CD", name="WD13NM").to_crs(27700)
    real = lg.BoundarySet.from_layers(
        {"lsoa": lsoa, "msoa": msoa, "wd": wards}, nesting=[lg.NestingRule("msoa", "wd")]
    ).with_blocks("msoa", "lsoa")
    proposal = lg.realign(real, "msoa", "wd", min_new=0.0)
    assert proposal.moves is not None and len(proposal.moves) > 10
    by_apply = lg.apply(real, proposal)
    assert_same_sets(by_apply, lg.apply_moves(real, "msoa", "lsoa", proposal.moves))
    new = by_apply["msoa"].loc[by_apply["msoa"]["new"].astype(bool), "name"]
    assert len(new) > 0 and new.str.contains(r"\(new msoa\)").all()
