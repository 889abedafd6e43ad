"""How :func:`localitygeo.realign` decides which blocks move (its algorithm, private).

Each unit keeps its *home* parent (the one holding most of its population);
blocks lying elsewhere move. Large pieces become new units; the others join a
neighbouring unit at home in their parent, wave by wave; pieces with no such
neighbour become new units; pieces a move cut off join a neighbour too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from localitygeo.errors import missing_column
from localitygeo.geometry.overlay import membership
from localitygeo.io.numbers import layer_numbers
from localitygeo.model import blocks as _blocks
from localitygeo.model.boundary_set import NestingRule

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet

MOVE_COLUMNS = ["block", "from_unit", "to_unit", "parent", "population", "area_m2", "reason"]

#: A piece cut off a straddling unit becomes a new unit of its own (rather than
#: joining a neighbour) only when it holds at least this share of the mean
#: unit's population (of its area where the blocks have no population): the
#: default of :func:`realign`'s ``min_new``.
MIN_NEW_SHARE = 0.5

#: :func:`realign`'s summary warns when the share of units more than
#: :data:`~localitygeo.changes.metrics.VARIANCE_THRESHOLD` from the mean population grows
#: by more than this (0.10: ten percentage points).
BALANCE_WARNING = 0.10


@dataclass
class Plan:
    """What :func:`plan_moves` decided, for the proposal and its summary."""

    moves: pd.DataFrame
    by_population: bool
    size_before: pd.Series  # per unit: population (area without one)
    size_after: pd.Series
    min_new: float
    new_units: list[str]
    small_new: list[str]  # new units below min_new: no neighbour was at home
    straddling: int  # blocks lying in more than one parent beyond the tolerance


#: Blocks are neighbours when this much of one's boundary (metres) lies within
#: :data:`NEAR_M` of the other: real small areas are generalised separately, so
#: neighbours overlap or leave slivers instead of touching exactly, while blocks
#: meeting at a corner share almost nothing.
MIN_SHARED_M = 5.0
NEAR_M = 1.0


def _adjacency(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return pairs (a, n) of blocks sharing an edge (both directions), vectorised."""
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=NEAR_M)
    a, b = a[a != b], b[a != b]
    near = shapely.buffer(geoms, NEAR_M, quad_segs=1)
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[a]), near[b]))
    keep = shared >= MIN_SHARED_M  # an edge, not a corner
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


def _block_parents(
    work: BoundarySet, layer: str, to: str, blocks: str
) -> tuple[np.ndarray, int, set[str]]:
    """Return each block's fitted parent, the straddling count and the units not nested.

    Blocks are fitted as :func:`judge_nesting` fits them; the units not nested
    are judged by the set's own rule when it has one.
    """
    from localitygeo.validation.judgement import judge_nesting

    own = next((r for r in work.nesting if r.child == layer and r.parent == to), None)
    rule = NestingRule(layer, to, own.tolerance if own else 0.01)
    j = judge_nesting(work, rule)
    # A unit the set's rule finds nested (its straddling blocks hold less than
    # the tolerance, e.g. nobody lives there) is left alone: validate agrees.
    judged = j if own is None or own == rule else judge_nesting(work, own)
    not_nested = {str(c) for c in judged.not_nested}
    codes = work[blocks]["code"]
    if j.blocks == blocks and j.block_table is not None:
        fit = j.block_table.set_index("child_code")["parent_code"]
        return fit.reindex(codes).to_numpy(dtype=object), len(j.block_straddles), not_nested
    fit = _blocks.block_assignment(work[blocks], work[to], to).reindex(codes)
    return fit.to_numpy(dtype=object), 0, not_nested


def _keep_of(work: BoundarySet, blocks: str, keep: str) -> np.ndarray:
    """Return the unit of ``keep`` each block lies in (by membership when the set says)."""
    up = membership(work.layers, work.built_from, blocks, keep)
    if up is not None:
        return up.to_numpy(dtype=object)
    fit = _blocks.block_assignment(work[blocks], work[keep], keep)
    return fit.reindex(work[blocks]["code"]).to_numpy(dtype=object)


def distinct(base: str, taken: set[str], sep: str = "-") -> str:
    """Return ``base``, or ``base<sep>2``, ``<sep>3``... the first not in ``taken`` (then taken)."""
    text, k = base, 2
    while text in taken:
        text, k = f"{base}{sep}{k}", k + 1
    taken.add(text)
    return text


