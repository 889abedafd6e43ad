"""Differences between two boundary sets, and applying block moves to a set.

:func:`diff` says which blocks of a layer changed unit between two sets (a
:class:`Diff`); :func:`apply_moves` applies a table of such moves to a set;
both work on any two sets whose layer is built from the same blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from localitygeo.changes.planning import distinct
from localitygeo.changes.proposal import Operation, Proposal
from localitygeo.deprecation import renamed
from localitygeo.errors import ManifestError, missing_column
from localitygeo.io.numbers import parse_numbers
from localitygeo.model import blocks as _blocks
from localitygeo.model.boundary_set import BoundarySet

__all__ = ["Diff", "apply_moves", "block_assignment", "diff"]


@dataclass(frozen=True)
class Diff:
    """What a change did to one layer: the result of :func:`diff`.

    It unpacks as ``moved, units = diff(...)``.

    Attributes
    ----------
    moved : pandas.DataFrame
        One row per block whose unit changed: ``block``, ``from_unit``,
        ``to_unit``, ``population`` and ``area_m2``.
    units : pandas.DataFrame
        Per unit (index ``unit``): population and area before and after, the
        absolute and percentage change and ``status``.
    layer : str
        The layer compared.
    blocks : str
        The layer of blocks it is built from.
    """

    moved: pd.DataFrame
    units: pd.DataFrame
    layer: str
    blocks: str

    def __iter__(self) -> Iterator[pd.DataFrame]:
        """Unpack as ``moved, units``."""
        return iter((self.moved, self.units))


def block_assignment(bset: BoundarySet, blocks: str, layer: str) -> pd.Series:
    """Return the unit of ``layer`` each block belongs to (index: block code).

    Uses the blocks layer's column named ``layer`` when it has one (a lookup
    kept with the blocks), otherwise each block's best-fit unit by area.
    """
    return _blocks.block_assignment(bset[blocks], bset[layer], layer)


def _blocks_layer(layer: str, blocks: str | None, *sets: BoundarySet) -> str:
    """Return ``blocks``, or the layer that ``layer`` is built from in the first set that says."""
    if blocks is not None:
        return blocks
    for bset in sets:
        if layer in bset.built_from:
            return bset.built_from[layer]
    raise ManifestError(
        f"layer '{layer}' is not built from blocks: pass blocks=, or declare "
        f'blocks = "<finer layer>" in its manifest table',
        path=sets[0].path,
        layer=layer,
    )


def moves_to_operations(
    bset: BoundarySet, moves: pd.DataFrame, layer: str, to: str | None, blocks: str
) -> tuple[Operation, ...]:
    """Group moved blocks into one reassign operation per (from unit, to unit).

    A new unit (a ``to_unit`` code ``layer`` lacks) is named after its
    ``parent`` unit of layer ``to``: ``"<parent name> (new <layer>)"``.
    """
    if moves.empty:
        return ()
    existing = set(bset[layer]["code"])
    names = set(bset[layer]["name"].dropna().astype(str)) if "name" in bset[layer] else set()
    parents = bset[to].set_index("code") if to is not None else pd.DataFrame()
    ops: list[Operation] = []
    for (src, dst), group in moves.groupby(["from_unit", "to_unit"], sort=False):
        params: dict[str, object] = {
            "layer": layer,
            "blocks_layer": blocks,
            "blocks": group["block"].tolist(),
            "from": src,
            "to": dst,
        }
        if dst not in existing:
            parent = group["parent"].iloc[0]
            pname = parents["name"].get(parent) if "name" in parents.columns else None
            params["new"] = True
            params["name"] = distinct(f"{pname or parent} (new {layer})", names, " ")
            existing.add(dst)
        if "reason" in group.columns:
            params["reason"] = group["reason"].iloc[0]
        ops.append(Operation("reassign", params, position=len(ops) + 1))
    return tuple(ops)


@renamed(bset="boundary_set")
def apply_moves(
    boundary_set: BoundarySet, layer: str, blocks: str, moves: pd.DataFrame
) -> BoundarySet:
    """Return a new set whose ``layer`` is rebuilt from its blocks after ``moves``.

    A companion of :func:`localitygeo.apply` for a table of moves (``block``,
    ``to_unit``, ``parent``) such as ``realign(...).moves``: the moves become
    one ``reassign`` operation per (from unit, to unit) and are applied by
    :func:`localitygeo.apply`, so the result is the one ``apply`` gives for
    the realignment itself. Unit geometry is the union of its blocks, so
    neighbours share edges exactly; layers built from ``layer`` are rebuilt
    too. New units (codes absent before) take the attributes of the unit
    their first block leaves (its locality, say), the name
    ``"<parent name> (new <layer>)"`` after their ``parent`` and ``new =
    True``; other units keep their attributes and order. The input set is
    not modified.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set to change.
    layer : str
        The layer whose units gain and lose blocks.
    blocks : str
        The blocks layer ``layer`` is built from.
    moves : pandas.DataFrame
        One row per moved block: ``block``, ``to_unit`` and ``parent`` (a unit
        of a layer ``layer`` nests in); ``from_unit`` (default: the block's
        unit now) and ``reason`` are used when present.

    Returns
    -------
    BoundarySet
        The new set.
    """
    from localitygeo.changes.operations import apply

    moves = pd.DataFrame(moves)
    if "from_unit" not in moves.columns:
        now = block_assignment(boundary_set, blocks, layer)
        moves = moves.assign(from_unit=now.reindex(moves["block"]).to_numpy())
    to = _parent_layer(boundary_set, layer, moves)
    proposal = Proposal(
        name=f"move {len(moves)} {blocks} block(s) of {layer}",
        operations=moves_to_operations(boundary_set, moves, layer, to, blocks),
        moves=moves,
    )
    return apply(boundary_set, proposal)


def _parent_layer(boundary_set: BoundarySet, layer: str, moves: pd.DataFrame) -> str | None:
    """Return the layer whose codes the ``parent`` column of ``moves`` holds.

    The layers ``layer`` should nest in come first; ``None`` when no layer
    holds every parent (new units are then named after the parent code).
    """
    parents = set(moves["parent"].dropna()) if "parent" in moves.columns else set()
    rules = [r.parent for r in boundary_set.nesting if r.child == layer]
    for key in dict.fromkeys([*rules, *boundary_set]):
        if key != layer and parents <= set(boundary_set[key]["code"]):
            return key
    return None


def diff(
    before: BoundarySet,
    after: BoundarySet,
    layer: str,
    *,
    blocks: str | None = None,
    population: str = "population",
) -> Diff:
    """Compare a layer before and after a change.

    Parameters
    ----------
    before, after : BoundarySet
        The set before and after (for instance from :func:`localitygeo.apply`).
    layer : str
        The layer to compare.
    blocks : str, optional
        Its blocks (default: the layer it is built from in ``after``, else in
        ``before``).
    population : str, default "population"
        Column of the blocks counted as population. Without the default
        column, populations are NaN (unknown, not zero); another column the
        blocks lack is a :class:`~localitygeo.errors.ColumnError`.

    Returns
    -------
    Diff
        ``(moved, units, layer, blocks)``: the blocks whose unit changed (``block``,
        ``from_unit``, ``to_unit``, ``population``, ``area_m2``) and, per
        unit, population and area before and after with absolute and
        percentage change and ``status`` (``"new"``, ``"removed"``,
        ``"changed"`` or ``"unchanged"``).
    """
    blocks = _blocks_layer(layer, blocks, after, before)
    a = block_assignment(before, blocks, layer)
    b = block_assignment(after, blocks, layer).reindex(a.index)
    blk = before[blocks].set_index("code").loc[a.index]
    if population not in blk.columns and population != "population":
        raise missing_column(
            population, blk.columns, role="population", layer=blocks, path=before.file_of(blocks)
        )
    pop = (
        parse_numbers(blk[population], population, layer=blocks, path=before.path).fillna(0)
        if population in blk.columns
        else pd.Series(np.nan, index=a.index)
    )
    area = blk.geometry.area
    moved_mask = (a != b).to_numpy()
    moved = pd.DataFrame(
        {
            "block": a.index[moved_mask],
            "from_unit": a[moved_mask].to_numpy(),
            "to_unit": b[moved_mask].to_numpy(),
            "population": pop[moved_mask].to_numpy(),
            "area_m2": area[moved_mask].to_numpy(),
        }
    )
    pb = pop.groupby(a).sum(min_count=1).rename("population_before")
    pa = pop.groupby(b).sum(min_count=1).rename("population_after")
    ab = area.groupby(a).sum().rename("area_before")
    aa = area.groupby(b).sum().rename("area_after")
    units = pd.concat([pb, pa, ab, aa], axis=1)
    known = population in blk.columns
    units = units.fillna({c: 0.0 for c in units.columns if known or c.startswith("area")})
    units["population_change"] = units["population_after"] - units["population_before"]
    units["population_change_pct"] = np.where(
        units["population_before"] > 0,
        100
        * units["population_change"]
        / units["population_before"].where(units["population_before"] > 0, 1),
        np.nan,
    )
    units["status"] = np.select(
        [
            units["area_before"] == 0,
            units["area_after"] == 0,
            units.index.isin(set(moved["from_unit"]) | set(moved["to_unit"])),
        ],
        ["new", "removed", "changed"],
        "unchanged",
    )
    units.index.name = "unit"
    return Diff(moved, units, layer, blocks)
