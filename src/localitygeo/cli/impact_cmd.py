"""``localitygeo impact``: what a boundary-change proposal does, as a report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from localitygeo.cli._options import attribution_option, proposal_option

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet

_FORMATS = ("html", "md", "json", "pdf")


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@proposal_option
@click.option(
    "--layer",
    "layers",
    multiple=True,
    help="Layer to report on (repeatable; default: every layer built from blocks).",
)
@click.option(
    "--population",
    default="population",
    show_default=True,
    help="Column of the finest blocks counted as population (or electorate).",
)
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    help="Column of the finest blocks to average per unit and decompose (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    default=None,
    help="Format of the one -o (default: from its suffix; HTML otherwise). pdf prints the "
    "HTML report on A4 with headless Chromium (Debian's chromium).",
)
@click.option(
    "--formats",
    default=None,
    metavar="LIST",
    help="Comma-separated formats (e.g. html,md,json,pdf) to write beside one -o, each with "
    "its suffix: -o out/report --formats html,pdf writes out/report.html and out/report.pdf.",
)
@click.option(
    "--map/--no-map",
    "with_map",
    default=True,
    show_default=True,
    help="Embed the before/after map in the HTML (and PDF) report "
    "(needs the map assets for offline use).",
)
@attribution_option
@click.option(
    "-o",
    "--output",
    "outputs",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    required=True,
    help="Report file to write (repeatable: one computation, every file; format from each "
    "suffix .html, .md, .json, .pdf). Written atomically, all or none.",
)
def impact(
    path: Path,
    proposal_path: Path,
    layers: tuple[str, ...],
    population: str,
    indicators: tuple[str, ...],
    fmt: str | None,
    formats: str | None,
    with_map: bool,
    attribution: str,
    outputs: tuple[Path, ...],
) -> int:
    """Report what the proposal does to the boundary set at PATH.

    The report starts with a plain-language summary (what moves, how many
    people, which units change most, a warning when population balance gets
    worse), then per layer the population balance, compactness, parents per
    unit, indicators and the between-unit share of inequality, before and
    after, and the blocks that move. Several -o (or --formats) write several
    formats from one computation.
    """
    from localitygeo.io.outputs import check_outputs

    targets = _targets(outputs, fmt, formats)
    named: dict[str, Path] = {}
    for out, _ in targets:
        key = "-o" if len(targets) == 1 else f"-o {out}"
        named[key + (" (again)" if key in named else "")] = out
    check_outputs(named, files={"--proposal": proposal_path}, sets=[path])
    if any(f == "pdf" for _, f in targets):
        from localitygeo.io.pdf import find_chromium, missing_error

        if find_chromium() is None:  # say so before minutes of work
            raise missing_error(next(p for p, f in targets if f == "pdf"))

    from localitygeo.changes.assessment import impact as measure
    from localitygeo.changes.operations import apply
    from localitygeo.changes.proposal import read_proposal
    from localitygeo.changes.report import write_impacts
    from localitygeo.cli._echo import say
    from localitygeo.io.manifest import read_boundaries

    proposal = read_proposal(proposal_path)
    before = read_boundaries(path)
    after = apply(before, proposal)
    im = measure(
        before,
        after,
        proposal,
        layers=list(layers) or None,
        population=population,
        indicators=list(indicators),
    )
    map_html = (
        _change_map_html(before, after, im.layers[0], attribution)
        if with_map and any(f in ("html", "pdf") for _, f in targets)
        else None
    )
    written = write_impacts(
        im,
        targets,
        set_name=before.name,
        map_html=map_html,
        attribution=attribution,
    )
    for line in im.summary[:3]:
        say(line)
    for out in written:
        say(f"wrote {out} ({out.stat().st_size / 1024:,.0f} KiB)")
    return 0


def _targets(
    outputs: tuple[Path, ...], fmt: str | None, formats: str | None
) -> list[tuple[Path, str]]:
    """Return each file to write with its format, from -o, --format and --formats."""
    from localitygeo.changes.report import FORMATS, format_of

    if formats is not None:
        chosen = [f.strip().lower() for f in formats.split(",") if f.strip()]
        bad = [f for f in chosen if f not in _FORMATS]
        if bad or not chosen:
            raise click.BadParameter(
                f"unknown format(s) {', '.join(bad) or '(none)'}; formats are: "
                f"{', '.join(_FORMATS)}",
                param_hint="--formats",
            )
        if fmt is not None or len(outputs) != 1:
            raise click.UsageError(
                "--formats names the formats written beside one -o; give one -o and no --format"
            )
        base = outputs[0]
        base = base.with_suffix("") if base.suffix.lower() in FORMATS.values() else base
        return [(base.with_name(base.name + FORMATS[f]), f) for f in dict.fromkeys(chosen)]
    if fmt is not None and len(outputs) > 1:
        raise click.UsageError(
            "--format is the format of one -o; with several -o each format comes from its "
            "suffix (.html, .md, .json, .pdf)"
        )
    return [(out, fmt or format_of(out)) for out in outputs]


def _change_map_html(before: BoundarySet, after: BoundarySet, layer: str, attribution: str) -> str:
    """Return the before/after map of ``layer`` as one HTML page with Leaflet embedded."""
    from localitygeo.changes.differences import diff
    from localitygeo.maps import render_html
    from localitygeo.maps.change import change_map

    m = change_map(
        before,
        after,
        diff(before, after, layer),
        attribution=attribution,
    )
    return render_html(m, inline=True)
