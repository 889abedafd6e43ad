"""Step timings of a run: what ``--profile`` (or ``LOCALITYGEO_PROFILE=1``) prints.

Library code marks its steps with :func:`stage`; nothing is recorded (and a
stage costs one global lookup) unless a :class:`Profile` is active, as the
command line makes one for ``--profile``. Stages nest: a step inside another
is shown indented under it. Each row gives the step's wall time, the CPU time
the whole process spent meanwhile (above the wall time when several threads
worked; for a step run in a worker thread, that thread's own, without the
threads it starts) and the process's peak memory when it ended.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["ENV", "Profile", "enabled_by_env", "stage"]

#: Environment variable that turns profiling on (``LOCALITYGEO_PROFILE=1``).
ENV = "LOCALITYGEO_PROFILE"

_ACTIVE: Profile | None = None


def enabled_by_env() -> bool:
    """Return whether :data:`ENV` asks for a profile (set, and not 0, false, no or off)."""
    value = os.environ.get(ENV, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _peak_mb() -> float:
    scale = 1.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


@dataclass
class Profile:
    """The steps of one run, in the order they started.

    Attributes
    ----------
    rows : list of tuple
        ``(depth, name, wall seconds, CPU seconds, peak MB)`` per finished step.
    started : float
        ``time.perf_counter()`` when the profile began.
    cpu_started : float
        ``time.process_time()`` then.
    thread : threading.Thread
        The thread whose steps are recorded (the one that made the profile).
    """

    rows: list[tuple[int, str, float, float, float]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=time.process_time)
    thread: threading.Thread = field(default_factory=threading.current_thread)
    _depth: int = 0

    def __enter__(self) -> Profile:
        global _ACTIVE
        _ACTIVE = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        _ACTIVE = None

    def table(self, total_label: str = "total") -> str:
        """Return the steps as a plain-text table (one line per step, then the total)."""
        wall = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu_started
        width = max([len(total_label), *(2 * d + len(n) for d, n, *_ in self.rows)])
        lines = [f"{'step':{width}s}  {'wall s':>8s}  {'cpu s':>8s}  {'peak MB':>8s}"]
        for depth, name, w, c, mb in self.rows:
            label = "  " * depth + name
            lines.append(f"{label:{width}s}  {w:8.2f}  {c:8.2f}  {mb:8.0f}")
        lines.append(f"{total_label:{width}s}  {wall:8.2f}  {cpu:8.2f}  {_peak_mb():8.0f}")
        return "\n".join(lines)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Record the time the ``with`` block takes as step ``name`` of the active profile.

    Does nothing when no profile is active. A step run in a worker thread
    (as validate checks two layers at a time) is recorded when it ends,
    marked "(worker)", under the step its caller is in, with that thread's
    own CPU time; steps inside it are part of it.
    """
    prof = _ACTIVE
    if prof is None:
        yield
        return
    if threading.current_thread() is not prof.thread:
        with _worker_stage(prof, name):
            yield
        return
    row = len(prof.rows)
    prof.rows.append((prof._depth, name, 0.0, 0.0, 0.0))
    prof._depth += 1
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        prof._depth -= 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        prof.rows[row] = (prof._depth, name, wall, cpu, _peak_mb())


_WORKER = threading.local()


@contextmanager
def _worker_stage(prof: Profile, name: str) -> Iterator[None]:
    """Record a worker thread's outermost step when it ends (list.append is atomic)."""
    if getattr(_WORKER, "busy", False):
        yield
        return
    _WORKER.busy = True
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        _WORKER.busy = False
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        prof.rows.append((prof._depth, f"{name} (worker)", wall, cpu, _peak_mb()))
