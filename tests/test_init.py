"""``localitygeo init`` and ``write_manifest``: a set from the files a council has.

The manifest written for Plymouth's real layers is checked against one
written by hand: the same layers read back, the same validation findings.
Column finding is checked on real and hand-made attribute tables, and
hostile names and paths go through TOML and back unchanged.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import localitygeo as lg
from localitygeo.errors import ColumnError, CRSError, ManifestError, OutputError
from localitygeo.io.manifest import read_manifest
from localitygeo.io.manifest_write import columns_of, write_manifest

from .hostile.harness import run_cli

FILES = {
    "ward": "wards_2013.geojson",
    "lsoa": "lsoa_2011.geojson",
    "msoa": "msoa_2011.geojson",
    "oa": "oa_2011.geojson",
}
NEST = [("oa", "lsoa"), ("lsoa", "msoa"), ("lsoa", "ward")]
CITY = {
    "small_area": "small_areas.geojson",
    "ward": "wards.geojson",
    "neighbourhood": "neighbourhoods.geojson",
    "locality": "localities.geojson",
}

BY_HAND = """
name = "Plymouth"
[layers.ward]
path = "{p}/wards_2013.geojson"
code = "WD13CD"
name = "WD13NM"
[layers.lsoa]
path = "{p}/lsoa_2011.geojson"
code = "LSOA11CD"
name = "LSOA11NM"
[layers.msoa]
path = "{p}/msoa_2011.geojson"
code = "MSOA11CD"
name = "MSOA11NM"
[layers.oa]
path = "{p}/oa_2011.geojson"
code = "OA11CD"
[[nesting]]
child = "oa"
parent = "lsoa"
[[nesting]]
child = "lsoa"
parent = "msoa"
[[nesting]]
child = "lsoa"
parent = "ward"
"""


def _digest(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def _init_args(plymouth: Path, folder: Path) -> list[str | Path]:
    args: list[str | Path] = ["init", folder]
    args += [f"{k}={plymouth / f}" for k, f in FILES.items()]
    for child, parent in NEST:
        args += ["--nest", child, parent]
    return [*args, "--set-name", "Plymouth"]


def test_init_on_real_layers_matches_a_manifest_written_by_hand(plymouth, tmp_path):
    inputs = [plymouth / f for f in FILES.values()]
    before = _digest(inputs)
    made = tmp_path / "sets" / "made"  # its parent is created too
    written = [made.parent, made, made / "boundaries.toml"]
    result = run_cli(*_init_args(plymouth, made), expect=0, watch=[tmp_path], outputs=written)
    assert "code WD13CD, name WD13NM" in result.stdout and "code OA11CD, no names" in result.stdout
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / "boundaries.toml").write_text(BY_HAND.format(p=plymouth.as_posix()), "utf-8")
    a, b = lg.read_boundaries(made), lg.read_boundaries(hand)
    assert list(a.layers) == list(b.layers) and a.name == b.name == "Plymouth"
    for key in a.layers:
        x, y = a.layers[key], b.layers[key]
        assert list(x["code"]) == list(y["code"]) and list(x.columns) == list(y.columns)
        assert shapely.equals_exact(x.geometry.values, y.geometry.values, 0).all()
    assert [(r.child, r.parent) for r in a.nesting] == NEST
    ra, rb = lg.validate(a), lg.validate(b)
    assert not ra.ok and len(ra.issues) > 0
    pd.testing.assert_frame_equal(ra.issues, rb.issues)
    assert _digest(inputs) == before
    assert run_cli("validate", made, expect=1).code == 1


@pytest.mark.parametrize(
    ("columns", "code", "name"),
    [
        ({"WD13CD": ["E1", "E2"], "WD13CDO": ["a", "b"], "WD13NM": ["x", "y"]}, "WD13CD", "WD13NM"),
        ({"LSOA11CD": ["E1", "E2"], "LAD_CD": ["L", "L"]}, "LSOA11CD", None),
        ({"code": ["1", "2"], "name": ["x", "x"]}, "code", "name"),
        ({"ward_id": [7, 8], "Name": ["x", "y"]}, "ward_id", "Name"),
        ({"OA11CD": ["E1", "E2"], "code": ["c", "d"]}, "OA11CD", None),  # ONS first
    ],
)
def test_columns_are_found(columns, code, name):
    frame = gpd.GeoDataFrame(columns, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    assert columns_of(frame) == (code, name)


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        ({"WD13CD": ["E1", "E2"], "LSOA11CD": ["a", "b"]}, ["several", "'WD13CD'", "'LSOA11CD'"]),
        ({"label": ["a", "b"], "kind": ["k", "k"]}, ["no column looks like codes", "'label'"]),
        ({"WD13CD": ["E1", "E1"], "other": ["a", "b"]}, ["no column", "'other'"]),  # not unique
        ({"WD13CD": ["E1", None], "other": ["a", "b"]}, ["no column", "'other'"]),  # a gap
    ],
)
def test_columns_that_cannot_be_told_apart_are_named(columns, words):
    frame = gpd.GeoDataFrame(columns, geometry=[shapely.box(0, 0, 1, 1)] * 2)
    with pytest.raises(ColumnError) as info:
        columns_of(frame)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_given_columns_win_and_unknown_ones_are_listed():
    frame = gpd.GeoDataFrame(
        {"WD13CD": ["E1", "E2"], "alt": ["a", "b"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2
    )
    assert columns_of(frame, code="alt") == ("alt", None)
    assert columns_of(frame, name="alt") == ("WD13CD", "alt")
    with pytest.raises(ColumnError, match="no code column 'nope'; columns are: WD13CD, alt"):
        columns_of(frame, code="nope")


HOSTILE = ['a "quoted"\nname', "{{ 7 * 7 }}", "x]\n[layers.evil]\npath = '/etc/passwd'", "ß é 中"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_names_and_paths_go_through_toml_unchanged(plymouth, tmp_path, text):
    folder = tmp_path / "set"
    odd = tmp_path / "data" / f"{text.replace(chr(10), ' ').replace('/', '_')}.geojson"
    odd.parent.mkdir()
    odd.write_bytes((plymouth / "wards_2013.geojson").read_bytes())
    written = write_manifest(folder, {text: odd}, name=text, nesting=(), crs="EPSG:27700")
    spec, _ = read_manifest(written)
    assert spec["name"] == text and list(spec["layers"]) == [text]
    assert Path(spec["layers"][text].path).resolve() == odd.resolve()
    assert spec["layers"][text].code == "WD13CD" and spec["layers"][text].name == "WD13NM"
    parsed = tomllib.loads(written.read_text("utf-8"))
    assert parsed["layers"][text]["path"] == f"../data/{odd.name}"  # beside the set: relative
    assert len(lg.read_boundaries(folder).layers[text]) == 20


def test_paths_are_relative_below_the_root_and_absolute_across_it(tmp_path):
    from localitygeo.io.manifest_write import _shown

    folder = tmp_path / "sets" / "one"
    assert _shown(tmp_path / "data" / "w.geojson", folder) == "../../data/w.geojson"
    assert _shown(folder / "w.geojson", folder) == "w.geojson"
    assert _shown(Path("/w.geojson"), folder) == "/w.geojson"  # only the root is shared
    assert _shown(Path("/srv/data/w.geojson"), Path("/srv/sets")) == "../data/w.geojson"
    assert _shown(Path("/srv/w.geojson"), Path("/opt/sets")) == "/srv/w.geojson"


def test_an_existing_manifest_is_kept_unless_overwrite(plymouth, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "boundaries.toml").write_text("# mine\n", "utf-8")
    run_cli("init", folder, f"ward={plymouth / 'wards_2013.geojson'}", names=["exists"])
    assert (folder / "boundaries.toml").read_text("utf-8") == "# mine\n"
    with pytest.raises(OutputError, match="exists"):
        write_manifest(folder, {"ward": plymouth / "wards_2013.geojson"})
    write_manifest(folder, {"ward": plymouth / "wards_2013.geojson"}, overwrite=True)
    assert "WD13CD" in (folder / "boundaries.toml").read_text("utf-8")


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        (["lsoa"], ["'lsoa'", "LAYER=FILE"]),
        (["--nest", "ward", "lsoa"], ["no layer 'lsoa'"]),
        (["--nest", "ward", "ward"], ["one layer twice"]),
        (["--code", "lsoa", "X"], ["--code", "'lsoa'", "no such layer"]),
        (["--code", "ward", "X"], ["no code column 'X'", "WD13CD"]),
        (["--crs", "EPSG:4326"], ["geographic"]),
        (["ward=elsewhere.geojson"], ["given twice"]),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(plymouth, tmp_path, extra, names):
    folder = tmp_path / "new" / "set"
    run_cli(
        "init",
        folder,
        f"ward={plymouth / 'wards_2013.geojson'}",
        *extra,
        inputs=[plymouth / "wards_2013.geojson"],
        watch=[tmp_path],
        names=names,
    )
    assert not (tmp_path / "new").exists()


def test_a_file_that_is_not_a_boundary_layer_is_the_readers_error(shared_data, tmp_path):
    table = shared_data / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
    csv = tmp_path / "imd.csv"
    csv.write_text("LSOA11CD,score\nE01,1\n", "utf-8")
    for path in (table, csv, tmp_path / "missing.geojson"):
        with pytest.raises(lg.errors.InputError):
            write_manifest(tmp_path / "set", {"lsoa": path})
    assert not (tmp_path / "set").exists()


def test_the_api_refuses_bad_layer_specs_and_crs(plymouth, tmp_path):
    wards = plymouth / "wards_2013.geojson"
    with pytest.raises(ManifestError, match="at least one layer"):
        write_manifest(tmp_path / "s", {})
    with pytest.raises(ManifestError, match="not colour"):
        write_manifest(tmp_path / "s", {"ward": {"path": wards, "colour": "red"}})
    with pytest.raises(ManifestError, match="without a path"):
        write_manifest(tmp_path / "s", {"ward": 7})
    with pytest.raises(CRSError, match="not projected"):
        write_manifest(tmp_path / "s", {"ward": wards}, crs="EPSG:4978")
    assert not (tmp_path / "s").exists()


def test_layers_of_one_geopackage_by_file_layer(plymouth, tmp_path):
    gpkg = tmp_path / "council.gpkg"
    wards = gpd.read_file(plymouth / "wards_2013.geojson")
    lsoas = gpd.read_file(plymouth / "lsoa_2011.geojson")
    wards.to_file(gpkg, layer="wards")
    lsoas.to_file(gpkg, layer="lsoas")
    folder = tmp_path / "set"
    args = ["init", folder, f"ward={gpkg}", f"lsoa={gpkg}", "--file-layer", "ward", "wards"]
    args += ["--file-layer", "lsoa", "lsoas", "--nest", "lsoa", "ward", "--crs", "EPSG:27700"]
    run_cli(*args, expect=0, outputs=[folder, folder / "boundaries.toml"])
    bset = lg.read_boundaries(folder)
    assert sorted(bset.layers["ward"]["code"]) == sorted(wards["WD13CD"])
    assert sorted(bset.layers["lsoa"]["name"]) == sorted(lsoas["LSOA11NM"])
    parsed = tomllib.loads((folder / "boundaries.toml").read_text("utf-8"))
    assert parsed["layers"]["lsoa"] == {
        "path": "../council.gpkg",
        "code": "LSOA11CD",
        "name": "LSOA11NM",
        "layer": "lsoas",
    }
    # a layer not in the file is the reader's one-line error, naming it
    run_cli(
        "init", tmp_path / "other", f"ward={gpkg}", "--file-layer", "ward", "nope", names=["nope"]
    )


def test_what_validate_reports_is_left_to_validate(plymouth, tmp_path):
    # an empty geometry and a duplicate code are validate's findings, not init's refusals
    wards = gpd.read_file(plymouth / "wards_2013.geojson")
    wards.loc[1, "WD13NM"] = wards.loc[0, "WD13NM"]
    wards.loc[2, "geometry"] = shapely.Polygon()
    path = tmp_path / "wards.geojson"
    wards.to_file(path)
    folder = tmp_path / "set"
    run_cli(
        "init",
        folder,
        f"ward={path}",
        "--code",
        "ward",
        "WD13NM",
        expect=0,
        outputs=[folder, folder / "boundaries.toml"],
    )
    issues = lg.validate(lg.read_boundaries(folder)).issues
    assert {"duplicate-code", "empty-geometry"} <= set(issues["rule"])


def test_layers_built_from_blocks_match_the_example_city(tmp_path):
    # the shipped example's four layers, neighbourhoods built from small areas by its
    # lookup and localities from neighbourhoods (their 'locality' column), re-declared
    # with init: the same set read back, built geometry included
    city = Path(__file__).resolve().parents[1] / "boundaries" / "example-city"
    folder = tmp_path / "again"
    args = ["init", folder, *(f"{k}={city / f}" for k, f in CITY.items())]
    args += ["--blocks", "neighbourhood", "small_area", "--lookup", "neighbourhood"]
    args += [city / "small_area_lookup.csv", "--blocks", "locality", "neighbourhood"]
    args += ["--nest", "neighbourhood", "ward", "--crs", "EPSG:27700"]
    result = run_cli(*args, expect=0, outputs=[folder, folder / "boundaries.toml"], inputs=[city])
    assert "neighbourhood is built from the units of small_area (lookup" in result.stdout
    a, b = lg.read_boundaries(folder), lg.read_boundaries(city)
    assert (
        a.built_from == b.built_from == {"neighbourhood": "small_area", "locality": "neighbourhood"}
    )
    for key in b.layers:
        x, y = a.layers[key], b.layers[key]
        assert list(x["code"]) == list(y["code"])
        assert shapely.equals_exact(x.geometry.values, y.geometry.values, 0).all(), key
    pd.testing.assert_frame_equal(
        lg.validate(a).assignments["neighbourhood->ward"],
        lg.validate(b).assignments["neighbourhood->ward"],
    )
    parsed = tomllib.loads((folder / "boundaries.toml").read_text("utf-8"))
    assert parsed["layers"]["locality"]["blocks"] == "neighbourhood"
    lookup = Path(parsed["layers"]["neighbourhood"]["blocks"]["lookup"])
    assert (folder / lookup).resolve() == (city / "small_area_lookup.csv").resolve()


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        (["--blocks", "ward", "lsoa"], ["'lsoa'", "not another layer"]),
        (["--blocks", "ward", "ward"], ["not another layer"]),
        (["--lookup", "ward", "x.csv"], ["--lookup 'ward' needs --blocks"]),
        (["--blocks", "ward", "oa", "--lookup", "ward", "missing.csv"], ["lookup file not found"]),
        (["--blocks", "ward", "oa", "--blocks", "oa", "ward"], ["cycle"]),
    ],
)
def test_bad_blocks_are_one_line_and_write_nothing(plymouth, tmp_path, extra, names):
    folder = tmp_path / "new"
    run_cli(
        "init",
        folder,
        f"ward={plymouth / 'wards_2013.geojson'}",
        f"oa={plymouth / 'oa_2011.geojson'}",
        *extra,
        watch=[tmp_path],
        names=names,
    )
    assert not folder.exists()
