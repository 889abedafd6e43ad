"""Working CRS choice, and refusal to measure in degrees."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from localitygeo import best_fit, working_crs
from localitygeo.errors import CRSError

from .helpers import grid_layer


def _lonlat(x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["A"]}, geometry=[shapely.box(x, y, x + 0.01, y + 0.01)], crs="OGC:CRS84"
    )


def test_great_britain_gets_british_national_grid(plymouth):
    wards = gpd.read_file(plymouth / "wards_2013.geojson")
    assert working_crs(wards).to_epsg() == 27700


def test_elsewhere_gets_the_utm_zone():
    # Lyon (4.8 E, 45.7 N) lies in UTM zone 31N; New York (74 W) in 18N.
    assert working_crs(_lonlat(4.8, 45.7)).to_epsg() == 32631
    assert working_crs(_lonlat(-74.0, 40.7)).to_epsg() == 32618


def test_projected_input_is_judged_by_location():
    assert working_crs(grid_layer(2, 1)).to_epsg() == 27700


def test_no_crs():
    g = grid_layer(1, 1).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no CRS"):
        working_crs(g)


def test_best_fit_refuses_degrees_and_mixed_crs():
    g = grid_layer(2, 1)
    with pytest.raises(CRSError, match="geographic CRS"):
        best_fit(g.to_crs(4326), g)
    with pytest.raises(CRSError, match="different CRSs"):
        best_fit(g, g.to_crs(3857))
    # Reprojection happens only when asked for, and then gives the same answer.
    table = best_fit(g.to_crs(4326), g.to_crs(3857), crs="EPSG:27700")
    assert list(table["parent_code"]) == ["C000", "C001"]
    assert table["share"].min() == pytest.approx(1.0, abs=1e-6)


def _reference_choice(layer: gpd.GeoDataFrame) -> int:
    """The choice made by reprojecting every coordinate to lon/lat (as before)."""
    from localitygeo.geometry.crs import _GB_BOUNDS

    w, s, e, n = layer.geometry.to_crs("OGC:CRS84").total_bounds
    gw, gs, ge, gn = _GB_BOUNDS
    if w >= gw and s >= gs and e <= ge and n <= gn:
        return 27700
    return int(layer.estimate_utm_crs().to_epsg())


@pytest.mark.parametrize("crs", ["EPSG:4326", "OGC:CRS84", "EPSG:3857", "EPSG:27700", "EPSG:32630"])
@pytest.mark.parametrize(
    "lon, lat",
    [(-4.14, 50.37), (2.05, 52.0), (2.15, 52.0), (-8.75, 55.0), (-8.85, 55.0), (1.0, 60.95)],
)
def test_the_choice_is_the_one_every_coordinate_gives(crs, lon, lat):
    # boxes just inside and just outside Great Britain's bounds (2.1 E, 8.8 W,
    # 61 N), in CRSs whose lon/lat box is the data's own or a little larger
    layer = gpd.GeoDataFrame(
        {"code": ["A", "B"]},
        geometry=[
            shapely.box(lon - 0.04, lat - 0.04, lon, lat),
            shapely.box(lon - 0.02, lat - 0.02, lon + 0.04, lat + 0.04),
        ],
        crs="OGC:CRS84",
    ).to_crs(crs)
    assert working_crs(layer).to_epsg() == _reference_choice(layer)
