"""A process that has imported the command line once and forks one child per case.

Each hostile case must run as its own process (its exit code, its stderr,
its own file descriptors, an ``os._exit`` that ends only it), but starting
Python and importing geopandas, pandas, pyproj and pyogrio costs one to ten
seconds on a loaded two-core CI machine, and the corpus has hundreds of
cases. This server imports them once; for each request it forks a child that
does what the ``localitygeo`` console script does (``sys.exit(main())``) in
the requested folder, environment and standard streams.

Protocol: one JSON object per line on stdin (``argv``, ``cwd``, ``env``,
``stdout``, ``stderr``: paths of files for the child's streams,
``timeout``), answered by one JSON line on stdout (``returncode``, or
``timeout: true``). The server ends at end of input.

Run with ``python tests/hostile/zygote.py``; used by :mod:`tests.hostile.harness`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback


def _preload() -> None:
    import geopandas  # noqa: F401
    import pandas  # noqa: F401
    import pyogrio  # noqa: F401
    import pyproj  # noqa: F401
    import shapely  # noqa: F401

    import localitygeo  # noqa: F401
    from localitygeo import cli

    for target in cli._COMMANDS.values():  # every sub-command's module
        __import__(target.split(":")[0])


def _child(req: dict[str, object]) -> None:
    """Become the command: streams, folder, environment, then the console script's call."""
    code = 1
    try:
        fd_in = os.open(os.devnull, os.O_RDONLY)
        fd_out = os.open(str(req["stdout"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fd_err = os.open(str(req["stderr"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for fd, target in ((fd_in, 0), (fd_out, 1), (fd_err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        # Fresh streams as a new interpreter has them (stderr backslash-escapes).
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(
            2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1
        )
        os.chdir(str(req["cwd"]))
        env = req["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        argv = req["argv"]
        assert isinstance(argv, list)
        sys.argv = ["localitygeo", *argv]
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from localitygeo.cli import main

        try:
            rv = main()
            code = rv if isinstance(rv, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # as the interpreter does for an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, timeout: float) -> dict[str, object]:
    end = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {"returncode": os.waitstatus_to_exitcode(status)}
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"timeout": True}
        time.sleep(0.005)


def serve() -> None:
    """Answer requests on stdin until it closes."""
    _preload()
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req)
        out.write(json.dumps(_wait(pid, float(req["timeout"]))) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
