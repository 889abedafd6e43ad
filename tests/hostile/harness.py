"""Shared harness for the hostile-input corpus.

Every case runs the ``localitygeo`` command in a process of its own, as a
user (or an attacker's file) would: a child forked from a server that has
done the command's imports once (:mod:`tests.hostile.zygote`; it calls what
the console script calls), or the installed console script itself when a case
sets a resource limit or ``LOCALITYGEO_TEST_SUBPROCESS=1`` is set. The signal
cases always use the console script. :func:`run_cli` asserts what every case
must hold whatever it tests:

- the exit code is the one expected (2 means "could not run");
- on exit 2, stderr is exactly one line naming what failed, and no traceback;
- every input file is byte-for-byte unchanged (hashed before and after);
- no file appears that the case did not expect (no temporary file left over).

Payloads are built here, by code, from the example city and the shared real
data; nothing is copied into the repository.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from localitygeo.cli._progress import LINE

REPO = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).parent / "localitygeo"

#: Text that must never be evaluated, executed or written raw. The marker
#: ``PWNED`` appears in each, so a test can look for it in outputs.
TEMPLATE = "SSTI{{ 7*7 }}END"
TEMPLATE_BLOCK = "PWNED{% if 1 %}yes{% endif %}"
TEMPLATE_BROKEN = "PWNED{% if"
XSS_SCRIPT = "<script>window.__pwned=1</script>PWNED"
XSS_IMG = '<img src=x onerror="window.__pwned=1">PWNED'
MARKDOWN = "[PWNED](javascript:window.__pwned=1) **bold** | pipe `tick`"
FORMULAS = ("=1+1", "+1+1", "-1+1", "@SUM(1)", "\tTAB", "\rCR")
ANSI = "\x1b[31mRED\x1b[0m\x07PWNED"
QUOTES = "a \"quoted\" 'name' \\ back\\slash"


def file_payload(marker: Path) -> str:
    """Return a Jinja payload that creates ``marker`` if it is ever rendered as a template."""
    return f"PWNED{{{{ self.__init__.__globals__.__builtins__.open('{marker}', 'w').write('x') }}}}"


def hostile_texts(marker: Path) -> dict[str, str]:
    """Return every hostile text by a short id (for ``pytest.mark.parametrize``)."""
    return {
        "template": TEMPLATE,
        "template-block": TEMPLATE_BLOCK,
        "template-broken": TEMPLATE_BROKEN,
        "template-file": file_payload(marker),
        "xss-script": XSS_SCRIPT,
        "xss-img": XSS_IMG,
        "markdown": MARKDOWN,
        "ansi": ANSI,
        "quotes": QUOTES,
    }


def snapshot(paths: Iterable[Path]) -> dict[Path, str]:
    """Return a SHA-256 per file under ``paths`` (files, or folders walked recursively)."""
    out: dict[Path, str] = {}
    for p in paths:
        p = Path(p)
        files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
        for f in files:
            out[f] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def listing(folders: Iterable[Path]) -> set[Path]:
    """Return every file and folder under ``folders`` (hidden ones included)."""
    out: set[Path] = set()
    for d in folders:
        d = Path(d)
        if d.exists():
            out |= set(d.rglob("*"))
    return out


@dataclass
class Result:
    """What one run of the command did."""

    code: int
    stdout: str
    stderr: str
    new_files: set[Path]

    @property
    def message(self) -> str:
        """Return stderr's last line (the error line on exit 2)."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


#: The environment every case runs in (wide lines, so messages do not wrap).
_BASE_ENV = {**os.environ, "COLUMNS": "200"}


