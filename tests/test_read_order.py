"""read_boundaries reads the largest file first, but answers in the manifest's order.

Layers are read largest first (each reprojected beside the next read); the
set's layers, its notes and the error raised when files are broken must
still be those of reading the manifest's layers one after the other.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from localitygeo import read_boundaries
from localitygeo.errors import LocalityGeoError

from .helpers import write_manifest


def _layer(path: Path, n: int) -> None:
    gdf = gpd.GeoDataFrame(
        {"code": [f"U{i}" for i in range(n)]},
        geometry=[shapely.box(-2 + i * 0.01, 52, -2 + (i + 1) * 0.01, 52.01) for i in range(n)],
        crs="EPSG:4326",
    )
    gdf.to_file(path, driver="GeoJSON")


def _manifest(folder: Path, sizes: dict[str, int]) -> Path:
    text = ['name = "order"', 'crs = "EPSG:27700"']
    for key, n in sizes.items():
        _layer(folder / f"{key}.geojson", n)
        text.append(f'[layers.{key}]\npath = "{key}.geojson"\ncode = "code"')
    return write_manifest(folder, "\n".join(text))


def test_layers_and_notes_keep_the_manifest_order(tmp_path):
    sizes = {"small": 2, "large": 40, "middle": 10}  # read large, middle, small
    bset = read_boundaries(_manifest(tmp_path, sizes))
    assert list(bset.layers) == list(sizes)
    moved = [n for n in bset.notes if "reprojected" in n]
    assert [n.split("'")[1] for n in moved] == list(sizes)
    for key, n in sizes.items():
        assert len(bset.layers[key]) == n
        assert bset.layers[key].crs.to_epsg() == 27700


def test_the_error_is_the_first_broken_layer_in_the_manifest(tmp_path):
    path = _manifest(tmp_path, {"small": 2, "large": 40, "middle": 10})
    # the small layer (read last) and the large one (read first) are both broken
    (tmp_path / "small.geojson").write_text("not json", encoding="utf-8")
    # still the largest file, so read (and failing) first
    (tmp_path / "large.geojson").write_text("{" + " " * 100_000, encoding="utf-8")
    with pytest.raises(LocalityGeoError) as err:
        read_boundaries(path)
    assert "small" in str(err.value)
    (tmp_path / "small.geojson").unlink()
    _layer(tmp_path / "small.geojson", 2)
    with pytest.raises(LocalityGeoError) as err:
        read_boundaries(path)
    assert "large" in str(err.value)
