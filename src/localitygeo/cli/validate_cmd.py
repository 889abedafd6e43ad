"""``localitygeo validate``: check one or more boundary sets."""

from __future__ import annotations

from pathlib import Path

import click

_FORMATS = ["text", "json", "junit", "github"]
_MANIFEST = "boundaries.toml"


def resolve_sets(paths: tuple[Path, ...]) -> tuple[list[Path], list[Path]]:
    """Map the given paths to boundary-set manifests.

    A folder or a ``boundaries.toml`` names its set; any other file (a layer
    file changed in a commit, as pre-commit passes them) names the set of the
    nearest folder above it holding a manifest.

    Parameters
    ----------
    paths : tuple of pathlib.Path
        What the user (or pre-commit) passed.

    Returns
    -------
    tuple of (list of pathlib.Path, list of pathlib.Path)
        The distinct sets, in the order first named, and the files that belong
        to no set.
    """
    sets: list[Path] = []
    loose: list[Path] = []
    for p in paths:
        if p.is_dir():
            target = p / _MANIFEST if (p / _MANIFEST).exists() else p
        elif p.name == _MANIFEST or not p.exists():
            target = p  # read_boundaries reports a missing set precisely
        else:
            found = next(
                (d / _MANIFEST for d in p.resolve().parents if (d / _MANIFEST).exists()), None
            )
            if found is None:
                loose.append(p)
                continue
            target = found
        if target.exists():
            target = target.resolve()
        if target not in sets:
            sets.append(target)
    return sets, loose


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
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
    help="Write the report here (atomically) instead of standard output. One set only.",
)
@click.option(
    "--junit",
    "junit",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a JUnit XML report here (atomically). One set only.",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    help="Run only this rule (repeatable), e.g. --rule not-nested.",
)
def validate(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    junit: Path | None,
    rules: tuple[str, ...],
) -> int:
    """Validate the boundary sets at PATHS.

    Each PATH is a boundary-set folder, its boundaries.toml, or a file inside
    a set (as pre-commit passes changed files). Checks geometry validity,
    codes, gaps and overlaps within each layer, and the [[nesting]] rules
    between layers. Exit 0 when no errors are found, 1 when errors are found,
    2 when a set cannot be read.
    """
    from localitygeo.io.outputs import check_outputs

    sets, loose = resolve_sets(paths)
    if (output or junit) and len(sets) > 1:
        raise click.UsageError("-o and --junit take one boundary set at a time")
    if output or junit:
        check_outputs({"-o": output, "--junit": junit}, sets=sets)
    from localitygeo.cli._echo import say
    from localitygeo.cli._progress import progress_callbacks
    from localitygeo.io.atomic import write_text_atomic
    from localitygeo.io.manifest import read_boundaries
    from localitygeo.validation.checks import validate as run
    from localitygeo.validation.renderers import render

    for p in loose:
        say(f"note: {p} belongs to no boundary set; skipped", err=True)
    code = 0
    for target in sets:
        with progress_callbacks() as (step, fraction):
            step(f"reading {target}")
            bset = read_boundaries(target)
            report = run(bset, rules=list(rules) or None, progress=step, fit_progress=fraction)
        text = render(report, fmt)
        if junit is not None:
            write_text_atomic(junit, render(report, "junit"))
        if output is not None:
            write_text_atomic(output, text)
            say(f"wrote {output}", err=True)
        else:
            click.echo(text, nl=False)
        code = max(code, 0 if report.ok else 1)
    return code