class _ForkServer:
    """The running :mod:`tests.hostile.zygote`: one child process per case, imports done once."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="localitygeo-zygote-"))
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("zygote.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_BASE_ENV,
            cwd=self.tmp,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if not ready:
            pytest.fail("the hostile-corpus fork server did not start (see stderr)")
        atexit.register(self.close)

    def run(
        self, argv: list[str], *, cwd: Path | None, env: Mapping[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out, err = self.tmp / "stdout", self.tmp / "stderr"
        req = {
            "argv": argv,
            "cwd": str(cwd or Path.cwd()),
            "env": dict(env),
            "stdout": str(out),
            "stderr": str(err),
            "timeout": timeout,
        }
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if answer.get("timeout"):
            raise subprocess.TimeoutExpired(["localitygeo", *argv], timeout)
        read = {"encoding": "utf-8", "errors": "replace"}
        return subprocess.CompletedProcess(
            ["localitygeo", *argv],
            answer["returncode"],
            out.read_text(**read),
            err.read_text(**read),
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)


_SERVER: list[_ForkServer] = []


def _fork_server() -> _ForkServer:
    if not _SERVER or _SERVER[0].proc.poll() is not None:
        _SERVER[:] = [_ForkServer()]
    return _SERVER[0]


def run_cli(
    *args: str | Path,
    inputs: Iterable[Path] = (),
    watch: Iterable[Path] = (),
    expect: int | None = 2,
    names: Iterable[str] = (),
    outputs: Iterable[Path] = (),
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    preexec_fn: Callable[[], object] | None = None,
) -> Result:
    """Run ``localitygeo *args`` and assert what every hostile case must hold.

    Parameters
    ----------
    *args
        Command-line arguments.
    inputs
        Files or folders that must be unchanged afterwards.
    watch
        Folders in which no file may appear except ``outputs`` (default: the
        folders of ``inputs`` and ``outputs``).
    expect
        The exit code expected; ``None`` accepts any.
    names
        Strings the one-line error must contain (such as the input's file name).
    outputs
        Files the command may create.
    cwd, env, timeout, preexec_fn
        Passed to :func:`subprocess.run` (``env`` is added to the environment;
        ``preexec_fn`` runs in the child before the command, e.g. to set a
        resource limit).
    """
    if not EXE.exists():
        pytest.fail(f"the console script is not installed at {EXE}; run `make setup-test`")
    inputs = [Path(p) for p in inputs]
    outputs = {Path(p).resolve() for p in outputs}
    watched = [Path(p) for p in watch] or sorted(
        {(p if p.is_dir() else p.parent) for p in inputs} | {p.parent for p in outputs}
    )
    before_hash = snapshot(inputs)
    before_files = listing(watched)
    argv = [str(a) for a in args]
    full_env = {**_BASE_ENV, **(env or {})}
    if preexec_fn is None and not os.environ.get("LOCALITYGEO_TEST_SUBPROCESS"):
        proc = _fork_server().run(argv, cwd=cwd, env=full_env, timeout=timeout)
    else:
        proc = subprocess.run(
            [str(EXE), *argv],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
            env=full_env,
            preexec_fn=preexec_fn,
        )
    new = {p for p in listing(watched) - before_files if p.resolve() not in outputs}
    result = Result(proc.returncode, proc.stdout, proc.stderr, new)
    where = f"localitygeo {' '.join(map(str, args))}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert "Traceback" not in proc.stderr, where
    if expect is not None:
        assert proc.returncode == expect, where
    if proc.returncode == 2:
        # progress lines of a long run (cli/_progress.py) come before the error line
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        lines = [ln for ln in lines if not LINE.match(ln)]
        assert len(lines) == 1, f"expected one error line\n{where}"
        for n in names:
            assert n in lines[0], f"error line should name {n!r}\n{where}"
    assert snapshot(inputs) == before_hash, f"an input changed\n{where}"
    assert not new, f"unexpected files left behind: {sorted(map(str, new))}\n{where}"
    return result


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def has_control(text: str) -> bool:
    """Return whether ``text`` holds a terminal control character (newline and tab aside)."""
    return bool(_CONTROL.search(text))
