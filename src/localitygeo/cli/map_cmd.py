"""``localitygeo map``: publish a boundary set as one interactive HTML map."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from localitygeo.cli._options import attribution_option

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet


@click.command(name="map")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--layer",
    help="Layer to colour (default: the set's middle layer, the one that nests in another "
    "and has a layer nesting in it, such as neighbourhoods between small areas and wards).",
)
@click.option("--indicator", help="Column to colour by (default: colour by neighbour).")
@click.option(
    "--from",
    "source",
    help="Take the indicator from this finer layer's attributes, aggregated to --layer "
    "(e.g. --from small_area).",
)
@click.option("--weight", help="With --from: extensive column weighting the mean (population).")
@click.option(
    "--scheme",
    type=click.Choice(["quantiles", "natural_breaks", "equal_interval"]),
    default="quantiles",
    show_default=True,
    help="Classification scheme.",
)
@click.option(
    "-k",
    "classes",
    type=int,
    default=5,
    show_default=True,
    help="Number of classes (up to the number of distinct values).",
)
@click.option(
    "--higher-is",
    type=click.Choice(["worse", "better"]),
    help="Whether higher values of the indicator are worse or better; the worse end is "
    "drawn darkest. Default: as the manifest says, else lower is worse for deprivation "
    "ranks and deciles (imd_rank...), else higher values darker.",
)
@click.option(
    "--palette",
    default="OrRd",
    show_default=True,
    help="ColorBrewer or matplotlib palette name (Blues, viridis...; sequential or diverging).",
)
@click.option("--reverse", is_flag=True, help="Draw the better end darkest instead.")
@click.option(
    "--label", help="The indicator's name in the legend and tooltips (default: readable column)."
)
@click.option(
    "--labels",
    "name_layer",
    metavar="LAYER",
    help="Write the names of this layer's units on the map (e.g. --labels locality).",
)
@click.option(
    "--tiles",
    metavar="none|osm|URL",
    help="Background tiles: none, osm, a tile URL with {z}/{x}/{y}, or a provider name. "
    "Default: none with --inline (the page makes no request), else osm.",
)
@click.option("--tiles-credit", help="Credit of tiles given by URL (default: their host).")
@click.option(
    "--tolerance",
    type=float,
    default=10.0,
    show_default=True,
    help="Coverage simplification tolerance in metres (0 keeps every vertex).",
)
@click.option("--title", help="Title of the page (default: the indicator and the layer).")
@attribution_option
@click.option(
    "--inline",
    is_flag=True,
    help="Embed Leaflet so the file works offline (fetch it once with "
    "scripts/fetch-map-assets.sh).",
)
@click.option(
    "--proposal",
    "proposal_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Draw --layer before and after this proposal (TOML) side by side instead, "
    "with the moved blocks highlighted.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="HTML file to write (atomically).",
)
def map_command(
    path: Path,
    layer: str | None,
    indicator: str | None,
    source: str | None,
    weight: str | None,
    scheme: str,
    classes: int,
    higher_is: str | None,
    palette: str,
    reverse: bool,
    label: str | None,
    name_layer: str | None,
    tiles: str | None,
    tiles_credit: str | None,
    tolerance: float,
    title: str | None,
    attribution: str,
    inline: bool,
    proposal_path: Path | None,
    output: Path,
) -> int:
    """Write an interactive map of the boundary set at PATH to one HTML file."""
    from localitygeo.io.outputs import check_outputs

    check_outputs({"-o": output}, files={"--proposal": proposal_path}, sets=[path])

    from localitygeo.cli._echo import say
    from localitygeo.io.manifest import read_boundaries
    from localitygeo.maps import save

    bset = read_boundaries(path)
    layer = layer if layer is not None else middle_layer(bset)
    background = tiles if tiles is not None else ("none" if inline else "osm")
    if proposal_path is not None:
        m = _change(bset, proposal_path, layer, tolerance, title, attribution, background)
    else:
        look = {
            "scheme": scheme,
            "k": classes,
            "higher_is": higher_is,
            "palette": palette,
            "reverse": reverse,
            "label": label,
            "labels": name_layer,
            "tiles": background,
            "tiles_credit": tiles_credit,
            "tolerance_m": tolerance,
            "title": title,
            "attribution": attribution,
        }
        m = _choropleth(bset, layer, indicator, source, weight, look)
    size = save(m, output, inline=inline).stat().st_size
    say(f"wrote {output} ({size / 1024:,.0f} KiB, {size:,} bytes):")
    from localitygeo.maps.page import size_report

    for part, n in size_report(output.read_text(encoding="utf-8")):
        say(f"  {part:<34}{n:>10,} bytes")
    return 0


def middle_layer(boundary_set: BoundarySet) -> str:
    """Return the one layer that is both a nesting rule's child and another's parent.

    Raises
    ------
    click.UsageError
        When there is no such layer, or more than one: ``--layer`` must say.
    """
    children = {r.child for r in boundary_set.nesting}
    parents = {r.parent for r in boundary_set.nesting}
    middle = sorted(children & parents)
    if len(middle) != 1:
        found = f"candidates: {', '.join(middle)}" if middle else "none nests in between"
        raise click.UsageError(
            f"say which layer to colour with --layer ({found}; layers: "
            f"{', '.join(boundary_set.layers)})"
        )
    return middle[0]


def _change(
    bset: BoundarySet,
    proposal_path: Path,
    layer: str,
    tolerance: float,
    title: str | None,
    attribution: str,
    tiles: str,
) -> Any:
    from localitygeo.changes.differences import diff
    from localitygeo.changes.operations import apply
    from localitygeo.changes.proposal import read_proposal
    from localitygeo.changes.wording import count, nouns
    from localitygeo.cli._echo import say
    from localitygeo.maps.change import change_map

    after = apply(bset, read_proposal(proposal_path))
    d = diff(bset, after, layer)
    block, blocks = nouns(bset.specs[d.blocks].title if d.blocks in bset.specs else d.blocks)
    unit = nouns(bset.specs[layer].title if layer in bset.specs else layer)[0]
    moved = count(len(d.moved), block, blocks)
    say(f"{moved} {'changes' if len(d.moved) == 1 else 'change'} {unit}")
    return change_map(
        bset,
        after,
        d,
        tiles=tiles,
        tolerance_m=tolerance,
        title=title,
        attribution=attribution,
    )


def _choropleth(
    bset: BoundarySet,
    layer: str,
    indicator: str | None,
    source: str | None,
    weight: str | None,
    look: dict[str, Any],
) -> Any:
    from localitygeo.aggregation.transfer import aggregate
    from localitygeo.errors import ColumnError, DataError
    from localitygeo.maps import locality_map

    data = None
    if source is not None:
        if indicator is None:
            raise click.UsageError("--from needs --indicator")
        src = bset[source]
        where = bset.file_of(source)
        columns = [indicator] + ([weight] if weight else [])
        missing = [c for c in columns if c not in src.columns]
        if missing:
            raise ColumnError(f"no column '{missing[0]}' to take from", path=where, layer=source)
        try:
            data = aggregate(
                src.set_index("code")[columns],
                src,
                bset[layer],
                extensive=[weight] if weight else [],
                intensive=[indicator],
                weight=weight,
            )[[indicator]]
        except DataError as exc:  # name the file the values came from
            raise DataError(exc.message, path=where, layer=source, code=exc.code) from None
        # the label and direction the manifest gives the column where it comes from
        described = getattr(bset.specs.get(source), "indicators", None) or {}
        data.attrs["indicators"] = {indicator: dict(described.get(indicator, {}))}
    return locality_map(bset, layer, indicator, data=data, **look)
