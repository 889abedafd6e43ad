"""Layers built from blocks: units that are unions of finer units.

Neighbourhoods are made of small areas, localities of neighbourhoods. When a
boundary set says so (``blocks = ...`` in a layer's manifest table, or
:meth:`BoundarySet.with_blocks`), the *blocks* layer carries a column named
after the built layer holding each block's unit code, and the built layer's
geometry is the union of its blocks, so that neighbours share edges exactly
and a change to the blocks' assignment rebuilds the layer.

The assignment comes from, in order of preference, a lookup file (block code
-> unit code), a column of the blocks layer, or each block's best-fit unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from localitygeo.errors import ColumnError, InputError, ManifestError, format_codes
from localitygeo.model.lookups import (
    assign_from_lookup,
    check_assigned,
    read_lookup,
    units_of_lookup,
)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "BlockSpec",
    "block_assignment",
    "build_declared",
    "build_from_blocks",
    "finest_assignment",
    "order_built",
    "parse_block_spec",
]


@dataclass(frozen=True)
class BlockSpec:
    """How a layer is built from blocks (a manifest's ``blocks = ...``).

    Attributes
    ----------
    layer : str
        Key of the blocks layer (e.g. ``small_area``).
    lookup : pathlib.Path or None
        CSV file mapping block codes to unit codes.
    block_code, unit_code : str or None
        The lookup's columns (default: its first two columns).
    column : str or None
        Column of the blocks layer holding unit codes (default: the built
        layer's key). Used when there is no lookup; when the blocks layer has
        no such column either, blocks go to their best-fit unit.
    unit_name : str or None
        The lookup's column of unit names, for a layer that is only a lookup
        (no file of its own).
    """

    layer: str
    lookup: Path | None = None
    block_code: str | None = None
    unit_code: str | None = None
    column: str | None = None
    unit_name: str | None = None


def order_built(built_from: Mapping[str, str]) -> list[str]:
    """Return the built layers so that a layer comes after the layers it is built from.

    Raises
    ------
    ManifestError
        The ``blocks`` declarations form a cycle.
    """
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(key: str, trail: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise ManifestError(
                f"layers are built from each other in a cycle: {' -> '.join(trail)}"
            )
        state[key] = 1
        below = built_from.get(key)
        if below is not None and below in built_from:
            visit(below, (*trail, below))
        state[key] = 2
        order.append(key)

    for key in built_from:
        visit(key, (key,))
    return order


def block_assignment(blocks: gpd.GeoDataFrame, units: gpd.GeoDataFrame, column: str) -> pd.Series:
    """Return the unit of each block (index: block code), from a column or by best fit.

    Parameters
    ----------
    blocks, units : geopandas.GeoDataFrame
        Layers with ``code``, in one projected CRS.
    column : str
        Column of ``blocks`` holding unit codes. When absent, each block goes
        to the unit holding most of its area.

    Returns
    -------
    pandas.Series
        Unit codes indexed by block code, named ``column``.
    """
    if column in blocks.columns:
        values = blocks[column].to_numpy(dtype=object)
    else:
        from localitygeo.geometry.fitting import best_fit

        fit = best_fit(blocks, units).set_index("child_code")["parent_code"]
        values = fit.reindex(blocks["code"]).to_numpy(dtype=object)
    return pd.Series(values, index=blocks["code"].to_numpy(dtype=object), name=column)


def build_from_blocks(
    blocks: gpd.GeoDataFrame,
    column: str,
    units: pd.DataFrame,
    *,
    layer: str,
    source: str = "",
) -> gpd.GeoDataFrame:
    """Return the layer whose units are the unions of their blocks.

    Parameters
    ----------
    blocks : geopandas.GeoDataFrame
        Blocks with ``code`` and the unit column.
    column : str
        Column of ``blocks`` holding unit codes.
    units : pandas.DataFrame
        Attributes of the units (``code``, ``name`` and any others), one row
        per unit, in the order to keep. Geometry, if present, is replaced.
    layer : str
        The built layer's key, for messages.
    source : str
        The file or set named in messages.

    Raises
    ------
    InputError
        A block has no unit or names a unit ``units`` lacks, or a unit has
        no block.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit, in the blocks' CRS.
    """
    import geopandas as gpd

    from localitygeo.geometry.unions import union_blocks

    check_assigned(blocks, column, source or layer)
    assigned = blocks[column].to_numpy(dtype=object)
    if isinstance(units, gpd.GeoDataFrame):
        attrs = pd.DataFrame(units.drop(columns=[units.geometry.name]))
    else:
        attrs = pd.DataFrame(units).copy()
    codes = attrs["code"].to_numpy(dtype=object)
    used = set(assigned)
    unknown = sorted(used - set(codes))
    if unknown:
        raise InputError(
            f"blocks name {len(unknown)} unit(s) the layer does not have: {format_codes(unknown)}",
            path=source or None,
            layer=layer,
        )
    empty = [c for c in codes if c not in used]
    if empty:
        raise InputError(
            f"{len(empty)} unit(s) have no block: {format_codes(empty)}",
            path=source or None,
            layer=layer,
        )
    # every block names a known unit and every unit has a block (checked above):
    # sort the blocks by unit and union each unit's run of blocks
    pos = pd.Index(codes).get_indexer(assigned)
    sort = np.argsort(pos, kind="stable")
    geoms = np.asarray(blocks.geometry.array, dtype=object)[sort]
    bounds = np.searchsorted(pos[sort], np.arange(len(codes) + 1))
    union = union_blocks(geoms, bounds)
    return gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=union, crs=blocks.crs)


def finest_assignment(
    layers: Mapping[str, gpd.GeoDataFrame], built_from: Mapping[str, str], layer: str
) -> tuple[str, pd.Series]:
    """Follow the chain of blocks down from ``layer`` to its finest blocks.

    Returns
    -------
    tuple
        ``(finest_layer_key, series)`` where the series gives, for every
        finest block (index: its code), the code of its unit in ``layer``.
        A layer that is not built gives itself: every unit its own code.
    """
    chain = [layer]
    while chain[-1] in built_from:
        chain.append(built_from[chain[-1]])
    finest = chain[-1]
    codes = layers[finest]["code"].to_numpy(dtype=object)
    current = pd.Series(codes, index=codes)
    for upper, lower in zip(reversed(chain[:-1]), reversed(chain[1:]), strict=True):
        step = layers[lower].set_index("code")[upper]
        current = pd.Series(step.reindex(current.to_numpy()).to_numpy(dtype=object), index=codes)
    current.name = layer
    return finest, current


_SPEC_KEYS = {"layer", "lookup", "block_code", "unit_code", "column", "unit_name"}


def parse_block_spec(value: object, key: str, manifest: Path, layers: set[str]) -> BlockSpec:
    """Parse a layer's ``blocks`` value: a layer name, or a table of :class:`BlockSpec` keys.

    Raises
    ------
    ManifestError
        Not a string or table, unknown keys, or an unknown blocks layer.
    """
    where = f"[layers.{key}] blocks"
    if isinstance(value, str):
        value = {"layer": value}
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be a layer name or a table", path=manifest)
    extra = sorted(set(value) - _SPEC_KEYS)
    if extra:
        raise ManifestError(
            f"unknown key(s) {', '.join(extra)} in {where}; "
            f"allowed: {', '.join(sorted(_SPEC_KEYS))}",
            path=manifest,
        )
    for k, v in value.items():
        if not isinstance(v, str) or not v:
            raise ManifestError(f"{where}: {k} must be a non-empty string", path=manifest)
    below = value.get("layer")
    if below not in layers or below == key:
        raise ManifestError(
            f"{where}: layer {below!r} is not another layer; "
            f"layers are: {', '.join(sorted(layers))}",
            path=manifest,
        )
    lookup = value.get("lookup")
    lookup_path = None
    if lookup is not None:
        lookup_path = Path(lookup) if Path(lookup).is_absolute() else manifest.parent / lookup
    return BlockSpec(
        layer=below,
        lookup=lookup_path,
        block_code=value.get("block_code"),
        unit_code=value.get("unit_code"),
        column=value.get("column"),
        unit_name=value.get("unit_name"),
    )


def build_declared(
    frames: dict[str, gpd.GeoDataFrame], specs: Mapping[str, BlockSpec], source: str
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, str], list[str]]:
    """Build every declared layer from its blocks.

    Parameters
    ----------
    frames : dict
        Layers as read, in the working CRS.
    specs : mapping
        Built layer key -> its :class:`BlockSpec`.
    source : str
        The manifest, for messages.

    Returns
    -------
    tuple
        ``(frames, built_from, notes)``: new frames (blocks layers carry the
        assignment column, built layers the union geometry), the map of built
        layer -> blocks layer, and what was done, for the set's notes.
    """
    out = dict(frames)
    built_from = {k: s.layer for k, s in specs.items()}
    notes: list[str] = []
    for key in order_built(built_from):
        spec = specs[key]
        blocks = out[spec.layer]
        own = key in out  # False: the layer is only a lookup (or a column), without a file
        read = read_lookup(key, spec) if spec.lookup is not None else None  # once, for both uses
        if spec.lookup is not None:
            blocks = assign_from_lookup(blocks, key, spec, read)
            how = f"lookup {spec.lookup.name}"
        else:
            column = spec.column or key
            if column not in blocks.columns and (spec.column is not None or not own):
                why = "" if own else " (a layer without a file needs a lookup or that column)"
                raise ColumnError(
                    f"blocks layer '{spec.layer}' has no column '{column}'{why}; columns are: "
                    f"{', '.join(map(str, blocks.columns))}",
                    path=source,
                    layer=key,
                )
            blocks = blocks.copy()
            blocks[key] = block_assignment(blocks, out.get(key), column).to_numpy()
            how = f"column '{column}'" if column in frames[spec.layer].columns else "best fit"
        out[spec.layer] = blocks
        units = out[key] if own else units_of_lookup(blocks, key, spec, read)
        out[key] = build_from_blocks(blocks, key, units, layer=key, source=source)
        notes.append(f"layer '{key}' built from {len(blocks)} '{spec.layer}' blocks ({how})")
    return out, built_from, notes
