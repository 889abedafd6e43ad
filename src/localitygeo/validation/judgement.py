"""The nesting judgement: whether each unit of a child layer lies in one parent unit.

:func:`judge_nesting` is the one judgement behind ``validate``'s
``not-nested``, ``orphan`` and ``block-straddles`` findings. Anything else
that counts units "split across parents" (impact's ``split:<parent>``)
calls it too, so that its counts are validate's.

How a child's share in a parent is measured depends on what the boundary
set knows:

``membership``
    The parent is built from the child's units (localities from
    neighbourhoods, or transitively from their small areas): every child
    unit lies wholly in its own parent by construction and nothing is
    measured.
``blocks``
    The child is built from blocks (neighbourhoods from small areas): the
    shares come from the finest blocks' own overlaps with the parent,
    through membership. With ``by="area"`` a child's share in a parent is
    the share of its blocks' area lying there (the same number an overlay
    of the child's union gives, without measuring the union); with
    ``by="blocks"`` each block counts wholly towards its own best-fit parent
    and the child's share is the share of its blocks' population there (of
    their area where the blocks layer has no population column, or the
    child's blocks hold nobody), as ONS judges best fit.
``geometry``
    Otherwise the child's own geometry is overlaid with the parent
    (:func:`localitygeo.best_fit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from localitygeo.errors import ManifestError
from localitygeo.geometry.fitting import Progress, assignment_table, best_fit
from localitygeo.geometry.overlap_cache import OverlapCache
from localitygeo.geometry.overlay import membership, membership_table, overlap_table
from localitygeo.validation.block_shares import (
    _block_area_shares,
    _block_fit_shares,
    _block_weights,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from localitygeo.model.boundary_set import BoundarySet, NestingRule

__all__ = ["METHODS", "NestingJudgement", "judge_nesting", "usable", "usable_mask"]

#: How :func:`judge_nesting` measured a rule (``NestingJudgement.method``).
METHODS = ("membership", "blocks", "geometry")


@dataclass(frozen=True)
class NestingJudgement:
    """What :func:`judge_nesting` found for one nesting rule.

    Attributes
    ----------
    rule : NestingRule
        The rule judged.
    table : pandas.DataFrame
        One row per child unit that can be measured (a code, first of
        duplicates, and a geometry), in the child layer's order, with the
        columns of :data:`localitygeo.geometry.fitting.ASSIGNMENT_COLUMNS`:
        ``child_code``, ``parent_code`` (missing for a child in no parent),
        ``share``, ``runner_up_code``, ``runner_up_share``,
        ``outside_share``, ``n_parents`` and ``basis`` (``"area"``,
        ``"membership"``, ``"blocks-population"`` or ``"blocks-area"``).
    outside_area : pandas.Series
        Per child code, the area in square metres outside its best parent
        (for ``by="blocks"``: of its blocks whose best fit is elsewhere).
    method : str
        ``"membership"``, ``"blocks"`` or ``"geometry"`` (see the module).
    blocks : str or None
        The finest blocks layer the child is built from, if it is.
    of_block : pandas.Series or None
        Per finest block code, its child unit (when ``blocks`` is set).
    block_table : pandas.DataFrame or None
        Per finest block, its own assignment to the parent (same columns as
        ``table``; basis ``"area"``, or ``"membership"`` when the parent is
        built from those blocks). None when the parent is built from the
        child.
    notes : tuple of str
        What the judgement had to decide (an area fallback), for reports.
    """

    rule: NestingRule
    table: pd.DataFrame
    outside_area: pd.Series
    method: str
    blocks: str | None = None
    of_block: pd.Series | None = None
    block_table: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    @property
    def not_nested(self) -> pd.Index:
        """Return the codes of children with less than ``1 - tolerance`` in their best parent.

        Children in no parent are orphans, not counted here; a child exactly
        on the threshold is nested.
        """
        t = self.table
        bad = t["parent_code"].notna() & (t["share"] < 1.0 - self.rule.tolerance)
        return pd.Index(t.loc[bad, "child_code"].to_numpy(dtype=object))

    @property
    def orphans(self) -> pd.Index:
        """Return the codes of children in no parent at all."""
        t = self.table
        return pd.Index(t.loc[t["parent_code"].isna(), "child_code"].to_numpy(dtype=object))

    @property
    def block_straddles(self) -> pd.Index:
        """Return the codes of blocks lying in more than one parent beyond the tolerance.

        A block straddles when the share of it lying in parents other than
        its best exceeds the rule's tolerance (a block partly in no parent,
        at a coast, does not straddle for that part).
        """
        t = self.block_table
        if t is None:
            return pd.Index([], dtype=object)
        others = 1.0 - t["share"] - t["outside_share"]
        bad = (t["n_parents"] > 1) & (others > self.rule.tolerance)
        return pd.Index(t.loc[bad, "child_code"].to_numpy(dtype=object))


def usable_mask(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Rows that can be measured: a code (the first of duplicates) and a geometry."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & gdf["code"].notna().to_numpy()
    first = ~gdf["code"].where(ok).duplicated().to_numpy()
    return np.asarray(ok & first, dtype=bool)


def usable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the rows of :func:`usable_mask`."""
    return gdf.loc[usable_mask(gdf)]


