"""``localitygeo aggregate``: the installed command, run in a subprocess as a user would."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from localitygeo import read_layer
from localitygeo.aggregation.transfer import aggregate

from .helpers import dissolve_by, grid_layer, write_manifest

EXE = Path(sys.executable).parent / "localitygeo"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    if not EXE.exists():
        pytest.fail(f"the console script is not installed at {EXE}; run `make setup-test`")
    return subprocess.run(
        [str(EXE), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
    )


@pytest.fixture
def grid_set(tmp_path: Path) -> Path:
    """Eight 100 m squares (C000..C007) and two wards shifted 30 m so four squares straddle."""
    child = grid_layer(4, 2)
    parent = dissolve_by(child, ["A", "A", "B", "B", "A", "A", "B", "B"])
    parent["geometry"] = parent.geometry.translate(30, 0)
    child.to_file(tmp_path / "child.geojson")
    parent.to_file(tmp_path / "parent.gpkg", layer="wards", driver="GPKG")
    write_manifest(
        tmp_path / "set",
        """
name = "grid"
crs = "EPSG:27700"
[layers.small]
path = "../child.geojson"
code = "code"
name = "name"
[layers.ward]
path = "../parent.gpkg"
layer = "wards"
code = "code"
""",
    )
    # As published: a byte-order mark, a long header and thousands separators.
    table = "\ufeffArea code,Total population,Score\n" + "".join(
        f'C{i:03d},"1,{i}00",{10 * (i + 1)}\n' for i in range(8)
    )
    with gzip.open(tmp_path / "data.csv.gz", "wt", encoding="utf-8") as f:
        f.write(table)
    return tmp_path


ARGS = [
    "--data-code",
    "Area code",
    "--from",
    "small",
    "--to",
    "ward",
    "--extensive",
    "Total population",
    "--intensive",
    "Score",
    "--weight",
    "Total population",
]


def expected(grid_set: Path) -> pd.DataFrame:
    small = read_layer(grid_set / "child.geojson", "code")
    ward = read_layer(grid_set / "parent.gpkg", "code", layer="wards")
    data = pd.DataFrame(
        {"Total population": [1000.0 + 100 * i for i in range(8)], "Score": range(10, 90, 10)},
        index=[f"C{i:03d}" for i in range(8)],
    )
    with pytest.warns(Warning):  # the shifted wards leave 30 m strips uncovered
        return aggregate(
            data,
            small,
            ward,
            extensive=["Total population"],
            intensive=["Score"],
            weight="Total population",
        )


def test_csv_to_stdout(grid_set: Path) -> None:
    res = run("aggregate", grid_set / "set", "--data", grid_set / "data.csv.gz", *ARGS)
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(pd.io.common.StringIO(res.stdout), index_col="code")
    assert list(out.columns) == ["Total population", "Score", "coverage"]
    ref = expected(grid_set)
    pd.testing.assert_frame_equal(out, ref, check_names=False, check_dtype=False, rtol=1e-9)
    # The 30 m strips of C000 and C004 lie in no ward (more than 5%): warned on stderr.
    assert "localitygeo: warning:" in res.stderr and "C000" in res.stderr


@pytest.mark.parametrize("suffix", [".csv", ".gpkg", ".geojson", ".parquet"])
def test_output_formats(grid_set: Path, suffix: str) -> None:
    dest = grid_set / f"wards{suffix}"
    res = run("aggregate", grid_set / "set", "--data", grid_set / "data.csv.gz", *ARGS, "-o", dest)
    assert res.returncode == 0, res.stderr
    assert f"wrote {dest}" in res.stderr
    ref = expected(grid_set)
    if suffix == ".csv":
        out = pd.read_csv(dest, index_col="code")
    else:
        geo = gpd.read_parquet(dest) if suffix == ".parquet" else gpd.read_file(dest)
        if suffix == ".geojson":  # RFC 7946: longitude/latitude
            assert geo.crs.is_geographic and abs(geo.total_bounds[0] - -2.0) < 0.1
        else:
            assert geo.crs.to_epsg() == 27700
        assert geo.geometry.notna().all() and len(geo) == 2
        out = pd.DataFrame(geo.drop(columns=geo.geometry.name)).set_index("code")
        out = out[list(ref.columns)]
    pd.testing.assert_frame_equal(out, ref, check_names=False, check_dtype=False, rtol=1e-9)
    assert not [p for p in grid_set.iterdir() if p.name.startswith(".wards")]  # no temp files


def test_best_fit_method(grid_set: Path) -> None:
    res = run(
        "aggregate",
        grid_set / "set",
        "--data",
        grid_set / "data.csv.gz",
        *ARGS,
        "--method",
        "best-fit",
    )
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(pd.io.common.StringIO(res.stdout), index_col="code")
    # Ward A (x 30-230 m) best-fits squares 0, 1, 4, 5 and ward B squares 2, 3, 6, 7.
    assert out["Total population"].to_dict() == {"A": 5000.0, "B": 5800.0}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--extensive", "Nope"], "no column"),
        (["--to", "locality"], "no layer 'locality'"),
        (["--strict"], "strict=True"),
        (["-o", "out.xlsx"], "use .csv, .gpkg, .geojson or .parquet"),
    ],
)
def test_errors_exit_2(grid_set: Path, extra: list[str], message: str) -> None:
    res = run("aggregate", grid_set / "set", "--data", grid_set / "data.csv.gz", *ARGS, *extra)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_needs_a_column(grid_set: Path) -> None:
    res = run(
        "aggregate",
        grid_set / "set",
        "--data",
        grid_set / "data.csv.gz",
        "--data-code",
        "Area code",
        "--from",
        "small",
        "--to",
        "ward",
    )
    assert res.returncode == 2
    assert "at least one --extensive or --intensive" in res.stderr


def test_help_is_fast_and_lists_formats() -> None:
    res = run("aggregate", "--help")
    assert res.returncode == 0
    assert "--extensive" in res.stdout and ".parquet" in res.stdout
