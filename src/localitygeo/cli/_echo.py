"""What the command line prints for people, with data made terminal-safe."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TextIO

import click

from localitygeo.io.terminal import clean

__all__ = ["say", "warnings_as_lines"]


def say(message: object, *, err: bool = False) -> None:
    """Print one line, with control characters from data shown as escapes.

    Parameters
    ----------
    message : object
        The line (converted with :class:`str`); newlines in it are escaped so
        it stays one line.
    err : bool, default False
        Print to standard error instead of standard output.
    """
    click.echo(clean(message), err=err)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    from localitygeo.errors import LocalityGeoWarning

    kind = "" if issubclass(category, LocalityGeoWarning) else f"{category.__name__}: "
    say(f"localitygeo: warning: {kind}{message}", err=True)


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show every warning as one clean line on stderr (not Python's two-line form).

    A warning's text often quotes data (codes, file names); Python would print
    it raw, with the source line that raised it.
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield
