"""What :func:`~localitygeo.impact` measures of one state of a layer (internal).

A layer's state in a boundary set (its units' population, compactness, parent
count and nesting judgements) is measured once; the layer's metrics and the
per-unit table compare two states. :func:`polsby_popper` is public.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from localitygeo.geometry.overlap_cache import OverlapCache
from localitygeo.io.numbers import layer_numbers
from localitygeo.model.blocks import finest_assignment
from localitygeo.validation.judgement import judge_nesting

if TYPE_CHECKING:
    from localitygeo.model.boundary_set import BoundarySet, NestingRule
    from localitygeo.validation.judgement import NestingJudgement

__all__ = ["METRIC_LABELS", "VARIANCE_THRESHOLD", "metric_kind", "metric_label", "polsby_popper"]


#: A unit is "out of balance" beyond this relative deviation from the mean.
VARIANCE_THRESHOLD = 0.10

#: The label of each kind of metric, for people only: the summary, the report
#: and every caller select metrics by their stable ``id`` (see :func:`metric_kind`).
METRIC_LABELS: dict[str, str] = {
    "units": "units",
    "mean_population": "mean population per unit",
    "share_off_mean": "units more than {threshold:.0%} from the mean population",
    "max_deviation": "largest deviation from the mean population",
    "mean_polsby_popper": "mean compactness (Polsby-Popper)",
    "min_polsby_popper": "least compact unit (Polsby-Popper)",
    "split": "units not within one {parent} ({basis})",
    "range": "{column}: range of unit means (highest minus lowest)",
    "between_share": "{column}: share of inequality between units",
}


def metric_kind(mid: str) -> str:
    """Return the kind of metric an id names: ``split:ward`` is ``split``, and so on."""
    return "share_off_mean" if mid.startswith("share_off_mean_") else mid.split(":", 1)[0]


def metric_label(mid: str, **params: Any) -> str:
    """Return the label of metric ``mid`` from :data:`METRIC_LABELS`, filled with ``params``."""
    return METRIC_LABELS[metric_kind(mid)].format(**params)


def polsby_popper(geoms: Any) -> np.ndarray:
    """Return 4πA / P² for each polygon (1 for a circle, near 0 for a thin strip).

    Parameters
    ----------
    geoms : array-like of shapely geometries
        Polygons in a projected CRS.

    Returns
    -------
    numpy.ndarray
        One value per geometry; NaN for an empty one.
    """
    g = np.asarray(geoms, dtype=object)
    area, perimeter = shapely.area(g), shapely.length(g)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * math.pi * area / perimeter**2, np.nan)


@dataclass
class _State:
    """One side (before or after) of a layer, measured on the finest blocks."""

    codes: pd.Index
    names: pd.Series
    of_block: pd.Series  # finest block code -> unit code
    population: pd.Series  # per unit
    area: pd.Series
    compactness: pd.Series
    parents: dict[str, pd.Series] = field(default_factory=dict)
    judged: dict[str, NestingJudgement] = field(default_factory=dict)
    indicators: dict[str, pd.Series] = field(default_factory=dict)
    between: dict[str, float] = field(default_factory=dict)


def _measure(
    bset: BoundarySet,
    layer: str,
    pop_col: str | None,
    indicators: list[str],
    cache: OverlapCache,
) -> _State:
    """Measure one side of ``layer``; ``cache`` keeps overlaps for the other side."""
    from localitygeo.aggregation.inequality import theil_decomposition
    from localitygeo.aggregation.transfer import aggregate

    finest, of_block = finest_assignment(bset.layers, bset.built_from, layer)
    blocks = bset[finest]
    units = bset[layer]
    codes = pd.Index(units["code"].to_numpy(dtype=object))
    pop_block = (
        pd.Series(layer_numbers(blocks, pop_col, finest, bset.path), index=of_block.index)
        if pop_col
        else pd.Series(0.0, index=of_block.index)
    )
    population = pop_block.groupby(of_block.to_numpy()).sum().reindex(codes, fill_value=0.0)
    geoms = np.asarray(units.geometry.array, dtype=object)
    state = _State(
        codes=codes,
        names=pd.Series(units["name"].to_numpy(dtype=object), index=codes),
        of_block=of_block,
        population=population,
        area=pd.Series(shapely.area(geoms), index=codes),
        compactness=pd.Series(polsby_popper(geoms), index=codes),
    )
    for rule in _rules_of(bset, layer):
        # validate's own judgement of the rule, so that split:<parent> is its count
        j = judge_nesting(bset, rule, cache=cache)
        state.judged[rule.parent] = j
        state.parents[rule.parent] = _parents_per_unit(j, codes)
    if indicators:
        data = blocks.set_index("code")[indicators + ([pop_col] if pop_col else [])]
        means = aggregate(
            data,
            blocks,
            units,
            extensive=[pop_col] if pop_col else [],
            intensive=indicators,
            weight=pop_col,
            method="best-fit",
        )
        weights = pop_block.to_numpy() if pop_col else shapely.area(blocks.geometry.array)
        for col in indicators:
            state.indicators[col] = means[col].reindex(codes)
            values = layer_numbers(blocks, col, finest, bset.path)
            ok = ~np.isnan(values)
            dec = theil_decomposition(values[ok], of_block.to_numpy()[ok], weights[ok])
            state.between[col] = float(dec.between_share)
    return state


def _rules_of(bset: BoundarySet, layer: str) -> list[NestingRule]:
    """Return the set's nesting rules with ``layer`` as child, one per parent (the first)."""
    seen: dict[str, NestingRule] = {}
    for rule in bset.nesting:
        if rule.child == layer and rule.parent != layer:
            seen.setdefault(rule.parent, rule)
    return list(seen.values())


