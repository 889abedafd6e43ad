"""Realign a layer built from blocks so that every unit nests in one parent.

This is the change Plymouth's 2011 review recommended: move neighbourhood
boundaries onto ward boundaries. Units (neighbourhoods) are unions of blocks
(small areas); each block lies in one parent (ward). :func:`realign` gives
each unit a *home* parent — the one holding most of its population — and
moves every block lying in another parent to a neighbouring unit whose home
is that parent. A piece with no such neighbour becomes a new unit named after
its parent (flagged ``new``). The result is a
:class:`~localitygeo.proposal.Proposal` of ``reassign`` operations, which
:func:`localitygeo.apply` carries out; :func:`diff` reports what moved and
how each unit changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from localitygeo import blocks as _blocks
from localitygeo.boundaries import BoundarySet
from localitygeo.errors import ColumnError, ManifestError
from localitygeo.numbers import layer_numbers, parse_numbers
from localitygeo.proposal import Operation, Proposal

__all__ = ["Diff", "apply_moves", "block_assignment", "diff", "realign"]

MOVE_COLUMNS = ["block", "from_unit", "to_unit", "parent", "population", "area_m2", "reason"]


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


def _adjacency(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = shapely.STRtree(geoms).query(geoms, predicate="touches")
    shared = shapely.length(shapely.intersection(geoms[a], geoms[b]))
    keep = shared > 0  # an edge, not a single point
    return a[keep], b[keep]


def _join_neighbours(
    stray: np.ndarray,
    new_unit: np.ndarray,
    parent: np.ndarray,
    home: pd.Series,
    a: np.ndarray,
    n: np.ndarray,
    reason: np.ndarray,
    why: Callable[[int, str], str],
    *,
    other_unit: bool = False,
) -> None:
    """Give stray blocks, wave by wave, to the neighbouring unit at home in their parent.

    Each wave gives every stray block touching a settled block of such a unit
    to the unit it shares most edges with (ties by code). ``stray`` is
    cleared for the blocks placed; ``new_unit`` and ``reason`` are updated
    in place. With ``other_unit`` the neighbour must be another unit.
    """
    while stray.any():
        home_of = home.reindex(new_unit).to_numpy(dtype=object)
        ok = stray[a] & ~stray[n] & (parent[a] == parent[n]) & (home_of[n] == parent[n])
        if other_unit:
            ok &= new_unit[a] != new_unit[n]
        if not ok.any():
            return
        cand = pd.DataFrame({"block": a[ok], "unit": new_unit[n[ok]]})
        votes = cand.groupby(["block", "unit"]).size().reset_index(name="k")
        votes = votes.sort_values(["block", "k", "unit"], ascending=[True, False, True])
        pick = votes.drop_duplicates("block")
        idx = pick["block"].to_numpy()
        new_unit[idx] = pick["unit"].to_numpy()
        reason[idx] = [why(i, u) for i, u in zip(idx, new_unit[idx], strict=True)]
        stray[idx] = False


def _components(label: np.ndarray, a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Return a component id per block: blocks joined by edges within one label.

    Minimum-label propagation with pointer jumping, vectorised over edges.
    """
    comp = np.arange(len(label))
    same = label[a] == label[n]
    ea, en = a[same], n[same]
    while True:
        nxt = comp.copy()
        np.minimum.at(nxt, ea, comp[en])
        nxt = nxt[nxt]
        if (nxt == comp).all():
            return comp
        comp = nxt


def _part_counts(unit: np.ndarray, a: np.ndarray, n: np.ndarray) -> pd.Series:
    comp = _components(unit, a, n)
    return pd.Series(comp).groupby(unit).nunique()


def _cut_off(
    new_unit: np.ndarray, weight: np.ndarray, a: np.ndarray, n: np.ndarray, before: pd.Series
) -> np.ndarray:
    """Blocks in pieces a unit did not have before (all but its heaviest pieces)."""
    comp = _components(new_unit, a, n)
    pieces = pd.DataFrame({"unit": new_unit, "comp": comp, "w": weight})
    per = pieces.groupby(["unit", "comp"])["w"].sum().reset_index()
    per = per.sort_values(["unit", "w", "comp"], ascending=[True, False, True])
    per["rank"] = per.groupby("unit").cumcount()
    allowed = before.reindex(per["unit"]).fillna(1).to_numpy()
    extra = set(per.loc[per["rank"].to_numpy() >= allowed, "comp"])
    return np.isin(comp, list(extra))


