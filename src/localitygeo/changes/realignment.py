"""Realign a layer built from blocks so that every unit nests in one parent.

This is the change Plymouth's 2011 review recommended: move neighbourhood
boundaries onto ward boundaries. Units (neighbourhoods) are unions of blocks
(small areas); each block lies in one parent (ward), the one holding most of
its area, as a nesting rule with ``by = "blocks"`` judges it.
:func:`realign` gives each unit a *home* parent — the one holding most of
its population — and moves every block lying in another parent to a
neighbouring unit whose home is that parent; a large piece, or one with no
such neighbour, becomes a new unit named after its parent (flagged ``new``).
The result is a
:class:`~localitygeo.changes.proposal.Proposal` of ``reassign`` operations, which
:func:`localitygeo.apply` carries out; :func:`diff` reports what moved and
how each unit changed.
"""

from __future__ import annotations

import pandas as pd

from localitygeo.changes.differences import _blocks_layer, moves_to_operations
from localitygeo.changes.planning import (
    BALANCE_WARNING,
    MIN_NEW_SHARE,
    MOVE_COLUMNS,
    Plan,
    plan_moves,
)
from localitygeo.changes.proposal import Proposal
from localitygeo.deprecation import renamed
from localitygeo.errors import ManifestError, format_codes
from localitygeo.model.boundary_set import BoundarySet

__all__ = [
    "BALANCE_WARNING",
    "MIN_NEW_SHARE",
    "MOVE_COLUMNS",
    "realign",
]


@renamed(bset="boundary_set")
def realign(
    boundary_set: BoundarySet,
    layer: str,
    to: str,
    *,
    blocks: str | None = None,
    population: str = "population",
    min_new: float | None = None,
    keep: str | None = None,
    balance_warning: float = BALANCE_WARNING,
) -> Proposal:
    """Propose block moves that make every unit of ``layer`` nest in ``to``.

    Nesting is judged by blocks, as a ``[[nesting]]`` rule with
    ``by = "blocks"`` judges it (:func:`localitygeo.judge_nesting`): each
    block counts wholly towards the parent holding most of its area, and a
    unit nests when all its blocks' parent is the same. After
    :func:`localitygeo.apply` of the proposal on ``boundary_set``, such a rule
    reports no unit of ``layer`` not nested in ``to``.

    Parameters
    ----------
    boundary_set : BoundarySet
        Holds ``layer`` (units), ``to`` (parents) and the blocks.
    layer, to : str
        Layer keys.
    blocks : str, optional
        The layer of blocks. Default: the one ``layer`` is built from (a
        manifest's ``blocks = ...``). When given for a layer that is not
        built from it, ``layer`` is first rebuilt from these blocks (each
        block's unit is its column named ``layer`` or its best-fit unit), as
        :func:`localitygeo.apply` does too: the proposal's operations say so
        (``blocks_layer``).
    population : str, default "population"
        Column of the blocks to minimise the population moved and to
        measure balance; area when the column is absent (the summary says
        so).
    min_new : float, optional
        A piece cut off a straddling unit joins a neighbouring unit at home
        in its parent, unless it holds at least ``min_new`` people (square
        metres without a population column): then it becomes a new unit.
        Default: :data:`MIN_NEW_SHARE` (half) of the mean unit's. A piece
        with no such neighbour becomes a new unit whatever its size.
    keep : str, optional
        A layer whose units every block keeps (``"locality"``): a block
        only ever moves to a unit in the same unit of ``keep``, so that
        layer's boundaries do not move.
    balance_warning : float, default 0.10
        The summary warns when the share of units more than 10% from the
        mean population grows by more than this.

    Returns
    -------
    Proposal
        ``reassign`` operations, one per pair of units (a new unit's first
        one with ``new = true`` and a distinct ``name``), each with its
        ``reason`` and ``blocks_layer``; ``.moves`` lists every block moved:
        ``block``, ``from_unit``, ``to_unit``, ``parent`` (the parent the
        block lies in), ``population`` (NaN without a population column),
        ``area_m2`` and ``reason``; ``.summary`` (also the description) says
        how nesting was judged, the people moved and the balance before and
        after. It has no operation when the layer already nests, so a second
        run on the realigned set proposes nothing.

    Raises
    ------
    ManifestError
        ``blocks`` is not given and ``layer`` is not built from blocks, or
        ``keep`` is not another layer.
    ColumnError
        ``population`` is not ``"population"`` and the blocks lack it.
    """
    blocks = _blocks_layer(layer, blocks, boundary_set)
    for key in (layer, to, blocks, *((keep,) if keep else ())):
        boundary_set[key]
    if keep is not None and keep in (layer, blocks):
        raise ManifestError(
            f"keep = '{keep}' must be a layer above '{layer}' (such as its localities)",
            path=boundary_set.path,
            layer=keep,
        )
    work = (
        boundary_set
        if boundary_set.built_from.get(layer) == blocks
        else boundary_set.with_blocks(layer, blocks)
    )
    plan = plan_moves(work, layer, to, blocks, population, min_new, keep)
    summary = _summary(plan, layer, to, blocks, population, keep, balance_warning)
    return Proposal(
        name=f"Realign {layer} onto {to}",
        description="\n".join(summary),
        operations=moves_to_operations(work, plan.moves, layer, to, blocks),
        moves=plan.moves,
        summary=tuple(summary),
    )


