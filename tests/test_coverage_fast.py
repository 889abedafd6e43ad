"""find_gaps and find_overlaps find what a GEOS union and pairwise intersections find.

The references are computed here the plain way (the holes of
``shapely.union_all`` of the whole layer; ``shapely.intersection`` of every
pair whose boxes meet) on real council layers, as published and with a unit
removed (a gap) and one moved by 3 m (overlaps and gaps).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from localitygeo import find_gaps, find_overlaps, read_layer

LAYERS = [("lsoa_2011", "LSOA11CD"), ("msoa_2011", "MSOA11CD"), ("wards_2013", "WD13CD")]


def _valid(layer: gpd.GeoDataFrame) -> np.ndarray:
    g = np.asarray(layer.geometry.array, dtype=object).copy()
    bad = ~shapely.is_valid(g)
    g[bad] = shapely.make_valid(g[bad])
    return g


def reference_gaps(layer: gpd.GeoDataFrame, tol: float) -> np.ndarray:
    polys = shapely.get_parts(shapely.union_all(_valid(layer)))
    polys = polys[shapely.get_type_id(polys) == 3]
    holes = [
        shapely.Polygon(shapely.get_interior_ring(p, k))
        for p in polys
        for k in range(shapely.get_num_interior_rings(p))
    ]
    area = np.array([h.area for h in holes])
    return np.sort(area[area > tol])[::-1] if len(area) else area


def reference_overlaps(layer: gpd.GeoDataFrame, tol: float) -> set[tuple[str, str, float]]:
    g = _valid(layer)
    codes = layer["code"].to_numpy()
    a, b = shapely.STRtree(g).query(g)
    keep = a < b
    a, b = a[keep], b[keep]
    area = shapely.area(shapely.intersection(g[a], g[b]))
    return {(codes[i], codes[j], s) for i, j, s in zip(a, b, area, strict=True) if s > tol}


@pytest.fixture(scope="module", params=["plymouth", "telford-and-wrekin"])
def layers(request, shared_data: Path) -> list[gpd.GeoDataFrame]:
    out = []
    for name, code in LAYERS:
        layer = read_layer(shared_data / "councils" / request.param / f"{name}.geojson", code)
        layer = layer.to_crs(27700)
        damaged = layer.drop(index=[3]).reset_index(drop=True)
        damaged.loc[5, "geometry"] = shapely.affinity.translate(damaged.geometry[5], 3.0, 0.0)
        out += [layer, damaged]
    return out


@pytest.mark.parametrize("tol", [1.0, 0.005])
def test_gaps_are_the_holes_of_the_union(layers, tol):
    for layer in layers:
        found = find_gaps(layer, tolerance_m2=tol)
        ref = reference_gaps(layer, tol)
        assert len(found) == len(ref)
        np.testing.assert_allclose(found["area_m2"].to_numpy(), ref, rtol=1e-9, atol=1e-9)
        for geom, codes in zip(found.geometry, found["codes"], strict=True):
            near = layer.loc[layer.geometry.dwithin(geom, 0.01), "code"]
            assert codes == sorted(near)


def test_damage_is_found(layers):
    for layer, damaged in zip(layers[::2], layers[1::2], strict=True):
        assert find_gaps(layer).empty and find_overlaps(layer).empty
        gaps, overlaps = find_gaps(damaged), find_overlaps(damaged)
        assert len(gaps) >= 1 and len(overlaps) >= 1


@pytest.mark.parametrize("tol", [1.0, 1e-6])
def test_overlaps_are_the_pairwise_intersections(layers, tol):
    for layer in layers:
        found = find_overlaps(layer, tolerance_m2=tol)
        got = set(zip(found["code_a"], found["code_b"], found["area_m2"], strict=True))
        assert got == reference_overlaps(layer, tol)
        assert found["area_m2"].is_monotonic_decreasing
