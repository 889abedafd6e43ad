"""Stop promptly on Ctrl-C and SIGTERM, writing nothing.

Python runs signal handlers only in the main thread, between bytecodes: while
that thread is inside a long GEOS or numpy call a Ctrl-C waits for minutes.
So :func:`run_interruptible` runs the command in a worker thread and keeps
the main thread in a wait that a signal interrupts at once. The handler
removes every temporary output (:func:`localitygeo.io.atomic.abort`, which
also stops any later move into place), prints one line and ends the process
with 130 (SIGINT) or 143 (SIGTERM), the shell's ``128 + signal number``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

from localitygeo.io import atomic as _atomic

__all__ = ["SIGNALS", "run_interruptible"]

T = TypeVar("T")

#: Signals that stop a command, with the exit code each gives.
SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _stop(signum: int, _frame: FrameType | None) -> None:
    _atomic.abort()
    name = "interrupted" if signum == signal.SIGINT else "terminated"
    try:
        start = "\n" if sys.stderr.isatty() else ""  # leave the line holding ^C
        sys.stderr.write(f"{start}localitygeo: {name}; nothing was written\n")
        sys.stderr.flush()
    finally:
        os._exit(SIGNALS.get(signal.Signals(signum), 128 + signum))


def run_interruptible(work: Callable[[], T]) -> T:
    """Run ``work()`` so that SIGINT and SIGTERM stop it at once, and return its result.

    Outside the main thread (where no signal handler can be installed) the
    work simply runs. Exceptions raised by ``work`` are raised here.
    """
    if threading.current_thread() is not threading.main_thread():
        return work()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the main thread below
            outcome["error"] = exc

    previous = {s: signal.signal(s, _stop) for s in SIGNALS}
    try:
        worker = threading.Thread(target=target, name="localitygeo-command", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.25)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
