"""``localitygeo apply``: carry out a proposal and write the changed boundary set."""

from __future__ import annotations

from pathlib import Path

import click

from localitygeo.cli._options import proposal_option


@click.command(name="apply")
@click.argument("path", type=click.Path(path_type=Path))
@proposal_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write the changed set to (boundaries.gpkg and boundaries.toml).",
)
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it exists.")
def apply_command(path: Path, proposal_path: Path, output: Path, overwrite: bool) -> int:
    """Apply the proposal to the boundary set at PATH and write the result as a new set.

    The input files are never modified; the output folder appears whole or
    not at all, and `localitygeo validate` reads it like any other set.
    """
    from localitygeo.io.outputs import check_outputs

    check_outputs(
        {"-o": output},
        files={"--proposal": proposal_path},
        sets=[path],
        folder=True,
        replace=overwrite,
    )

    from localitygeo.changes.operations import apply
    from localitygeo.changes.proposal import read_proposal
    from localitygeo.cli._echo import say
    from localitygeo.io.export import write_boundaries
    from localitygeo.io.manifest import read_boundaries

    proposal = read_proposal(proposal_path)
    after = apply(read_boundaries(path), proposal)
    manifest = write_boundaries(after, output, overwrite=overwrite)
    counts = ", ".join(f"{len(v)} {k}" for k, v in after.layers.items())
    say(f"applied '{proposal.name}': {counts}; wrote {manifest}")
    return 0
