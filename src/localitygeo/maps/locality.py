"""The locality map: a layer coloured by an indicator or by locality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.boundaries import BoundarySet
from localitygeo.errors import ColumnError, DataError, ManifestError
from localitygeo.maps.page import PageData, feature_collection, outline_layer
from localitygeo.maps.publish import outline_edges, simplify_coverage, to_web
from localitygeo.numbers import layer_numbers

__all__ = ["SCHEMES", "locality_map", "neighbour_colours"]

#: Classification schemes (mapclassify class names) by the names users give.
SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "NaturalBreaks",
    "equal_interval": "EqualInterval",
}

_PALETTE = ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000", "#7f0000"]
_NO_DATA = "#cccccc"
_QUALITATIVE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
DEFAULT_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right; Open Government Licence v3.0"
)


_OSM_CREDIT = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
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


def _rows(frame: pd.DataFrame, fields: list[str]) -> list[list[str]]:
    """Return each row's ``fields`` formatted for people (raw text: the page escapes it)."""
    columns = [[_fmt(v) for v in frame[f]] for f in fields]
    return [list(row) for row in zip(*columns, strict=True)]


def _check_classes(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= len(_PALETTE):
        raise DataError(
            f"cannot draw {k!r} classes: the number of classes (-k) must be "
            f"a whole number from 1 to {len(_PALETTE)}"
        )


def _numbers(units: pd.DataFrame, indicator: str, layer: str, path: Any) -> pd.Series:
    """Return the indicator as floats (missing values NaN); refuse text and no values."""
    values = pd.Series(layer_numbers(units, indicator, layer, path), index=units.index)
    if values.isna().all():
        raise DataError(
            f"indicator '{indicator}' has no values to colour by", path=path, layer=layer
        )
    return values


def locality_map(
    boundary_set: BoundarySet,
    layer: str = "neighbourhood",
    indicator: str | None = None,
    *,
    data: pd.DataFrame | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    localities: str | None = "locality",
    wards: str | None = "ward",
    outlines: Sequence[str] = (),
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
    layer : str, default "neighbourhood"
        The layer whose units are coloured.
    indicator : str, optional
        Column (of the layer, or of ``data``) to colour by. Without it units
        are coloured so that neighbours never share a colour.
    data : pandas.DataFrame, optional
        Indicator values indexed by the layer's codes (e.g. from
        :func:`localitygeo.aggregate`).
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
        mapclassify scheme.
    k : int, default 5
        Number of classes, 1 to 7 (the palette's colours).
    localities, wards : str or None
        Layers drawn as bold outlines on top and as a toggleable overlay;
        ``None`` (or a layer the set lacks) leaves them out.
    outlines : sequence of str, optional
        Further layers drawn as thin outlines (shown, and toggleable), such as
        ``("lsoa", "msoa")`` under an output-area map.
    tolerance_m : float, default 10.0
        Coverage simplification tolerance in metres (0 keeps every vertex).
    precision : int, default 5
        Decimal places of longitude/latitude kept (5 is about 1 m).
    title : str, optional
        Title shown in the legend (as text; never parsed as HTML).
    attribution : str
        Attribution line (required for OGL data).

    Returns
    -------
    folium.Map
        With tooltips showing code, name (left out when no unit has a name
        other than its code) and the indicator, a legend, a layer control
        and bounds fitted to the data. Outline layers are drawn from their
        shared edges, each edge once, with no attributes. Every name, value
        and title reaches the page only as JSON data, shown as text.

    Raises
    ------
    ColumnError
        ``indicator`` is not a column.
    DataError
        ``k`` is out of range, or the indicator holds text or infinities, has
        no values, or cannot be put in ``k`` classes.
    """
    import folium
    import mapclassify

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
    _check_classes(k)
    values = None
    if indicator is not None:
        own = data is None or indicator not in data.columns
        path = boundary_set.specs[layer].path if own and layer in boundary_set.specs else None
        values = _numbers(units, indicator, layer, path)
    shown = to_web(simplify_coverage(units, tolerance_m), precision).reset_index(drop=True)
    named = "name" in shown.columns and bool(
        (shown["name"].notna() & (shown["name"].astype(str) != shown["code"].astype(str))).any()
    )
    fields = ["code"] + (["name"] if named else []) + ([indicator] if indicator else [])
    labels = (
        ["Code"]
        + (["Name"] if named else [])
        + ([indicator.replace("_", " ")] if indicator else [])
    )
    legend_rows: list[list[str]] = []
    if values is not None:
        ok = values.notna().to_numpy()
        try:
            classifier = getattr(mapclassify, SCHEMES[scheme])(values[ok].to_numpy(), k=k)
        except ValueError as exc:
            raise DataError(
                f"cannot classify indicator '{indicator}' into {k} {scheme} classes: {exc}",
                layer=layer,
            ) from None
        palette = _PALETTE[: len(classifier.bins)]
        index = np.full(len(units), len(palette))  # no value: the grey after the palette
        index[ok] = classifier.yb
        colours = [*palette, _NO_DATA]
        lower = [float(values[ok].min()), *classifier.bins[:-1]]
        legend_rows = [
            [palette[i], f"{_fmt(lo)} – {_fmt(hi)}"]
            for i, (lo, hi) in enumerate(zip(lower, classifier.bins, strict=True))
        ]
    else:
        index = neighbour_colours(units) % len(_QUALITATIVE)
        colours = list(_QUALITATIVE)

    west, south, east, north = shown.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[south, west], [north, east]])
    # OpenStreetMap's tiles keep their own credit; the data's is added by the page.
    folium.TileLayer("OpenStreetMap", name="Background", attr=_OSM_CREDIT).add_to(m)
    title_of = boundary_set.specs[layer].title if layer in boundary_set.specs else layer
    layers: list[dict[str, Any]] = [
        {
            "name": title_of,
            "geojson": feature_collection(shown),
            "style": {"color": "#555555", "weight": 0.6, "fillOpacity": 0.75},
            "fill": {"colours": colours, "index": [int(i) for i in index]},
            "highlight": {"weight": 2.5, "color": "#000000"},
            "labels": labels,
            "rows": _rows(shown, fields),
            "detail": "tooltip",
            "sticky": True,
            "show": True,
            "interactive": True,
        }
    ]
    drawn: list[tuple[str | None, float, str | None, bool]] = [
        *((key, 0.8, None, True) for key in outlines),
        (wards, 1.5, "4 4", False),
        (localities, 3.5, None, True),
    ]
    for key, weight, dash, show in drawn:
        if key is None or key not in boundary_set.layers or key == layer:
            continue
        outline = to_web(outline_edges(boundary_set[key], tolerance_m), precision)
        layers.append(
            outline_layer(
                key,
                outline,
                {"fill": False, "color": "#111111", "weight": weight, "dashArray": dash},
                show=show,
            )
        )
    PageData(
        {
            "layers": layers,
            "control": {"collapsed": False},
            "attribution": attribution,
            "legend": {
                "title": title or (indicator or layer).replace("_", " ").capitalize(),
                "rows": legend_rows,
                "note": attribution,
            },
        }
    ).add_to(m)
    return m
