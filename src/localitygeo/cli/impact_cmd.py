"""``localitygeo impact``: what a boundary-change proposal does, as a report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from localitygeo.cli._options import attribution_option, proposal_option

if TYPE_CHECKING:
    from localitygeo.boundaries import BoundarySet


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
    type=click.Choice(["html", "md", "json"]),
    default=None,
    help="Report format (default: from the output's suffix; HTML otherwise).",
)
@click.option(
    "--map/--no-map",
    "with_map",
    default=True,
    show_default=True,
    help="Embed the before/after map in the HTML report (needs the map assets for offline use).",
)
@attribution_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Report file to write (atomically; nothing is written on failure).",
)
def impact(
    path: Path,
    proposal_path: Path,
    layers: tuple[str, ...],
    population: str,
    indicators: tuple[str, ...],
    fmt: str | None,
    with_map: bool,
    attribution: str,
    output: Path,
) -> int:
    """Report what the proposal does to the boundary set at PATH.

    The report starts with a plain-language summary (what moves, how many
    people, which units change most), then per layer the population
    balance, compactness, parents per unit, indicators and the between-unit
    share of inequality, before and after, and the blocks that move.
    """
    from localitygeo._outputs import check_outputs

    check_outputs({"-o": output}, files={"--proposal": proposal_path}, sets=[path])

    from localitygeo.boundaries import read_boundaries
    from localitygeo.change import apply
    from localitygeo.cli._echo import say
    from localitygeo.impact import impact as measure
    from localitygeo.impact_report import write_impact
    from localitygeo.proposal import read_proposal

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
    fmt = fmt or {".md": "md", ".json": "json"}.get(output.suffix.lower(), "html")
    map_html = (
        _change_map_html(before, after, im.layers[0], attribution)
        if with_map and fmt == "html"
        else None
    )
    size = write_impact(
        im,
        output,
        fmt,  # type: ignore[arg-type]
        set_name=before.name,
        map_html=map_html,
        attribution=attribution,
    )
    for line in im.summary[:3]:
        say(line)
    say(f"wrote {output} ({size / 1024:,.0f} KiB)")
    return 0


def _change_map_html(before: BoundarySet, after: BoundarySet, layer: str, attribution: str) -> str:
    """Return the before/after map of ``layer`` as one HTML page with Leaflet embedded."""
    from localitygeo.maps import render_html
    from localitygeo.maps.change import change_map, fixed_parent
    from localitygeo.realign import diff

    m = change_map(
        before,
        after,
        diff(before, after, layer),
        parents=fixed_parent(before, layer),
        attribution=attribution,
    )
    return render_html(m, inline=True)
