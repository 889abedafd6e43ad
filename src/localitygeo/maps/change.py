"""The change map: a layer before and after a change, side by side."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.changes.differences import Diff
from localitygeo.changes.wording import nouns
from localitygeo.maps.locality import DEFAULT_ATTRIBUTION, _fmt, _rows
from localitygeo.maps.page import PageData, add_background, feature_collection, outline_layer
from localitygeo.maps.parents import Outline, choose_outline, fixed_parent
from localitygeo.maps.publish import outline_edges, simplify_coverage, to_web
from localitygeo.model.boundary_set import BoundarySet

__all__ = ["MOVED_COLOUR", "UNIT_COLOURS", "change_map", "unit_colours"]

#: Fill of the blocks that changed unit, on both panes.
MOVED_COLOUR = "#e34a33"
#: Fills of the units (ColorBrewer Pastel2): one per unit, the same on both panes, so a
#: block that changes unit changes colour.
UNIT_COLOURS = ("#b3e2cd", "#fdcdac", "#cbd5e8", "#f4cae4", "#e6f5c9", "#fff2ae", "#f1e2cc",
                "#cccccc")  # fmt: skip
UNIT_LINE = "#333333"
PARENT_LINE = "#1f4e9c"
PARENT_DASH = "6 4"

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


def unit_colours(frames: list[gpd.GeoDataFrame]) -> dict[str, str]:
    """Return a fill per unit code, the same on every pane, neighbours differing.

    Units are coloured greedily, most neighbours first, so that no two units
    that touch on any pane share a colour while :data:`UNIT_COLOURS` has one
    left (maps of real units rarely need more than five).

    Parameters
    ----------
    frames : list of GeoDataFrame
        The layer on each pane (``code`` and geometry).

    Returns
    -------
    dict of str to str
        Unit code to a colour of :data:`UNIT_COLOURS`.
    """
    codes = list(dict.fromkeys(str(c) for f in frames for c in f["code"]))
    position = {c: i for i, c in enumerate(codes)}
    neighbours: list[set[int]] = [set() for _ in codes]
    for f in frames:
        geoms = np.asarray(f.geometry.array, dtype=object)
        a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        ids = np.array([position[str(c)] for c in f["code"]], dtype=int)
        pairs = np.unique(np.stack([ids[a], ids[b]], axis=1), axis=0)
        for i, j in pairs[pairs[:, 0] != pairs[:, 1]]:
            neighbours[i].add(int(j))
    chosen: dict[int, int] = {}
    n = len(UNIT_COLOURS)
    for i in sorted(range(len(codes)), key=lambda k: (-len(neighbours[k]), k)):
        used = {chosen[j] for j in neighbours[i] if j in chosen}
        chosen[i] = next((k for k in range(n) if k not in used), i % n)
    return {codes[i]: UNIT_COLOURS[k] for i, k in chosen.items()}


#: Legend swatches drawn with CSS backgrounds: a line, a dashed line, a filled block.
def _line_swatch(colour: str, dash: str | None = None) -> str:
    if dash is None:
        return f"linear-gradient({colour}, {colour}) center / 100% 2px no-repeat"
    on, off = (float(x) for x in dash.split())
    return (
        f"repeating-linear-gradient(90deg, {colour} 0 {on:g}px, transparent {on:g}px "
        f"{on + off:g}px) center / 100% 2px no-repeat"
    )


def change_map(
    before: BoundarySet,
    after: BoundarySet,
    diff: Diff,
    *,
    parents: Outline = None,
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
    parents : str, None or False, default None
        Layer of ``before`` drawn as dashed outlines on both panes. By
        default the parents the change realigns onto: the nearest layer the
        changed layer nests in that is not built from it (see
        :func:`localitygeo.maps.parents.fixed_parent`); ``False`` draws none;
        a key the set lacks is a :class:`~localitygeo.errors.ManifestError`.
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
        Heading of the legend (shown as text); default "Change in <the layer's title>"
        (its manifest title, e.g. "MSOAs", else its key in title case).
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
        # a light red over the unit's own colour, so the block's colour change shows
        "style": {
            "fillColor": MOVED_COLOUR,
            "color": MOVED_COLOUR,
            "weight": 2.5,
            "fillOpacity": 0.3,
        },
        "highlight": {"weight": 3},
        "labels": _POPUP_LABELS,
        "rows": _rows(moved, _POPUP_FIELDS),
        "detail": "popup",
        "show": True,
        "interactive": True,
    }
    fills = unit_colours(units_web)
    palette = list(dict.fromkeys(fills.values()))
    for (side, bset), pane, units in zip(sides, (dual.m1, dual.m2), units_web, strict=True):
        credit = add_background(pane, tiles)
        layers: list[dict[str, Any]] = [
            {
                "name": f"{pane_title} {side.lower()}",
                "geojson": feature_collection(units),
                "style": {"color": UNIT_LINE, "weight": 1.5, "fillOpacity": 0.75},
                "fill": {
                    "colours": palette,
                    "index": [palette.index(fills[str(c)]) for c in units["code"]],
                },
                "highlight": {"weight": 3, "color": "#000000"},
                "labels": ["Code", "Name"],
                "rows": _rows(units, ["code", "name"]),
                "detail": "tooltip",
                "show": True,
                "interactive": True,
            }
        ]
        drawn = choose_outline(bset, layer, parents, fixed_parent(bset, layer), "parents")
        drawn = drawn if drawn != layer else None
        if drawn is not None:
            outline = to_web(outline_edges(bset[drawn], tolerance_m), precision)
            style = {"color": PARENT_LINE, "weight": 2, "dashArray": PARENT_DASH}
            layers.append(outline_layer(drawn, outline, style, show=True))
        if len(moved):
            layers.append(moved_layer)
        legend = {
            "title": title or f"Change in {pane_title}",
            "rows": _legend_rows(before, layer, drawn, summary, bool(len(moved))),
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


def _title_of(bset: BoundarySet, key: str) -> str:
    spec = bset.specs.get(key)
    return spec.title if spec is not None and spec.title else key.replace("_", " ")


def _short(bset: BoundarySet, key: str, fallback: str) -> str:
    """Return a layer's singular noun, capitalised, or ``fallback`` for a long title.

    The legend is drawn over the map: a long title (the manifest's to choose)
    would make it cover the units it explains.
    """
    title = _title_of(bset, key)
    one = nouns(title)[0]
    return one[:1].upper() + one[1:] if len(title) <= 24 else fallback


def _legend_rows(
    bset: BoundarySet, layer: str, parents: str | None, summary: str, moved: bool
) -> list[list[str]]:
    """Return a legend row for every style on the panes: units, their outline, parents, moves."""
    stripes = ", ".join(
        f"{c} {100 * i / 4:g}% {100 * (i + 1) / 4:g}%" for i, c in enumerate(UNIT_COLOURS[:4])
    )
    rows = [
        [f"linear-gradient(90deg, {stripes})", "A colour per unit, the same on both panes"],
        [_line_swatch(UNIT_LINE), f"{_short(bset, layer, 'Unit')} boundaries"],
    ]
    if parents is not None:
        dashed = _line_swatch(PARENT_LINE, PARENT_DASH)
        rows.append([dashed, f"{_short(bset, parents, 'Parent')} boundaries (dashed)"])
    rows.append([MOVED_COLOUR, f"Moved blocks (red): {summary}"] if moved else
                ["transparent", summary])  # fmt: skip
    return rows
