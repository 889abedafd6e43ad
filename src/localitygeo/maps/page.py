"""The page a map is published as: its data as JSON, drawn by one constant script.

folium and branca build a page from Jinja templates, and render each
element's output as a template a second time (branca's ``MacroElement``
wraps what its macros return in a new ``Element``, whose text is template
source). So any text that reaches a folium element, even through ``tojson``,
is evaluated: a unit named ``SSTI{{ 7*7 }}END`` is published as
``SSTI49END``, and a crafted name can run Python on the analyst's machine.

Nothing from the data goes to folium here. folium draws only the map, its
background tiles (with a constant credit) and, for the change map, the
synchronised panes. Everything else (layers, tooltips, popups, the legend,
pane titles, layer-control labels and the attribution line) is described by
one JSON document per map, placed in the page as
``<script type="application/json">`` by :class:`PageData`, and drawn by
``page.js``, a constant script shipped with the package that puts every text
into the page with ``textContent`` (or HTML-escaped where Leaflet accepts only
HTML). The page's text is assembled from these pieces as it is (never parsed
as a template): :class:`Verbatim`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement

from localitygeo.errors import InputError

__all__ = [
    "OSM_CREDIT",
    "PageData",
    "Verbatim",
    "add_background",
    "check_folium_text",
    "feature_collection",
    "layer_geometries",
    "outline_layer",
    "page_data",
    "script_json",
    "size_report",
]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATA_BLOCK = re.compile(
    r'<script type="application/json" class="localitygeo-data" id="[\w-]+">(.*?)</script>',
    re.DOTALL,
)
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|\{#|%\}|\}\}|#\}")

#: OpenStreetMap's credit for its tiles (a constant: folium puts it in its templates).
OSM_CREDIT = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
#: What folium is told a tile URL's credit is; ``page.js`` replaces it with the real one.
_URL_CREDIT = "Background tiles"


@cache
def _script() -> str:
    """Return the text of ``page.js`` (the constant drawing script)."""
    return resources.files("localitygeo.maps").joinpath("page.js").read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """Return ``value`` as compact JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as JSON escapes, so no text in the data
    can close the element (``</script>``) or open a comment; ``JSON.parse``
    reads the same text back.

    Parameters
    ----------
    value : object
        JSON-ready data (dicts, lists, strings, finite numbers, None).

    Returns
    -------
    str
        The JSON text.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class Verbatim(Element):
    """Text placed in the page as it is: never parsed as a template.

    Parameters
    ----------
    text : str
        Page text built from constants, generated identifiers and
        :func:`script_json` output only.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):  # pragma: no cover - folium's names are hex ids
        raise AssertionError(f"not a generated identifier: {name!r}")
    return name


class PageData(MacroElement):
    """A map's layers, legend and labels as JSON data, drawn by ``page.js``.

    Add it to a ``folium.Map`` after every folium element of that map. When
    the page renders it places, as :class:`Verbatim` text, ``page.js`` once in
    the page's head, the data in the body as
    ``<script type="application/json">``, and one call drawing them after the
    map's own script.

    Parameters
    ----------
    spec : dict
        ``layers`` (each with ``name``, ``geojson``, ``style`` and optionally
        ``fill``, ``labels`` and ``rows``, ``detail``, ``sticky``,
        ``highlight``, ``show``, ``interactive``), and optionally ``control``,
        ``attribution``, ``title`` and ``legend``; see ``page.js``.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PageData"
        self.spec = spec

    def render(self, **kwargs: Any) -> str:
        """Add the script, the data and the call drawing them to the page.

        Returns
        -------
        str
            Nothing (``""``): the element's text goes into the page's sections.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure) or self._parent is None:  # pragma: no cover
            raise AssertionError("PageData must be added to a folium.Map in a page")
        block = _identifier(self.get_name())
        data = script_json({**self.spec, "map": _identifier(self._parent.get_name())})
        figure.header.add_child(Verbatim(f"<script>{_script()}</script>"), name="localitygeo_js")
        figure.html.add_child(
            Verbatim(
                f'<script type="application/json" class="localitygeo-data" id="{block}">'
                f"{data}</script>"
            ),
            name=f"{block}-data",
        )
        figure.script.add_child(Verbatim(f'localitygeo.draw("{block}");'), name=f"{block}-draw")
        return ""


def page_data(page: str) -> list[dict[str, Any]]:
    """Return the data of each map drawn in a published page, in order.

    Parameters
    ----------
    page : str
        HTML from :func:`~localitygeo.maps.render_html` or
        :func:`~localitygeo.maps.save`.

    Returns
    -------
    list of dict
        One document per map (two for a change map), as ``page.js`` reads it:
        its ``layers`` hold GeoJSON in longitude/latitude.
    """
    return [json.loads(m) for m in _DATA_BLOCK.findall(page)]


def layer_geometries(doc: dict[str, Any], layer: dict[str, Any]) -> list[Any]:
    """Return the geometries a layer of a page's map draws, in longitude/latitude.

    Parameters
    ----------
    doc : dict
        One map's data, from :func:`page_data`.
    layer : dict
        One of its ``layers``: GeoJSON, or units (``shapes``) or outlines
        (``lines``) given as the map's shared arcs.

    Returns
    -------
    list of shapely.Geometry
        One per unit (None for a unit with no geometry); an outline layer is
        one multilinestring.
    """
    if "geojson" in layer:
        return [
            None if f["geometry"] is None else shapely.from_geojson(json.dumps(f["geometry"]))
            for f in layer["geojson"]["features"]
        ]
    from localitygeo.maps.arc_codec import decode

    return decode(doc["arcs"], layer)


_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def size_report(page: str) -> list[tuple[str, int]]:
    """Return where a published page's bytes go, largest parts of the data first.

    Parameters
    ----------
    page : str
        HTML from :func:`~localitygeo.maps.render_html` or
        :func:`~localitygeo.maps.save`.

    Returns
    -------
    list of (str, int)
        Parts and their size in bytes (UTF-8), summing to the page's size:
        the coordinates (shared arcs), the units' rings of arcs, the outline
        layers, any GeoJSON, the tooltips, Leaflet and its styles when
        inlined, and the rest (page, ``page.js``, legend, labels).
    """

    def size(text: str) -> int:
        return len(text.encode("utf-8"))

    parts = dict.fromkeys(
        [
            "coordinates (shared arcs)",
            "units (rings of arcs)",
            "outlines (arcs drawn)",
            "GeoJSON",
            "tooltips",
            "Leaflet, inlined",
        ],
        0,
    )
    for doc in page_data(page):
        if "arcs" in doc:
            parts["coordinates (shared arcs)"] += size(doc["arcs"]["arcs"])
        for layer in doc["layers"]:
            parts["units (rings of arcs)"] += size(layer.get("shapes", ""))
            parts["outlines (arcs drawn)"] += size(layer.get("lines", ""))
            if "geojson" in layer:
                parts["GeoJSON"] += size(script_json(layer["geojson"]))
            if "rows" in layer:
                parts["tooltips"] += size(script_json(layer["rows"]))
    # inlined assets: every large bare script or style that is not page.js
    own = _script()
    parts["Leaflet, inlined"] = sum(
        size(m.group(0))
        for m in _INLINE.finditer(page)
        if size(m.group(2)) > 10_000 and m.group(2) != own
    )
    rows = [(k, v) for k, v in parts.items() if v]
    return [*rows, ("page, script, legend and labels", size(page) - sum(v for _, v in rows))]


def check_folium_text(text: str, what: str) -> str:
    """Return ``text`` if folium may put it in its templates; refuse template syntax.

    Only constants and the caller's own arguments (such as a tile provider's
    name) are given to folium; this refuses those that hold Jinja delimiters,
    which folium's second rendering pass would evaluate.

    Raises
    ------
    InputError
        ``text`` holds ``{{``, ``{%``, ``{#`` or their closing halves.
    """
    if _TEMPLATE_SYNTAX.search(text):
        raise InputError(f"{what} {text!r} holds template syntax (" + "{{, {% or {#)")
    return text


def feature_collection(frame: Any) -> dict[str, Any]:
    """Return a frame's geometries as a GeoJSON FeatureCollection with no properties.

    ``page.js`` numbers the features in order; a layer's ``rows`` and
    ``fill`` are lists in the same order.
    """
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": None if t is None else json.loads(t)}
            for t in shapely.to_geojson(np.asarray(frame.geometry.array, dtype=object))
        ],
    }


def outline_layer(key: str, outline: Any, style: dict[str, Any], *, show: bool) -> dict[str, Any]:
    """Return the page's description of an outline layer (lines, no tooltip)."""
    return {
        "name": key.replace("_", " ").title() + " boundaries",
        "geojson": feature_collection(outline),
        "style": style,
        "show": show,
        "interactive": False,
    }


def add_background(m: Any, tiles: str | None, credit: str | None = None) -> str | None:
    """Add background tiles to a map pane, or none; return the credit ``page.js`` shows.

    Parameters
    ----------
    m : folium.Map
        The pane.
    tiles : str or None
        ``None`` or ``"none"``: no background (the page makes no request).
        ``"osm"`` (or ``"OpenStreetMap"``): OpenStreetMap, with its credit.
        A tile URL (``https://.../{z}/{x}/{y}.png``). Or the name of a
        provider folium knows (xyzservices, such as ``"CartoDB positron"``),
        with that provider's credit.
    credit : str, optional
        The credit of tiles given by URL (shown as text); default "Tiles:
        <host>".

    Returns
    -------
    str or None
        For tiles given by URL, the credit that ``page.js`` puts in place of
        the constant one folium is given (it is data: it never reaches
        folium's templates); None otherwise.

    Raises
    ------
    InputError
        Unknown tiles, a URL without ``{z}``, ``{x}`` and ``{y}``, or template
        syntax (``{{``) in the name or URL.
    """
    import folium
    import xyzservices

    if tiles is None or tiles.strip().lower() == "none":
        return None
    check_folium_text(tiles, "tiles")
    if tiles.strip().lower() in ("osm", "openstreetmap"):
        folium.TileLayer("OpenStreetMap", name="Background", attr=OSM_CREDIT).add_to(m)
        return None
    if re.match(r"https?://", tiles, flags=re.IGNORECASE):
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in tiles]
        if missing or re.search(r"[\s\"'<>\\]", tiles):
            raise InputError(
                f"tiles URL {tiles!r} is not a tile template: it needs {{z}}, {{x}} and {{y}} "
                "and no spaces, quotes, angle brackets or backslashes"
            )
        folium.TileLayer(tiles, name="Background", attr=_URL_CREDIT).add_to(m)
        host = re.sub(r"^https?://([^/]*).*$", r"\1", tiles, flags=re.IGNORECASE)
        return credit or f"Tiles: {host}"
    try:
        provider = xyzservices.providers.query_name(tiles)
    except ValueError:
        raise InputError(
            f"unknown tiles {tiles!r}; give none, osm, a tile URL with {{z}}, {{x}} and {{y}}, "
            "or a provider name such as 'CartoDB positron'"
        ) from None
    folium.TileLayer(provider, name="Background").add_to(m)
    return None
