"""Boundary sets and proposals with a hostile text in every field a user controls.

Built here, by code, from the example city and from the shared real data
(Plymouth's LSOAs, MSOAs and wards): unit names and codes in the layer
files, an indicator column's name, the manifest's ``name``, ``description``
and layer ``title``s, the layer keys, and a proposal's ``name``,
``description`` and ``reason``s. Nothing is copied into the repository.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .harness import FORMULAS, TEMPLATE, XSS_IMG, hostile_texts
from .inputs import edit_geojson, example_copy, load_json


def everything(marker: Path) -> str:
    """Return every hostile text and formula of the harness in one string."""
    return " ".join([*hostile_texts(marker).values(), *FORMULAS])


#: A hostile unit code: template and markup, but none of the control characters a
#: reader may rightly refuse in a code.
CODE = f"{TEMPLATE}{XSS_IMG}"


@dataclass(frozen=True)
class HostileSet:
    """A generated set: where it is, its proposal, and the hostile texts in it."""

    folder: Path
    proposal: Path
    text: str  # in the names, titles, manifest, proposal and indicator column name
    blocks: str  # layer keys
    unit: str
    parent: str
    group: str | None
    indicator: str  # numeric column of the blocks named by a hostile text
    bad_values: str  # column of the blocks holding hostile text instead of numbers
    code: str | None  # a unit code that is hostile, if any


def _toml(value: str) -> str:
    """Return ``value`` as a TOML basic string."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _manifest(
    name: str,
    description: str,
    layers: dict[str, dict[str, Any]],
    nesting: list[tuple[str, str, float]],
) -> str:
    lines = [f"name = {_toml(name)}", 'crs = "EPSG:27700"', f"description = {_toml(description)}"]
    for key, spec in layers.items():
        lines.append(f"\n[layers.{_toml(key)}]")
        for k, v in spec.items():
            if isinstance(v, dict):
                inner = ", ".join(f"{a} = {_toml(b)}" for a, b in v.items())
                lines.append(f"{k} = {{ {inner} }}")
            else:
                lines.append(f"{k} = {_toml(v)}")
    for child, parent, tolerance in nesting:
        lines += [
            "\n[[nesting]]",
            f"child = {_toml(child)}",
            f"parent = {_toml(parent)}",
            f"tolerance = {tolerance}",
        ]
    return "\n".join(lines) + "\n"


def _proposal(text: str, operations: list[dict[str, Any]]) -> str:
    lines = [f"name = {_toml(text)}", f"description = {_toml(text)}"]
    for op in operations:
        lines.append("\n[[operations]]")
        for k, v in op.items():
            shown = "[" + ", ".join(_toml(x) for x in v) + "]" if isinstance(v, list) else _toml(v)
            lines.append(f"{k} = {shown}")
    return "\n".join(lines) + "\n"


def _name_units(doc: dict[str, Any], text: str, rename: dict[str, str] | None = None) -> None:
    for i, f in enumerate(doc["features"]):
        props = f["properties"]
        props["name"] = f"{text} {i}"
        for old, new in (rename or {}).items():
            props[new] = props.pop(old)


def example_city(tmp: Path, text: str) -> HostileSet:
    """Return the example city with ``text`` in every user-controlled field.

    Layer keys become ``n <text>`` (neighbourhoods), ``w <text>`` (wards) and
    ``l <text>`` (localities); neighbourhood EXN24 is coded :data:`CODE`; the
    small areas get an indicator column named ``text`` (the deprivation
    score) and a column ``bad`` of hostile text; the proposal merges EXN25
    into the hostile-coded unit and moves EXN41 to another locality.
    """
    folder = example_copy(tmp, "hostile-city")
    unit, parent, group = f"n {text}", f"w {text}", f"l {text}"

    def small(doc: dict[str, Any]) -> None:
        for f in doc["features"]:
            props = f["properties"]
            props[text] = props["imd_score"]
            props["bad"] = text

    def nbhd(doc: dict[str, Any]) -> None:
        _name_units(doc, text, {"locality": group})
        for f in doc["features"]:
            if f["properties"]["code"] == "EXN24":
                f["properties"]["code"] = CODE

    edit_geojson(folder / "small_areas.geojson", small)
    edit_geojson(folder / "neighbourhoods.geojson", nbhd)
    edit_geojson(folder / "wards.geojson", lambda d: _name_units(d, text))
    edit_geojson(folder / "localities.geojson", lambda d: _name_units(d, text))
    lookup = folder / "small_area_lookup.csv"
    with lookup.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        row[1] = CODE if row[1] == "EXN24" else row[1]
    with lookup.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    blocks = {
        "layer": "small_area",
        "lookup": "small_area_lookup.csv",
        "block_code": "small_area",
        "unit_code": "neighbourhood",
    }
    (folder / "boundaries.toml").write_text(
        _manifest(
            text,
            text,
            {
                "small_area": {"path": "small_areas.geojson", "code": "code", "title": text},
                unit: {
                    "path": "neighbourhoods.geojson",
                    "code": "code",
                    "name": "name",
                    "title": text,
                    "blocks": blocks,
                },
                parent: {"path": "wards.geojson", "code": "code", "name": "name", "title": text},
                group: {
                    "path": "localities.geojson",
                    "code": "code",
                    "name": "name",
                    "title": text,
                    "blocks": {"layer": unit},
                },
            },
            [("small_area", unit, 0.001), (unit, group, 0.001), (unit, parent, 0.01)],
        ),
        encoding="utf-8",
    )
    proposal = tmp / "hostile-proposal.toml"
    proposal.write_text(
        _proposal(
            text,
            [
                {
                    "op": "merge",
                    "layer": unit,
                    "units": [CODE, "EXN25"],
                    "into": CODE,
                    "name": text,
                    "reason": text,
                },
                {"op": "move", "layer": unit, "unit": "EXN41", "to": "EXL1", "reason": text},
            ],
        ),
        encoding="utf-8",
    )
    return HostileSet(folder, proposal, text, "small_area", unit, parent, group, text, "bad", CODE)


