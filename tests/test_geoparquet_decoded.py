"""GeoParquet layers read to be reprojected equal ``to_crs(read_layer(...))`` exactly.

:func:`localitygeo.io.geoparquet.read_decoded` builds a layer's geometries
once, in the CRS that measures them. These tests hold it to the ordinary
path: the same frame (columns, values, CRS, coordinates bit for bit) on real
councils' layers cut from the national files, the same errors for every bad
file, and the same results through the jobs that use it (``lookup``,
manifests).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import CRS

from localitygeo import read_layer
from localitygeo.cli import main
from localitygeo.errors import InputError, LocalityGeoError
from localitygeo.geometry.projection import to_crs
from localitygeo.io import geoparquet
from localitygeo.io.geoparquet import DecodedLayer, read_decoded
from localitygeo.io.manifest import read_boundaries
from localitygeo.io.measurable import read_measurable

BNG = CRS("EPSG:27700")
COUNCILS = ["E07000029", "E06000026"]  # Copeland, Plymouth


def _identical(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.crs == b.crs and a.crs.to_json() == b.crs.to_json()
    assert_geodataframe_equal(a, b, check_less_precise=False)
    ga, gb = np.asarray(a.geometry.array), np.asarray(b.geometry.array)
    assert np.array_equal(shapely.get_type_id(ga), shapely.get_type_id(gb))
    assert np.array_equal(
        shapely.get_coordinates(ga).view(np.uint64), shapely.get_coordinates(gb).view(np.uint64)
    )
    both_null = shapely.is_missing(ga) & shapely.is_missing(gb)
    assert (shapely.equals_identical(ga, gb) | both_null).all()


@pytest.fixture(scope="module")
def councils(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    """Two councils' real layers, cut from the national GeoParquet files with their bytes."""
    out = tmp_path_factory.mktemp("councils")
    files = {}
    for name in ("oa_2011", "lsoa_2011", "msoa_2011", "wards_2013"):
        table = pq.read_table(
            shared_data / "england" / f"{name}.parquet", filters=[("LAD_CD", "in", COUNCILS)]
        )
        files[name] = out / f"{name}.parquet"
        pq.write_table(table, files[name])
    return files


CASES = [
    ("oa_2011", "OA11CD", None, None),
    ("lsoa_2011", "LSOA11CD", "LSOA11NM", None),
    ("msoa_2011", "MSOA11CD", "MSOA11NM", []),
    ("wards_2013", "WD13CD", "WD13NM", ["LAD_CD", "WD13NMW"]),
]


@pytest.mark.parametrize(("layer", "code", "name", "columns"), CASES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_real_layers_placed_equal_read_then_reprojected(
    councils, layer, code, name, columns, threads
):
    got = read_decoded(councils[layer], code, name=name, columns=columns)
    assert isinstance(got, DecodedLayer)
    ref = read_layer(councils[layer], code, name=name, columns=columns)
    _identical(got.as_read(), ref)
    _identical(got.placed(BNG, threads=threads), to_crs(ref, BNG))
    assert got.working_crs() == BNG


def test_the_input_frame_is_built_anew_each_time(councils):
    got = read_decoded(councils["lsoa_2011"], "LSOA11CD", name="LSOA11NM")
    assert isinstance(got, DecodedLayer)
    one = got.placed(BNG)
    one.loc[0, "name"] = "changed"
    _identical(
        got.placed(BNG), to_crs(read_layer(councils["lsoa_2011"], "LSOA11CD", name="LSOA11NM"), BNG)
    )


def _write(tmp_path: Path, gdf: gpd.GeoDataFrame, name: str = "layer.parquet", **kw) -> Path:
    path = tmp_path / name
    gdf.to_parquet(path, **kw)
    return path


def _squares(crs, n: int = 4, x0: float = -3.0, y0: float = 52.0, size: float = 0.01):
    geoms = [shapely.box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size) for i in range(n)]
    return gpd.GeoDataFrame(
        {"id": [f"E{i:08d}" for i in range(n)], "label": list("abcd")[:n]}, geometry=geoms, crs=crs
    )


@pytest.mark.parametrize("crs", ["OGC:CRS84", "EPSG:4326", "EPSG:4258"])
def test_each_declared_crs_reads_as_geopandas_reads_it(tmp_path, crs):
    # PROJJSON with datum ensemble members (WGS 84, ETRS89) that carry ids
    path = _write(tmp_path, _squares(crs))
    got = read_decoded(path, "id", name="label")
    assert isinstance(got, DecodedLayer)
    ref = read_layer(path, "id", name="label")
    _identical(got.as_read(), ref)
    _identical(got.placed(BNG), to_crs(ref, BNG))


