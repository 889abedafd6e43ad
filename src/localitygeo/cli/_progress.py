"""Progress display on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_callbacks"]


@contextmanager
def progress_callbacks() -> Iterator[tuple[Callable[[str], None], Callable[[int, int], None]]]:
    """Yield ``(step, fraction)`` callbacks that drive a rich progress bar.

    When stderr is not a terminal both callbacks do nothing, so pipes and CI
    logs stay clean. Step messages are shown as plain text (no rich markup)
    with control characters from data escaped.
    """
    if not sys.stderr.isatty():
        yield (lambda _msg: None), (lambda _done, _total: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from localitygeo._terminal import clean

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