def judge_nesting(
    boundary_set: BoundarySet,
    rule: NestingRule,
    *,
    cache: OverlapCache | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> NestingJudgement:
    """Judge whether each unit of ``rule.child`` lies in one unit of ``rule.parent``.

    This is the judgement ``validate`` reports as ``not-nested``, ``orphan``
    and ``block-straddles``: ``len(judge_nesting(bset, rule).not_nested)`` is
    the number of ``not-nested`` findings ``validate(bset)`` reports for the
    rule, whatever its ``by``.

    Parameters
    ----------
    boundary_set : BoundarySet
        The set holding both layers; its ``built_from`` says which layers are
        built from blocks. It is not modified.
    rule : NestingRule
        The rule (child, parent, tolerance, ``by``, ``population``). It need
        not be one of the set's own rules.
    cache : OverlapCache, optional
        Overlap tables to reuse and fill: pass one cache to several calls
        (rules sharing a blocks and parent layer, or the sets before and
        after a change whose blocks and parents did not move) and each pair
        of layers is measured once.
    threads : int, optional
        Worker threads for the area engine.
    progress : callable, optional
        Called as ``progress(done, total)`` while areas are measured.

    Returns
    -------
    NestingJudgement
        ``.table`` (one row per measurable child unit, the columns of
        ``best_fit``), ``.not_nested`` and ``.orphans`` (child codes),
        ``.block_table`` and ``.block_straddles`` (the child's finest blocks
        in the parent), ``.method`` and ``.notes``.

    Raises
    ------
    ManifestError
        A layer is not in the set, or ``rule.by == "blocks"`` and the child
        is not built from blocks.
    ColumnError
        ``rule.population`` is not ``"population"`` and the blocks layer has
        no such column (the default falls back to area, with a note).
    DataError
        The blocks' population is missing, non-numeric or negative.
    GeometryError, CRSError
        As for :func:`localitygeo.best_fit`.

    Notes
    -----
    Without a population column (or for a child whose blocks hold nobody),
    ``by="blocks"`` weighs blocks by area, and the table's ``basis`` says
    ``"blocks-area"``. Under population shares a block nobody lives in
    counts for nothing, wherever it lies.
    """
    bset = boundary_set
    bset[rule.child]
    bset[rule.parent]
    child_all = bset[rule.child]
    child = child_all.loc[usable_mask(child_all)]
    parent = usable(bset[rule.parent])
    names = (f"layer '{rule.child}'", f"layer '{rule.parent}'")
    up = membership(bset.layers, bset.built_from, rule.child, rule.parent)
    if up is not None:
        unit_of = pd.Index(up.to_numpy(dtype=object)[usable_mask(child_all)], dtype=object)
        tj = pd.Index(parent["code"].to_numpy(dtype=object)).get_indexer(unit_of)
        si = np.flatnonzero(tj >= 0)
        basis = np.full(len(child), "membership", dtype=object)
        table = assignment_table(child, parent, si, tj[si], np.ones(len(si)), basis)
        outside = pd.Series(0.0, index=table["child_code"].to_numpy(dtype=object))
        return NestingJudgement(rule, table, outside, "membership")
    finest = _finest(bset, rule.child)
    if finest is not None:
        return _from_blocks(bset, rule, finest, child, parent, cache, threads, progress)
    if rule.by == "blocks" and rule.child in bset.built_from:
        below = bset.built_from[rule.child]
        raise ManifestError(
            f'nesting rule {rule.id} has by = "blocks", but the blocks of layer '
            f"'{rule.child}' cannot be traced: layer '{below}' (or one below it) has no "
            "column naming each block's unit",
            path=bset.path,
            layer=rule.child,
        )
    if rule.by == "blocks":
        raise ManifestError(
            f"nesting rule {rule.id} has by = \"blocks\", but layer '{rule.child}' is not "
            "built from blocks; declare its blocks (blocks = ... in its manifest table, or "
            'BoundarySet.with_blocks) or judge it by = "area"',
            path=bset.path,
            layer=rule.child,
        )
    t = overlap_table(child, parent, threads=threads, progress=progress, names=names, cache=cache)
    table = best_fit(child, parent, table=t)
    outside = pd.Series(
        t.source_area * (1.0 - table["share"].to_numpy(dtype=float)),
        index=table["child_code"].to_numpy(dtype=object),
    )
    return NestingJudgement(rule, table, outside, "geometry")


def _finest(bset: BoundarySet, layer: str) -> str | None:
    """Return the finest blocks ``layer`` is built from (None: not built, or not traceable)."""
    chain = [layer]
    while chain[-1] in bset.built_from and len(chain) <= len(bset.built_from):
        chain.append(bset.built_from[chain[-1]])
    finest = chain[-1]
    if finest == layer or membership(bset.layers, bset.built_from, finest, layer) is None:
        return None
    return finest


def _from_blocks(
    bset: BoundarySet,
    rule: NestingRule,
    finest: str,
    child: gpd.GeoDataFrame,
    parent: gpd.GeoDataFrame,
    cache: OverlapCache | None,
    threads: int | None,
    progress: Progress | None,
) -> NestingJudgement:
    """Judge a child built from blocks from its finest blocks' own overlaps with the parent."""
    blocks_all = bset[finest]
    keep = usable_mask(blocks_all)
    blocks = blocks_all.loc[keep]
    of_block_all = membership(bset.layers, bset.built_from, finest, rule.child)
    assert of_block_all is not None  # the child is built from these blocks
    unit_of = of_block_all.to_numpy(dtype=object)[keep]
    names = (f"layer '{finest}'", f"layer '{rule.parent}'")
    block_up = membership(bset.layers, bset.built_from, finest, rule.parent)
    if block_up is not None:  # the parent is built from the same blocks
        bt = membership_table(
            blocks, parent, block_up.to_numpy(dtype=object)[keep], names, measure_target=False
        )
    else:
        bt = overlap_table(
            blocks, parent, threads=threads, progress=progress, names=names, cache=cache
        )
    b_area = bt.source_area
    block_basis = "membership" if bt.basis == "membership" else "area"
    block_table = assignment_table(
        blocks,
        parent,
        bt.si,
        bt.tj,
        bt.area / b_area[bt.si],
        np.full(len(blocks), block_basis, dtype=object),
    )
    ccodes = child["code"].to_numpy(dtype=object)
    ui = pd.Index(ccodes).get_indexer(pd.Index(unit_of, dtype=object))
    notes: tuple[str, ...] = ()
    if rule.by == "area":
        table, outside = _block_area_shares(child, parent, bt, ui)
    else:
        weight, notes = _block_weights(blocks, finest, rule)
        table, outside = _block_fit_shares(child, parent, block_table, ui, b_area, weight)
    return NestingJudgement(
        rule,
        table,
        pd.Series(outside, index=ccodes),
        "blocks",
        blocks=finest,
        of_block=pd.Series(unit_of, index=blocks["code"].to_numpy(dtype=object), name=rule.child),
        block_table=block_table,
        notes=notes,
    )
