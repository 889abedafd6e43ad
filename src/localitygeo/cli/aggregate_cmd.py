"""``localitygeo aggregate``: take small-area indicators up to another layer."""

from __future__ import annotations

from pathlib import Path

import click

from localitygeo.cli._options import escape_formulas_option

_SUFFIXES = {".csv", ".gpkg", ".geojson", ".json", ".parquet", ".geoparquet"}


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Indicator table (CSV, gzipped CSV or Excel, as published) keyed by the codes of "
    "the --from layer.",
)
@click.option("--data-code", required=True, help="Column of --data holding the codes.")
@click.option("--from", "source", required=True, help="Layer the data are keyed by (e.g. lsoa).")
@click.option("--to", "target", required=True, help="Layer to aggregate to (e.g. ward).")
@click.option(
    "--extensive",
    multiple=True,
    help="Count column to apportion and sum (repeatable), e.g. population.",
)
@click.option(
    "--intensive",
    multiple=True,
    help="Rate, score or rank column to average (repeatable).",
)
@click.option(
    "--weight",
    default=None,
    help="Count column weighting the intensive means (default: area).",
)
@click.option(
    "--method",
    type=click.Choice(["area", "best-fit"]),
    default="area",
    show_default=True,
    help="Split each source unit by area share, or give it wholly to its best-fit unit.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 2) instead of warning when codes in the data and the layer differ.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here (atomically) instead of CSV on standard output: .csv for a table; "
    ".gpkg, .geojson or .parquet for the --to layer's geometry with the results "
    "(GeoJSON in longitude/latitude as RFC 7946 requires; the others in the set's CRS).",
)
@escape_formulas_option
def aggregate(
    path: Path,
    data_path: Path,
    data_code: str,
    source: str,
    target: str,
    extensive: tuple[str, ...],
    intensive: tuple[str, ...],
    weight: str | None,
    method: str,
    strict: bool,
    output: Path | None,
    escape_formulas: bool,
) -> int:
    """Aggregate indicators from one layer of the boundary set at PATH to another.

    Extensive columns (counts) are apportioned and summed; intensive columns
    (rates, ranks) become means weighted by --weight or by area. Every row
    also carries `coverage`, the share of the unit's area covered by the data.

    Example: localitygeo aggregate boundaries/plymouth --data imd.csv
    --data-code "LSOA code (2011)" --from lsoa --to ward --extensive population
    --intensive rank --weight population -o wards.csv
    """
    if not extensive and not intensive:
        raise click.UsageError("name at least one --extensive or --intensive column")
    suffix = output.suffix.lower() if output is not None else ".csv"
    if suffix not in _SUFFIXES:
        raise click.UsageError(f"cannot write '{output}': use .csv, .gpkg, .geojson or .parquet")
    from localitygeo.io.outputs import check_outputs

    check_outputs({"-o": output}, files={"--data": data_path}, sets=[path])
    import warnings

    from localitygeo.aggregation.transfer import aggregate as run
    from localitygeo.cli._echo import say
    from localitygeo.cli._progress import progress_callbacks
    from localitygeo.errors import LocalityGeoWarning
    from localitygeo.geometry.overlay import known_overlap_table
    from localitygeo.io.atomic import atomic_path
    from localitygeo.io.manifest import read_boundaries
    from localitygeo.io.safecsv import write_csv
    from localitygeo.io.tables import read_indicators

    columns = list(dict.fromkeys([*extensive, *intensive, *([weight] if weight else [])]))
    with progress_callbacks() as (step, _fraction), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", LocalityGeoWarning)
        step("reading boundary set")
        bset = read_boundaries(path)
        source_layer, target_layer = bset[source], bset[target]
        step("reading data")
        data = read_indicators(data_path, code=data_code, columns=columns, numeric=columns)
        step(f"aggregating {source} to {target}")
        table = run(
            data,
            source_layer,
            target_layer,
            extensive=extensive,
            intensive=intensive,
            weight=weight,
            method=method,  # type: ignore[arg-type]
            strict=strict,
            # a layer built from the --from layer's units: from membership, not measured
            table=known_overlap_table(bset, source, target),
        )
    for w in seen:
        if issubclass(w.category, LocalityGeoWarning):
            say(f"localitygeo: warning: {w.message}", err=True)

    if suffix == ".csv":
        text = write_csv(table, output, escape_formulas=escape_formulas, float_format="%.10g")
        if output is None:
            click.echo(text, nl=False)
            return 0
    else:
        assert output is not None
        import geopandas as gpd

        geo = target_layer[["code", "name", target_layer.geometry.name]].join(
            table, on="code", rsuffix="_data"
        )
        geo = gpd.GeoDataFrame(geo, geometry=target_layer.geometry.name, crs=target_layer.crs)
        with atomic_path(output) as tmp:
            if suffix in {".parquet", ".geoparquet"}:
                geo.to_parquet(tmp)
            elif suffix == ".gpkg":
                geo.to_file(tmp, driver="GPKG", layer=target)
            else:
                geo.to_crs("OGC:CRS84").to_file(tmp, driver="GeoJSON")
    say(f"wrote {output} ({len(table)} {target} units)", err=True)
    return 0
