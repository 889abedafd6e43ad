"""``localitygeo realign``: write the proposal that makes a layer nest in another."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--layer", required=True, help="Layer to realign (built from blocks).")
@click.option("--to", "to", required=True, help="Layer every unit must lie in (e.g. ward).")
@click.option(
    "--blocks", default=None, help="Blocks layer (default: the one --layer is built from)."
)
@click.option(
    "--population",
    default="population",
    show_default=True,
    help="Column of the blocks whose moves are kept smallest (area when absent).",
)
@click.option(
    "--min-new",
    type=float,
    default=None,
    help="A cut-off piece becomes a new unit only with at least this many people "
    "(square metres without a population column); smaller pieces join a neighbour. "
    "Default: half the mean unit's.",
)
@click.option(
    "--keep",
    default=None,
    help="Layer whose boundaries stay fixed (e.g. locality): no block moves across one.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Proposal file (TOML) to write, e.g. boundaries/<set>/proposals/realign.toml.",
)
def realign(
    path: Path,
    layer: str,
    to: str,
    blocks: str | None,
    population: str,
    min_new: float | None,
    keep: str | None,
    output: Path,
) -> int:
    """Propose the block moves that make every unit of --layer lie in one unit of --to.

    Nesting is judged by blocks (each block wholly in the unit of --to holding
    most of its area), as a nesting rule with by = "blocks" judges it. The
    proposal lists one reassign operation per pair of units, each with its
    reason; its description says what moves and the balance before and after.
    Review or edit it, then run `localitygeo impact` or `localitygeo apply`.
    """
    from localitygeo.io.outputs import check_outputs

    check_outputs({"-o": output}, sets=[path])

    from localitygeo.changes.realignment import realign as propose
    from localitygeo.cli._echo import say
    from localitygeo.io.atomic import write_text_atomic
    from localitygeo.io.manifest import read_boundaries

    bset = read_boundaries(path)
    proposal = propose(
        bset, layer, to, blocks=blocks, population=population, min_new=min_new, keep=keep
    )
    if not proposal.operations:
        say(f"every {layer} already lies in one {to}: nothing to propose")
        return 0
    write_text_atomic(output, proposal.to_toml())
    for line in proposal.summary:
        say(line)
    from localitygeo.changes.wording import count

    say(f"{count(len(proposal.operations), 'operation', 'operations')}; wrote {output}")
    return 0
