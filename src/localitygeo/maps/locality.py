"""The locality map: a layer coloured by an indicator or by locality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.errors import ColumnError, DataError, ManifestError
from localitygeo.io.numbers import layer_numbers
from localitygeo.io.tables import HigherIs, check_higher_is, indicator_info, recognised_direction
from localitygeo.maps.arcs import build_topology
from localitygeo.maps.page import PageData, add_background
from localitygeo.maps.parents import Outline, choose_outline, coarsest_parent, fixed_parent
from localitygeo.maps.publish import WEB_CRS
from localitygeo.maps.scale import (
    DEFAULT_PALETTE,
    SCHEMES,
    classify,
    number_format,
    readable,
)
from localitygeo.maps.scale import palette as colours_of
from localitygeo.model.boundary_set import BoundarySet

__all__ = ["SCHEMES", "locality_map", "neighbour_colours"]

_NO_DATA = "#cccccc"
_QUALITATIVE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
DEFAULT_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right; Open Government Licence v3.0"
)


def neighbour_colours(layer: gpd.GeoDataFrame) -> np.ndarray:
    """Return a colour index per unit such that touching units differ.

    Greedy colouring in order of decreasing number of neighbours (units
    sharing an edge or a point).

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Polygons.

    Returns
    -------
    numpy.ndarray
        Integer colour index per row.
    """
    geoms = np.asarray(layer.geometry.array, dtype=object)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a != b
    a, b = a[keep], b[keep]
    degree = np.bincount(a, minlength=len(geoms))
    colour = np.full(len(geoms), -1)
    neighbours = pd.Series(b).groupby(a).agg(list)
    for i in np.argsort(-degree, kind="stable"):
        used = {colour[j] for j in neighbours.get(i, [])}
        colour[i] = next(c for c in range(len(geoms) + 1) if c not in used)
    return colour


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "–"
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:,.2f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return "–" if value is None else str(value)


def _rows(
    frame: pd.DataFrame, fields: list[str], formats: dict[str, Any] | None = None
) -> list[list[str]]:
    """Return each row's ``fields`` formatted for people (raw text: the page escapes it).

    ``formats`` gives the writer of some fields' numbers (the indicator's).
    """
    formats = formats or {}
    columns = [[formats.get(f, _fmt)(v) for v in frame[f]] for f in fields]
    return [list(row) for row in zip(*columns, strict=True)]


def _numbers(units: pd.DataFrame, indicator: str, layer: str, path: Any) -> pd.Series:
    """Return the indicator as floats (missing values NaN); refuse text and no values."""
    values = pd.Series(layer_numbers(units, indicator, layer, path), index=units.index)
    if values.isna().all():
        raise DataError(
            f"indicator '{indicator}' has no values to colour by", path=path, layer=layer
        )
    return values


def _direction(
    indicator: str, label: str | None, higher_is: HigherIs | None, known: dict[str, str]
) -> HigherIs | None:
    """Return whether higher values are worse: as given, as described, or as recognised."""
    given = check_higher_is(higher_is)
    if given is not None:
        return given
    described = check_higher_is(known.get("higher_is"), f"higher_is of '{indicator}'")
    return described or recognised_direction(indicator, label)


def _choropleth(
    values: pd.Series,
    indicator: str,
    scheme: str,
    k: int,
    way: HigherIs | None,
    named: str,
    reverse: bool,
    layer: str,
) -> tuple[np.ndarray, list[str], dict[str, Any], Any]:
    """Return each unit's colour index, the colours, the legend's rows and scale, the writer."""
    try:
        classes = classify(values.to_numpy(dtype=float), scheme, k, indicator)
        steps = len(classes.lower)
        colours = colours_of(named, steps, reverse=reverse)
    except DataError as exc:
        raise DataError(exc.message, layer=layer) from None
    # palette() runs light to dark: the worse end takes the darkest colour.
    if way == "better":
        colours.reverse()
    write = number_format(
        values.to_numpy(dtype=float), list(zip(classes.lower, classes.upper, strict=True))
    )
    rows = []
    for colour, lo, hi, empty in zip(
        colours, classes.lower, classes.upper, classes.empty, strict=True
    ):
        text = write(lo) if write(lo) == write(hi) else f"{write(lo)} – {write(hi)}"
        rows.append([colour, text + (" (no units)" if empty else "")])
    missing = int((classes.index < 0).sum())
    if missing:
        rows.append([_NO_DATA, f"No data ({missing:,})"])
    index = np.where(classes.index < 0, len(colours), classes.index)
    darker = None
    if way is not None:
        worse_darker = not reverse
        darker = "Darker is worse" if worse_darker else "Darker is better"
    return index, [*colours, _NO_DATA], {"rows": rows, "scale": darker}, write


def _name_labels(boundary_set: BoundarySet, key: str, precision: int) -> dict[str, Any]:
    """Return the page's description of a layer's unit names, written at each unit's centre.

    The centre is that of the unit's largest inscribed circle (always inside
    it, and where a label has most room), found in the set's projected CRS.
    """
    units = boundary_set[key]
    geoms = np.asarray(units.geometry.array, dtype=object)
    drawn = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    # polygons stay polygons (an invalid one is repaired, never a collection)
    geoms = shapely.make_valid(geoms[drawn], method="structure", keep_collapsed=False)
    centres = shapely.get_point(shapely.maximum_inscribed_circle(geoms), 0)
    points = gpd.GeoSeries(centres, crs=units.crs).to_crs("EPSG:4326")
    xy = np.round(shapely.get_coordinates(np.asarray(points.array, dtype=object)), precision)
    names = units["name"] if "name" in units.columns else units["code"]
    names = names.where(names.notna(), units["code"])[drawn]
    return {
        "name": key.replace("_", " ").title() + " names",  # as outline layers are named
        "points": xy.tolist(),
        "texts": [str(n) for n in names],
    }


def locality_map(
    boundary_set: BoundarySet,
    layer: str,
    indicator: str | None = None,
    *,
    data: pd.DataFrame | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    higher_is: HigherIs | None = None,
    palette: str = DEFAULT_PALETTE,
    reverse: bool = False,
    label: str | None = None,
    localities: Outline = None,
    wards: Outline = None,
    outlines: Sequence[str] = (),
    labels: str | None = None,
    tiles: str | None = "osm",
    tiles_credit: str | None = None,
    tolerance_m: float = 10.0,
    precision: int = 5,
    title: str | None = None,
    attribution: str = DEFAULT_ATTRIBUTION,
) -> Any:
    """Draw a layer of a boundary set as an interactive map.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set to draw.
    layer : str
        The layer whose units are coloured.
    indicator : str, optional
        Column (of the layer, or of ``data``) to colour by. Without it units
        are coloured so that neighbours never share a colour.
    data : pandas.DataFrame, optional
        Indicator values indexed by the layer's codes (e.g. from
        :func:`localitygeo.aggregate`, or :func:`localitygeo.read_indicators`,
        whose ``attrs["indicators"]`` give the indicator's label and
        direction).
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
        mapclassify scheme.
    k : int, default 5
        Number of classes: from 1 up to the number of distinct values (equal
        intervals may be empty: up to 253, the most colours). Where ties
        leave quantiles or natural breaks fewer classes, the empty ones are
        dropped, with a warning.
    higher_is : {"worse", "better"}, optional
        Whether higher values are worse or better; the worse end is drawn
        darkest. By default, as ``data``'s ``attrs`` or the layer's
        ``indicators`` in the manifest say, else as
        :func:`localitygeo.io.tables.recognised_direction` recognises
        (deprivation ranks and deciles: lower is worse); else higher values
        are drawn darker and the legend makes no claim.
    palette : str, default "OrRd"
        A ColorBrewer or matplotlib palette (sequential or diverging; see
        :func:`localitygeo.maps.scale.palette_names`); ``_r`` reverses it.
    reverse : bool, default False
        Draw the better end darkest instead.
    label : str, optional
        The indicator's name for people, the legend's title and the
        tooltip's heading: by default its label in ``data``'s ``attrs`` or
        the manifest, else the column made readable (``imd_rank`` is "IMD
        rank").
    localities, wards : str, None or False
        Layers drawn as outlines on top: ``localities`` bold, ``wards``
        dashed and toggleable. By default (``None``) they are found in the
        set: ``localities`` is the coarsest layer ``layer`` nests in (by its
        nesting rules and the layers built from it), ``wards`` the nearest
        other one not built from ``layer`` (see :mod:`localitygeo.maps.parents`).
        ``False`` draws none; a key the set lacks is a
        :class:`~localitygeo.errors.ManifestError`.
    outlines : sequence of str, optional
        Further layers drawn as thin outlines (shown, and toggleable), such as
        ``("lsoa", "msoa")`` under an output-area map.
    labels : str, optional
        A layer (such as ``"locality"``) whose unit names are written on the
        map, as text, at each unit's centre; a toggleable overlay.
    tiles : str or None, default "osm"
        Background: ``None`` (or ``"none"``) for none, so an offline page
        makes no request at all; ``"osm"``; a tile URL with ``{z}``, ``{x}``
        and ``{y}``; or a provider name folium knows.
    tiles_credit : str, optional
        Credit of tiles given by URL (default "Tiles: <host>").
    tolerance_m : float, default 10.0
        Simplification tolerance of the shared arcs in metres (0 keeps every
        vertex); outline layers are snapped to the coloured one within a
        fifth of it.
    precision : int, default 5
        The coordinate grid is ``10**-precision`` degrees (5 is about 1 m);
        a grid up to a hundred times finer is used where this one would make
        arcs cross or units overlap.
    title : str, optional
        The page's title (the browser's tab); default "<label>: <layer title>"
        (the layer's title alone without an indicator).
    attribution : str
        Attribution line (required for OGL data).

    Returns
    -------
    folium.Map
        With tooltips showing code, name (left out when no unit has a name
        other than its code) and the indicator, a legend, a layer control
        and bounds fitted to the data. All layers are written as one
        network of shared, quantised arcs (:mod:`localitygeo.maps.arcs`):
        outline layers draw each of their arcs once, with no attributes. Every name, value
        and title reaches the page only as JSON data, shown as text.

    Raises
    ------
    ColumnError
        ``indicator`` is not a column.
    DataError
        ``k`` is out of range, the palette is unknown or qualitative,
        ``higher_is`` is neither "worse" nor "better", or the indicator holds
        text or infinities, has no values, or cannot be put in ``k`` classes.
    InputError
        ``tiles`` is not a known background or a tile URL.
    """
    import folium

    units = boundary_set[layer]
    if data is not None:
        units = units.merge(
            data, left_on="code", right_index=True, how="left", suffixes=("", "_data")
        )
    if indicator is not None and indicator not in units.columns:
        raise ColumnError(
            f"no indicator column '{indicator}'; columns are: "
            f"{', '.join(c for c in units.columns if c != 'geometry')}",
            layer=layer,
        )
    if scheme not in SCHEMES:
        raise ManifestError(f"unknown scheme '{scheme}'; choose from {', '.join(SCHEMES)}")
    if labels is not None and labels not in boundary_set.layers:
        raise ColumnError(
            f"no layer '{labels}' to label; layers are: {', '.join(boundary_set.layers)}"
        )
    spec = boundary_set.specs.get(layer)
    title_of = spec.title if spec is not None else readable(layer)
    legend: dict[str, Any] = {"title": title_of, "rows": []}
    formats: dict[str, Any] = {}
    if indicator is not None:
        own = data is None or indicator not in data.columns
        path = spec.path if own and spec is not None else None
        values = _numbers(units, indicator, layer, path)
        known = indicator_info(
            indicator,
            None if data is None else data.attrs.get("indicators"),
            getattr(spec, "indicators", None),
        )
        label = label or known.get("label") or readable(indicator)
        way = _direction(indicator, label, higher_is, known)
        index, colours, scale, formats[indicator] = _choropleth(
            values, indicator, scheme, k, way, palette, reverse, layer
        )
        legend = {"title": label, **scale}
    else:
        check_higher_is(higher_is)
        colours_of(palette, 3)  # a bad name is an error with or without an indicator
        index = neighbour_colours(units) % len(_QUALITATIVE)
        colours = list(_QUALITATIVE)
    shown = units.reset_index(drop=True)
    named = "name" in shown.columns and bool(
        (shown["name"].notna() & (shown["name"].astype(str) != shown["code"].astype(str))).any()
    )
    fields = ["code"] + (["name"] if named else []) + ([indicator] if indicator else [])
    headings = ["Code"] + (["Name"] if named else []) + ([str(label)] if indicator else [])
    bold = choose_outline(
        boundary_set, layer, localities, coarsest_parent(boundary_set, layer), "localities"
    )
    found = fixed_parent(boundary_set, layer)
    dashed = choose_outline(boundary_set, layer, wards, found if found != bold else None, "wards")
    drawn: list[tuple[str | None, float, str | None, bool]] = [
        *((key, 0.8, None, True) for key in outlines),
        (dashed, 1.5, "4 4", False),
        (bold, 3.5, None, True),
    ]
    drawn = [d for d in drawn if d[0] is not None and d[0] in boundary_set.layers and d[0] != layer]
    topology = build_topology(
        shown,
        {str(key): boundary_set[str(key)] for key, *_ in drawn},
        tolerance_m=tolerance_m,
        precision=precision,
    )

    west, south, east, north = shown.geometry.to_crs(WEB_CRS).total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[south, west], [north, east]])
    credit = add_background(m, tiles, tiles_credit)
    layers: list[dict[str, Any]] = [
        {
            "name": title_of,
            "shapes": topology.page_shapes(),
            "style": {"color": "#555555", "weight": 0.6, "fillOpacity": 0.75},
            "fill": {"colours": colours, "index": [int(i) for i in index]},
            "highlight": {"weight": 2.5, "color": "#000000"},
            "labels": headings,
            "rows": _rows(shown, fields, formats),
            "detail": "tooltip",
            "sticky": True,
            "show": True,
            "interactive": True,
        }
    ]
    for key, weight, dash, show in drawn:
        layers.append(
            {
                "name": str(key).replace("_", " ").title() + " boundaries",
                "lines": topology.page_lines(str(key)),
                "style": {"fill": False, "color": "#111111", "weight": weight, "dashArray": dash},
                "show": show,
                "interactive": False,
            }
        )
    page_title = title or (f"{label}: {title_of}" if indicator else title_of)
    PageData(
        {
            "arcs": topology.page_arcs(),
            "layers": layers,
            "names": None if labels is None else _name_labels(boundary_set, labels, precision),
            "control": {"collapsed": False},
            "attribution": attribution,
            "tilesCredit": credit,
            "pageTitle": page_title,
            "legend": {**legend, "note": attribution},
        }
    ).add_to(m)
    return m
