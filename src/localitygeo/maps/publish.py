"""Compact, gap-free geometry for the web, and atomic saving of maps."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from localitygeo._atomic import write_text_atomic
from localitygeo.crs import ensure_projected
from localitygeo.errors import InputError, warn

if TYPE_CHECKING:
    import folium

__all__ = ["WEB_CRS", "assets_dir", "inline_assets", "save", "simplify_coverage", "to_web"]

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


def assets_dir() -> Path:
    """Return where Leaflet's files for offline maps are kept.

    ``$LOCALITYGEO_MAP_ASSETS`` or ``~/.cache/localitygeo/map-assets``;
    ``scripts/fetch-map-assets.sh`` (run by ``make setup``) fills it from the
    npm registry.
    """
    env = os.environ.get("LOCALITYGEO_MAP_ASSETS")
    return Path(env) if env else Path.home() / ".cache" / "localitygeo" / "map-assets"


_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>\s*')
_STYLE = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"/>\s*')


def inline_assets(page: str, folder: Path | None = None) -> str:
    """Return ``page`` with Leaflet embedded and no other remote script or style.

    The maps localitygeo draws use only Leaflet itself; folium's other
    defaults (jQuery, Bootstrap, icon fonts) are dropped so the page works
    with no network.

    Raises
    ------
    InputError
        Leaflet's files have not been fetched (run scripts/fetch-map-assets.sh).
    """
    where = folder or assets_dir()
    js, css = where / "leaflet.js", where / "leaflet.css"
    if not (js.exists() and css.exists()):
        raise InputError(
            "Leaflet's files for offline maps are missing; run scripts/fetch-map-assets.sh",
            path=where,
        )

    def script(match: re.Match[str]) -> str:
        if match.group(1).endswith("/leaflet.js"):
            return f"<script>{js.read_text(encoding='utf-8')}</script>\n"
        return ""

    def style(match: re.Match[str]) -> str:
        if match.group(1).endswith("/leaflet.css"):
            return f"<style>{css.read_text(encoding='utf-8')}</style>\n"
        return ""

    return _STYLE.sub(style, _SCRIPT.sub(script, page))


def save(m: folium.Map, path: str | Path, *, inline: bool = False) -> int:
    """Write a map to one HTML file atomically and return its size in bytes.

    Parameters
    ----------
    m : folium.Map
        The map.
    path : str or pathlib.Path
        Destination; its folder must exist.
    inline : bool, default False
        Embed Leaflet's JavaScript and CSS so the file works offline (the
        background tiles still need the network).

    Returns
    -------
    int
        Size of the written file in bytes.
    """
    page = m.get_root().render()
    if inline:
        page = inline_assets(page)
    write_text_atomic(path, page)
    return Path(path).stat().st_size
