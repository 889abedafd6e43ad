"""The installed ``localitygeo`` command, run in a subprocess as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from .helpers import dissolve_by, grid_layer, write_manifest

EXE = Path(sys.executable).parent / "localitygeo"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    if not EXE.exists():
        pytest.fail(f"the console script is not installed at {EXE}; run `make setup-test`")
    return subprocess.run(
        [str(EXE), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "COLUMNS": "120"},
    )


@pytest.fixture
def grid_set(tmp_path: Path) -> Path:
    child = grid_layer(4, 2)
    parent = dissolve_by(child, ["A", "A", "B", "B", "A", "A", "B", "B"])
    parent["geometry"] = parent.geometry.translate(30, 0)  # C000/2/4/6 straddle
    child.to_file(tmp_path / "child.geojson")
    parent.to_file(tmp_path / "parent.gpkg", layer="wards", driver="GPKG")
    return write_manifest(
        tmp_path / "set",
        """
name = "grid"
crs = "EPSG:27700"
[layers.nbhd]
path = "../child.geojson"
code = "code"
name = "name"
[layers.ward]
path = "../parent.gpkg"
layer = "wards"
code = "code"
[[nesting]]
child = "nbhd"
parent = "ward"
tolerance = 0.01
""",
    )


def test_help_lists_commands_without_importing_the_geometry_stack():
    res = run("--help")
    assert res.returncode == 0
    for cmd in ("validate", "lookup"):
        assert cmd in res.stdout
    # --help stays fast because the CLI imports no geopandas or shapely until a
    # command runs; checked by what is imported, not by a clock (no timed tests).
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import localitygeo.cli"],
        capture_output=True,
        text=True,
    )
    assert "geopandas" not in probe.stderr and "shapely" not in probe.stderr


def test_validate_text_exit_1_on_errors(grid_set):
    res = run("validate", grid_set.parent)
    assert res.returncode == 1, res.stderr
    assert "not-nested" in res.stdout
    for code in ("C000", "C002", "C004", "C006"):
        assert f"nbhd {code} is not within one ward" in res.stdout
    assert "C001 " not in res.stdout
    assert "Traceback" not in res.stderr


def test_validate_json_to_file_atomically(grid_set, tmp_path):
    out = tmp_path / "report.json"
    res = run("validate", grid_set, "--format", "json", "-o", out)
    assert res.returncode == 1
    doc = json.loads(out.read_text())
    assert doc["ok"] is False
    assert doc["summary"]["errors"] == 4
    assert {i["codes"][0] for i in doc["issues"]} == {"C000", "C002", "C004", "C006"}
    assert not list(tmp_path.glob(".report.json*")), "temporary file left behind"


def test_validate_exit_0_when_clean(tmp_path):
    child = grid_layer(2, 2)
    child.to_file(tmp_path / "c.geojson")
    m = write_manifest(
        tmp_path / "s",
        '[layers.c]\npath = "../c.geojson"\ncode = "code"\n',
    )
    res = run("validate", m, "--format", "junit")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("<?xml")


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("[layers.c\n", "TOML syntax error"),
        ('[layers.c]\npath = "missing.geojson"\ncode = "code"\n', "file not found"),
        ('[layers.c]\npath = "../c.geojson"\ncode = "NOPE"\n', "no code column 'NOPE'"),
        (
            '[layers.c]\npath = "../c.geojson"\ncode = "code"\n[[nesting]]\nchild = "c"\n'
            'parent = "ward"\n',
            "parent 'ward' is not a layer",
        ),
        ('[layers.c]\npath = "../c.geojson"\ncode = "code"\ncolour = 1\n', "unknown key"),
        (
            '[layers.c]\npath = "../c.geojson"\ncode = "code"\n[[nesting]]\nchild = "c"\n'
            'parent = "c"\nby = "blocks"\n',
            "needs layer 'c' to be built from blocks",
        ),
        ('crs = "EPSG:4326"\n[layers.c]\npath = "../c.geojson"\ncode = "code"\n', "geographic"),
    ],
)
def test_validate_exit_2_one_line(tmp_path, manifest, expected):
    grid_layer(2, 1).to_file(tmp_path / "c.geojson")
    m = write_manifest(tmp_path / "s", manifest)
    res = run("validate", m)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert expected in lines[0]
    assert "boundaries.toml" in lines[0] or "geojson" in lines[0]


def test_validate_missing_folder(tmp_path):
    res = run("validate", tmp_path / "nowhere")
    assert res.returncode == 2
    assert "not found" in res.stderr and "Traceback" not in res.stderr


def test_validate_github_format(grid_set):
    res = run("validate", grid_set, "--format", "github")
    assert res.returncode == 1
    assert res.stdout.startswith("::error file=")


def test_lookup_csv(tmp_path):
    child = grid_layer(4, 1)
    x0, y0 = 400000.0, 200000.0
    parent = child.iloc[:0].copy()
    parent = parent._constructor(
        {"WD": ["A", "B"]},
        geometry=[
            shapely.box(x0, y0, x0 + 250, y0 + 100),
            shapely.box(x0 + 250, y0, x0 + 400, y0 + 100),
        ],
        crs=child.crs,
    )
    child.to_file(tmp_path / "c.geojson")
    parent.to_file(tmp_path / "p.geojson")
    out = tmp_path / "lookup.csv"
    res = run(
        "lookup",
        tmp_path / "c.geojson",
        tmp_path / "p.geojson",
        "--child-code",
        "code",
        "--parent-code",
        "WD",
        "-o",
        out,
    )
    assert res.returncode == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("child_code,parent_code,share,runner_up_code,runner_up_share")
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert rows["C002"][1:5] == ["A", "0.500000", "B", "0.500000"]
    assert rows["C003"][1:3] == ["B", "1.000000"]


def test_lookup_bad_column_exit_2(tmp_path):
    grid_layer(2, 1).to_file(tmp_path / "c.geojson")
    out = tmp_path / "lookup.csv"
    res = run(
        "lookup",
        tmp_path / "c.geojson",
        tmp_path / "c.geojson",
        "--child-code",
        "X",
        "--parent-code",
        "code",
        "-o",
        out,
    )
    assert res.returncode == 2
    assert "no code column 'X'" in res.stderr and "code, name" in res.stderr
    assert not out.exists(), "nothing is written on failure"


def test_the_program_ends_at_once_yet_says_everything(tmp_path):
    """``cli.run`` ends the process with ``os._exit``: stdout must be whole, codes kept."""
    example = Path(__file__).resolve().parents[1] / "boundaries" / "example-city"
    args = ["lookup", example / "small_areas.geojson", example / "wards.geojson"]
    args += ["--child-code", "code", "--parent-code", "code"]
    res = run(*args)
    assert res.returncode == 0, res.stderr
    assert run(*args, "-o", tmp_path / "out.csv").returncode == 0
    assert res.stdout == (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert res.stdout.count("\n") > 100  # the example's small areas, every line flushed
    for module in ([sys.executable, "-m", "localitygeo"], [str(EXE)]):
        bad = subprocess.run([*module, "lookup", "nope.geojson", "x"], capture_output=True)
        assert bad.returncode == 2 and bad.stderr.decode().startswith("localitygeo: error:")
