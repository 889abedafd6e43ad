"""Reading layers into one CRS with each step beside the next gives what one at a time gives.

:func:`localitygeo.io.measurable.read_measurable` reads layers, reprojects
each in a worker while the next is read and (inside ``remembering()``)
checks its validity in the background. These tests compare it with
``read_layer`` and ``to_crs`` one after the other on Plymouth's real
layers, check that measuring afterwards does not check validity again, and
that the first failing layer's error is the one raised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from localitygeo import read_layer
from localitygeo.errors import LocalityGeoError
from localitygeo.geometry.crs import working_crs
from localitygeo.geometry.fitting import best_fit
from localitygeo.geometry.projection import to_crs
from localitygeo.geometry.validity import current, remembering
from localitygeo.io.measurable import read_measurable


def _sources(folder: Path) -> dict[str, dict[str, object]]:
    return {
        "child": {"path": folder / "oa_2011.geojson", "code": "OA11CD", "columns": ()},
        "parent": {"path": folder / "lsoa_2011.geojson", "code": "LSOA11CD", "columns": ()},
    }


def _bits(gdf) -> np.ndarray:
    return shapely.get_coordinates(np.asarray(gdf.geometry.array)).view(np.uint64)


@pytest.mark.parametrize("crs", [None, "EPSG:3035"])
def test_frames_equal_reading_then_reprojecting(plymouth, crs):
    frames, target = read_measurable(_sources(plymouth), crs=crs)
    assert list(frames) == ["child", "parent"]
    plain = {k: read_layer(**v) for k, v in _sources(plymouth).items()}
    assert target == (working_crs(plain["child"]) if crs is None else crs)
    for key, gdf in plain.items():
        ref = to_crs(gdf, target)
        assert frames[key].crs == ref.crs
        assert np.array_equal(_bits(frames[key]), _bits(ref))
        assert frames[key].drop(columns="geometry").equals(ref.drop(columns="geometry"))


def test_a_layer_already_in_the_crs_is_returned_as_read(plymouth, tmp_path, monkeypatch):
    from localitygeo.geometry import projection

    src = _sources(plymouth)
    projected = to_crs(read_layer(**src["parent"]), 27700)
    path = tmp_path / "lsoa.gpkg"
    projected.to_file(path)
    src["parent"] = {"path": path, "code": "code", "columns": ()}
    moved: list[int] = []
    plain = projection.to_crs
    monkeypatch.setattr(
        projection, "to_crs", lambda gdf, *a, **k: moved.append(1) or plain(gdf, *a, **k)
    )
    frames, _ = read_measurable(src, crs=27700)
    assert moved == [1]  # the child only
    assert np.array_equal(_bits(frames["parent"]), _bits(projected))


def test_validity_is_checked_in_the_background_once(plymouth, monkeypatch):
    plain = shapely.is_valid
    checked: list[int] = []

    def spy(x, *args, **kwargs):
        x = np.asarray(x, dtype=object)
        checked.extend(map(id, x.reshape(-1)))
        return plain(x, *args, **kwargs)

    monkeypatch.setattr(shapely, "is_valid", spy)
    with remembering():
        frames, _ = read_measurable(_sources(plymouth))
        geoms = [np.asarray(f.geometry.array, dtype=object) for f in frames.values()]
        memo = current()
        assert memo is not None
        for g in geoms:
            known, valid = memo.lookup(g)  # waits for the checks under way
            assert known.all()
            np.testing.assert_array_equal(valid, plain(g))
        table = best_fit(frames["child"], frames["parent"])
    features = [id(x) for g in geoms for x in g]
    assert sorted(i for i in checked if i in set(features)) == sorted(features)  # once each
    monkeypatch.setattr(shapely, "is_valid", plain)
    ref = best_fit(frames["child"], frames["parent"])
    assert table.equals(ref)


def test_without_a_memo_nothing_is_checked(plymouth, monkeypatch):
    calls: list[int] = []
    plain = shapely.is_valid
    monkeypatch.setattr(shapely, "is_valid", lambda x, **k: calls.append(1) or plain(x, **k))
    read_measurable(_sources(plymouth))
    assert calls == []


@pytest.mark.parametrize("broken", ["child", "parent"])
def test_the_failing_layer_is_named(plymouth, tmp_path, broken):
    src = _sources(plymouth)
    src[broken] = {**src[broken], "path": tmp_path / "missing.geojson"}
    with pytest.raises(LocalityGeoError, match=r"missing\.geojson"):
        read_measurable(src)
    src = _sources(plymouth)
    src[broken] = {**src[broken], "code": "NO_SUCH_COLUMN"}
    with pytest.raises(LocalityGeoError, match="NO_SUCH_COLUMN"):
        read_measurable(src)
