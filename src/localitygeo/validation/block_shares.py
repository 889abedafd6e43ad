"""Nesting judged through blocks: shares of a unit's blocks in each parent (internal).

When a child layer is built from blocks (LSOAs, output areas), its share in a
parent is the share of its blocks' area (or population) that lies there, the
ONS best-fit way; a block's own parent is its best fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from localitygeo.errors import ColumnError, DataError, GeometryError, format_codes
from localitygeo.geometry.fitting import assignment_table
from localitygeo.geometry.overlay import (
    OverlapTable,
)
from localitygeo.io.numbers import layer_numbers

if TYPE_CHECKING:
    import geopandas as gpd

    from localitygeo.model.boundary_set import NestingRule

__all__ = []


def _summed(
    ci: np.ndarray, pj: np.ndarray, value: np.ndarray, n_parent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``value`` over equal (child, parent) pairs."""
    key = ci.astype(np.int64) * max(n_parent, 1) + pj
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq // max(n_parent, 1), uniq % max(n_parent, 1), np.bincount(inv, weights=value)


def _unit_totals(ui: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    inside = ui >= 0
    return np.bincount(ui[inside], weights=value[inside], minlength=n)


def _check_area(child: gpd.GeoDataFrame, area: np.ndarray) -> None:
    if (area <= 0).any():
        codes = child["code"].to_numpy()[area <= 0]
        raise GeometryError(
            f"{len(codes)} unit(s) have zero area: {format_codes(codes)}",
            code=str(codes[0]),
        )


def _block_area_shares(
    child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame, bt: OverlapTable, ui: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Area shares of each child from its blocks' overlaps (``by="area"``)."""
    u_area = _unit_totals(ui, bt.source_area, len(child))
    _check_area(child, u_area)
    ok = ui[bt.si] >= 0
    ci, pj, inter = _summed(ui[bt.si[ok]], bt.tj[ok], bt.area[ok], len(parent))
    basis = np.full(len(child), "area", dtype=object)
    table = assignment_table(child, parent, ci, pj, inter / u_area[ci], basis)
    return table, u_area * (1.0 - table["share"].to_numpy(dtype=float))


def _block_weights(
    blocks: gpd.GeoDataFrame, layer: str, rule: NestingRule
) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Return the blocks' population for ``by="blocks"`` (None: weigh by area, with a note)."""
    col = rule.population
    if col not in blocks.columns:
        if col != "population":
            raise ColumnError(
                f"nesting rule {rule.id}: blocks layer '{layer}' has no column '{col}'; "
                f"columns are: {format_codes([c for c in blocks.columns if c != 'geometry'])}",
                layer=layer,
            )
        return None, (
            f"nesting rule {rule.id} (by blocks): layer '{layer}' has no 'population' "
            "column, so each unit's share is of its blocks' area",
        )
    w = layer_numbers(blocks, col, layer=layer)  # text that is not a number raises here
    bad = np.isnan(w) | (w < 0)
    if bad.any():
        codes = blocks["code"].to_numpy(dtype=object)[bad]
        raise DataError(
            f"nesting rule {rule.id}: column '{col}' of layer '{layer}' is missing or "
            f"negative for {int(bad.sum())} block(s): {format_codes(codes)}",
            layer=layer,
            code=str(codes[0]),
        )
    return w, ()


def _block_fit_shares(
    child: gpd.GeoDataFrame,
    parent: gpd.GeoDataFrame,
    block_table: pd.DataFrame,
    ui: np.ndarray,
    b_area: np.ndarray,
    weight: np.ndarray | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Shares of each child from its blocks' best-fit parents (``by="blocks"``)."""
    nc = len(child)
    people = weight if weight is not None else np.zeros(len(b_area))
    by_pop = _unit_totals(ui, people, nc) > 0
    inside = ui >= 0
    # each block weighs its population when its unit has people, else its area
    wb = np.where(inside & by_pop[np.where(inside, ui, 0)], people, b_area)
    bp = pd.Index(parent["code"].to_numpy(dtype=object)).get_indexer(
        block_table["parent_code"].to_numpy(dtype=object)
    )
    total = _unit_totals(ui, wb, nc)
    ok = inside & (bp >= 0)
    ci, pj, w = _summed(ui[ok], bp[ok], wb[ok], len(parent))
    denom = total[ci]
    share = np.divide(w, denom, out=np.zeros_like(w), where=denom > 0)
    basis = np.where(by_pop, "blocks-population", "blocks-area").astype(object)
    table = assignment_table(child, parent, ci, pj, share, basis)
    # area of each child's blocks whose best fit is not the child's best parent
    best = pd.Index(parent["code"].to_numpy(dtype=object)).get_indexer(
        table["parent_code"].to_numpy(dtype=object)
    )
    away = inside & (bp != best[np.where(inside, ui, 0)])
    outside = _unit_totals(np.where(away, ui, -1), b_area, nc)
    return table, outside