def _parents_per_unit(j: NestingJudgement, codes: pd.Index) -> pd.Series:
    """Per unit, the number of parents its finest blocks' best fits lie in."""
    if j.block_table is not None and j.of_block is not None:
        fit = j.block_table.set_index("child_code")["parent_code"]
        frame = pd.DataFrame(
            {"unit": j.of_block.to_numpy(), "parent": fit.reindex(j.of_block.index).to_numpy()}
        )
        count = frame.dropna().groupby("unit")["parent"].nunique()
    else:  # membership: one parent (or none); geometry: the parents it overlaps
        t = j.table
        n = t["n_parents"] if j.method == "geometry" else t["parent_code"].notna().astype(int)
        count = pd.Series(n.to_numpy(), index=t["child_code"].to_numpy())
    return count.reindex(codes, fill_value=0).astype(int)


def _judged_by(rule: NestingRule, j: NestingJudgement) -> str:
    if j.method == "membership":
        return "by membership"
    if rule.by == "blocks":
        basis = set(j.table["basis"])
        return "by blocks' population" if basis == {"blocks-population"} else "by blocks"
    return "by area"


def judged_basis(j: NestingJudgement) -> str:
    """Return how a nesting judgement was made, e.g. ``"by area, tolerance 0.01"``."""
    return f"{_judged_by(j.rule, j)}, tolerance {j.rule.tolerance:g}"


def _deviation(pop: pd.Series) -> pd.Series:
    mean = pop.mean()
    return pop / mean - 1 if mean > 0 else pop * np.nan


def _layer_metrics(
    layer: str, a: _State, b: _State, pop_col: str | None, indicators: list[str]
) -> list[dict[str, Any]]:
    pct = round(100 * VARIANCE_THRESHOLD)
    rows: list[tuple[str, str, float, float]] = [
        ("units", metric_label("units"), len(a.codes), len(b.codes))
    ]
    if pop_col:
        da, db = _deviation(a.population), _deviation(b.population)
        rows += [
            (
                "mean_population",
                metric_label("mean_population"),
                a.population.mean(),
                b.population.mean(),
            ),
            (
                f"share_off_mean_{pct}pct",
                metric_label("share_off_mean", threshold=VARIANCE_THRESHOLD),
                float((da.abs() > VARIANCE_THRESHOLD).mean()),
                float((db.abs() > VARIANCE_THRESHOLD).mean()),
            ),
            (
                "max_deviation",
                metric_label("max_deviation"),
                float(da.abs().max()),
                float(db.abs().max()),
            ),
        ]
    rows += [
        (
            "mean_polsby_popper",
            metric_label("mean_polsby_popper"),
            a.compactness.mean(),
            b.compactness.mean(),
        ),
        (
            "min_polsby_popper",
            metric_label("min_polsby_popper"),
            a.compactness.min(),
            b.compactness.min(),
        ),
    ]
    for parent, ja in a.judged.items():
        jb = b.judged.get(parent)
        rows.append(
            (
                f"split:{parent}",
                metric_label("split", parent=parent, basis=judged_basis(ja)),
                len(ja.not_nested),
                len(jb.not_nested) if jb is not None else float("nan"),
            )
        )
    for col in indicators:
        rows.append(
            (
                f"range:{col}",
                metric_label("range", column=col),
                float(a.indicators[col].max() - a.indicators[col].min()),
                float(b.indicators[col].max() - b.indicators[col].min()),
            )
        )
        rows.append(
            (
                f"between_share:{col}",
                metric_label("between_share", column=col),
                a.between[col],
                b.between[col],
            )
        )
    return [
        {
            "layer": layer,
            "id": i,
            "metric": m,
            "before": float(x),
            "after": float(y),
            "change": float(y) - float(x),
        }
        for i, m, x, y in rows
    ]


def _unit_table(a: _State, b: _State, indicators: list[str]) -> pd.DataFrame:
    index = a.codes.append(b.codes[~b.codes.isin(a.codes)])
    t = pd.DataFrame(index=index)
    t.index.name = "unit"
    t["name"] = b.names.reindex(index).fillna(a.names.reindex(index))
    for what, x, y in (
        ("population", a.population, b.population),
        ("area_m2", a.area, b.area),
        ("deviation", _deviation(a.population), _deviation(b.population)),
        ("polsby_popper", a.compactness, b.compactness),
        *((f"parents_{p}", a.parents[p], b.parents.get(p)) for p in a.parents),
        *((c, a.indicators[c], b.indicators[c]) for c in indicators),
    ):
        t[f"{what}_before"] = x.reindex(index)
        t[f"{what}_after"] = None if y is None else y.reindex(index)
    t["population_change"] = t["population_after"].fillna(0) - t["population_before"].fillna(0)
    before = t["population_before"]
    t["population_change_pct"] = np.where(
        before > 0, 100 * t["population_change"] / before.where(before > 0, 1), np.nan
    )
    joined = pd.DataFrame({"a": a.of_block, "b": b.of_block.reindex(a.of_block.index)})
    moved = joined[joined["a"] != joined["b"]]
    touched = set(moved["a"]) | set(moved["b"])
    new, gone = ~index.isin(a.codes), ~index.isin(b.codes)
    t["status"] = np.select(
        [new, gone, index.isin(list(touched))], ["new", "removed", "changed"], "unchanged"
    )
    return t
