"""Writing a changed boundary set: it reads back to the same set, whole or not at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localitygeo import apply, read_boundaries, read_proposal, validate, write_boundaries
from localitygeo.errors import OutputError

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"
PROPOSAL = CITY / "proposals" / "realign-to-wards.toml"


@pytest.fixture(scope="module")
def after():
    return apply(read_boundaries(CITY), read_proposal(PROPOSAL))


def test_written_set_reads_back_the_same(after, tmp_path):
    manifest = write_boundaries(after, tmp_path / "new")
    back = read_boundaries(manifest)
    assert back.built_from == after.built_from
    assert [r.id for r in back.nesting] == [r.id for r in after.nesting]
    for key, frame in after.layers.items():
        got = back[key].set_index("code").sort_index()
        want = frame.set_index("code").sort_index()
        assert list(got.index) == list(want.index), key
        assert (got["name"].fillna("") == want["name"].fillna("")).all(), key
        sym = got.geometry.symmetric_difference(want.geometry, align=True).area
        assert sym.max() < 1e-3, key
    assert validate(back).ok


def test_existing_folder_is_refused_then_replaced(after, tmp_path):
    dest = tmp_path / "set"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="output folder exists"):
        write_boundaries(after, dest)
    assert (dest / "keep.txt").read_text() == "mine"
    write_boundaries(after, dest, overwrite=True)
    assert not (dest / "keep.txt").exists() and (dest / "boundaries.gpkg").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["set"]  # no temporary folder left


def test_apply_command(tmp_path):
    exe = Path(sys.executable).with_name("localitygeo")
    out = tmp_path / "after"
    r = subprocess.run(
        [str(exe), "apply", str(CITY), "--proposal", str(PROPOSAL), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [str(exe), "validate", str(out)], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "name = 'x'\n[[operations]]\nop = 'rename'\nlayer = 'ward'\nunit = 'NOPE'\nname = 'y'\n"
    )
    r = subprocess.run(
        [str(exe), "apply", str(CITY), "--proposal", str(bad), "-o", str(tmp_path / "x")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 2 and "unknown ward unit(s) NOPE" in r.stderr
    assert not (tmp_path / "x").exists()
