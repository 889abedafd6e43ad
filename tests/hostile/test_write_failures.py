"""Issue 11, items 2 and 4: outputs that cannot be written fail in one line and leave nothing.

A full disk is simulated without root: the command runs with RLIMIT_FSIZE
set low (Python ignores SIGXFSZ, so a write past the limit fails with EFBIG,
as a full disk fails with ENOSPC).
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import localitygeo as lg
from localitygeo.errors import OutputError
from localitygeo.io import atomic as _atomic

from .harness import listing, run_cli
from .set_fixtures import _city_master, city_set

__all__ = ["_city_master", "city_set"]

PROPOSAL = "proposals/merge-and-move.toml"


def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, resource.RLIM_INFINITY))


def _commands(city: Path, out: Path) -> dict[str, tuple[object, ...]]:
    data = city / "population.csv"
    if not data.exists():
        small = lg.read_layer(city / "small_areas.geojson", "code")
        small[["code", "population"]].to_csv(data, index=False)
    return {
        "validate-json": ("validate", city, "--format", "json", "-o", out / "report.json"),
        "validate-junit": ("validate", city, "--junit", out / "report.xml"),
        "lookup-csv": (
            "lookup", city / "small_areas.geojson", city / "wards.geojson",
            "--child-code", "code", "--parent-code", "code", "-o", out / "lookup.csv",
        ),
        "aggregate-gpkg": (
            "aggregate", city, "--data", data, "--data-code", "code", "--from", "small_area",
            "--to", "ward", "--extensive", "population", "-o", out / "wards.gpkg",
        ),
        "map-html": ("map", city, "-o", out / "map.html"),
        "realign-toml": (
            "realign", city, "--layer", "neighbourhood", "--to", "ward", "-o", out / "p.toml",
        ),
        "apply-folder": ("apply", city, "--proposal", city / PROPOSAL, "-o", out / "set"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    ["validate-json", "validate-junit", "lookup-csv", "aggregate-gpkg", "map-html", "apply-folder"],
)
def test_a_full_disk_is_one_line_naming_the_output(city_set, out_dir, case):
    args = _commands(city_set, out_dir)[case]
    target = Path(str(args[-1]))
    res = run_cli(*args, inputs=[city_set], watch=[out_dir, city_set], preexec_fn=_small_files)
    assert str(target) in res.message and "cannot write" in res.message
    assert not os.path.lexists(target)


@pytest.mark.parametrize("case", ["validate-json", "map-html", "realign-toml", "apply-folder"])
def test_an_unwritable_place_is_one_line_naming_it(city_set, tmp_path, case):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    missing = tmp_path / "missing" / "deeper"  # apply creates a folder's parents
    for where in (blocker,) if case == "apply-folder" else (missing, blocker):
        args = _commands(city_set, where)[case]
        res = run_cli(*args, inputs=[city_set, blocker])
        assert str(args[-1]) in res.message


def test_a_failed_write_names_the_output_not_the_temporary(tmp_path, monkeypatch):
    def full(self: Path, data: bytes) -> int:
        self.write_text("half")  # something was written before the disk filled
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    dest = tmp_path / "report.txt"
    with pytest.raises(OutputError) as info:
        _atomic.write_text_atomic(dest, "x")
    assert str(info.value) == f"{dest}: cannot write: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_folder_keeps_the_old_one(tmp_path):
    dest = tmp_path / "set"
    dest.mkdir()
    (dest / "old.txt").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), _atomic.atomic_folder(dest, replace=True) as tmp:
        (tmp / "new.txt").write_text("new", encoding="utf-8")
        raise RuntimeError("the writer failed")
    assert [p.name for p in tmp_path.iterdir()] == ["set"]
    assert [p.name for p in dest.iterdir()] == ["old.txt"]
    with _atomic.atomic_folder(dest, replace=True) as tmp:
        (tmp / "new.txt").write_text("new", encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["set"]
    assert [p.name for p in dest.iterdir()] == ["new.txt"]


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_leftovers_of_a_killed_run_are_removed_by_the_next(city_set, out_dir):
    dead = _dead_pid()
    stale = out_dir / f".report.xml~lg{dead}-abcd_123.xml"
    stale.write_text("half a report", encoding="utf-8")
    journal = out_dir / f".set~lg{dead}-abcd_124"
    journal.mkdir()
    (journal / "boundaries.gpkg").write_text("half", encoding="utf-8")
    live = out_dir / f".report.xml~lg{os.getppid()}-abcd_125.xml"  # a running process
    live.write_text("in progress", encoding="utf-8")
    out = out_dir / "report.xml"
    run_cli("validate", city_set, "--junit", out, inputs=[city_set], outputs=[out, live], expect=1)
    assert not stale.exists() and not journal.exists()
    assert live.exists()


def test_an_old_folder_whose_replacement_never_arrived_is_put_back(tmp_path):
    old = tmp_path / f".set~lg{_dead_pid()}-old-abcd_123"
    old.mkdir()
    (old / "boundaries.toml").write_text("kept", encoding="utf-8")
    _atomic.sweep(tmp_path)
    assert listing([tmp_path]) == {tmp_path / "set", tmp_path / "set" / "boundaries.toml"}