def test_a_layer_already_in_the_crs_keeps_its_own(tmp_path):
    path = _write(tmp_path, _squares("OGC:CRS84").to_crs(BNG))
    got = read_decoded(path, "id")
    assert isinstance(got, DecodedLayer)
    _identical(got.placed(BNG), read_layer(path, "id"))


def test_missing_crs_metadata_means_crs84(tmp_path):
    table = pa.table(
        {
            "id": ["A1", "A2"],
            "geometry": shapely.to_wkb(
                [shapely.box(-3, 52, -2.9, 52.1), shapely.box(-2.9, 52, -2.8, 52.1)]
            ),
        }
    )
    about = {"encoding": "WKB", "geometry_types": []}  # no "crs" key at all
    geo = json.dumps(
        {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": about}}
    )
    table = table.replace_schema_metadata({"geo": geo})
    path = tmp_path / "no-crs-key.parquet"
    pq.write_table(table, path)
    got = read_decoded(path, "id")
    assert isinstance(got, DecodedLayer) and got.crs == CRS("OGC:CRS84")
    _identical(got.placed(BNG), to_crs(read_layer(path, "id"), BNG))


def test_a_custom_index_and_a_geometry_column_of_another_name(tmp_path):
    gdf = _squares("OGC:CRS84").set_index("label").rename_geometry("shape")
    path = _write(tmp_path, gdf)
    got = read_decoded(path, "id")
    assert isinstance(got, DecodedLayer)
    _identical(got.placed(BNG), to_crs(read_layer(path, "id"), BNG))


def _outcome(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            out = fn()
        except LocalityGeoError as exc:
            return type(exc), str(exc), [str(w.message) for w in seen]
    if isinstance(out, DecodedLayer):  # nothing to report: compare what it reads
        out = out.as_read()
    return out, [str(w.message) for w in seen]


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, dict]]:
    sq = _squares("OGC:CRS84")
    nulls = sq.copy()
    nulls.loc[1, "geometry"] = None
    dup = sq.copy()
    dup.loc[2, "id"] = dup.loc[0, "id"]
    blank = sq.copy()
    blank.loc[3, "id"] = "  "
    lines = sq.copy()
    lines["geometry"] = sq.boundary
    swapped = sq.copy()
    swapped["geometry"] = shapely.transform(sq.geometry.values, lambda c: c[:, ::-1])
    metres = sq.to_crs(BNG).set_crs("OGC:CRS84", allow_override=True)
    return {
        "a null geometry": (_write(tmp_path, nulls, "nulls.parquet"), {}),
        "a null geometry, not strict": (
            _write(tmp_path, nulls, "nulls2.parquet"),
            {"strict": False},
        ),
        "duplicate codes": (_write(tmp_path, dup, "dup.parquet"), {}),
        "duplicate codes, not strict": (_write(tmp_path, dup, "dup2.parquet"), {"strict": False}),
        "a blank code": (_write(tmp_path, blank, "blank.parquet"), {}),
        "no such code column": (_write(tmp_path, sq, "sq.parquet"), {"code": "nope"}),
        "no such name column": (_write(tmp_path, sq, "sq2.parquet"), {"name": "nope"}),
        "lines": (_write(tmp_path, lines, "lines.parquet"), {}),
        "lat/lon swapped": (_write(tmp_path, swapped, "swapped.parquet"), {}),
        "metres labelled degrees": (_write(tmp_path, metres, "metres.parquet"), {}),
        "metres labelled degrees, BNG assumed": (
            _write(tmp_path, metres, "metres2.parquet"),
            {"assume_crs": "EPSG:27700"},
        ),
        "another CRS assumed": (_write(tmp_path, sq, "sq3.parquet"), {"assume_crs": "EPSG:27700"}),
        "not a CRS assumed": (_write(tmp_path, sq, "sq4.parquet"), {"assume_crs": "no such CRS"}),
        "the same CRS assumed": (_write(tmp_path, sq, "sq5.parquet"), {"assume_crs": "OGC:CRS84"}),
    }


def test_bad_files_give_what_read_layer_gives(tmp_path):
    for what, (path, kw) in _bad_files(tmp_path).items():
        kw = {"code": "id", **kw}
        decoded = _outcome(lambda path=path, kw=kw: read_decoded(path, **kw))
        nothing_wrong = what in ("the same CRS assumed", "duplicate codes, not strict")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # compared in _outcome
                raw = read_decoded(path, **kw)
        except LocalityGeoError:
            raw = None
        assert isinstance(raw, DecodedLayer) == nothing_wrong, what
        ordinary = _outcome(lambda path=path, kw=kw: read_layer(path, **kw))
        if isinstance(ordinary[0], gpd.GeoDataFrame):
            assert isinstance(decoded[0], gpd.GeoDataFrame), what
            _identical(decoded[0], ordinary[0])
            assert decoded[1] == ordinary[1], what
        else:
            assert decoded == ordinary, what


