"""Progress on stderr: a rich bar on a terminal, one line per stage otherwise.

On a terminal the current stage and a bar are shown while the command runs
and removed when it ends. When stderr is not a terminal (a pipe, a CI log)
nothing is printed for runs that end within :data:`QUIET_FOR` seconds; a
longer run prints one line per stage from then on (``localitygeo: 12.3 s:
best fit``) and a last line when it is done, so a log shows where a long
national job spends its time. ``LOCALITYGEO_PROGRESS=0`` turns progress off.
Stage names quote data (file names): they are printed as plain text, with
control characters escaped.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["LINE", "QUIET_FOR", "progress_callbacks"]

#: Seconds a run may take before a non-terminal stderr gets progress lines.
QUIET_FOR = 5.0

#: What a progress line on a non-terminal stderr looks like.
LINE = re.compile(r"^localitygeo: +\d+\.\d s: ")


def _off() -> bool:
    return os.environ.get("LOCALITYGEO_PROGRESS", "").strip().lower() in ("0", "false", "no", "off")


@contextmanager
def progress_callbacks() -> Iterator[tuple[Callable[[str], None], Callable[[int, int], None]]]:
    """Yield ``(step, fraction)`` callbacks that report progress on stderr.

    ``step(message)`` starts a stage; ``fraction(done, total)`` moves the bar
    (terminals only). See the module for what is shown where.
    """
    if _off():
        yield (lambda _msg: None), (lambda _done, _total: None)
    elif sys.stderr.isatty():
        with _bar() as callbacks:
            yield callbacks
    else:
        with _lines() as callbacks:
            yield callbacks


@contextmanager
def _bar() -> Iterator[tuple[Callable[[str], None], Callable[[int, int], None]]]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from localitygeo.io.terminal import clean

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def step(msg: str) -> None:
            bar.update(task, description=clean(msg), completed=0, total=None)

        def fraction(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step, fraction


@contextmanager
def _lines() -> Iterator[tuple[Callable[[str], None], Callable[[int, int], None]]]:
    from rich.console import Console
    from rich.text import Text

    from localitygeo.io.terminal import clean

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    start = time.monotonic()
    lock = threading.Lock()
    state: dict[str, object] = {"stage": None, "loud": False}

    def emit(msg: str) -> None:
        console.print(Text(f"localitygeo: {time.monotonic() - start:5.1f} s: {msg}"))

    def wake() -> None:
        with lock:
            state["loud"] = True
            if isinstance(state["stage"], str):
                emit(state["stage"])

    timer = threading.Timer(QUIET_FOR, wake)
    timer.daemon = True
    timer.start()

    def step(msg: str) -> None:
        with lock:
            state["stage"] = clean(msg)
            if state["loud"]:
                emit(str(state["stage"]))

    try:
        yield step, (lambda _done, _total: None)
    finally:
        timer.cancel()
    with lock:  # not after an error: its one line is the last word
        if state["loud"]:
            emit("done")
