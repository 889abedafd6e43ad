"""Gaps found tile by tile are the holes of one GEOS union of the whole layer.

The reference is computed here the plain way (``shapely.union_all`` of the
layer, the area of each interior ring: ``reference_gaps``), on real layers
of four councils of ``england/`` where the national run finds gaps
(Stockton-on-Tees: 2.6 m²; East Lindsey: 7,562 m²; Horsham: 176,012 m² among
the MSOAs and OAs but joined to the outside by sliver channels among the
LSOAs) and on made-up layers with islands in holes, holes across tiles and
a hole opening to the outside through a 1 µm channel. Tiles of a few units
make every hole cross tile edges and be found only several levels up.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from localitygeo.geometry import tiled_gaps
from localitygeo.geometry.tiled_gaps import gap_holes

from .test_coverage_fast import _valid, reference_gaps

LADS = ["E06000004", "E07000137", "E07000227", "E07000147"]
FILES = ["wards_2013", "msoa_2011", "lsoa_2011", "oa_2011"]


@pytest.fixture(scope="module")
def layers(shared_data: Path) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for name in FILES:
        gdf = gpd.read_parquet(shared_data / "england" / f"{name}.parquet")
        out[name] = gdf[gdf["LAD_CD"].isin(LADS)].to_crs(27700).reset_index(drop=True)
    return out


def _areas(holes: np.ndarray) -> np.ndarray:
    return np.sort(np.asarray(shapely.area(holes), dtype=float))[::-1]


@pytest.fixture(params=[None, 3], ids=["default-tiles", "tiles-of-3"])
def tile(request, monkeypatch):
    if request.param is not None:
        monkeypatch.setattr(tiled_gaps, "TILE", request.param)
        monkeypatch.setattr(tiled_gaps, "TILE_EXACT", request.param)
    return request.param


@pytest.mark.parametrize("tol", [1.0, 0.001])
def test_real_layers(layers, tile, tol):
    seen = 0
    for name, gdf in layers.items():
        ref = reference_gaps(gdf, tol)
        got = _areas(gap_holes(_valid(gdf), tol))
        assert len(got) == len(ref), name
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-6)
        seen += len(ref)
    if tol == 1.0:
        # the three councils' gaps: 2.6 m² and 7,562 m² in MSOAs, LSOAs and OAs;
        # 176,012 m² in MSOAs and OAs only
        assert seen == 8
    else:
        assert seen > 100  # the slivers between neighbours, above a millimetre²


def _squares(n: int, missing: set[tuple[int, int]]) -> np.ndarray:
    return np.array(
        [
            shapely.box(i, j, i + 1, j + 1)
            for i in range(n)
            for j in range(n)
            if (i, j) not in missing
        ],
        dtype=object,
    )


@pytest.mark.parametrize("size", [2, 3, 5, 1000])
def test_made_up_layers(monkeypatch, size):
    monkeypatch.setattr(tiled_gaps, "TILE", size)
    monkeypatch.setattr(tiled_gaps, "TILE_EXACT", size)
    # a 12 x 12 grid of unit squares with single cells and a 3 x 3 block missing,
    # one square left inside the block (an island in a hole, itself holding a
    # small hole), and a corridor of missing cells reaching the outside
    missing = {(2, 7), (9, 3), (8, 8), (5, 10), (6, 10)}
    missing |= {(i, j) for i in range(4, 7) for j in range(4, 7)}
    missing |= {(i, 1) for i in range(0, 3)} | {(0, 2)}
    squares = _squares(12, missing)
    island = shapely.box(5, 5, 6, 6).difference(shapely.box(5.2, 5.2, 5.8, 5.8))
    # a hole open to the outside through a channel 1 µm wide
    notch = shapely.box(11, 11, 12, 12).difference(
        shapely.box(11.2, 11.2, 11.8, 11.8).union(shapely.box(11.5, 11.5, 12.0, 11.500001))
    )
    keep = ~shapely.equals(squares, shapely.box(11, 11, 12, 12))
    g = np.concatenate([squares[keep], [island, notch]])
    for tol in (0.1, 0.5, 1.5):
        ref = reference_gaps(gpd.GeoDataFrame(geometry=g), tol)
        np.testing.assert_allclose(_areas(gap_holes(g, tol)), ref, rtol=1e-12, atol=1e-12)
    found = _areas(gap_holes(g, 0.1))
    assert list(np.round(found, 6)) == [9.0, 2.0, 1.0, 1.0, 1.0, 0.36]


def test_collections_and_empty():
    ring = shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2))
    mixed = shapely.GeometryCollection([ring, shapely.LineString([(1.2, 1.5), (1.8, 1.5)])])
    assert _areas(gap_holes(np.array([mixed, shapely.Polygon()], dtype=object), 0.5)).tolist() == [
        1.0
    ]
    assert len(gap_holes(np.array([], dtype=object), 1.0)) == 0
