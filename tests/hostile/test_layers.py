"""Broken and disguised layer files, bad coordinates and CRS labels: one line, or read right.

Tables without geometry, empty and binary files, containers posing as other
formats (checked by content, not name), non-UTF-8 GeoJSON, JSON nested too
deeply, NaN/Inf and absurd coordinates (the feature named), and CRS labels
that contradict the coordinates (the likely fix given). A bare GeoJSON
Feature is a one-feature layer. Every file is made here from the example
city or the shared real data; every shared real file still reads.
"""

from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from localitygeo import read_boundaries, read_layer
from localitygeo.errors import CRSError, GeometryError, InputError
from localitygeo.io.coordinates import feature_bounds

from .harness import run_cli
from .inputs import EXAMPLE, edit_geojson, load_json, one_ring

WARDS = EXAMPLE / "wards.geojson"


def _one_layer_set(folder: Path, file: str, extra: str = "") -> Path:
    """A boundary set of one layer, ``ward``, read from ``file`` (code column ``code``)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "boundaries.toml").write_text(
        f'crs = "EPSG:27700"\n[layers.ward]\npath = "{file}"\ncode = "code"\n{extra}',
        encoding="utf-8",
    )
    return folder


def _validate(folder: Path, names: list[str], expect: int | None = 2):
    return run_cli("validate", folder, inputs=[folder], expect=expect, names=names)


# --- files that are not what they say ---------------------------------------------------


def _zip_of_csv(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("wards.csv", "code,name\nEXW01,Ashcombe\n")


def _xlsx(p: Path) -> None:
    pd.DataFrame({"code": ["EXW01"], "name": ["Ashcombe"]}).to_excel(p, index=False)


def _csv(p: Path) -> None:
    p.write_text("code,name\nEXW01,Ashcombe\n", encoding="utf-8")


def _gzip(p: Path) -> None:
    p.write_bytes(gzip.compress(WARDS.read_bytes()))


def _latin1(p: Path) -> None:
    doc = load_json(WARDS)
    doc["features"][0]["properties"]["name"] = "Ynys Môn"
    p.write_bytes(json.dumps(doc, ensure_ascii=False).encode("latin-1"))


def _deep(p: Path) -> None:
    text = WARDS.read_text(encoding="utf-8")
    deep = "[" * 5000 + "]" * 5000
    p.write_text(text.replace('"name": "Ashcombe"', f'"name": "Ashcombe", "deep": {deep}', 1))


def _truncated(p: Path) -> None:
    p.write_bytes(WARDS.read_bytes()[:5000])


def _parquet_text(p: Path) -> None:
    p.write_bytes(WARDS.read_bytes())


# id -> (file name in the set, how to write it, what the error line must name)
BROKEN = {
    "csv-table": ("wards.csv", _csv, ["wards.csv", "without geometry"]),
    "xlsx-table": ("wards.xlsx", _xlsx, ["wards.xlsx"]),
    "empty": ("wards.geojson", lambda p: p.write_bytes(b""), ["wards.geojson", "empty"]),
    "binary": ("wards.geojson", lambda p: p.write_bytes(os.urandom(4000)), ["binary"]),
    "binary-gpkg": ("wards.gpkg", lambda p: p.write_bytes(os.urandom(4000)), ["wards.gpkg"]),
    "zip-as-geojson": ("wards.geojson", _zip_of_csv, ["ZIP archive", "wards.csv"]),
    "zip-without-shp": ("wards.zip", _zip_of_csv, ["ZIP archive holding wards.csv", "geometry"]),
    "xlsx-as-geojson": ("wards.geojson", _xlsx, ["an Excel workbook", "without geometry"]),
    "gzip-as-geojson": ("wards.geojson", _gzip, ["gzip"]),
    "text-as-parquet": ("wards.parquet", _parquet_text, ["not a GeoParquet file"]),
    "not-utf8": ("wards.geojson", _latin1, ["UTF-8", "0xf4"]),
    "deep-json": ("wards.geojson", _deep, ["nested too deeply"]),
    "truncated": ("wards.geojson", _truncated, ["truncated"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_layer_file_is_one_line(tmp_path, case):
    file, write, names = BROKEN[case]
    folder = _one_layer_set(tmp_path / "set", file)
    write(folder / file)
    _validate(folder, [file, *names])
    with pytest.raises(InputError) as info:
        read_boundaries(folder)
    assert info.value.path == str(folder / file) and info.value.layer == "ward"


@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
def test_non_utf8_geojson_is_refused_by_both_engines(tmp_path, engine):
    """fiona would read the bad name as missing: checked by content for it too."""
    folder = _one_layer_set(tmp_path / "set", "wards.geojson", f'engine = "{engine}"\n')
    doc = load_json(WARDS)
    doc["features"][19]["properties"]["name"] = "Ynys Môn"  # far from the file's head
    (folder / "wards.geojson").write_bytes(json.dumps(doc, ensure_ascii=False).encode("latin-1"))
    _validate(folder, ["wards.geojson", "UTF-8"])


def test_parquet_named_geojson_is_read_by_content(tmp_path):
    folder = _one_layer_set(tmp_path / "set", "wards.geojson")
    gpd.read_file(WARDS).to_parquet(folder / "wards.geojson")
    assert len(read_boundaries(folder)["ward"]) == 20
    _validate(folder, [], expect=0)


def test_lookup_with_a_table_as_parent_is_one_line(tmp_path):
    _csv(tmp_path / "parent.csv")
    run_cli(
        "lookup",
        WARDS,
        tmp_path / "parent.csv",
        "--child-code",
        "code",
        "--parent-code",
        "code",
        inputs=[tmp_path / "parent.csv", WARDS],
        names=["parent.csv", "without geometry"],
    )


# --- bare GeoJSON objects -----------------------------------------------------------------


def test_a_bare_feature_is_a_one_feature_layer(tmp_path):
    doc = load_json(WARDS)
    feature = doc["features"][0] | {"crs": doc["crs"]}
    (tmp_path / "one.geojson").write_text(json.dumps(feature), encoding="utf-8")
    one = read_layer(tmp_path / "one.geojson", "code", name="name")
    assert list(one["code"]) == ["EXW01"] and one.crs.to_epsg() == 27700
    expected = gpd.read_file(WARDS).geometry.iloc[0]
    assert shapely.equals_exact(one.geometry.iloc[0], expected, 1e-6)
    # without the (pre-RFC 7946) crs member GeoJSON means WGS84: the metres say otherwise
    (tmp_path / "bare.geojson").write_text(json.dumps(doc["features"][0]), encoding="utf-8")
    folder = _one_layer_set(tmp_path / "set", "../bare.geojson")
    _validate(folder, ["bare.geojson", "British National Grid", 'crs_in = "EPSG:27700"'])
    fixed = _one_layer_set(tmp_path / "fixed", "../bare.geojson", 'crs_in = "EPSG:27700"\n')
    bset = read_boundaries(fixed)
    assert list(bset["ward"]["code"]) == ["EXW01"]
    assert any("read as EPSG:27700" in note for note in bset.notes)  # said, in the report


def test_a_bare_geometry_names_the_missing_attributes(tmp_path):
    geometry = load_json(WARDS)["features"][0]["geometry"]
    (tmp_path / "g.geojson").write_text(json.dumps(geometry), encoding="utf-8")
    folder = _one_layer_set(tmp_path / "set", "../g.geojson")
    _validate(folder, ["g.geojson", "no attributes"])


# --- coordinates ------------------------------------------------------------------------


def _poison(value: float):
    def change(doc):
        one_ring(doc["features"][3])[2][0] = value

    return change


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (float("nan"), ["NaN or infinite"]),
        (float("inf"), ["NaN or infinite"]),
        (-float("inf"), ["NaN or infinite"]),
        (1e300, ["absurd", "1e+300"]),
        (4e7, ["far outside", "EPSG:27700"]),
    ],
    ids=["nan", "inf", "-inf", "1e300", "far"],
)
def test_bad_coordinates_name_the_feature(tmp_path, value, names):
    folder = _one_layer_set(tmp_path / "set", "wards.geojson")
    (folder / "wards.geojson").write_bytes(WARDS.read_bytes())
    edit_geojson(folder / "wards.geojson", _poison(value))
    _validate(folder, ["wards.geojson", "EXW04", *names])
    with pytest.raises(GeometryError) as info:
        read_layer(folder / "wards.geojson", "code")
    assert info.value.code == "EXW04" and info.value.path == str(folder / "wards.geojson")


_FEATURES = [
    shapely.box(0, 0, 10, 10),
    shapely.box(20, 0, 30, 10).difference(shapely.box(22, 2, 24, 4)),
    shapely.MultiPolygon([shapely.box(40, 0, 45, 5), shapely.box(50, 0, 55, 5)]),
    shapely.LineString([(60, 0), (70, 10), (80, 0)]),
    shapely.Point(90, 5),
    None,
]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, len(_FEATURES) - 2),  # the null has no coordinate to spoil
    st.integers(0, 1000),
    st.integers(0, 1),
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
)
def test_any_non_finite_coordinate_names_its_feature(which, at, axis, value):
    # polygons are screened by their area (one NaN or infinity anywhere makes it
    # non-finite), other features by their coordinates: either way, every
    # spoilt vertex of any ring or part is found, and only its feature named
    geoms = np.array(_FEATURES, dtype=object)
    coords = shapely.get_coordinates(geoms[which : which + 1])
    # the vertex everywhere it occurs, so that a ring's first and last stay equal
    same = (coords == coords[at % len(coords)]).all(axis=1)
    coords[same, axis] = value
    try:
        geoms[which] = shapely.set_coordinates(geoms[which : which + 1].copy(), coords)[0]
    except shapely.errors.GEOSException:  # a ring closed on NaN is no ring (NaN != NaN)
        assume(False)
    gdf = gpd.GeoDataFrame({"code": [f"F{i}" for i in range(len(geoms))]}, geometry=geoms)
    with pytest.raises(GeometryError) as info:
        feature_bounds(gdf, "f.gpkg", "f")
    assert info.value.code == f"F{which}" and "1 feature(s)" in str(info.value)
    clean = gpd.GeoDataFrame({"code": ["a"] * len(_FEATURES)}, geometry=_FEATURES)
    got = feature_bounds(clean)
    np.testing.assert_array_equal(got, shapely.bounds(np.array(_FEATURES, dtype=object)))


def test_absurd_coordinates_are_refused_even_without_the_crs_check(tmp_path):
    folder = _one_layer_set(tmp_path / "set", "wards.geojson", "check_crs = false\n")
    (folder / "wards.geojson").write_bytes(WARDS.read_bytes())
    edit_geojson(folder / "wards.geojson", _poison(1e300))
    _validate(folder, ["EXW04", "absurd"])


# --- CRS labels that contradict the coordinates, on real data ------------------------------


def _write(gdf: gpd.GeoDataFrame, path: Path, crs_member: str | None) -> Path:
    """Write GeoJSON with the given crs member (None: none, as RFC 7946 files)."""
    doc = json.loads(gdf.to_json(drop_id=True))
    doc.pop("crs", None)
    if crs_member is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs_member}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _swap(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1]))


@pytest.fixture(scope="module")
def plymouth_wards(plymouth: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(plymouth / "wards_2013.geojson")[["WD13CD", "geometry"]]


# id -> (make the layer from Plymouth's wards (CRS84), crs member, what the line names)
MISLABELLED = {
    "lat-lon-swapped": (_swap, None, ["swapped"]),
    "bng-labelled-wgs84": (lambda g: g.to_crs(27700), None, ["British National Grid"]),
    "bng-labelled-crs84": (
        lambda g: g.to_crs(27700),
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        ["British National Grid", "EPSG:27700"],
    ),
    "degrees-labelled-bng": (lambda g: g, "urn:ogc:def:crs:EPSG::27700", ["degrees", "CRS84"]),
    "outside-area-of-use": (
        lambda g: g.to_crs(27700).pipe(lambda b: b.set_geometry(b.geometry.translate(3e6, 0))),
        "urn:ogc:def:crs:EPSG::27700",
        ["far outside", "EPSG:27700"],
    ),
    "degrees-labelled-irish-grid": (
        lambda g: g,
        "urn:ogc:def:crs:EPSG::2157",
        ["degrees", "EPSG:2157"],
    ),
}


@pytest.mark.parametrize("case", sorted(MISLABELLED))
def test_crs_contradicting_coordinates_is_one_line_with_the_fix(tmp_path, plymouth_wards, case):
    make, member, names = MISLABELLED[case]
    layer = _write(make(plymouth_wards), tmp_path / "wards.geojson", member)
    folder = _one_layer_set(tmp_path / "set", "../wards.geojson")
    folder.joinpath("boundaries.toml").write_text(
        folder.joinpath("boundaries.toml").read_text().replace('"code"', '"WD13CD"')
    )
    _validate(folder, ["wards.geojson", *names])
    with pytest.raises(CRSError) as info:
        read_layer(layer, "WD13CD")
    assert info.value.path == str(layer) and info.value.layer == "wards"


def test_crs_in_fixes_a_wrong_label_and_check_crs_overrides(tmp_path, plymouth_wards):
    bng = _write(plymouth_wards.to_crs(27700), tmp_path / "bng.geojson", None)
    with pytest.warns(UserWarning, match="read as EPSG:27700"):
        fixed = read_layer(bng, "WD13CD", assume_crs="EPSG:27700")
    assert fixed.crs.to_epsg() == 27700
    assert fixed.geometry.area.sum() == pytest.approx(plymouth_wards.to_crs(27700).area.sum())
    # a crs that does not fit either is still an error naming the file's problem
    with pytest.raises(CRSError, match="British National Grid"):
        read_layer(bng, "WD13CD", assume_crs="EPSG:4258")
    # a label that fits the coordinates cannot be overridden by crs_in
    ll = _write(plymouth_wards, tmp_path / "ll.geojson", "urn:ogc:def:crs:OGC:1.3:CRS84")
    with pytest.raises(CRSError, match="remove one"):
        read_layer(ll, "WD13CD", assume_crs="EPSG:27700")
    # data that really lie where swapped British coordinates would (the Seychelles, say)
    swapped = _write(_swap(plymouth_wards), tmp_path / "sw.geojson", None)
    assert len(read_layer(swapped, "WD13CD", check_crs=False)) == 20


def test_check_crs_false_in_the_manifest_reads_data_the_check_refuses(tmp_path, plymouth_wards):
    """Swapped Plymouth lies in the Indian Ocean by the Seychelles: refused, unless told."""
    _write(_swap(plymouth_wards), tmp_path / "wards.geojson", None)
    for name, extra, expect in (("set", "", 2), ("told", "check_crs = false\n", 0)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "boundaries.toml").write_text(
            f'[layers.ward]\npath = "../wards.geojson"\ncode = "WD13CD"\n{extra}'
        )
        _validate(folder, ["wards.geojson", "swapped", "check_crs = false"], expect=expect)
    bset = read_boundaries(tmp_path / "told")
    assert bset.crs.to_epsg() != 27700 and len(bset["ward"]) == 20  # a UTM zone there


def test_working_crs_far_from_the_data_is_one_line(tmp_path, plymouth_wards):
    """Plymouth moved to Australia, measured in the British National Grid."""
    away = plymouth_wards.set_geometry(plymouth_wards.geometry.translate(155, -84.4))
    _write(away, tmp_path / "wards.geojson", None)
    folder = _one_layer_set(tmp_path / "set", "../wards.geojson")
    folder.joinpath("boundaries.toml").write_text(
        folder.joinpath("boundaries.toml").read_text().replace('"code"', '"WD13CD"')
    )
    _validate(folder, ["boundaries.toml", "working CRS EPSG:27700", "ward"])


# --- every real file still reads ------------------------------------------------------------

REAL = [
    (f"councils/{council}/{layer}.geojson", code)
    for council in ("plymouth", "copeland", "telford-and-wrekin")
    for layer, code in (
        ("wards_2013", "WD13CD"),
        ("msoa_2011", "MSOA11CD"),
        ("lsoa_2011", "LSOA11CD"),
        ("oa_2011", "OA11CD"),
    )
] + [
    (f"england/{layer}.parquet", code)
    for layer, code in (
        ("wards_2013", "WD13CD"),
        ("msoa_2011", "MSOA11CD"),
        ("lsoa_2011", "LSOA11CD"),
        ("oa_2011", "OA11CD"),
    )
]


@pytest.mark.parametrize(("file", "code"), REAL, ids=[f for f, _ in REAL])
def test_every_shared_real_file_still_reads(shared_data, file, code):
    g = read_layer(shared_data / file, code)
    assert len(g) > 0 and g.crs.is_geographic


# --- things that are not files at all ----------------------------------------------------


@pytest.mark.parametrize("role", ["layer", "manifest", "data", "proposal"])
def test_a_named_pipe_is_refused_not_waited_for(tmp_path, role):
    """Opening a pipe blocks until something writes to it: refused before it is opened."""
    folder = _one_layer_set(tmp_path / "set", "wards.geojson")
    (folder / "wards.geojson").write_bytes(WARDS.read_bytes())
    pipe = {
        "layer": folder / "wards.geojson",
        "manifest": folder / "boundaries.toml",
        "data": tmp_path / "data.csv",
        "proposal": tmp_path / "proposal.toml",
    }[role]
    pipe.unlink(missing_ok=True)
    os.mkfifo(pipe)
    args = {
        "layer": ["validate", folder],
        "manifest": ["validate", folder],
        "data": [
            "aggregate",
            folder,
            "--data",
            pipe,
            "--data-code",
            "code",
            "--from",
            "ward",
            "--to",
            "ward",
            "--extensive",
            "x",
        ],
        "proposal": ["apply", folder, "--proposal", pipe, "-o", tmp_path / "out"],
    }[role]
    run_cli(*args, inputs=[folder], watch=[tmp_path], names=[pipe.name, "named pipe"], timeout=60)