def plan_moves(
    work: BoundarySet,
    layer: str,
    to: str,
    blocks: str,
    population: str,
    min_new: float | None,
    keep: str | None,
) -> Plan:
    """Plan which blocks of ``layer`` move so that every unit lies in one unit of ``to``."""
    b = work[blocks].reset_index(drop=True)
    unit = b[layer].to_numpy(dtype=object)
    parent, straddling, not_nested = _block_parents(work, layer, to, blocks)
    group = _keep_of(work, blocks, keep).astype(str) if keep else np.zeros(len(b), dtype=object)
    geoms = np.asarray(b.geometry.array, dtype=object)
    area = shapely.area(geoms)
    by_population = population in b.columns
    if by_population:
        pop = np.nan_to_num(layer_numbers(b, population, blocks, work.path), nan=0.0)
    elif population != "population":
        raise missing_column(
            population, b.columns, role="population", layer=blocks, path=work.file_of(blocks)
        )
    else:
        pop = np.full(len(b), np.nan)
    size = pop if by_population else area
    weight = (pop if by_population else 0) + area * 1e-9  # area decides where nobody lives
    located = pd.notna(parent)
    frame = pd.DataFrame({"unit": unit, "parent": parent, "w": weight})[located]
    totals = frame.groupby(["unit", "parent"])["w"].sum().reset_index()
    totals = totals.sort_values(["unit", "w", "parent"], ascending=[True, False, True])
    home = totals.drop_duplicates("unit").set_index("unit")["parent"]
    a, n = _adjacency(geoms)
    a, n = a[group[a] == group[n]], n[group[a] == group[n]]  # never across a kept boundary
    new_unit = unit.copy()
    reason = np.full(len(b), "", dtype=object)
    stray = located & (parent != home.reindex(unit).to_numpy(dtype=object))
    stray &= np.isin(unit.astype(str), list(not_nested))
    parts_before = _part_counts(unit, a, n)
    n_units = max(len(set(unit)), 1)
    threshold = float(min_new) if min_new is not None else MIN_NEW_SHARE * size.sum() / n_units
    taken = set(work[layer]["code"].astype(str))
    new_units: list[str] = []

    def found(members: np.ndarray, why: str) -> str:
        i = members[0]
        created = distinct(f"{unit[i]}-{parent[i]}", taken)
        new_unit[members] = created
        reason[members] = why.format(created=created)
        home[created] = parent[i]
        stray[members] = False
        new_units.append(created)
        return created

    # Large pieces cut off a straddling unit become units of their own.
    pieces = _components(np.where(stray, unit.astype(str) + "\x00" + parent.astype(str), ""), a, n)
    piece_size = pd.Series(size[stray]).groupby(pieces[stray]).sum()
    for root in pd.unique(pieces[stray]):
        if piece_size[root] >= threshold:
            i = np.flatnonzero(stray & (pieces == root))
            found(
                i,
                f"lies in {to} {parent[i[0]]}, outside {layer} {unit[i[0]]}'s {to} "
                f"{home[unit[i[0]]]}; a piece of {piece_size[root]:,.0f} (at least min_new "
                f"{threshold:,.0f}) forms new {layer} {{created}}",
            )
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
    # Pieces with no neighbour at home in their parent become new units: one
    # per connected piece of such blocks in one parent, whichever unit they left.
    small_new: list[str] = []
    if stray.any():
        left = _components(
            np.where(stray, parent.astype(str) + "\x00" + group.astype(str), ""), a, n
        )
        for root in pd.unique(left[stray]):
            i = np.flatnonzero(stray & (left == root))
            small_new.append(
                found(
                    i,
                    f"lies in {to} {parent[i[0]]} where no neighbouring {layer} is at home; "
                    f"forms new {layer} {{created}}",
                )
            )
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
    moves = pd.DataFrame(
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
    still = set(new_unit)
    return Plan(
        moves=moves,
        by_population=by_population,
        size_before=pd.Series(size).groupby(unit).sum(),
        size_after=pd.Series(size).groupby(new_unit).sum(),
        min_new=threshold,
        new_units=[u for u in new_units if u in still],
        small_new=[u for u in small_new if u in still],
        straddling=straddling,
    )
