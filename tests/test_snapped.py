"""Gaps and overlaps found on a layer snapped onto itself are the plain ones.

References are computed the plain way here (the holes of one
``shapely.union_all``; ``shapely.intersection`` of every pair whose boxes
meet) on the real layers of four councils of ``england/`` where the national
run finds gaps and overlaps, and on made-up layers whose neighbours' shared
vertices are a few micrometres apart (as LSOAs' are). Each test also checks
which way the answer was found, so that a silent fallback to the tile by
tile search cannot pass for the snapped one.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from localitygeo.geometry import snapped as snapped_mod
from localitygeo.geometry import tiled_gaps
from localitygeo.geometry.coverage import overlap_pairs
from localitygeo.geometry.snapped import SNAP_MAX, gap_holes, snap_layer

from .test_coverage_fast import _valid, reference_gaps, reference_overlaps

# Stockton-on-Tees, East Lindsey, Horsham, North Norfolk
LADS = ["E06000004", "E07000137", "E07000227", "E07000147"]
FILES = {
    "wards_2013": "WD13CD",
    "msoa_2011": "MSOA11CD",
    "lsoa_2011": "LSOA11CD",
    "oa_2011": "OA11CD",
}


@pytest.fixture(scope="module")
def layers(shared_data: Path) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for name, code in FILES.items():
        gdf = gpd.read_parquet(shared_data / "england" / f"{name}.parquet")
        gdf = gdf[gdf["LAD_CD"].isin(LADS)].to_crs(27700).reset_index(drop=True)
        out[name] = gdf.rename(columns={code: "code"})
    return out


@pytest.fixture
def tiled_calls(monkeypatch) -> list[float]:
    """Record each call of the tile by tile search (the fallback)."""
    calls: list[float] = []
    plain = tiled_gaps.gap_holes

    def spy(g, tolerance_m2, threads=None):
        calls.append(tolerance_m2)
        return plain(g, tolerance_m2, threads)

    monkeypatch.setattr(tiled_gaps, "gap_holes", spy)
    return calls


def _uncovered(holes: np.ndarray, union, tol: float) -> np.ndarray:
    """Return the area of each hole that ``union`` leaves uncovered, over ``tol``, largest first."""
    free = np.asarray(shapely.area(shapely.difference(holes, union)), dtype=float)
    return np.sort(free[free > tol])[::-1]


def _areas(holes: np.ndarray) -> np.ndarray:
    return np.sort(np.asarray(shapely.area(holes), dtype=float))[::-1]


def test_layers_sharing_their_vertices_are_not_snapped(layers):
    for name, gdf in layers.items():
        g = _valid(gdf)
        exact = snapped_mod._vertex_exact(g, ~shapely.is_empty(g), shapely.STRtree(g))
        assert exact == (name in ("oa_2011", "wards_2013")), name


def test_real_layers_snap_into_coverages(layers):
    for name, gdf in layers.items():
        layer = snap_layer(_valid(gdf))
        assert float(layer.moved.max()) <= SNAP_MAX, name
        assert layer.finds_gaps(1.0), name  # few units left off the coverage
        if name in ("lsoa_2011", "msoa_2011"):
            assert (layer.moved > 0).mean() > 0.5, name  # most units moved
        if name == "oa_2011":
            assert float(layer.moved.max()) == 0.0  # vertex-exact already


@pytest.mark.parametrize("tol", [1.0, 0.1, 0.01, 0.001])
def test_gaps_are_the_holes_of_the_union(layers, tiled_calls, tol):
    seen = 0
    for name, gdf in layers.items():
        g = _valid(gdf)
        ref = reference_gaps(gdf, tol)
        got = _areas(gap_holes(g, tol))
        assert len(got) == len(ref), (name, tol)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-6)
        seen += len(ref)
    if tol == 1.0:
        assert seen == 8  # as national validate finds in these councils
        assert tiled_calls == []  # all found on the snapped layers
    if tol == 0.001:
        # slivers snapping could hide: the LSOAs and MSOAs are searched tile by tile
        assert len(tiled_calls) == 2


@pytest.mark.parametrize("tol", [1.0, 0.01])
def test_overlaps_are_the_pairwise_intersections(layers, tol):
    for name, gdf in layers.items():
        g = _valid(gdf)
        codes = gdf["code"].to_numpy()
        a, b, area, _ = overlap_pairs(g, tol)
        got = {(codes[i], codes[j]): s for i, j, s in zip(a, b, area, strict=True)}
        ref = {(x, y): s for x, y, s in reference_overlaps(gdf, tol)}
        assert got.keys() == ref.keys(), name
        for key, s in ref.items():
            assert got[key] == pytest.approx(s, rel=1e-9)


def _jittered_grid(n: int, jitter: float, seed: int, missing: set[tuple[int, int]]):
    """Squares of 100 m whose shared corners differ by up to ``jitter`` metres.

    Each square has its own copy of every corner, moved at random, so no
    two neighbours share a vertex exactly (as LSOAs do not). Corners lie in
    the middle of snapping cells (half a millimetre off the metre).
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        for j in range(n):
            if (i, j) in missing:
                continue
            corners = np.array([[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]], dtype=float)
            corners = corners * 100.0 + 0.0005 + rng.uniform(-jitter, jitter, size=(4, 2))
            out.append(shapely.Polygon(corners))
    return np.array(out, dtype=object)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    jitter=st.sampled_from([0.0, 1e-7, 2e-6, 5e-6]),
    holes=st.sets(st.tuples(st.integers(1, 6), st.integers(1, 6)), max_size=4),
)
def test_jittered_layers(seed, jitter, holes):
    g = _jittered_grid(8, jitter, seed, holes)
    layer = snap_layer(g)
    assert float(layer.moved.max()) <= jitter * 2 + 1e-12  # at most two corners apart
    assert not layer.flagged.any()  # snapped, they are a valid coverage
    # compared by the area no unit covers: a square parted from all its
    # neighbours by slivers is an island in a hole of the union (a "gap" of
    # its own size with no uncovered area to speak of), which snapping joins
    union = shapely.union_all(g)
    polys = shapely.get_parts(union)
    rings = [
        shapely.Polygon(shapely.get_interior_ring(p, k))
        for p in polys
        for k in range(shapely.get_num_interior_rings(p))
    ]
    for tol in (1.0, 5_000.0):
        ref = _uncovered(np.array(rings, dtype=object), union, tol)
        got = _uncovered(gap_holes(g, tol, layer), union, tol)
        np.testing.assert_allclose(got, ref, rtol=1e-7)
    if jitter == 0.0:  # vertex-exact: every missing square (none is on the edge)
        found = _uncovered(gap_holes(g, 1.0, layer), union, 1.0)
        assert found.sum() == pytest.approx(10_000.0 * len(holes), rel=1e-9)
    a, _, _, _ = overlap_pairs(g, 1e-9, snapped=layer)
    frame = gpd.GeoDataFrame(geometry=g)
    frame["code"] = np.arange(len(g)).astype(str)
    assert len(a) == len(reference_overlaps(frame, 1e-9))