def realign(
    bset: BoundarySet,
    layer: str,
    to: str,
    blocks: str | None = None,
    *,
    population: str = "population",
) -> Proposal:
    """Propose block moves that make every unit of ``layer`` nest in ``to``.

    Parameters
    ----------
    bset : BoundarySet
        Holds ``layer`` (units), ``to`` (parents) and the blocks.
    layer, to : str
        Layer keys.
    blocks : str, optional
        The layer of blocks. Default: the one ``layer`` is built from (a
        manifest's ``blocks = ...``). When given for a layer that is not
        built from it, each block's unit is its column named ``layer`` or
        its best-fit unit.
    population : str, default "population"
        Column of the blocks to minimise the population moved; area when
        the column is absent.

    Returns
    -------
    Proposal
        ``reassign`` operations, one per pair of units (a new unit's first
        one with ``new = true``), each with its ``reason``; ``.moves`` lists
        every block moved: ``block``, ``from_unit``, ``to_unit``, ``parent``
        (the parent the block lies in), ``population``, ``area_m2`` and
        ``reason``. It has no operation when the layer already nests, so a
        second run on the realigned set proposes nothing.

    Raises
    ------
    ManifestError
        ``blocks`` is not given and ``layer`` is not built from blocks.
    """
    blocks = _blocks_layer(layer, blocks, bset)
    moves = _moves(bset, layer, to, blocks, population)
    return Proposal(
        name=f"Realign {layer} onto {to}",
        description=(
            f"Moves {len(moves)} {blocks} block(s) so that every {layer} lies in one {to}."
        ),
        operations=_as_operations(bset, moves, layer, to),
        moves=moves,
    )


def _as_operations(
    bset: BoundarySet, moves: pd.DataFrame, layer: str, to: str
) -> tuple[Operation, ...]:
    """Group moved blocks into one reassign operation per (from unit, to unit)."""
    if moves.empty:
        return ()
    existing = set(bset[layer]["code"])
    parents = bset[to].set_index("code")
    ops: list[Operation] = []
    for (src, dst), group in moves.groupby(["from_unit", "to_unit"], sort=False):
        params: dict[str, object] = {
            "layer": layer,
            "blocks": group["block"].tolist(),
            "from": src,
            "to": dst,
        }
        if dst not in existing:
            parent = group["parent"].iloc[0]
            pname = parents["name"].get(parent) if "name" in parents.columns else None
            params["new"] = True
            params["name"] = f"{pname or parent} (new {layer})"
            existing.add(dst)
        params["reason"] = group["reason"].iloc[0]
        ops.append(Operation("reassign", params, position=len(ops) + 1))
    return tuple(ops)


def _moves(bset: BoundarySet, layer: str, to: str, blocks: str, population: str) -> pd.DataFrame:
    b = bset[blocks].reset_index(drop=True)
    unit = block_assignment(bset, blocks, layer).reindex(b["code"]).to_numpy(dtype=object)
    parent = block_assignment(bset, blocks, to).reindex(b["code"]).to_numpy(dtype=object)
    geoms = np.asarray(b.geometry.array, dtype=object)
    area = shapely.area(geoms)
    if population in b.columns:
        pop = np.nan_to_num(layer_numbers(b, population, blocks, bset.path), nan=0.0)
    elif population != "population":
        raise ColumnError(f"blocks have no column '{population}'", layer=blocks)
    else:
        pop = np.zeros(len(b))
    weight = np.where(pop > 0, pop, 0) + area * 1e-9  # area decides where nobody lives
    frame = pd.DataFrame({"unit": unit, "parent": parent, "w": weight})
    totals = frame.groupby(["unit", "parent"])["w"].sum().reset_index()
    totals = totals.sort_values(["unit", "w", "parent"], ascending=[True, False, True])
    home = totals.drop_duplicates("unit").set_index("unit")["parent"]
    a, n = _adjacency(geoms)
    new_unit = unit.copy()
    reason = np.full(len(b), "", dtype=object)
    stray = parent != home.reindex(new_unit).to_numpy()
    parts_before = _part_counts(unit, a, n)
    _join_neighbours(
        stray,
        new_unit,
        parent,
        home,
        a,
        n,
        reason,
        lambda i, u: (
            f"lies in {to} {parent[i]}, outside {layer} {unit[i]}'s {to} {home[unit[i]]}; "
            f"joins neighbouring {layer} {u}"
        ),
    )
    # Pieces with no neighbour at home in their parent become new units, one
    # per connected piece.
    if stray.any():
        pieces = _components(np.where(stray, unit + "\x00" + parent, ""), a, n)
        for k, root in enumerate(pd.unique(pieces[stray])):
            members = np.flatnonzero(stray & (pieces == root))
            i = members[0]
            base = f"{unit[i]}-{parent[i]}"
            created = base if base not in set(new_unit) else f"{base}-{k + 1}"
            new_unit[members] = created
            reason[members] = (
                f"lies in {to} {parent[i]} where no neighbouring {layer} is at home; "
                f"forms new {layer} {created}"
            )
            home[created] = parent[i]
    # A unit that lost a bridge may fall apart: its cut-off pieces join a
    # neighbouring unit at home in the same parent.
    for _ in range(10):
        cut = _cut_off(new_unit, weight, a, n, parts_before)
        if not cut.any():
            break
        was = new_unit.copy()

        def cut_reason(i: int, u: str, was: np.ndarray = was) -> str:
            return (
                f"cut off from the rest of {layer} {was[i]} once straddling blocks moved; "
                f"joins neighbouring {layer} {u} in the same {to}"
            )

        _join_neighbours(cut, new_unit, parent, home, a, n, reason, cut_reason, other_unit=True)
        if (new_unit == was).all():
            break
    moved = np.flatnonzero(new_unit != unit)
    return pd.DataFrame(
        {
            "block": b["code"].to_numpy(dtype=object)[moved],
            "from_unit": unit[moved],
            "to_unit": new_unit[moved],
            "parent": parent[moved],
            "population": pop[moved],
            "area_m2": area[moved],
            "reason": reason[moved],
        },
        columns=MOVE_COLUMNS,
    )


