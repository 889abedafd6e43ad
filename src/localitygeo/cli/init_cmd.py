"""``localitygeo init``: write a boundary set's manifest for layer files where they are."""

from __future__ import annotations

from pathlib import Path

import click


def _pairs(
    values: tuple[tuple[str, str], ...], option: str, layers: dict[str, str]
) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in values:
        if key not in layers:
            raise click.UsageError(
                f"{option} {key!r}: no such layer; layers are: {', '.join(layers)}"
            )
        out[key] = value
    return out


@click.command(name="init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.argument("layers", nargs=-1, required=True, metavar="LAYER=FILE...")
@click.option(
    "--code",
    "codes",
    nargs=2,
    multiple=True,
    metavar="LAYER COLUMN",
    help="The code column of LAYER (default: found, e.g. WD13CD). Repeatable.",
)
@click.option(
    "--name",
    "names",
    nargs=2,
    multiple=True,
    metavar="LAYER COLUMN",
    help="The name column of LAYER (default: the code's NM twin, e.g. WD13NM, or 'name').",
)
@click.option(
    "--file-layer",
    "file_layers",
    nargs=2,
    multiple=True,
    metavar="LAYER NAME",
    help="The layer inside a multi-layer FILE (a GeoPackage) to read for LAYER.",
)
@click.option(
    "--blocks",
    "blocks",
    nargs=2,
    multiple=True,
    metavar="LAYER BLOCKS",
    help="LAYER is built from the units of layer BLOCKS (neighbourhoods from LSOAs): its "
    "geometry becomes the union of its blocks. Which unit each block is in comes from "
    "--lookup, else from BLOCKS' column named LAYER, else by best fit. A LAYER given "
    "no FILE has no file: its units are those of the lookup (or column).",
)
@click.option(
    "--lookup",
    "lookups",
    nargs=2,
    multiple=True,
    metavar="LAYER CSV",
    help="CSV assigning blocks to LAYER's units: block codes in its first column, unit codes "
    "in the column named LAYER or else the second. Needs --blocks for LAYER.",
)
@click.option(
    "--unit-name",
    "unit_names",
    nargs=2,
    multiple=True,
    metavar="LAYER COLUMN",
    help="For a LAYER without a file (named only by --blocks and --lookup): the lookup's "
    "column of unit names.",
)
@click.option(
    "--nest",
    "nesting",
    nargs=2,
    multiple=True,
    metavar="CHILD PARENT",
    help="Each unit of CHILD should lie in one unit of PARENT. Repeatable.",
)
@click.option("--set-name", help="The set's name in reports (default: FOLDER's name).")
@click.option("--crs", help="Projected working CRS (default: chosen from the data when read).")
@click.option("--overwrite", is_flag=True, help="Replace FOLDER/boundaries.toml if it exists.")
def init(
    folder: Path,
    layers: tuple[str, ...],
    codes: tuple[tuple[str, str], ...],
    names: tuple[tuple[str, str], ...],
    file_layers: tuple[tuple[str, str], ...],
    blocks: tuple[tuple[str, str], ...],
    lookups: tuple[tuple[str, str], ...],
    unit_names: tuple[tuple[str, str], ...],
    nesting: tuple[tuple[str, str], ...],
    set_name: str | None,
    crs: str | None,
    overwrite: bool,
) -> int:
    """Write FOLDER/boundaries.toml for the layer files given as LAYER=FILE.

    The files stay where they are (the manifest names them, relative to
    FOLDER where it can) and are never modified. Each is read and checked; its code and
    name columns are found unless given. Then `localitygeo validate FOLDER`
    checks the set. Example:

    localitygeo init plymouth ward=wards_2013.geojson lsoa=lsoa_2011.geojson
    --nest lsoa ward
    """
    files: dict[str, str] = {}
    for item in layers:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise click.UsageError(f"{item!r} is not LAYER=FILE (e.g. ward=wards.geojson)")
        if key in files:
            raise click.UsageError(f"layer {key!r} is given twice")
        files[key] = path
    given = {
        "code": _pairs(codes, "--code", files),
        "name": _pairs(names, "--name", files),
        "layer": _pairs(file_layers, "--file-layer", files),
    }
    # a layer named only by --blocks has no file: its units come from its blocks
    below = dict(blocks)
    every = {**files, **{k: "" for k in below if k not in files}}
    built: dict[str, dict[str, str]] = {k: {"layer": v} for k, v in below.items()}
    for option, field, pairs in (
        ("--lookup", "lookup", lookups),
        ("--unit-name", "unit_name", unit_names),
    ):
        for key, value in _pairs(pairs, option, every).items():
            if key not in built:
                raise click.UsageError(f"{option} {key!r} needs --blocks {key} <blocks layer>")
            built[key][field] = value
    specs: dict[str, dict[str, object]] = {
        key: {"path": path, **{k: v[key] for k, v in given.items() if key in v}}
        for key, path in files.items()
    }
    for key in every:
        specs.setdefault(key, {})
    for key, table in built.items():
        specs[key]["blocks"] = table if len(table) > 1 else table["layer"]

    from localitygeo.cli._echo import say
    from localitygeo.io.manifest import read_manifest
    from localitygeo.io.manifest_write import write_manifest

    written = write_manifest(
        folder, specs, nesting=nesting, name=set_name, crs=crs, overwrite=overwrite
    )
    spec, _ = read_manifest(written)
    say(f"wrote {written}")
    for key, ls in spec["layers"].items():
        named = f", name {ls.name}" if ls.name is not None else ", no names"
        if ls.path is None:
            say(f"  {key}: no file, its units come from its blocks")
        else:
            say(f"  {key}: {ls.path}, code {ls.code}{named}")
        if ls.blocks is not None:
            source = f" (lookup {ls.blocks.lookup})" if ls.blocks.lookup is not None else ""
            say(f"  {key} is built from the units of {ls.blocks.layer}{source}")
    for rule in spec["nesting"]:
        say(f"  {rule.child} should nest in {rule.parent}")
    say(f"next: localitygeo validate {folder}")
    return 0
