"""Issue 11, item 6: Ctrl-C and SIGTERM stop any command at once, write nothing, leave nothing.

Real signals go to a real subprocess. The bound on how long the command takes
to stop (5 s) is a correctness bound with room for a loaded machine, not a
benchmark: before this was fixed a national run ignored Ctrl-C for minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from localitygeo.cli._progress import LINE
from localitygeo.io import atomic as _atomic

from .harness import EXE, listing, snapshot
from .set_fixtures import _city_master, _plymouth_lookup, city_set, plymouth_files, plymouth_set

__all__ = ["_city_master", "_plymouth_lookup", "city_set", "plymouth_set"]

STOP_WITHIN = 5.0
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}

NATIONAL = """\
name = "England"
crs = "EPSG:27700"
[layers.lsoa]
path = "{england}/lsoa_2011.parquet"
code = "LSOA11CD"
[layers.ward]
path = "{england}/wards_2013.parquet"
code = "WD13CD"
[[nesting]]
child = "lsoa"
parent = "ward"
"""


def interrupt(
    argv: list[str],
    sig: signal.Signals,
    *,
    inputs: Iterable[Path],
    watch: Iterable[Path],
    after: float | None = None,
    when: Path | Callable[[], bool] | None = None,
) -> None:
    """Start ``argv``, send ``sig`` after ``after`` seconds or once ``when`` holds.

    ``when`` is a folder (wait for a temporary output to appear in it) or a
    function returning True when the moment has come.

    Then assert the exit code, one line on stderr and no traceback, no new
    file in ``watch`` and every input unchanged.
    """
    inputs, watch = list(inputs), list(watch)
    before_hash, before_files = snapshot(inputs), listing(watch)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        if isinstance(when, Path):
            folder = when
            when = lambda: any("~lg" in p.name for p in listing([folder]))  # noqa: E731
        if when is not None:
            while not when():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no temporary output appeared"
                time.sleep(0.05)
        else:
            assert after is not None
            time.sleep(after)
        assert proc.poll() is None, f"finished before the signal: {proc.communicate()}"
        sent = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    where = f"{' '.join(argv)}\nstdout: {out}\nstderr: {err}"
    assert proc.returncode == EXIT[sig], where
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop\n{where}"
    assert "Traceback" not in err, where
    # a long run prints progress lines first (cli/_progress.py); then one line
    lines = [ln for ln in err.splitlines() if ln.strip() and not LINE.match(ln)]
    assert len(lines) == 1 and "nothing was written" in lines[0], where
    assert out == "", where
    assert listing(watch) == before_files, f"files left behind\n{where}"
    assert snapshot(inputs) == before_hash, f"an input changed\n{where}"


@pytest.fixture
def national(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "england"
    folder.mkdir()
    text = NATIONAL.format(england=(shared_data / "england").as_posix())
    (folder / "boundaries.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(("sig", "after"), [(signal.SIGINT, 6.0), (signal.SIGTERM, 3.0)])
def test_a_national_validate_stops_at_once(national, out_dir, sig, after):
    argv = [str(EXE), "validate", str(national), "-o", str(out_dir / "report.txt")]
    argv += ["--junit", str(out_dir / "report.xml")]
    interrupt(argv, sig, after=after, inputs=[national], watch=[national, out_dir])


def _slow_writer(patch: str, args: list[str]) -> list[str]:
    """Return argv running the command with ``patch`` applied (a writer that then hangs)."""
    script = (
        f"import sys, time\n{patch}\nfrom localitygeo.cli import main\nsys.exit(main({args!r}))\n"
    )
    return [sys.executable, "-c", script]


HANG_AFTER_WRITE_BYTES = """
from pathlib import Path
_write = Path.write_bytes
def write_bytes(self, data):
    n = _write(self, data)
    time.sleep(120)
    return n
Path.write_bytes = write_bytes
"""

HANG_AFTER_TO_FILE = """
import geopandas
_to_file = geopandas.GeoDataFrame.to_file
def to_file(self, *a, **k):
    _to_file(self, *a, **k)
    time.sleep(120)
geopandas.GeoDataFrame.to_file = to_file
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_write_removes_the_temporary(plymouth_set, plymouth, out_dir, sig):
    args = ["validate", str(plymouth_set), "--format", "json", "-o", str(out_dir / "r.json")]
    argv = _slow_writer(HANG_AFTER_WRITE_BYTES, args)
    inputs = [plymouth_set, *plymouth_files(plymouth)]
    interrupt(argv, sig, when=out_dir, inputs=inputs, watch=[plymouth_set, out_dir])


def test_a_signal_while_apply_writes_its_folder(city_set, out_dir):
    args = ["apply", str(city_set), "--proposal", str(city_set / "proposals/merge-and-move.toml")]
    argv = _slow_writer(HANG_AFTER_TO_FILE, [*args, "-o", str(out_dir / "changed")])
    interrupt(argv, signal.SIGINT, when=out_dir, inputs=[city_set], watch=[city_set, out_dir])


def test_a_signal_while_replacing_a_folder_keeps_the_old_one(city_set, out_dir):
    old = out_dir / "changed"
    old.mkdir()
    (old / "boundaries.toml").write_text("# the previous run's set\n", encoding="utf-8")
    args = ["apply", str(city_set), "--proposal", str(city_set / "proposals/merge-and-move.toml")]
    argv = _slow_writer(HANG_AFTER_TO_FILE, [*args, "-o", str(old), "--overwrite"])
    interrupt(argv, signal.SIGTERM, when=out_dir, inputs=[city_set, old], watch=[out_dir])


def test_abort_removes_live_temporaries_and_refuses_to_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "_LIVE", {})
    monkeypatch.setattr(_atomic, "_aborted", False)
    dest = tmp_path / "out.gpkg"
    with pytest.raises(_atomic.OutputError, match="interrupted"):
        with _atomic.atomic_path(dest) as tmp:
            tmp.write_text("partial", encoding="utf-8")
            Path(f"{tmp}-journal").write_text("journal", encoding="utf-8")
            _atomic.abort()
            assert list(tmp_path.iterdir()) == []
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(_atomic.OutputError, match="interrupted"):
        _atomic.write_text_atomic(tmp_path / "later.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_name_carries_the_pid(tmp_path):
    with _atomic.atomic_path(tmp_path / "out.csv") as tmp:
        assert tmp.name.startswith(f".out.csv~lg{os.getpid()}-")
        assert tmp.suffix == ".csv"
        tmp.write_text("a,b\n", encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


HANG_AT_SECOND_TO_FILE = """
import geopandas
_to_file = geopandas.GeoDataFrame.to_file
_calls = []
def to_file(self, *a, **k):
    _to_file(self, *a, **k)
    _calls.append(1)
    if len(_calls) == 2:
        open(sys.argv[1], "w").close()  # the moment to interrupt
        time.sleep(120)
geopandas.GeoDataFrame.to_file = to_file
"""


def test_a_signal_while_example_writes_changes_none_of_its_files(city_set, tmp_path):
    # Another seed changes every file; interrupted after two layers, none may change.
    ready = tmp_path / "ready"
    argv = _slow_writer(HANG_AT_SECOND_TO_FILE, ["example", str(city_set), "--seed", "7"])
    interrupt(
        [*argv, str(ready)], signal.SIGINT, when=ready.exists, inputs=[city_set], watch=[city_set]
    )