def apply_moves(bset: BoundarySet, layer: str, blocks: str, moves: pd.DataFrame) -> BoundarySet:
    """Return a new set whose ``layer`` is rebuilt from its blocks after ``moves``.

    A lower-level companion of :func:`localitygeo.apply` for a table of moves
    (``block``, ``to_unit``, ``parent``) such as ``realign(...).moves``. Unit
    geometry is the union of its blocks, so neighbours share edges exactly.
    New units (codes absent before) are named after the parent in ``moves``
    and flagged ``new``. Only ``layer`` and ``blocks`` change; use
    :func:`localitygeo.apply` to rebuild the layers built from ``layer`` too.
    The input set is not modified.
    """
    assignment = block_assignment(bset, blocks, layer).copy()
    assignment.loc[moves["block"].to_numpy()] = moves["to_unit"].to_numpy()
    order = sorted(set(assignment))
    old = bset[layer].set_index("code")
    parent_of_new = moves.drop_duplicates("to_unit").set_index("to_unit")["parent"]
    names = [
        old["name"].get(c) if c in old.index else f"New {layer} in {parent_of_new[c]}"
        for c in order
    ]
    units = pd.DataFrame({"code": order, "name": names, "new": [c not in old.index for c in order]})
    assigned = bset[blocks].assign(**{layer: assignment.reindex(bset[blocks]["code"]).to_numpy()})
    out = _blocks.build_from_blocks(assigned, layer, units, layer=layer, source=bset.source)
    blocks_layer = bset[blocks].copy()
    if layer in blocks_layer.columns:
        blocks_layer[layer] = assignment.reindex(blocks_layer["code"]).to_numpy()
    return bset.with_layers(**{layer: out, blocks: blocks_layer})


def diff(
    before: BoundarySet,
    after: BoundarySet,
    layer: str,
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
        Its blocks (default: the layer it is built from in ``before``).
    population : str, default "population"
        Column of the blocks counted as population (zero when absent).

    Returns
    -------
    Diff
        ``(moved, units, layer, blocks)``: the blocks whose unit changed (``block``,
        ``from_unit``, ``to_unit``, ``population``, ``area_m2``) and, per
        unit, population and area before and after with absolute and
        percentage change and ``status`` (``"new"``, ``"removed"``,
        ``"changed"`` or ``"unchanged"``).
    """
    blocks = _blocks_layer(layer, blocks, before, after)
    a = block_assignment(before, blocks, layer)
    b = block_assignment(after, blocks, layer).reindex(a.index)
    blk = before[blocks].set_index("code").loc[a.index]
    pop = (
        parse_numbers(blk[population], population, layer=blocks, path=before.path).fillna(0)
        if population in blk.columns
        else pd.Series(0.0, index=a.index)
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
    pb = pop.groupby(a).sum().rename("population_before")
    pa = pop.groupby(b).sum().rename("population_after")
    ab = area.groupby(a).sum().rename("area_before")
    aa = area.groupby(b).sum().rename("area_after")
    units = pd.concat([pb, pa, ab, aa], axis=1).fillna(0.0)
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
