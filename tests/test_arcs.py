"""Shared, quantised arcs: the integer text, the topology, and the decoder in page.js."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localitygeo.maps.arc_codec import decode, decode_ints, encode_ints
from localitygeo.maps.arcs import build_topology

ORIGIN = (245_000.0, 55_000.0)  # Plymouth, in EPSG:27700


@given(st.lists(st.integers(min_value=-(2**61), max_value=2**61), max_size=200))
def test_integers_read_back_exactly(values):
    text = encode_ints(values)
    assert decode_ints(text) == values
    assert all(c.isalnum() or c in "-_" for c in text)  # nothing JSON or HTML escapes


def test_small_numbers_take_one_character():
    assert encode_ints([0, 1, -1, 15, -16]) == "ACBef"
    assert len(encode_ints([16])) == 2
    with pytest.raises(ValueError, match="inside a number"):
        decode_ints("g")


def _cells(seed: int, n: int) -> gpd.GeoDataFrame:
    """A Voronoi coverage of ``n`` random cells about 2 km across, clipped to a square."""
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    pts = shapely.multipoints(rng.uniform(0, 2000, (n, 2)) + ORIGIN)
    box = shapely.box(x0, y0, x0 + 2000, y0 + 2000)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))
    return gpd.GeoDataFrame(geometry=shapely.intersection(cells, box), crs=27700)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(3, 30))
def test_decoded_units_keep_their_shape_and_share_their_edges(seed, n):
    cells = _cells(seed, n)
    pairs = cells.assign(group=np.arange(len(cells)) // 2).dissolve("group")
    topo = build_topology(cells, {"pairs": pairs}, tolerance_m=0.0, precision=6)
    data = topo.page_arcs()
    units = decode(data, {"shapes": topo.page_shapes()})
    web = cells.to_crs(4326).geometry.to_numpy()
    grid = topo.transform[2]
    assert len(units) == len(cells)
    # Within the grid of where they were (every vertex kept, none moved more than a step).
    assert (shapely.hausdorff_distance(units, web) <= 1.5 * grid).all()
    # Neighbours share identical edges: a valid coverage, no gap or overlap.
    assert shapely.is_valid(units).all() and shapely.coverage_is_valid(units)
    assert shapely.union_all(units).area == pytest.approx(shapely.union_all(web).area, rel=1e-3)
    # The outline layer is drawn by arcs of the same network, each once.
    (lines,) = decode(data, {"lines": topo.page_lines("pairs")})
    boundary = shapely.union_all(shapely.boundary(pairs.to_crs(4326).geometry.to_numpy()))
    assert shapely.hausdorff_distance(lines, boundary) <= 1.5 * grid
    ids = topo.lines["pairs"]
    assert len(np.unique(ids)) == len(ids)


def test_simplified_units_stay_a_coverage():
    cells = _cells(7, 40)
    wiggly = cells.assign(geometry=shapely.segmentize(cells.geometry.to_numpy(), 5.0))
    topo = build_topology(wiggly, {}, tolerance_m=10.0)
    units = decode(topo.page_arcs(), {"shapes": topo.page_shapes()})
    assert shapely.is_valid(units).all() and shapely.coverage_is_valid(units)
    before = shapely.get_num_coordinates(wiggly.geometry.to_numpy()).sum()
    assert shapely.get_num_coordinates(units).sum() < before / 3


def test_an_outline_never_detours_onto_a_corner_inside_a_unit():
    # Two units side by side under one outline unit, a third on top. The edge
    # between the two bends 1 m below the outline's edge, within the 2 m snap:
    # the outline must run along the top edge, not dip to that corner.
    x, y = ORIGIN
    a = shapely.Polygon([(x, y), (x + 100, y), (x + 100, y + 99), (x + 120, y + 100), (x, y + 100)])
    b = shapely.Polygon(
        [(x + 100, y), (x + 200, y), (x + 200, y + 100), (x + 120, y + 100), (x + 100, y + 99)]
    )
    c = shapely.box(x, y + 100, x + 200, y + 200)
    units = gpd.GeoDataFrame(geometry=[a, b, c], crs=27700)
    outline = gpd.GeoDataFrame(
        geometry=[shapely.box(x, y, x + 200, y + 100), shapely.box(x, y + 100, x + 200, y + 200)],
        crs=27700,
    )
    topo = build_topology(units, {"lsoa": outline}, tolerance_m=0.0, snap_m=2.0, precision=7)
    (lines,) = decode(topo.page_arcs(), {"lines": topo.page_lines("lsoa")})
    drawn = gpd.GeoSeries([lines], crs=4326).to_crs(27700).iloc[0]
    inner = shapely.Point(x + 100, y + 99)
    assert drawn.distance(inner) > 0.9  # GEOS' segment snapping put the corner into the line
    expected = shapely.union_all(shapely.boundary(outline.geometry.to_numpy()))
    assert shapely.hausdorff_distance(drawn, expected) < 0.01