def plymouth(tmp: Path, text: str, shared_data: Path) -> HostileSet:
    """Return Plymouth's LSOAs, MSOAs built from them and wards, with ``text`` everywhere.

    LSOA and MSOA names are ``<text> <ONS name>``; the LSOAs carry the IMD
    2019 population (``population``) and rank (a column named ``text``) and a
    column ``bad`` of hostile text; layer keys are ``lsoa <text>``,
    ``msoa <text>`` and ``ward <text>``; the proposal realigns the MSOAs onto
    the wards, its name, description and reason hostile.
    """
    import geopandas as gpd

    import localitygeo as lg

    council = shared_data / "councils" / "plymouth"
    imd = shared_data / "imd2019"
    folder = tmp / "hostile-plymouth"
    folder.mkdir()
    indicators = [
        ("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
         "Index of Multiple Deprivation (IMD) Rank", text),
        ("File_6_-_IoD2019_Population_Denominators.csv.gz",
         "Total population: mid 2015 (excluding prisoners)", "population"),
    ]  # fmt: skip
    values = [
        lg.read_indicators(imd / f, code="LSOA code (2011)", columns={c: name})
        for f, c, name in indicators
    ]
    for source, code, name, extra in (
        ("lsoa_2011", "LSOA11CD", "LSOA11NM", True),
        ("msoa_2011", "MSOA11CD", "MSOA11NM", False),
        ("wards_2013", "WD13CD", "WD13NM", False),
    ):
        layer = gpd.read_file(council / f"{source}.geojson")[[code, name, "geometry"]]
        layer[name] = text + " " + layer[name]
        if extra:
            for frame in values:
                layer = layer.join(frame, on=code)
            layer["bad"] = text
        layer.to_file(folder / f"{source.split('_')[0]}.geojson", driver="GeoJSON")
    blocks, unit, parent = f"lsoa {text}", f"msoa {text}", f"ward {text}"
    (folder / "boundaries.toml").write_text(
        _manifest(
            text,
            text,
            {
                blocks: {
                    "path": "lsoa.geojson",
                    "code": "LSOA11CD",
                    "name": "LSOA11NM",
                    "title": text,
                },
                unit: {
                    "path": "msoa.geojson",
                    "code": "MSOA11CD",
                    "name": "MSOA11NM",
                    "title": text,
                    "blocks": {"layer": blocks},
                },
                parent: {
                    "path": "wards.geojson",
                    "code": "WD13CD",
                    "name": "WD13NM",
                    "title": text,
                },
            },
            [(blocks, unit, 0.001), (unit, parent, 0.05)],
        ),
        encoding="utf-8",
    )
    proposal = tmp / "hostile-plymouth.toml"
    proposal.write_text(
        _proposal(
            text,
            [
                {
                    "op": "realign",
                    "layer": unit,
                    "to": parent,
                    "population": "population",
                    "reason": text,
                }
            ],
        ),
        encoding="utf-8",
    )
    return HostileSet(folder, proposal, text, blocks, unit, parent, None, text, "bad", None)


def geojson_names(path: Path) -> list[str]:
    """Return the ``name`` of every feature of a GeoJSON file (to check round trips)."""
    return [f["properties"].get("name") for f in load_json(path)["features"]]
