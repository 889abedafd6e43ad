"""Carry out a boundary-change proposal on a boundary set.

:func:`apply` works on layers built from blocks (see :mod:`localitygeo.model.blocks`):
every operation changes which unit a block belongs to, or a unit's code,
name or existence; the layers whose blocks changed are then rebuilt as
unions of their blocks, bottom up, so localities follow their
neighbourhoods. The input set is never modified.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from localitygeo.changes.proposal import Operation, Proposal, read_proposal
from localitygeo.errors import ProposalError, format_codes
from localitygeo.model.blocks import build_from_blocks, order_built

if TYPE_CHECKING:
    import geopandas as gpd

    from localitygeo.model.boundary_set import BoundarySet

__all__ = ["apply"]


class _Work:
    """The layers being changed, with what is stale."""

    def __init__(self, bset: BoundarySet, proposal: Proposal) -> None:
        self.bset = bset
        self.proposal = proposal
        self.frames: dict[str, gpd.GeoDataFrame] = dict(bset.layers)
        self.built_from: dict[str, str] = dict(bset.built_from)
        self.dirty: set[str] = set()
        self.moved: set[str] = set()  # layers whose units gained or lost blocks
        self.copied: set[str] = set()
        self.notes: list[str] = []
        self.op: Operation | None = None

    # -- helpers ---------------------------------------------------------
    def fail(self, message: str, *, layer: str | None = None, code: Any = None) -> ProposalError:
        label = self.op.label if self.op is not None else "proposal"
        return ProposalError(
            f"{label}: {message}",
            path=self.proposal.path,
            layer=layer,
            code=None if code is None else str(code),
        )

    def frame(self, key: str) -> gpd.GeoDataFrame:
        """Return layer ``key``, copied once before the first change."""
        if key not in self.frames:
            raise self.fail(f"no layer '{key}'; the set has: {', '.join(self.frames)}")
        if key not in self.copied:
            self.frames[key] = self.frames[key].copy()
            self.copied.add(key)
        return self.frames[key]

    def blocks_of(self, layer: str) -> str:
        self.frame(layer)
        below = self.built_from.get(layer)
        if below is None:
            raise self.fail(
                f"layer '{layer}' is not built from blocks; declare "
                f'blocks = "<finer layer>" in its [layers.{layer}] table',
                layer=layer,
            )
        return below

    def units(self, layer: str) -> pd.Index:
        return pd.Index(self.frames[layer]["code"].to_numpy(dtype=object))

    def need_units(self, layer: str, codes: list[str]) -> None:
        have = set(self.units(layer))
        unknown = [c for c in codes if c not in have]
        if unknown:
            raise self.fail(
                f"unknown {layer} unit(s) {format_codes(unknown)}", layer=layer, code=unknown[0]
            )

    def built_on(self, layer: str) -> list[str]:
        return [k for k, v in self.built_from.items() if v == layer]

    def add_unit(self, layer: str, code: str, like: str, name: str | None) -> None:
        """Append unit ``code`` to ``layer``, with the attributes of unit ``like``."""
        frame = self.frame(layer)
        if code in set(self.units(layer)):
            raise self.fail(f"{layer} {code} exists already", layer=layer, code=code)
        row = frame.loc[frame["code"] == like].iloc[[0]].copy()
        row["code"] = code
        row["name"] = name if name else code
        row["new"] = True
        if "new" not in frame.columns:
            frame["new"] = False
        self.frames[layer] = pd.concat([frame, row], ignore_index=True)
        self.dirty.add(layer)

    def drop_units(self, layer: str, codes: list[str]) -> None:
        frame = self.frame(layer)
        self.frames[layer] = frame.loc[~frame["code"].isin(codes)].reset_index(drop=True)
        self.dirty.add(layer)

    def set_assignment(
        self, layer: str, blocks: list[str], to: str, may_empty: frozenset[str] = frozenset()
    ) -> None:
        """Give ``blocks`` (codes of ``layer``'s blocks) to unit ``to``.

        No unit may be left without blocks, except those in ``may_empty``.
        """
        below = self.blocks_of(layer)
        bl = self.frame(below)
        have = bl["code"].to_numpy(dtype=object)
        unknown = sorted(set(blocks) - set(have))
        if unknown:
            raise self.fail(
                f"unknown {below} block(s) {format_codes(unknown)}", layer=below, code=unknown[0]
            )
        mask = bl["code"].isin(blocks).to_numpy()
        before = set(bl.loc[mask, layer])
        bl.loc[mask, layer] = to
        self.dirty.add(layer)
        self.moved.add(layer)
        left = set(bl[layer])
        emptied = sorted(before - left - {to} - may_empty)
        if emptied:
            raise self.fail(
                f"empties {layer} {format_codes(emptied)}; merge it instead, or keep a block in it",
                layer=layer,
                code=emptied[0],
            )

    def members(self, layer: str, unit: str) -> list[str]:
        bl = self.frames[self.blocks_of(layer)]
        return bl.loc[bl[layer] == unit, "code"].tolist()

    def rebuild(self) -> None:
        """Rebuild stale layers from their blocks, bottom up."""
        rebuilt: set[str] = set()
        for key in order_built(self.built_from):
            below = self.built_from[key]
            if key not in self.dirty and below not in rebuilt:
                continue
            bl = self.frames[below]
            unknown = sorted(set(bl[key]) - set(self.units(key)))
            if unknown:
                raise self.fail(f"leaves {below} blocks with unknown {key} {format_codes(unknown)}")
            units = self.frames[key]
            if "new" not in units.columns:  # every rebuilt layer flags its new units
                units = units.assign(new=False)
            self.frames[key] = build_from_blocks(bl, key, units, layer=key, source=self.bset.source)
            rebuilt.add(key)
        self.dirty.clear()

    def rebase(self, layer: str, blocks: str) -> None:
        """Rebuild ``layer`` from ``blocks`` (as :meth:`BoundarySet.with_blocks` does)."""
        self.frame(blocks)
        self.rebuild()
        was = self.built_from.get(layer)
        current = replace(self.bset, layers=dict(self.frames), built_from=dict(self.built_from))
        current = current.with_blocks(layer, blocks)
        self.frames, self.built_from = dict(current.layers), dict(current.built_from)
        self.copied.clear()
        self.moved.add(layer)
        self.notes.append(
            f"layer '{layer}' rebuilt from '{blocks}' blocks"
            + (f" (it was built from '{was}')" if was else "")
        )

    def drop_stale(self) -> None:
        """Drop columns naming a changed layer's units that no longer say how they nest.

        A column named after another layer holds that layer's codes (a
        lookup kept with the units). Unless it is the assignment a layer is
        built from, it is stale once either layer's units changed: blocks
        moved, or the layer is built from one whose blocks moved.
        """
        changed = set(self.moved)
        for key in order_built(self.built_from):
            if self.built_from[key] in changed:
                changed.add(key)
        for key in list(self.frames):
            frame = self.frames[key]
            stale = [
                c
                for c in frame.columns
                if c in self.frames
                and c != key
                and self.built_from.get(c) != key
                and (c in changed or key in changed)
            ]
            if stale:
                self.frames[key] = frame.drop(columns=stale)
                self.notes.append(
                    f"layer '{key}': dropped column(s) {', '.join(map(str, stale))}, "
                    "which the change made stale"
                )


def _reassign(w: _Work, op: Operation) -> None:
    layer, to, blocks = op["layer"], op["to"], list(op["blocks"])
    blocks_layer = op.get("blocks_layer")
    if blocks_layer is not None and w.built_from.get(layer) != blocks_layer:
        w.rebase(layer, blocks_layer)
    below = w.blocks_of(layer)
    if op.get("from") is not None:
        w.need_units(layer, [op["from"]])
        bl = w.frames[below]
        current = bl.set_index("code")[layer].reindex(blocks)
        wrong = current.index[current != op["from"]].tolist()
        if wrong:
            raise w.fail(
                f"block(s) {format_codes(wrong)} are not in {layer} {op['from']}",
                layer=below,
                code=wrong[0],
            )
    if op.get("new", False):
        bl = w.frames[below]
        first = bl.loc[bl["code"].isin(blocks), layer]
        if first.empty:
            raise w.fail(f"unknown {below} block(s) {format_codes(blocks)}", layer=below)
        w.add_unit(layer, to, like=first.iloc[0], name=op.get("name"))
    else:
        w.need_units(layer, [to])
    w.set_assignment(layer, blocks, to)


def _move(w: _Work, op: Operation) -> None:
    layer, unit, to = op["layer"], op["unit"], op["to"]
    w.need_units(layer, [unit])
    parent = op.get("parent")
    if parent is None:
        above = w.built_on(layer)
        if len(above) != 1:
            raise w.fail(
                f"no layer is built from '{layer}'"
                if not above
                else f"several layers are built from '{layer}' ({', '.join(above)}); "
                "say which with parent = ...",
                layer=layer,
            )
        parent = above[0]
    elif w.built_from.get(parent) != layer:
        raise w.fail(f"layer '{parent}' is not built from '{layer}'", layer=parent)
    w.need_units(parent, [to])
    rows = w.frames[layer]
    now = rows.loc[rows["code"] == unit, parent].iloc[0]
    if now == to:
        raise w.fail(f"{layer} {unit} is already in {parent} {to}", layer=layer, code=unit)
    w.set_assignment(parent, [unit], to)


def _merge(w: _Work, op: Operation) -> None:
    layer, units, into = op["layer"], list(dict.fromkeys(op["units"])), op["into"]
    w.need_units(layer, units)
    if len(units) < 2 and into in units:
        raise w.fail("merge needs at least two units", layer=layer)
    if into not in set(w.units(layer)):
        w.add_unit(layer, into, like=units[0], name=op.get("name"))
    elif op.get("name"):
        frame = w.frame(layer)
        frame.loc[frame["code"] == into, "name"] = op["name"]
    gone = [u for u in units if u != into]
    for unit in gone:
        w.set_assignment(layer, w.members(layer, unit), into, may_empty=frozenset(gone))
    _drop_keeping_parents(w, layer, gone)


def _drop_keeping_parents(w: _Work, layer: str, gone: list[str]) -> None:
    """Drop units of ``layer``; a parent (layer built from it) must not be left empty."""
    rows = w.frames[layer].set_index("code")
    was = {p: set(rows[p].reindex(gone).dropna()) for p in w.built_on(layer)}
    w.drop_units(layer, gone)
    for parent, before in was.items():
        left = set(w.frames[layer][parent])
        emptied = sorted(before - left)
        if emptied:
            raise w.fail(
                f"leaves {parent} {format_codes(emptied)} with no {layer}",
                layer=parent,
                code=emptied[0],
            )


def _split(w: _Work, op: Operation) -> None:
    layer, unit = op["layer"], op["unit"]
    w.need_units(layer, [unit])
    own = set(w.members(layer, unit))
    seen: set[str] = set()
    for part in op["parts"]:
        blocks = list(part["blocks"])
        outside = sorted(set(blocks) - own)
        if outside:
            raise w.fail(
                f"block(s) {format_codes(outside)} are not in {layer} {unit}",
                layer=layer,
                code=outside[0],
            )
        twice = sorted(seen & set(blocks))
        if twice:
            raise w.fail(f"block(s) {format_codes(twice)} are in two parts", code=twice[0])
        seen |= set(blocks)
        w.add_unit(layer, part["code"], like=unit, name=part.get("name"))
        w.set_assignment(layer, blocks, part["code"], may_empty=frozenset([unit]))
    if not w.members(layer, unit):
        _drop_keeping_parents(w, layer, [unit])


def _rename(w: _Work, op: Operation) -> None:
    layer, unit = op["layer"], op["unit"]
    w.need_units(layer, [unit])
    frame = w.frame(layer)
    row = frame["code"] == unit
    if op.get("name"):
        frame.loc[row, "name"] = op["name"]
    code = op.get("code")
    if code is not None and code != unit:
        if code in set(w.units(layer)):
            raise w.fail(f"{layer} {code} exists already", layer=layer, code=code)
        frame.loc[row, "code"] = code
        for key in list(w.frames):  # columns named after a layer hold its codes
            if layer in w.frames[key].columns and key != layer:
                other = w.frame(key)
                other[layer] = other[layer].replace({unit: code})
    w.dirty.add(layer)


def _realign(w: _Work, op: Operation) -> None:
    from localitygeo.changes.realignment import realign

    layer, to = op["layer"], op["to"]
    if op.get("blocks") is not None and w.built_from.get(layer) != op["blocks"]:
        w.rebase(layer, op["blocks"])
    w.rebuild()
    current = replace(w.bset, layers=dict(w.frames), built_from=dict(w.built_from))
    w.blocks_of(layer)
    sub = realign(
        current,
        layer,
        to,
        population=op.get("population", "population"),
        min_new=op.get("min_new"),
        keep=op.get("keep"),
    )
    n = len(sub.moves) if sub.moves is not None else 0
    w.notes.append(
        f"{w.op.label if w.op else 'realign'}: {n} {'block' if n == 1 else 'blocks'} moved "
        f"so every {layer} lies in one {to}"
    )
    for inner in sub.operations:  # errors still name the realign operation (w.op)
        _reassign(w, inner)


_HANDLERS = {
    "move": _move,
    "reassign": _reassign,
    "merge": _merge,
    "split": _split,
    "rename": _rename,
    "realign": _realign,
}


def apply(boundary_set: BoundarySet, proposal: Proposal | str | Path) -> BoundarySet:
    """Carry out a proposal and return the changed boundary set.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set as it is. It is not modified.
    proposal : Proposal, str or pathlib.Path
        A :class:`~localitygeo.changes.proposal.Proposal` or the path of a proposal
        file (read with :func:`~localitygeo.changes.proposal.read_proposal`).

    Returns
    -------
    BoundarySet
        A new set: changed layers are rebuilt from their blocks (so layers
        built from them follow), new units are flagged in a ``new`` column,
        and a note records the proposal.

    Raises
    ------
    ProposalError
        An operation names an unknown layer, unit or block, would empty a
        unit or leave a block without one; the message names the proposal
        file, the operation (its position and op) and the code.
    """
    if not isinstance(proposal, Proposal):
        proposal = read_proposal(proposal)
    w = _Work(boundary_set, proposal)
    for op in proposal.operations:
        w.op = op
        _HANDLERS[op.op](w, op)
    w.op = None
    w.rebuild()
    w.drop_stale()
    return replace(
        boundary_set,
        name=f"{boundary_set.name}, after '{proposal.name}'",
        layers=w.frames,
        built_from=w.built_from,
        notes=(*boundary_set.notes, f"applied proposal '{proposal.name}'", *w.notes),
    )
