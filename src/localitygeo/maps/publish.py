"""Compact, gap-free geometry for the web, and atomic saving of maps."""

from __future__ import annotations

import base64
import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from localitygeo.errors import InputError, warn
from localitygeo.geometry.crs import REPROJECT_FIRST, ensure_projected
from localitygeo.io.atomic import write_text_atomic

__all__ = [
    "ASSETS",
    "WEB_CRS",
    "assets_dir",
    "inline_assets",
    "outline_edges",
    "render_html",
    "save",
    "simplify_coverage",
    "to_web",
]

#: CRS of web maps (longitude/latitude for Leaflet).
WEB_CRS = "EPSG:4326"


def _as_coverage(geoms: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``geoms`` made vertex-exact where possible, and whether they are."""
    exact = bool(shapely.coverage_is_valid(geoms))
    if not exact and hasattr(shapely, "coverage_clean"):  # shapely >= 2.2
        geoms = np.asarray(shapely.coverage_clean(geoms), dtype=object)
        exact = bool(shapely.coverage_is_valid(geoms))
    return geoms, exact


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
        A new frame with no gaps or overlaps opened between neighbours. A
        layer that is not a vertex-exact coverage (such as ONS generalised
        boundaries, whose neighbours' edges differ by floating-point slivers)
        is first cleaned with shapely's ``coverage_clean`` (shapely 2.2,
        GEOS 3.14), which snaps neighbours' edges together. With an older
        shapely each such polygon is simplified on its own, preserving its
        topology, and a warning says so.
    """
    ensure_projected(
        layer,
        "layer to publish",
        fix=REPROJECT_FIRST,
    )
    out = layer.copy()
    if tolerance_m <= 0:
        return out
    geoms, exact = _as_coverage(np.asarray(layer.geometry.array, dtype=object))
    if exact:
        out["geometry"] = shapely.coverage_simplify(geoms, tolerance_m)
    else:
        warn(
            "the layer is not a vertex-exact coverage; simplifying each polygon on its own "
            "(small gaps may appear between neighbours)"
        )
        out["geometry"] = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    return out


def to_web(layer: gpd.GeoDataFrame, precision: int = 5) -> gpd.GeoDataFrame:
    """Return ``layer`` in longitude/latitude with rounded coordinates.

    This is a reprojection for display only (Leaflet draws in degrees);
    nothing is measured afterwards. Each coordinate is rounded on its own
    (shapely's ``pointwise`` mode), so a vertex shared by two neighbours
    lands on the same rounded point in both and no gap opens between them.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Any layer with a CRS.
    precision : int, default 5
        Decimal places kept (5 is about 1 m, well inside the default 10 m
        simplification; 6 is about 0.1 m).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326.
    """
    web = layer.to_crs(WEB_CRS)
    web["geometry"] = shapely.set_precision(
        np.asarray(web.geometry.array, dtype=object), 10.0**-precision, mode="pointwise"
    )
    return web


def outline_edges(layer: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Return a layer's boundaries as one network of lines, each edge once.

    Drawing an outline layer as polygons draws every edge shared by two
    units twice; this draws it once, which roughly halves the bytes an
    outline costs in a published map.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Polygons in a projected CRS.
    tolerance_m : float
        Coverage simplification tolerance in metres (see
        :func:`simplify_coverage`); 0 keeps every vertex.

    Returns
    -------
    geopandas.GeoDataFrame
        One row, no attributes, whose geometry is the (multi)line network of
        all unit boundaries, in the layer's CRS.
    """
    ensure_projected(
        layer,
        "layer to publish",
        fix=REPROJECT_FIRST,
    )
    if tolerance_m > 0:
        geoms = np.asarray(simplify_coverage(layer, tolerance_m).geometry.array, dtype=object)
    else:
        geoms = _as_coverage(np.asarray(layer.geometry.array, dtype=object))[0]
    rings = shapely.boundary(geoms)
    network = shapely.line_merge(shapely.union_all(rings))
    return gpd.GeoDataFrame(geometry=[network], crs=layer.crs)


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
_ICON = re.compile(r"url\(images/([\w.-]+\.png)\)")

#: Remote files the maps need, by the end of their URL, and the local file in
#: :func:`assets_dir` that replaces each (fetched by scripts/fetch-map-assets.sh).
ASSETS = {
    "/leaflet.js": "leaflet.js",
    "/leaflet.css": "leaflet.css",
    "/L.Map.Sync.min.js": "L.Map.Sync.js",  # Leaflet.Sync, for the side-by-side change map
}


def inline_assets(page: str, folder: Path | None = None) -> str:
    """Return ``page`` with its assets embedded and no other remote script or style.

    The maps localitygeo draws use only Leaflet (and Leaflet.Sync for the
    change map); folium's other defaults (jQuery, Bootstrap, icon fonts) are
    dropped so the page works with no network.

    Parameters
    ----------
    page : str
        A rendered folium page.
    folder : pathlib.Path, optional
        Where the local copies are (default :func:`assets_dir`).

    Returns
    -------
    str
        The page with every asset in :data:`ASSETS` embedded (the icons
        Leaflet's CSS names as data URIs).

    Raises
    ------
    InputError
        A file the page needs has not been fetched (run
        scripts/fetch-map-assets.sh).
    """
    where = folder or assets_dir()

    def local(url: str) -> str | None:
        for ending, name in ASSETS.items():
            if url.endswith(ending):
                path = where / name
                if not path.exists():
                    raise InputError(
                        f"{name} for offline maps is missing; run scripts/fetch-map-assets.sh",
                        path=where,
                    )
                return path.read_text(encoding="utf-8")
        return None

    def script(match: re.Match[str]) -> str:
        text = local(match.group(1))
        return "" if text is None else f"<script>{text}</script>\n"

    def icon(match: re.Match[str]) -> str:
        path = where / "images" / match.group(1)
        if not path.exists():
            raise InputError(
                f"Leaflet's icon images/{match.group(1)} for offline maps is missing; "
                "run scripts/fetch-map-assets.sh",
                path=where,
            )
        return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"

    def style(match: re.Match[str]) -> str:
        text = local(match.group(1))
        if text is None:
            return ""
        # Relative icon URLs would resolve against the HTML file: embed them too.
        return f"<style>{_ICON.sub(icon, text)}</style>\n"

    return _STYLE.sub(style, _SCRIPT.sub(script, page))


@contextlib.contextmanager
def _compact_json() -> Iterator[None]:
    """Render folium's embedded JSON without spaces after separators.

    folium's templates share one jinja environment whose ``tojson`` filter
    follows the environment's policies; they are restored afterwards.
    """
    import folium

    policies = folium.Map._template.environment.policies
    before = policies["json.dumps_kwargs"]
    policies["json.dumps_kwargs"] = {**before, "separators": (",", ":")}
    try:
        yield
    finally:
        policies["json.dumps_kwargs"] = before


def save(m: Any, path: str | Path, *, inline: bool = False) -> Path:
    """Write a map to one HTML file atomically and return the path written.

    The embedded GeoJSON is written compactly (no spaces after separators).

    Parameters
    ----------
    m : folium.Map or folium.plugins.DualMap
        The map (from :func:`~localitygeo.maps.locality_map` or
        :func:`~localitygeo.maps.change_map`).
    path : str or pathlib.Path
        Destination; its folder must exist.
    inline : bool, default False
        Embed Leaflet's JavaScript and CSS (and Leaflet.Sync's, for the change
        map) so the file works offline (the background tiles still need the
        network).

    Returns
    -------
    pathlib.Path
        The file written (``path.stat().st_size`` is its size).
    """
    write_text_atomic(path, render_html(m, inline=inline))
    return Path(path)


def render_html(m: Any, *, inline: bool = False) -> str:
    """Return the map as the text of one HTML page, as :func:`save` writes it.

    Parameters
    ----------
    m : folium.Map or folium.plugins.DualMap
        The map.
    inline : bool, default False
        Embed the JavaScript and CSS (see :func:`save`).

    Returns
    -------
    str
        The page, for embedding in another document (an impact report).
    """
    with _compact_json():
        page = str(m.get_root().render())
    return inline_assets(page) if inline else page
