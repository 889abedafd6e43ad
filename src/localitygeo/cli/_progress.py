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
    logs stay clean.
    """
    if not sys.stderr.isatty():
        yield (lambda _msg: None), (lambda _done, _total: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def step(msg: str) -> None:
            bar.update(task, description=msg, completed=0, total=None)

        def fraction(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step, fraction
