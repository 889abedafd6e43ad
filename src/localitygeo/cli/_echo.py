"""What the command line prints for people, with data made terminal-safe."""

from __future__ import annotations

import click

from localitygeo._terminal import clean

__all__ = ["say"]


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