def test_corrupt_wkb_falls_back_to_the_ordinary_error(tmp_path):
    table = pq.read_table(_write(tmp_path, _squares("OGC:CRS84")))
    blobs = table.column("geometry").to_pylist()
    blobs[2] = blobs[2][:-5]
    table = table.set_column(
        table.column_names.index("geometry"), "geometry", pa.array(blobs, pa.binary())
    )
    path = tmp_path / "corrupt.parquet"
    pq.write_table(table, path)
    error = _outcome(lambda: read_layer(path, "id"))
    assert _outcome(lambda: read_decoded(path, "id")) == error
    # one clear line, not a GEOS traceback (read_layer used to let GEOSException out)
    assert error[0] is InputError and "not a readable GeoParquet file" in error[1]
    assert "feature" not in error[1]


def test_the_lookup_command_refuses_corrupt_wkb_in_one_line(tmp_path, capsys):
    table = pq.read_table(_write(tmp_path, _squares("OGC:CRS84")))
    blobs = table.column("geometry").to_pylist()
    blobs[0] = b"\x01\x03\x00\x00\x00\xff\xff\xff\xff"
    column = pa.array(blobs, pa.binary())
    table = table.set_column(table.column_names.index("geometry"), "geometry", column)
    bad = tmp_path / "bad.parquet"
    pq.write_table(table, bad)
    good = _write(tmp_path, _squares("OGC:CRS84"), "good.parquet")
    argv = ["lookup", str(bad), str(good), "--child-code", "id", "--parent-code", "id"]
    assert main([*argv, "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("localitygeo: error: ")
    assert "bad.parquet" in err[0] and "not a readable GeoParquet file" in err[0]
    assert not (tmp_path / "out.csv").exists()


def _frames_both_ways(monkeypatch, run):
    decoded = run()
    monkeypatch.setattr(geoparquet, "_decoded", lambda *a, **k: None)
    ordinary = run()
    monkeypatch.undo()
    return decoded, ordinary


def test_read_measurable_gives_the_frames_of_the_ordinary_path(councils, monkeypatch):
    layers = {
        "child": {"path": councils["oa_2011"], "code": "OA11CD", "columns": []},
        "parent": {"path": councils["lsoa_2011"], "code": "LSOA11CD", "name": "LSOA11NM"},
    }
    decoded = []
    real = geoparquet._decoded
    monkeypatch.setattr(geoparquet, "_decoded", lambda *a: decoded.append(a[0]) or real(*a))
    got, crs = read_measurable(layers)
    assert decoded == [councils["oa_2011"], councils["lsoa_2011"]]  # the path under test ran
    monkeypatch.setattr(geoparquet, "_decoded", lambda *a: None)
    ref, ref_crs = read_measurable(layers)
    assert crs == ref_crs == BNG
    for key in layers:
        _identical(got[key], ref[key])


def test_lookup_writes_the_same_csv_either_way(councils, tmp_path, monkeypatch):
    def lookup(out: Path) -> bytes:
        argv = ["lookup", str(councils["oa_2011"]), str(councils["lsoa_2011"])]
        argv += ["--child-code", "OA11CD", "--parent-code", "LSOA11CD", "-o", str(out)]
        assert main(argv) == 0
        return out.read_bytes()

    fast, slow = _frames_both_ways(
        monkeypatch, lambda: lookup(tmp_path / f"{len(list(tmp_path.iterdir()))}.csv")
    )
    assert fast == slow
    table = pd.read_csv(pd.io.common.BytesIO(fast))
    assert len(table) == len(pq.read_table(councils["oa_2011"]))


def test_a_manifest_of_geoparquet_layers_reads_the_same_either_way(councils, tmp_path, monkeypatch):
    manifest = tmp_path / "set" / "boundaries.toml"
    manifest.parent.mkdir()
    rows = [
        ("output_area", "oa_2011", "OA11CD", None),
        ("lsoa", "lsoa_2011", "LSOA11CD", "LSOA11NM"),
        ("ward", "wards_2013", "WD13CD", "WD13NM"),
    ]
    text = 'name = "two councils"\ncrs = "EPSG:27700"\n'
    for key, file, code, name in rows:
        text += f'\n[layers.{key}]\npath = "{councils[file].as_posix()}"\ncode = "{code}"\n'
        text += f'name = "{name}"\n' if name else ""
    text += '\n[[nesting]]\nchild = "output_area"\nparent = "lsoa"\n'
    manifest.write_text(text, encoding="utf-8")
    fast, slow = _frames_both_ways(monkeypatch, lambda: read_boundaries(manifest))
    assert list(fast.layers) == list(slow.layers) == [k for k, *_ in rows]
    for key in fast.layers:
        _identical(fast.layers[key], slow.layers[key])
    assert fast.notes == slow.notes
