"""``localitygeo validate``: check a boundary set."""

from __future__ import annotations

from pathlib import Path

import click

_FORMATS = ["text", "json", "junit", "github"]


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    default="text",
    show_default=True,
    help="Output format: text for people, json for programs, junit for CI test reports, "
    "github for GitHub Actions annotations.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here (atomically) instead of standard output.",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    help="Run only this rule (repeatable), e.g. --rule not-nested.",
)
def validate(path: Path, fmt: str, output: Path | None, rules: tuple[str, ...]) -> int:
    """Validate the boundary set at PATH (a folder or its boundaries.toml).

    Checks geometry validity, codes, gaps and overlaps within each layer, and
    the [[nesting]] rules between layers. Exit 0 when no errors are found, 1
    when errors are found, 2 when the set cannot be read.
    """
    from localitygeo._atomic import write_text_atomic
    from localitygeo.boundaries import read_boundaries
    from localitygeo.cli._progress import progress_callbacks
    from localitygeo.formats import render
    from localitygeo.validate import validate as run

    with progress_callbacks() as (step, fraction):
        step("reading boundary set")
        bset = read_boundaries(path)
        report = run(bset, list(rules) or None, progress=step, fit_progress=fraction)
    text = render(report, fmt)
    if output is not None:
        write_text_atomic(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    return 0 if report.ok else 1
