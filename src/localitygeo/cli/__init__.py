"""The ``localitygeo`` command line: a thin layer over the public API.

Sub-commands live in their own modules and are imported only when run, so
``localitygeo --help`` starts quickly (no geopandas import). Any
:class:`~localitygeo.errors.LocalityGeoError` becomes one line on stderr and
exit code 2.

Exit codes
----------
0
    Success (for ``validate``: no errors found).
1
    ``validate`` found errors.
2
    The command could not run: bad arguments, a missing or malformed file, a
    missing column, an output path that is one of the inputs.
130, 143
    Interrupted by Ctrl-C (SIGINT) or stopped by SIGTERM; nothing was written.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from typing import Any, NoReturn

import click

__all__ = ["main", "reference_markdown", "run"]

_STARTED = time.perf_counter()  # the CLI's first import: before it, only Python's start-up

# Command name -> "module:function". Add one line per sub-command.
_COMMANDS: dict[str, str] = {
    "validate": "localitygeo.cli.validate_cmd:validate",
    "aggregate": "localitygeo.cli.aggregate_cmd:aggregate",
    "lookup": "localitygeo.cli.lookup_cmd:lookup",
    "example": "localitygeo.cli.example_cmd:example",
    "init": "localitygeo.cli.init_cmd:init",
    "map": "localitygeo.cli.map_cmd:map_command",
    "impact": "localitygeo.cli.impact_cmd:impact",
    "apply": "localitygeo.cli.apply_cmd:apply_command",
    "realign": "localitygeo.cli.realign_cmd:realign",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="localitygeo")
@click.option(
    "--profile",
    is_flag=True,
    help="Print a table of the run's steps (wall time, CPU time, peak memory) on stderr at "
    "the end. LOCALITYGEO_PROFILE=1 does the same.",
)
@click.pass_context
def commands(ctx: click.Context, profile: bool) -> None:
    """Local-government geography: validate, change, aggregate and map boundaries.

    Exit codes: 0 success, 1 validation found errors, 2 could not run. Long runs print
    one line per stage on stderr (LOCALITYGEO_PROGRESS=0 turns that off).
    """
    from localitygeo.profiling import Profile, enabled_by_env

    if profile or enabled_by_env():
        prof = Profile(started=_STARTED).__enter__()

        def show() -> None:
            prof.__exit__()
            click.echo(prof.table("total (since the CLI started)"), err=True)

        ctx.call_on_close(show)


def main(argv: list[str] | None = None) -> Any:
    """Run the command line; return its exit code (used by the console script).

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.
    """
    from localitygeo.cli._echo import warnings_as_lines
    from localitygeo.cli._signals import run_interruptible
    from localitygeo.errors import LocalityGeoError
    from localitygeo.io.terminal import clean

    try:
        with warnings_as_lines():
            rv = run_interruptible(
                lambda: commands.main(args=argv, prog_name="localitygeo", standalone_mode=False)
            )
    except LocalityGeoError as exc:
        click.echo(f"localitygeo: error: {clean(exc)}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("localitygeo: aborted", err=True)
        return 2
    except click.UsageError as exc:
        click.echo(f"localitygeo: error: {_usage_line(exc)}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"localitygeo: error: {clean(exc.format_message())}", err=True)
        return 2 if exc.exit_code == 1 else exc.exit_code
    except UnicodeError as exc:  # text that is not UTF-8 reaching stdout or a writer
        from localitygeo.io.atomic import not_unicode

        click.echo(f"localitygeo: error: {not_unicode(exc)}", err=True)
        return 2
    except KeyboardInterrupt:  # before the handlers are in place (start-up)
        click.echo("localitygeo: interrupted; nothing was written", err=True)
        return 130
    except OSError as exc:
        click.echo(
            f"localitygeo: error: {clean(exc.filename or '')}: {exc.strerror or exc}", err=True
        )
        return 2
    return rv if isinstance(rv, int) else 0


def run() -> NoReturn:
    """Run the command line as the ``localitygeo`` program, and end the process.

    What the console script and ``python -m localitygeo`` call. Once
    :func:`main` has returned (every output written and closed), the
    process ends at once, without tearing the interpreter down: freeing a
    national layer's geometries one by one took about 0.12 s after the
    work was done, which the user would wait for and gain nothing from.
    Standard output and error are flushed first.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code if isinstance(code, int) else 0)


def _usage_line(exc: click.UsageError) -> str:
    """One line for a usage error: the message and where help is."""
    from localitygeo.io.terminal import clean

    message = clean(" ".join(exc.format_message().split()))
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else "localitygeo"
    return f"{message} (see '{where} --help')"


def reference_markdown() -> str:
    """Return Markdown documenting every command, generated from the CLI itself.

    Used by the documentation build so the CLI reference cannot drift from the
    code.

    Returns
    -------
    str
        One section per command with its usage and full help text.
    """
    ctx = click.Context(commands, info_name="localitygeo")
    parts = ["## localitygeo", "", "```text", commands.get_help(ctx), "```", ""]
    for name in commands.list_commands(ctx):
        cmd = commands.get_command(ctx, name)
        if cmd is None:  # pragma: no cover - list and get come from one table
            continue
        sub = click.Context(cmd, info_name=name, parent=ctx)
        parts += [f"## localitygeo {name}", "", "```text", cmd.get_help(sub), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    run()
