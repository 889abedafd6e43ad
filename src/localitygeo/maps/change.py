"""The change map: a layer before and after a change, side by side."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from localitygeo.boundaries import BoundarySet
from localitygeo.maps.locality import DEFAULT_ATTRIBUTION, _fmt, _rows
from localitygeo.maps.page import PageData, add_background, feature_collection, outline_layer
from localitygeo.maps.publish import outline_edges, simplify_coverage, to_web
from localitygeo.realign import Diff

__all__ = ["MOVED_COLOUR", "change_map"]

#: Fill of the blocks that changed unit, on both panes.
MOVED_COLOUR = "#e34a33"

_POPUP_FIELDS = ["block", "from", "to", "population"]
_POPUP_LABELS = ["Block", "From", "To", "Population"]


def _label(code: Any, names: pd.Series) -> str:
    """Return ``"CODE name"`` (or the code alone when the unit has no other name)."""
    name = names.get(code)
    if name is None or pd.isna(name) or str(name) == str(code):
        return str(code)
    return f"{code} {name}"


def _count(value: Any) -> Any:
    """Return a whole-number population as an int (shown without decimals)."""
    number = pd.to_numeric(value, errors="coerce")
    return int(number) if pd.notna(number) and float(number).is_integer() else number


def _moved_blocks(before: BoundarySet, after: BoundarySet, diff: Diff) -> gpd.GeoDataFrame:
    """Return the moved blocks with their popup fields (as text)."""
    blocks = before[diff.blocks]
    moved = diff.moved.drop_duplicates("block")
    geom = blocks.drop_duplicates("code").set_index("code").geometry
    names_before = before[diff.layer].drop_duplicates("code").set_index("code")["name"]
    names_after = after[diff.layer].drop_duplicates("code").set_index("code")["name"]
    return gpd.GeoDataFrame(
        {
            "block": moved["block"].astype(str).to_numpy(),
            "from": [_label(c, names_before) for c in moved["from_unit"]],
            "to": [_label(c, names_after) for c in moved["to_unit"]],
            "population": [_count(v) for v in moved["population"]],
        },
        geometry=geom.reindex(moved["block"].to_numpy()).to_numpy(),
        crs=blocks.crs,
    )


def fixed_parent(bset: BoundarySet, layer: str) -> str | None:
    """Return the first layer ``layer`` must nest in that is not built from blocks.

    That is the layer a change realigns onto (wards for neighbourhoods), the
    natural ``parents`` of :func:`change_map`; None when there is none.
    """
    return next(
        (r.parent for r in bset.nesting if r.child == layer and r.parent not in bset.built_from),
        None,
    )


def change_map(
    before: BoundarySet,
    after: BoundarySet,
    diff: Diff,
    *,
    parents: str | None = "ward",
    tiles: str | None = "OpenStreetMap",
    tolerance_m: float = 10.0,
    precision: int = 5,
    title: str | None = None,
    attribution: str = DEFAULT_ATTRIBUTION,
) -> Any:
    """Draw a layer before and after a change in two synchronised panes.

    The left pane shows the layer before, the right pane after; panning or
    zooming one moves the other (folium's ``DualMap``, which uses
    Leaflet.Sync). On both panes the blocks that changed unit are filled in
    :data:`MOVED_COLOUR`, and clicking one opens a popup with the block, the
    unit it moved from, the unit it moved to and its population. Hovering a
    unit shows its code and name. Every name and value is shown as text:
    it reaches the page only as JSON data (see :mod:`localitygeo.maps.page`).

    Parameters
    ----------
    before, after : BoundarySet
        The sets compared (e.g. ``bset`` and ``apply_moves(bset, ...)``).
    diff : Diff
        From :func:`localitygeo.diff` on these two sets; gives the layer,
        the blocks layer and the moved blocks.
    parents : str or None, default "ward"
        Layer of ``before`` drawn as dashed outlines on both panes (the
        parents the change realigns onto); ``None`` or a layer the set lacks
        leaves it out.
    tiles : str or None, default "OpenStreetMap"
        Background tiles of both panes: ``"osm"`` (or ``"OpenStreetMap"``),
        a tile URL with ``{z}``, ``{x}`` and ``{y}``, or a provider name
        folium knows (none may hold template syntax such as ``{{``);
        ``None`` (or ``"none"``) draws no background, so the file needs no
        network at all when saved with ``inline=True``.
    tolerance_m : float, default 10.0
        Coverage simplification tolerance in metres (0 keeps every vertex).
    precision : int, default 5
        Decimal places of longitude/latitude kept (5 is about 1 m).
    title : str, optional
        Heading of the legend (shown as text); default "Change in <layer>".
    attribution : str
        Attribution line for the boundaries (required for OGL data), shown
        in the legend; the tiles keep their own credit.

    Returns
    -------
    folium.plugins.DualMap
        Two ``folium.Map`` panes (``.m1`` before, ``.m2`` after) in one page;
        write it with :func:`localitygeo.maps.save` (``inline=True`` embeds
        Leaflet and Leaflet.Sync).
    """
    from folium.plugins import DualMap

    layer = diff.layer
    moved = to_web(_moved_blocks(before, after, diff), precision)
    sides = [("Before", before), ("After", after)]
    units_web = [
        to_web(simplify_coverage(bset[layer], tolerance_m), precision).reset_index(drop=True)
        for _, bset in sides
    ]
    bounds = pd.concat([u.geometry for u in units_web]).total_bounds
    west, south, east, north = bounds
    dual = DualMap(tiles=None, control_scale=True, zoom_snap=0.25)  # fill each pane
    dual.fit_bounds([[south, west], [north, east]])
    pane_title = (
        before.specs[layer].title if layer in before.specs else layer.replace("_", " ").title()
    )
    people = pd.to_numeric(diff.moved["population"], errors="coerce")
    plural = "s" if len(moved) != 1 else ""
    # no population column: say so rather than count nobody
    population = _fmt(float(people.sum())) if people.notna().any() else "unknown"
    summary = (
        f"{len(moved):,} block{plural} moved, population {population}"
        if len(moved)
        else "No block moved"
    )
    moved_layer = {
        "name": "Moved blocks",
        "geojson": feature_collection(moved),
        "style": {"fillColor": MOVED_COLOUR, "color": "#7f0000", "weight": 1, "fillOpacity": 0.8},
        "highlight": {"weight": 3},
        "labels": _POPUP_LABELS,
        "rows": _rows(moved, _POPUP_FIELDS),
        "detail": "popup",
        "show": True,
        "interactive": True,
    }
    for (side, bset), pane, units in zip(sides, (dual.m1, dual.m2), units_web, strict=True):
        credit = add_background(pane, tiles)
        layers: list[dict[str, Any]] = [
            {
                "name": f"{pane_title} {side.lower()}",
                "geojson": feature_collection(units),
                "style": {
                    "fillColor": "#f2f0ec",
                    "color": "#333333",
                    "weight": 1.5,
                    "fillOpacity": 0.5,
                },
                "highlight": {"weight": 3, "color": "#000000"},
                "labels": ["Code", "Name"],
                "rows": _rows(units, ["code", "name"]),
                "detail": "tooltip",
                "show": True,
                "interactive": True,
            }
        ]
        if parents is not None and parents in bset.layers and parents != layer:
            outline = to_web(outline_edges(bset[parents], tolerance_m), precision)
            style = {"color": "#1f4e9c", "weight": 2, "dashArray": "6 4"}
            layers.append(outline_layer(parents, outline, style, show=True))
        if len(moved):
            layers.append(moved_layer)
        legend = {
            "title": title or f"Change in {layer.replace('_', ' ')}",
            "rows": [[MOVED_COLOUR, summary]],
            "note": attribution,
        }
        PageData(
            {
                "layers": layers,
                "control": {"collapsed": True},
                "title": {"text": side, "side": side.lower()},
                "tilesCredit": credit,
                "pageTitle": legend["title"] if pane is dual.m2 else None,
                "legend": legend if pane is dual.m2 else None,
            }
        ).add_to(pane)
    return dual
