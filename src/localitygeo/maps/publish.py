"""Compact, gap-free geometry for the web, and atomic saving of maps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from localitygeo._atomic import write_text_atomic
from localitygeo.crs import ensure_projected
from localitygeo.errors import warn

if TYPE_CHECKING:
    import folium

__all__ = ["WEB_CRS", "save", "simplify_coverage", "to_web"]

#: CRS of web maps (longitude/latitude for Leaflet).
WEB_CRS = "EPSG:4326"


def simplify_coverage(layer: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify a layer as one coverage, keeping shared edges shared.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Polygons in a projected CRS (the tolerance is in its units, metres).
    tolerance_m : float
        Simplification tolerance in metres; 0 returns a copy.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame. When the input is a valid coverage (neighbours share
        vertices exactly) the output has no gaps or overlaps between
        neighbours; otherwise each polygon is simplified on its own,
        preserving its topology, and a warning says so.
    """
    ensure_projected(layer, "layer to publish")
    out = layer.copy()
    if tolerance_m <= 0:
        return out
    geoms = np.asarray(layer.geometry.array, dtype=object)
    if bool(shapely.coverage_is_valid(geoms)):
        out["geometry"] = shapely.coverage_simplify(geoms, tolerance_m)
    else:
        warn(
            "the layer is not a vertex-exact coverage; simplifying each polygon on its own "
            "(small gaps may appear between neighbours)"
        )
        out["geometry"] = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    return out


def to_web(layer: gpd.GeoDataFrame, precision: int = 6) -> gpd.GeoDataFrame:
    """Return ``layer`` in longitude/latitude with rounded coordinates.

    This is a reprojection for display only (Leaflet draws in degrees);
    nothing is measured afterwards.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Any layer with a CRS.
    precision : int, default 6
        Decimal places kept (6 is about 0.1 m).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326.
    """
    web = layer.to_crs(WEB_CRS)
    web["geometry"] = shapely.set_precision(
        np.asarray(web.geometry.array, dtype=object), 10.0**-precision
    )
    return web


def save(m: folium.Map, path: str | Path) -> int:
    """Write a map to one HTML file atomically and return its size in bytes.

    Parameters
    ----------
    m : folium.Map
        The map.
    path : str or pathlib.Path
        Destination; its folder must exist.

    Returns
    -------
    int
        Size of the written file in bytes.
    """
    html = m.get_root().render()
    write_text_atomic(path, html)
    return Path(path).stat().st_size
