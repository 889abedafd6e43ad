"""``localitygeo lookup``: write a best-fit lookup between two layers."""

from __future__ import annotations

from pathlib import Path

import click

from localitygeo.cli._options import escape_formulas_option


@click.command()
@click.argument("child", type=click.Path(path_type=Path))
@click.argument("parent", type=click.Path(path_type=Path))
@click.option("--child-code", required=True, help="Code column of the CHILD file.")
@click.option("--parent-code", required=True, help="Code column of the PARENT file.")
@click.option("--child-layer", help="Layer of a multi-layer CHILD file.")
@click.option("--parent-layer", help="Layer of a multi-layer PARENT file.")
@click.option(
    "--crs",
    default=None,
    help="Projected CRS to measure in (default: chosen from the data, EPSG:27700 in Great "
    "Britain). A CRS in degrees is refused before anything is read.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the CSV here (atomically) instead of standard output.",
)
@escape_formulas_option
def lookup(
    child: Path,
    parent: Path,
    child_code: str,
    parent_code: str,
    child_layer: str | None,
    parent_layer: str | None,
    crs: str | None,
    output: Path | None,
    escape_formulas: bool,
) -> int:
    """Assign each unit of CHILD to the unit of PARENT holding most of its area.

    Writes CSV with columns child_code, parent_code, share, runner_up_code,
    runner_up_share, outside_share, n_parents.
    """
    from localitygeo.io.outputs import check_outputs

    check_outputs({"-o": output}, files={"CHILD": child, "PARENT": parent})
    target = None
    if crs is not None:  # before reading: a CRS that cannot measure fails at once
        from localitygeo.geometry.crs import parse_crs

        target = parse_crs(crs, "--crs", projected=True)

    from localitygeo.profiling import stage

    with stage("import geopandas and the engine"):
        from localitygeo.cli._echo import say
        from localitygeo.cli._progress import progress_callbacks
        from localitygeo.geometry.fitting import best_fit
        from localitygeo.geometry.validity import remembering
        from localitygeo.io.measurable import read_measurable
        from localitygeo.io.safecsv import write_csv

    layers = {
        "child": {"path": child, "code": child_code, "layer": child_layer, "columns": ()},
        "parent": {"path": parent, "code": parent_code, "layer": parent_layer, "columns": ()},
    }
    with progress_callbacks() as (step, fraction), remembering():
        step("reading layers")
        # each layer is reprojected (and its validity checked) while the next is read
        frames, _ = read_measurable(layers, crs=target)
        step("best fit")
        with stage("best fit"):
            table = best_fit(frames["child"], frames["parent"], progress=fraction)
        step("writing")
        with stage("write CSV"):
            text = write_csv(
                table.drop(columns=["basis"]),
                output,
                escape_formulas=escape_formulas,
                index=False,
                float_format="%.6f",
            )
    if output is not None:
        say(f"wrote {output} ({len(table)} rows)", err=True)
    else:
        click.echo(text, nl=False)
    return 0