def test_a_channel_snapping_closes_is_not_a_gap():
    # a 2 x 2 block of squares missing, opening to the outside through a
    # channel 5 µm wide along y = 400 m: snapped, the channel closes and the
    # block looks enclosed; settled on the units, it is not a gap
    missing = {(3, 3), (3, 4), (4, 3), (4, 4)}
    g = _jittered_grid(8, 1e-6, 1, missing)
    strip = shapely.box(499.0, 400.0, 801.0, 400.000005)
    g = np.asarray(shapely.difference(g, strip), dtype=object)
    assert snap_layer(g).finds_gaps(1.0)
    frame = gpd.GeoDataFrame(geometry=g)
    ref = reference_gaps(frame, 1.0)
    assert len(ref) == 0
    assert len(gap_holes(_valid(frame), 1.0)) == 0
    # closed at the far end, it is one
    g[-1] = shapely.box(700.0, 300.0, 800.0, 500.0)
    frame = gpd.GeoDataFrame(geometry=g)
    ref = reference_gaps(frame, 1.0)
    assert len(ref) == 1 and ref[0] > 40_000.0
    np.testing.assert_allclose(_areas(gap_holes(_valid(frame), 1.0)), ref, rtol=1e-9)


def test_a_sliver_below_the_sliver_length_is_searched_tile_by_tile(tiled_calls):
    g = _jittered_grid(6, 5e-6, 3, set())
    layer = snap_layer(g)
    d = float(layer.moved.max())
    assert d > 0
    small = 2 * d * snapped_mod.SLIVER_LENGTH * 0.5
    assert not layer.finds_gaps(small) and layer.finds_gaps(small * 4)
    gap_holes(g, small, layer)
    assert tiled_calls == [small]


def test_collections_empty_and_no_units():
    ring = shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2))
    mixed = shapely.GeometryCollection([ring, shapely.LineString([(1.2, 1.5), (1.8, 1.5)])])
    g = np.array([mixed, shapely.Polygon()], dtype=object)
    assert _areas(gap_holes(g, 0.5)).tolist() == [1.0]
    assert len(gap_holes(np.array([], dtype=object), 1.0)) == 0
    a, b, area, inter = overlap_pairs(np.array([], dtype=object), 1.0)
    assert len(a) == len(b) == len(area) == len(inter) == 0


def test_snapping_does_not_touch_its_input():
    g = _jittered_grid(4, 3e-6, 5, set())
    before = shapely.to_wkb(g)
    layer = snap_layer(g)
    assert (shapely.to_wkb(g) == before).all()
    assert (layer.moved[1:] > 0).all()  # each square but the first has an earlier neighbour
