"""The change map: a layer before and after a change, side by side."""

from __future__ import annotations

import html
import json
from typing import Any

import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from localitygeo.boundaries import BoundarySet
from localitygeo.maps.locality import DEFAULT_ATTRIBUTION, _escaped, _fmt
from localitygeo.maps.publish import outline_edges, simplify_coverage, to_web
from localitygeo.realign import Diff

__all__ = ["MOVED_COLOUR", "change_map"]

#: Fill of the blocks that changed unit, on both panes.
MOVED_COLOUR = "#e34a33"

_POPUP_FIELDS = ["block", "from", "to", "population"]
_POPUP_LABELS = ["Block", "From", "To", "Population"]


class _PaneTitle(MacroElement):
    """A pane's title as a Leaflet control: above the map, under popups."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var title = L.control({position: "topright"});
            title.onAdd = function () {
                var div = L.DomUtil.create("div", "localitygeo-pane-title");
                div.dataset.side = {{ this.side|tojson }};
                div.textContent = {{ this.text|tojson }};
                div.style.cssText = "background:white;padding:4px 10px;"
                    + "font:bold 14px sans-serif;border:1px solid #999;";
                return div;
            };
            title.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "PaneTitle"
        self.text = text
        self.side = text.lower()


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
    """Return the moved blocks with their popup fields (unescaped)."""
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
    unit shows its code and name. Every name and value shown is
    HTML-escaped.

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
        Background tiles of both panes (a folium tile name); ``None`` draws
        no background, so the file needs no network at all when saved with
        ``inline=True``.
    tolerance_m : float, default 10.0
        Coverage simplification tolerance in metres (0 keeps every vertex).
    precision : int, default 5
        Decimal places of longitude/latitude kept (5 is about 1 m).
    title : str, optional
        Heading of the legend (escaped); default "Change in <layer>".
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
    import folium
    from folium.plugins import DualMap

    layer = diff.layer
    moved = _moved_blocks(before, after, diff)
    moved_web = _escaped(to_web(moved, precision), _POPUP_FIELDS)
    sides = [("Before", before), ("After", after)]
    units_web = [
        _escaped(
            to_web(simplify_coverage(bset[layer], tolerance_m), precision).reset_index(drop=True),
            ["code", "name"],
        )
        for _, bset in sides
    ]
    bounds = pd.concat([u.geometry for u in units_web]).total_bounds
    west, south, east, north = bounds
    dual = DualMap(tiles=None, control_scale=True, zoom_snap=0.25)  # fill each pane
    dual.fit_bounds([[south, west], [north, east]])
    heading = html.escape(title or f"Change in {layer.replace('_', ' ')}")
    pane_title = html.escape(
        before.specs[layer].title if layer in before.specs else layer.replace("_", " ").title()
    )
    for (side, bset), pane, units in zip(sides, (dual.m1, dual.m2), units_web, strict=True):
        if tiles is not None:
            folium.TileLayer(tiles, name="Background").add_to(pane)  # the tiles' own credit
        folium.GeoJson(
            json.loads(units.to_json(drop_id=True)),
            name=f"{pane_title} {side.lower()}",
            style_function=lambda f: {
                "fillColor": "#f2f0ec",
                "color": "#333333",
                "weight": 1.5,
                "fillOpacity": 0.5,
            },
            highlight_function=lambda f: {"weight": 3, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(fields=["code", "name"], aliases=["Code", "Name"]),
        ).add_to(pane)
        if parents is not None and parents in bset.layers and parents != layer:
            folium.GeoJson(
                json.loads(to_web(outline_edges(bset[parents], tolerance_m), precision).to_json()),
                name=html.escape(parents.replace("_", " ").title() + " boundaries"),
                interactive=False,
                style_function=lambda f: {"color": "#1f4e9c", "weight": 2, "dashArray": "6 4"},
            ).add_to(pane)
        if len(moved_web):
            folium.GeoJson(
                json.loads(moved_web.to_json(drop_id=True)),
                name="Moved blocks",
                style_function=lambda f: {
                    "fillColor": MOVED_COLOUR,
                    "color": "#7f0000",
                    "weight": 1,
                    "fillOpacity": 0.8,
                },
                highlight_function=lambda f: {"weight": 3},
                popup=folium.GeoJsonPopup(fields=_POPUP_FIELDS, aliases=_POPUP_LABELS),
            ).add_to(pane)
        _PaneTitle(side).add_to(pane)
        folium.LayerControl(collapsed=True).add_to(pane)
    population = float(pd.to_numeric(diff.moved["population"], errors="coerce").sum())
    plural = "s" if len(moved) != 1 else ""
    summary = (
        f"{len(moved):,} block{plural} moved, population {_fmt(population)}"
        if len(moved)
        else "No block moved"
    )
    root: Any = dual.get_root()
    root.html.add_child(
        folium.Element(
            '<div class="localitygeo-legend" style="position:fixed;bottom:40px;right:12px;'
            'z-index:999;background:white;padding:8px;font:12px sans-serif;border:1px solid #999">'
            f"<strong>{heading}</strong>"
            f'<div><span style="background:{MOVED_COLOUR};display:inline-block;width:14px;'
            f'height:10px;margin-right:6px"></span>{html.escape(summary)}</div>'
            f'<div style="margin-top:4px;color:#555">{html.escape(attribution)}</div></div>'
        )
    )
    return dual
