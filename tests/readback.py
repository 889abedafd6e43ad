"""Features read back from a published page in the browser, and checks on them.

A published map is only as good as what the browser draws from it. These
helpers take what a page's script drew (as GeoJSON, read with
``JSON.stringify`` from the page) and measure it in EPSG:27700 with plain
shapely, independently of localitygeo's own validators:

- :func:`gaps` and :func:`overlaps`: holes in the union of a layer's units,
  and pairs of units that share area, above a tolerance in m²;
- :func:`faces`: an outline layer (lines only) closed back into its units'
  polygons, each named after the source unit it lies in;
- :func:`misfit`: per unit, its area outside its parent.

Used by ``tests/test_maps_readback.py`` and ``benchmarks/bench_map_size.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .hostile.browser import Page

BNG = 27700


def drawn(page: Any, expression: str = "window.localitygeo.drawn") -> list[dict[str, Any]]:
    """Return what a page's script recorded as drawn: a list of ``{name, geojson}``."""
    return json.loads(page.evaluate(f"() => JSON.stringify({expression})"))


def geometries(collection: dict[str, Any]) -> gpd.GeoSeries:
    """Return a GeoJSON FeatureCollection's geometries (longitude/latitude) in EPSG:27700."""
    shapes = [
        None if f["geometry"] is None else shapely.from_geojson(json.dumps(f["geometry"]))
        for f in collection["features"]
    ]
    return gpd.GeoSeries(shapes, crs=4326).to_crs(BNG)


def _valid(geoms: Any) -> np.ndarray:
    g = np.asarray(geoms, dtype=object)
    return np.asarray(shapely.make_valid(g), dtype=object)


def overlaps(geoms: Any, min_m2: float = 1.0) -> list[tuple[int, int, float]]:
    """Return pairs of units (i < j) sharing more than ``min_m2`` of area, with the area."""
    g = _valid(geoms)
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    pick = i < j
    i, j = i[pick], j[pick]
    area = shapely.area(shapely.intersection(g[i], g[j]))
    big = area > min_m2
    return list(zip(i[big].tolist(), j[big].tolist(), area[big].tolist(), strict=True))


def gaps(geoms: Any, min_m2: float = 1.0) -> list[float]:
    """Return the areas of the holes in a layer's union larger than ``min_m2``."""
    union = shapely.union_all(_valid(geoms))
    holes = [shapely.Polygon(ring) for poly in shapely.get_parts(union) for ring in poly.interiors]
    areas = shapely.area(np.asarray(holes, dtype=object)) if holes else np.zeros(0)
    return sorted(areas[areas > min_m2].tolist(), reverse=True)


def faces(lines: Any, source: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return an outline layer's lines closed into polygons, one per source unit.

    Parameters
    ----------
    lines : shapely geometry or sequence of them
        The outline as drawn (in EPSG:27700).
    source : geopandas.GeoDataFrame
        The layer's source units (``code``, geometry, in EPSG:27700): each face
        is given to the unit holding a point inside it.

    Returns
    -------
    geopandas.GeoSeries
        Indexed by code, in the source's order (empty geometry for a unit
        no face was given to).
    """
    noded = shapely.union_all(np.atleast_1d(np.asarray(lines, dtype=object)))
    polys = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    inside = shapely.point_on_surface(polys)
    src = _valid(source.geometry)
    face, unit = shapely.STRtree(src).query(inside, predicate="within")
    codes = source["code"].to_numpy()
    owned = pd.Series(list(polys[face]), index=codes[unit])
    merged = {code: shapely.union_all(list(group)) for code, group in owned.groupby(level=0)}
    out = [merged.get(c, shapely.Polygon()) for c in codes]
    return gpd.GeoSeries(out, index=pd.Index(codes, name="code"), crs=source.crs)


def parent_of(children: Any, parents: gpd.GeoDataFrame) -> np.ndarray:
    """Return, per child, the code of the parent that holds most of its area."""
    c, p = _valid(children), _valid(parents.geometry)
    i, j = shapely.STRtree(p).query(c, predicate="intersects")
    area = shapely.area(shapely.intersection(c[i], p[j]))
    best = pd.DataFrame({"i": i, "j": j, "a": area}).sort_values("a").groupby("i").tail(1)
    out = np.full(len(c), None, dtype=object)
    out[best["i"].to_numpy()] = parents["code"].to_numpy()[best["j"].to_numpy()]
    return out


def misfit(children: Any, parents: Any) -> np.ndarray:
    """Return each child's area (m²) outside its parent (the two aligned)."""
    return np.asarray(shapely.area(shapely.difference(_valid(children), _valid(parents))))


def nesting_report(
    source_children: gpd.GeoDataFrame,
    source_parents: gpd.GeoDataFrame,
    published_children: gpd.GeoSeries,
    published_parent_lines: Any,
    min_m2: float = 1.0,
) -> dict[str, Any]:
    """Compare children's misfit in their parents, source against published.

    Each child's parent is the source parent holding most of it; the
    published parents are the published outline closed into faces.

    Returns
    -------
    dict
        ``source`` and ``published`` misfits (m², aligned with the children),
        ``worse``: the children whose published misfit exceeds the source's
        by more than ``min_m2``, and ``parents_found``: how many parents got
        a face.
    """
    parent = parent_of(source_children.geometry, source_parents)
    src = source_parents.set_index("code").geometry
    before = misfit(source_children.geometry, src.reindex(parent).to_numpy())
    closed = faces(published_parent_lines, source_parents)
    after = misfit(published_children, closed.reindex(parent).to_numpy())
    worse = np.flatnonzero(after > before + min_m2)
    return {
        "source": before,
        "published": after,
        "worse": worse,
        "parents_found": int((~shapely.is_empty(np.asarray(closed.to_numpy()))).sum()),
    }


class LocalPage(Page):
    """A page opened with the network cut off, its linked files served from disk.

    Parameters
    ----------
    browser
        From :func:`tests.hostile.browser.launch`.
    path : pathlib.Path
        The HTML file.
    files : dict of str to pathlib.Path
        URL the page links (a script, a style) to the local file served for it;
        any other request is refused as by :class:`~tests.hostile.browser.Page`.
    """

    def __init__(self, browser: Any, path: Path, files: dict[str, Path]) -> None:
        self.files = files
        super().__init__(browser, path)

    def _route(self, route: Any) -> None:
        local = self.files.get(route.request.url)
        if local is None:
            super()._route(route)
        else:
            route.fulfill(path=str(local))
