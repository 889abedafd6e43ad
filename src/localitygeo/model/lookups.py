"""Lookup files: which unit of a built layer each block is in, read from CSV.

A layer built from blocks (:mod:`localitygeo.model.blocks`) takes its
assignment from a lookup file when its ``blocks`` names one: block codes in
one column, unit codes in another, and, for a layer without a file of its
own, its units' names in a third (``unit_name``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from localitygeo.errors import ColumnError, InputError, format_codes

if TYPE_CHECKING:
    import geopandas as gpd

    from localitygeo.model.blocks import BlockSpec

__all__ = ["Lookup", "assign_from_lookup", "check_assigned", "read_lookup", "units_of_lookup"]

#: A lookup file as read: (table of text, block-code column, unit-code column).
Lookup = tuple[pd.DataFrame, str, str]


def assign_from_lookup(
    blocks: gpd.GeoDataFrame, unit: str, spec: BlockSpec, read: Lookup | None = None
) -> gpd.GeoDataFrame:
    """Return a copy of ``blocks`` whose column ``unit`` comes from the spec's lookup file.

    ``read`` is the lookup as :func:`read_lookup` read it, when the caller has it.

    Raises
    ------
    InputError
        The lookup cannot be read, lacks a column, repeats a block code or
        leaves blocks without a unit.
    """
    table, bcol, ucol = read if read is not None else read_lookup(unit, spec)
    path = spec.lookup
    dup = table[bcol][table[bcol].duplicated()]
    if len(dup):
        raise InputError(
            f"lookup lists block(s) more than once: {format_codes(dup.unique())}", path=path
        )
    mapping = table.set_index(bcol)[ucol].replace("", np.nan)
    codes = blocks["code"].astype(str)
    unknown = sorted(set(mapping.index) - set(codes))
    if unknown:
        raise InputError(
            f"lookup names {len(unknown)} block(s) not in layer '{spec.layer}': "
            f"{format_codes(unknown)}",
            path=path,
        )
    out = blocks.copy()
    out[unit] = mapping.reindex(codes).to_numpy(dtype=object)
    check_assigned(out, unit, f"{path}")
    return out


def read_lookup(unit: str, spec: BlockSpec) -> Lookup:
    """Read a spec's lookup file: (table of text, block-code column, unit-code column)."""
    assert spec.lookup is not None
    path = spec.lookup
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("lookup file not found", path=path, layer=unit) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"lookup file cannot be read as CSV ({exc})", path=path) from exc
    cols = list(table.columns)
    if len(cols) < 2:
        raise InputError("a lookup needs a block-code and a unit-code column", path=path)
    bcol = spec.block_code or cols[0]
    ucol = spec.unit_code or (unit if unit in cols and unit != bcol else cols[1])
    for col in (bcol, ucol, *([spec.unit_name] if spec.unit_name else [])):
        if col not in cols:
            raise ColumnError(
                f"lookup has no column '{col}'; columns are: {', '.join(cols)}",
                path=path,
                layer=unit,
            )
    return table, bcol, ucol


def units_of_lookup(
    blocks: gpd.GeoDataFrame, unit: str, spec: BlockSpec, read: Lookup | None = None
) -> pd.DataFrame:
    """Return the units of a layer that is only a lookup: ``code`` and ``name``.

    ``blocks`` carries the assignment (column ``unit``). Units are in order of
    their codes; names come from the lookup's ``unit_name`` column, when
    named, and are otherwise missing (as :func:`read_layer` gives a layer
    read without a name column). ``read`` is the lookup as :func:`read_lookup`
    read it, when the caller has it.

    Raises
    ------
    InputError
        A unit has two different names in the lookup.
    """
    codes = sorted({str(c) for c in blocks[unit].dropna()})
    units = pd.DataFrame({"code": codes, "name": [None] * len(codes)})  # as read_layer's
    if spec.lookup is not None and spec.unit_name is not None:
        table, _, ucol = read if read is not None else read_lookup(unit, spec)
        named = table[table[ucol] != ""].drop_duplicates([ucol, spec.unit_name])
        twice = named[ucol][named[ucol].duplicated()]
        if len(twice):
            raise InputError(
                f"lookup gives unit(s) more than one {spec.unit_name!r}: "
                f"{format_codes(sorted(twice.unique()))}",
                path=spec.lookup,
                layer=unit,
            )
        names = named.set_index(ucol)[spec.unit_name].replace("", np.nan)
        units["name"] = names.reindex(codes).to_numpy(dtype=object)
    return units


def check_assigned(blocks: gpd.GeoDataFrame, unit: str, source: str) -> None:
    """Raise InputError naming the blocks that have no ``unit`` (source: the file named)."""
    missing = blocks[unit].isna().to_numpy()
    if missing.any():
        raise InputError(
            f"{int(missing.sum())} block(s) have no {unit}: "
            f"{format_codes(blocks['code'].to_numpy()[missing])}",
            path=source,
            layer=unit,
        )
