"""``localitygeo example``: regenerate the fictional example city."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument(
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("boundaries/example-city"),
)
@click.option("--seed", type=int, default=2011, show_default=True, help="Random seed.")
def example(folder: Path, seed: int) -> int:
    """Write the fictional example city's boundary set into FOLDER.

    The files are deterministic: the same seed writes byte-identical files.
    """
    from localitygeo.io.example_files import write_example_city

    manifest = write_example_city(folder, seed=seed)
    click.echo(f"wrote {manifest}")
    return 0