def _share_off(size: pd.Series) -> tuple[float, float]:
    """Share of units more than the variance threshold from the mean, and the largest deviation."""
    from localitygeo.changes.metrics import VARIANCE_THRESHOLD

    mean = size.mean()
    if not len(size) or not mean > 0:
        return float("nan"), float("nan")
    dev = (size / mean - 1).abs()
    return float((dev > VARIANCE_THRESHOLD).mean()), float(dev.max())


def _summary(
    plan: Plan,
    layer: str,
    to: str,
    blocks: str,
    population: str,
    keep: str | None,
    balance_warning: float,
) -> list[str]:
    moves = plan.moves
    judged = (
        f"judged by blocks (each {blocks} block wholly in the {to} holding most of its area; "
        f'a nesting rule {layer}->{to} with by = "blocks" judges the same)'
    )
    if moves.empty:
        return [f"Every {layer} already lies in one {to}, {judged}: nothing to move."]
    amount = (
        f"{moves['population'].sum():,.0f} people"
        if plan.by_population
        else f"{moves['area_m2'].sum() / 10_000:,.1f} ha"
    )
    from localitygeo.changes.wording import count, nouns

    block_nouns = nouns(blocks.replace("_", " "))
    unit_nouns = nouns(layer.replace("_", " "))
    out = [
        f"Moves {count(len(moves), *block_nouns)} ({amount}) out of "
        f"{count(moves['from_unit'].nunique(), *unit_nouns)} so that every "
        f"{unit_nouns[0]} lies in one {nouns(to.replace('_', ' '))[0]}, {judged}."
    ]
    if not plan.by_population:
        out.append(
            f"Layer '{blocks}' has no '{population}' column: blocks are weighed by area, "
            "and balance below is of area, not people."
        )
    if plan.new_units:
        unit = "people" if plan.by_population else "m²"
        big = [u for u in plan.new_units if u not in plan.small_new]
        parts = []
        if big:
            parts.append(
                f"{len(big)} piece(s) of at least {plan.min_new:,.0f} {unit} (min_new) "
                f"become units of their own ({format_codes(big)})"
            )
        if plan.small_new:
            where = f"{to} and {keep}" if keep else to
            parts.append(
                f"{len(plan.small_new)} smaller piece(s) have no neighbouring {layer} at home "
                f"in their {where} ({format_codes(plan.small_new)})"
            )
        out.append(f"{len(plan.new_units)} new {layer} unit(s): {'; '.join(parts)}.")
    if keep:
        out.append(f"Every block stays in its {keep}: no {keep} boundary moves.")
    what = "population" if plan.by_population else "area"
    share_b, dev_b = _share_off(plan.size_before)
    share_a, dev_a = _share_off(plan.size_after)
    out.append(
        f"{layer.capitalize()} units more than 10% from the mean {what}: {share_b:.0%} before, "
        f"{share_a:.0%} after (largest deviation {dev_b:.0%} before, {dev_a:.0%} after)."
    )
    if share_a - share_b > balance_warning:
        out.append(
            f"Warning: balance gets worse: {100 * (share_a - share_b):.0f} more percentage "
            f"points of {layer} units are more than 10% from the mean {what} "
            f"(warning beyond {100 * balance_warning:.0f})."
        )
    if plan.straddling:
        out.append(
            f"{plan.straddling} {blocks} block(s) themselves lie in more than one {to} "
            f'(validate\'s block-straddles): judged by area (by = "area"), {layer} units '
            "holding them may still not nest."
        )
    return out
