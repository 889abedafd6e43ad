"""Boundary sets for the output, CSV, round-trip and signal cases, built by project code.

- :func:`city_set` copies a freshly generated example city (vertex-exact).
- :func:`plymouth_set` is Plymouth's real ONS layers: output areas as blocks,
  LSOAs built from them through a lookup computed here by best fit, and the
  2013 wards, read from the shared data in place (never copied).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest

import localitygeo as lg
from localitygeo.io.example_files import write_example_city
from localitygeo.io.safecsv import write_csv


@pytest.fixture(scope="session")
def _city_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_example_city(tmp_path_factory.mktemp("city-master") / "city").parent


@pytest.fixture
def city_set(_city_master: Path, tmp_path: Path) -> Path:
    """A fresh copy of the example city in ``tmp_path / "city"`` (its folder)."""
    return Path(shutil.copytree(_city_master, tmp_path / "city"))


PLYMOUTH_MANIFEST = """\
name = "Plymouth (real ONS layers)"
crs = "EPSG:27700"

[layers.oa]
path = "{plymouth}/oa_2011.geojson"
code = "OA11CD"

[layers.lsoa]
path = "{plymouth}/lsoa_2011.geojson"
code = "LSOA11CD"
name = "LSOA11NM"
blocks = {{ layer = "oa", lookup = "oa_lookup.csv" }}

[layers.ward]
path = "{plymouth}/wards_2013.geojson"
code = "WD13CD"
name = "WD13NM"

[[nesting]]
child = "lsoa"
parent = "ward"
tolerance = 0.05
severity = "warning"
"""


@pytest.fixture(scope="session")
def _plymouth_lookup(plymouth: Path) -> str:
    oa = lg.read_layer(plymouth / "oa_2011.geojson", "OA11CD")
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD")
    fit = lg.best_fit(oa, lsoa, crs="EPSG:27700")
    table = fit[["child_code", "parent_code"]].rename(
        columns={"child_code": "oa", "parent_code": "lsoa"}
    )
    return write_csv(table, index=False)


@pytest.fixture
def plymouth_set(plymouth: Path, _plymouth_lookup: str, tmp_path: Path) -> Path:
    """A set folder in ``tmp_path / "plymouth"`` reading Plymouth's real layers in place."""
    folder = tmp_path / "plymouth"
    folder.mkdir()
    (folder / "oa_lookup.csv").write_text(_plymouth_lookup, encoding="utf-8")
    (folder / "boundaries.toml").write_text(
        PLYMOUTH_MANIFEST.format(plymouth=plymouth.as_posix()), encoding="utf-8"
    )
    return folder


def plymouth_files(plymouth: Path) -> list[Path]:
    """The shared files :func:`plymouth_set` reads (to hash before and after)."""
    return [plymouth / n for n in ("oa_2011.geojson", "lsoa_2011.geojson", "wards_2013.geojson")]


def hostile_set(
    folder: Path,
    city: Path,
    *,
    code: Callable[[str], str] = str,
    name: Callable[[str], str] = str,
    keys: tuple[str, str] = ("small_area", "ward"),
    set_name: str = "hostile",
) -> Path:
    """Write a two-layer set (the example city's small areas in its wards) with rewritten text.

    ``code`` and ``name`` rewrite every unit's code and name; ``keys`` are the
    two layers' keys in the manifest (written with the project's TOML writer).
    """
    from localitygeo.io import toml_write as _toml

    folder.mkdir(parents=True)
    lines = [f"name = {_toml.value(set_name)}", 'crs = "EPSG:27700"']
    for key, file in zip(keys, ("small_areas.geojson", "wards.geojson"), strict=True):
        out = gpd.read_file(city / file)
        out = out.drop(columns=["ward", "neighbourhood", "locality"], errors="ignore")
        out["code"] = out["code"].map(code)
        out["name"] = out["name"].map(name) if "name" in out else out["code"]
        out.to_file(folder / file, driver="GeoJSON")
        lines += ["", _toml.table("layers", key), f'path = "{file}"', 'code = "code"']
        lines += ['name = "name"']
    lines += [
        "",
        "[[nesting]]",
        f"child = {_toml.value(keys[0])}",
        f"parent = {_toml.value(keys[1])}",
    ]
    (folder / "boundaries.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
