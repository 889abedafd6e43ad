"""The fast paths of national jobs give exactly what the plain ones give.

Reprojection (:mod:`localitygeo.geometry.projection`) against ``GeoDataFrame.to_crs``,
bit for bit; the pyarrow CSV writer against pandas' ``to_csv``, byte for
byte; ``read_layer(columns=...)`` against a whole read; and what
``--profile`` and the progress lines print.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from localitygeo import read_layer
from localitygeo.cli import _progress
from localitygeo.geometry import projection as _reproject
from localitygeo.io.safecsv import _arrow_csv, escape_frame, write_csv
from localitygeo.profiling import Profile, stage

from .helpers import grid_layer

EXE = Path(sys.executable).parent / "localitygeo"


def _bits(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(np.asarray(gdf.geometry.array)).view(np.uint64)


@pytest.fixture(scope="module")
def plymouth_oa(plymouth: Path) -> gpd.GeoDataFrame:
    return read_layer(plymouth / "oa_2011.geojson", "OA11CD")


def test_to_crs_equals_geopandas_bit_for_bit(plymouth_oa):
    ref = plymouth_oa.to_crs(27700)
    for threads in (1, 2, 3):
        got = _reproject.to_crs(plymouth_oa, 27700, threads=threads)
        assert np.array_equal(_bits(got), _bits(ref))
        assert got.crs == ref.crs and list(got.columns) == list(ref.columns)
        assert got.drop(columns="geometry").equals(ref.drop(columns="geometry"))
        assert shapely.equals_exact(got.geometry.values, ref.geometry.values, 0).all()
    assert (
        _bits(plymouth_oa).shape == _bits(read_layer(plymouth_oa_path(plymouth_oa), "OA11CD")).shape
    )


_SHAPES = {
    "plain": shapely.box(-4.2, 50.3, -4.1, 50.4),
    "hole": shapely.box(-4.2, 50.3, -4.1, 50.4).difference(shapely.box(-4.16, 50.34, -4.14, 50.36)),
    "multi": shapely.MultiPolygon(
        [shapely.box(-4.0, 50.3, -3.9, 50.4), shapely.box(-3.8, 50.3, -3.7, 50.35)]
    ),
    "one-part multi": shapely.MultiPolygon([shapely.box(-3.6, 50.3, -3.5, 50.4)]),
    "multi with a hole": shapely.MultiPolygon(
        [
            shapely.box(-3.4, 50.3, -3.3, 50.4).difference(shapely.box(-3.36, 50.34, -3.34, 50.36)),
            shapely.Polygon([(-3.2, 50.3), (-3.1, 50.3), (-3.15, 50.37)]),
        ]
    ),
    "null": None,
}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(_SHAPES)), min_size=1, max_size=12), st.booleans())
def test_polygons_rebuilt_from_ragged_arrays_equal_to_crs(kinds, with_line):
    # holes, several parts, one-part MultiPolygons and nulls in any order keep
    # their types, parts, rings and bits; a layer with other types takes the
    # general path and must give the same
    geoms = [_SHAPES[k] for k in kinds]
    if with_line:
        geoms.append(shapely.LineString([(-4.0, 50.0), (-3.0, 51.0)]))
    gdf = gpd.GeoDataFrame({"code": range(len(geoms))}, geometry=geoms, crs="OGC:CRS84")
    ref = gdf.to_crs(27700)
    got = _reproject.to_crs(gdf, 27700)
    assert np.array_equal(_bits(got), _bits(ref))
    assert (got.geometry.isna() == ref.geometry.isna()).all()
    assert list(got.geom_type.fillna("")) == list(ref.geom_type.fillna(""))
    assert (shapely.to_wkb(got.geometry.values) == shapely.to_wkb(ref.geometry.values)).all()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(_SHAPES)), min_size=1, max_size=12),
    st.booleans(),
    st.sampled_from([2, 3, 5]),
)
def test_blocks_of_rows_over_threads_equal_to_crs(kinds, with_line, threads):
    # a layer cut into one block of rows per thread (each reprojected whole)
    # gives to_crs's bits, types and nulls, wherever the cuts fall
    geoms = [_SHAPES[k] for k in kinds]
    if with_line:
        geoms.insert(len(geoms) // 2, shapely.LineString([(-4.0, 50.0), (-3.0, 51.0)]))
    gdf = gpd.GeoDataFrame({"code": range(len(geoms))}, geometry=geoms, crs="OGC:CRS84")
    ref = gdf.to_crs(27700)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_reproject, "_PARALLEL", 1)  # blocks for any layer with 2 coordinates
        got = _reproject.to_crs(gdf, 27700, threads=threads)
    assert np.array_equal(_bits(got), _bits(ref))
    assert (got.geometry.isna() == ref.geometry.isna()).all()
    assert (shapely.to_wkb(got.geometry.values) == shapely.to_wkb(ref.geometry.values)).all()


def test_blocks_of_real_output_areas_equal_to_crs(plymouth_oa, monkeypatch):
    ref = plymouth_oa.to_crs(27700)
    monkeypatch.setattr(_reproject, "_PARALLEL", 2_000)  # Plymouth's OAs have 14,606
    calls = []
    block = _reproject._reproject_block
    monkeypatch.setattr(
        _reproject, "_reproject_block", lambda g, *a: calls.append(len(g)) or block(g, *a)
    )
    for threads in (2, 3):
        got = _reproject.to_crs(plymouth_oa, 27700, threads=threads)
        assert np.array_equal(_bits(got), _bits(ref))
        assert shapely.equals_exact(got.geometry.values, ref.geometry.values, 0).all()
    assert len(calls) == 5 and sum(calls) == 2 * len(plymouth_oa)  # 2 blocks, then 3


def plymouth_oa_path(_gdf: gpd.GeoDataFrame) -> Path:
    from .conftest import _data_dir

    return _data_dir() / "councils" / "plymouth" / "oa_2011.geojson"


def test_repeated_coordinates_are_transformed_once_with_the_same_bits(plymouth_oa, monkeypatch):
    # output areas repeat their shared vertices: with a small sample the
    # de-duplicating path runs, and must give the plain transformation's bits
    xy = shapely.get_coordinates(np.asarray(plymouth_oa.geometry.array))
    src, dst = CRS("OGC:CRS84"), CRS(27700)
    plain = _reproject._transform(xy, src, dst, 1)
    monkeypatch.setattr(_reproject, "_SAMPLE", 1000)
    _, first = _reproject._distinct(xy)
    assert len(first) < 0.7 * len(xy)
    assert np.array_equal(
        _reproject.transform_xy(xy, src, dst, threads=2).view(np.uint64), plain.view(np.uint64)
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, -0.0, 1.5, 2.25, -3.0]), st.sampled_from([0.0, -0.0, 7.0, 1e-300])
        ),
        min_size=1,
        max_size=40,
    )
)
def test_distinct_groups_only_equal_bits(rows):
    xy = np.array(rows, dtype=float)
    for k1, k2 in ((_reproject._K1, _reproject._K2), (np.uint64(0), np.uint64(0))):
        # with zero multipliers every row hashes alike: collisions must be split
        _reproject_k = (_reproject._K1, _reproject._K2)
        _reproject._K1, _reproject._K2 = k1, k2
        try:
            codes, first = _reproject._distinct(xy)
        finally:
            _reproject._K1, _reproject._K2 = _reproject_k
        bits = xy.view(np.uint64)
        assert np.array_equal(bits[first[codes]], bits)
        distinct = {tuple(r) for r in bits.tolist()}
        hashes = {(a * int(k1) ^ b * int(k2)) % 2**64 for a, b in distinct}
        if len(hashes) == len(distinct):  # no collision: one code per distinct row
            assert len(first) == len(distinct)


def test_national_columns_only_reads_what_is_asked(plymouth, tmp_path):
    path = tmp_path / "oa.parquet"
    gpd.read_file(plymouth / "oa_2011.geojson").to_parquet(path)
    whole = read_layer(path, "OA11CD")
    some = read_layer(path, "OA11CD", columns=())
    assert list(some.columns) == ["code", "name", "geometry"]
    assert some["code"].equals(whole["code"])
    assert shapely.equals_exact(some.geometry.values, whole.geometry.values, 0).all()
    kept = read_layer(path, "OA11CD", columns=["LAD11CD"])
    assert list(kept.columns) == ["code", "name", "LAD11CD", "geometry"]
    geojson = read_layer(plymouth / "oa_2011.geojson", "OA11CD", columns=())
    assert list(geojson.columns) == ["code", "name", "geometry"]


_cells = st.one_of(
    st.none(),
    st.text(alphabet="abE0-=+@' \t.,\"\n\r", max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            _cells,
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.floats(0, 1),
                st.integers(0, 10**7).map(lambda k: k / 2e6),  # halves of the 6th decimal
            ),
            st.integers(-5, 5),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_arrow_csv_writes_what_pandas_writes(rows):
    frame = pd.DataFrame(rows, columns=["code", "share", "n"])
    for escape in (True, False):
        table = escape_frame(frame) if escape else frame
        ref = table.to_csv(index=False, float_format="%.6f")
        fast = _arrow_csv(table, {"index": False, "float_format": "%.6f"})
        if fast is not None:
            assert fast == ref
        if not any(isinstance(c, str) and "\r" in c for c in table["code"]):
            assert write_csv(frame, escape_formulas=escape, index=False, float_format="%.6f") == ref


def test_arrow_csv_is_used_for_a_lookup_table():
    frame = pd.DataFrame(
        {"child_code": ["E1", "E2"], "parent_code": [None, "P"], "share": [0.5, 1.0]}
    )
    assert _arrow_csv(frame, {"index": False, "float_format": "%.6f"}) == (
        "child_code,parent_code,share\nE1,,0.500000\nE2,P,1.000000\n"
    )


def test_profile_records_nested_steps():
    with Profile() as prof:
        with stage("outer"):
            with stage("inner"):
                pass
    with stage("not recorded"):
        pass
    assert [(d, n) for d, n, *_ in prof.rows] == [(0, "outer"), (1, "inner")]
    text = prof.table()
    assert text.splitlines()[2].startswith("  inner") and text.splitlines()[-1].startswith("total")


def _lookup(
    tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    grid_layer(2, 1).to_file(tmp_path / "c.geojson")
    grid_layer(1, 1, size=200).to_file(tmp_path / "p.geojson")
    argv = [str(EXE), *extra, "lookup", str(tmp_path / "c.geojson"), str(tmp_path / "p.geojson")]
    argv += ["--child-code", "code", "--parent-code", "code", "-o", str(tmp_path / "out.csv")]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize(
    ("extra", "env"), [(("--profile",), {}), ((), {"LOCALITYGEO_PROFILE": "1"})]
)
def test_profile_table_on_stderr(tmp_path, extra, env):
    res = _lookup(tmp_path, *extra, env=env)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("step"))
    steps = [ln.split()[0] for ln in lines[header + 1 :]]
    assert {"read", "best", "write", "total"} <= set(steps)
    assert "overlaps" in res.stderr and (tmp_path / "out.csv").exists()


def test_no_profile_and_no_progress_for_a_quick_run(tmp_path):
    res = _lookup(tmp_path, env={"LOCALITYGEO_PROFILE": "0"})
    assert res.returncode == 0
    assert res.stderr.splitlines() == [f"wrote {tmp_path / 'out.csv'} (2 rows)"]


def test_progress_lines_for_a_long_run(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(_progress, "QUIET_FOR", 0.0)
    import time

    with _progress.progress_callbacks() as (step, fraction):
        step("reading \x1b[31mred")
        time.sleep(0.2)
        step("best fit")
        fraction(1, 2)
    lines = err.getvalue().splitlines()
    assert all(_progress.LINE.match(ln) for ln in lines), lines
    assert [ln.split(": ", 2)[2] for ln in lines] == ["reading \\x1b[31mred", "best fit", "done"]


def test_no_progress_lines_when_quick_or_turned_off(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with _progress.progress_callbacks() as (step, _):
        step("reading")
    monkeypatch.setattr(_progress, "QUIET_FOR", 0.0)
    monkeypatch.setenv("LOCALITYGEO_PROGRESS", "0")
    with _progress.progress_callbacks() as (step, _):
        step("reading")
    assert err.getvalue() == ""


def test_profile_records_worker_steps_under_their_callers_step():
    from concurrent.futures import ThreadPoolExecutor

    def work(k: int) -> None:
        with stage(f"job {k}"):
            with stage("inside"):  # part of the job's row
                pass

    with Profile() as prof:
        with stage("outer"):
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(work, range(3)))
    rows = [(d, n) for d, n, *_ in prof.rows]
    assert rows[0] == (0, "outer")
    assert sorted(rows[1:]) == [(1, "job 0 (worker)"), (1, "job 1 (worker)"), (1, "job 2 (worker)")]
    assert all(w >= 0 and c >= 0 for _, _, w, c, _ in prof.rows)
