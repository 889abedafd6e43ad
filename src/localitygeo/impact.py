"""What a boundary change does: impact metrics before and after.

:func:`impact` compares a boundary set before and after a proposal, layer by
layer, on the measures officers and boundary commissions report:

- **population per unit** and its deviation from the layer's mean: the share
  of units more than 10% from the average and the largest deviation, as the
  Local Government Boundary Commission for England reports electoral
  variance (any column can stand in for electorate);
- **Polsby-Popper compactness**, 4πA / P², 1 for a circle;
- **how many parent units** each unit is split across (each block counted in
  its own parent), for every nesting rule the layer is the child of;
- chosen **indicators** as population-weighted means per unit (through
  :func:`localitygeo.aggregate`) and the **between-unit share** of their
  inequality (Theil T, :func:`localitygeo.theil_decomposition`);
- the blocks that move and the people in them.

Everything is measured on the finest blocks (small areas), so population is
exact and conserved. The result renders as HTML, Markdown or JSON with
:mod:`localitygeo.impact_report`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from localitygeo.blocks import block_assignment, finest_assignment
from localitygeo.errors import ColumnError, ManifestError
from localitygeo.numbers import layer_numbers, parse_numbers

if TYPE_CHECKING:
    from localitygeo.boundaries import BoundarySet
    from localitygeo.proposal import Proposal

__all__ = ["VARIANCE_THRESHOLD", "Impact", "impact", "polsby_popper"]

#: A unit is "out of balance" beyond this relative deviation from the mean.
VARIANCE_THRESHOLD = 0.10


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


@dataclass(frozen=True)
class Impact:
    """The impact of a boundary change, from :func:`impact`.

    Attributes
    ----------
    name, description : str
        The proposal's.
    population : str or None
        The column counted as population (None when the blocks have none).
    finest : str
        The finest blocks measured on (e.g. ``small_area``).
    layers : list of str
        The layers compared.
    metrics : pandas.DataFrame
        One row per layer and measure: ``layer``, ``metric``, ``before``,
        ``after``, ``change``.
    units : dict of str to pandas.DataFrame
        Per layer, one row per unit (before or after) with name, population,
        area, deviation, compactness, parents and indicators before and after,
        the change and ``status`` (new, removed, changed, unchanged).
    moved : pandas.DataFrame
        Every finest block whose unit changed in some layer: ``layer``,
        ``block``, ``from_unit``, ``to_unit``, ``population``, ``area_m2``.
    summary : list of str
        Plain-language sentences, most important first.
    notes : list of str
        What was done (reprojections, blocks built, the proposal applied).
    """

    name: str
    description: str
    population: str | None
    finest: str
    layers: list[str]
    metrics: pd.DataFrame
    units: dict[str, pd.DataFrame]
    moved: pd.DataFrame
    summary: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the impact as JSON-ready data (what ``--format json`` writes)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return json.loads(frame.to_json(orient="records", double_precision=6))

        return {
            "name": self.name,
            "description": self.description,
            "population_column": self.population,
            "blocks": self.finest,
            "layers": self.layers,
            "summary": self.summary,
            "metrics": records(self.metrics),
            "moved": records(self.moved),
            "units": {k: records(v.reset_index()) for k, v in self.units.items()},
            "notes": self.notes,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


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
    indicators: dict[str, pd.Series] = field(default_factory=dict)
    between: dict[str, float] = field(default_factory=dict)


def _measure(
    bset: BoundarySet,
    layer: str,
    pop_col: str | None,
    indicators: list[str],
    fits: dict[tuple[str, int], pd.Series],
) -> _State:
    """Measure one side of ``layer``; ``fits`` caches blocks' best-fit parents across sides."""
    from localitygeo.aggregate import aggregate
    from localitygeo.inequality import theil_decomposition

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
    for rule in bset.nesting:
        if rule.child != layer or rule.parent == layer:
            continue
        if rule.parent in bset.built_from:
            _, parent_of = finest_assignment(bset.layers, bset.built_from, rule.parent)
        else:
            # apply never moves the finest blocks' geometry, and an unchanged parent
            # layer is the same frame before and after: fit each pair once
            key = (finest, id(bset[rule.parent]))
            if key not in fits:
                fits[key] = block_assignment(blocks, bset[rule.parent], rule.parent)
            parent_of = fits[key]
        frame = pd.DataFrame({"unit": of_block.to_numpy(), "parent": parent_of.to_numpy()})
        count = frame.dropna().groupby("unit")["parent"].nunique()
        state.parents[rule.parent] = count.reindex(codes, fill_value=0).astype(int)
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


def _deviation(pop: pd.Series) -> pd.Series:
    mean = pop.mean()
    return pop / mean - 1 if mean > 0 else pop * np.nan


def _layer_metrics(
    layer: str, a: _State, b: _State, pop_col: str | None, indicators: list[str]
) -> list[dict[str, Any]]:
    rows: list[tuple[str, float, float]] = [("units", len(a.codes), len(b.codes))]
    if pop_col:
        da, db = _deviation(a.population), _deviation(b.population)
        rows += [
            ("mean population", a.population.mean(), b.population.mean()),
            (
                f"share of units more than {VARIANCE_THRESHOLD:.0%} from the mean",
                float((da.abs() > VARIANCE_THRESHOLD).mean()),
                float((db.abs() > VARIANCE_THRESHOLD).mean()),
            ),
            ("largest deviation from the mean", float(da.abs().max()), float(db.abs().max())),
        ]
    rows += [
        ("mean Polsby-Popper compactness", a.compactness.mean(), b.compactness.mean()),
        ("least compact unit (Polsby-Popper)", a.compactness.min(), b.compactness.min()),
    ]
    for parent in a.parents:
        rows.append(
            (
                f"units split across more than one {parent}",
                int((a.parents[parent] > 1).sum()),
                int((b.parents.get(parent, a.parents[parent] * 0) > 1).sum()),
            )
        )
    for col in indicators:
        rows.append(
            (
                f"{col}: range of unit means",
                float(a.indicators[col].max() - a.indicators[col].min()),
                float(b.indicators[col].max() - b.indicators[col].min()),
            )
        )
        rows.append((f"{col}: between-{layer} share of inequality", a.between[col], b.between[col]))
    return [
        {
            "layer": layer,
            "metric": m,
            "before": float(x),
            "after": float(y),
            "change": float(y) - float(x),
        }
        for m, x, y in rows
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


def impact(
    before: BoundarySet,
    after: BoundarySet,
    proposal: Proposal | None = None,
    *,
    layers: Iterable[str] | None = None,
    population: str | None = "population",
    indicators: Iterable[str] = (),
) -> Impact:
    """Measure what a change does to each layer.

    Parameters
    ----------
    before, after : BoundarySet
        The set before and after the change (``after = lg.apply(before, p)``).
    proposal : Proposal, optional
        Names the change in the report.
    layers : iterable of str, optional
        Layers to compare (default: every layer built from blocks).
    population : str or None, default "population"
        Column of the finest blocks counted as population (or electorate).
        When the blocks have no such column, population measures are left
        out; naming another absent column is an error.
    indicators : iterable of str
        Columns of the finest blocks to average per unit (weighted by
        population) and to decompose by unit.

    Returns
    -------
    Impact
        Metrics per layer, per-unit tables, moved blocks and a plain-language
        summary.

    Raises
    ------
    ManifestError
        A layer is unknown or not built from blocks.
    ColumnError
        ``population`` or an indicator is not a column of the blocks.
    """
    chosen = list(layers) if layers is not None else list(after.built_from)
    if not chosen:
        raise ManifestError("no layer is built from blocks, so nothing can change", layer=None)
    for key in chosen:
        after[key]
        before[key]
        if key not in before.built_from or key not in after.built_from:
            raise ManifestError(
                f"layer '{key}' is not built from blocks, so its units cannot be measured "
                f"block by block; layers built from blocks: "
                f"{', '.join(after.built_from) or 'none'}",
                layer=key,
            )
    finest = finest_assignment(before.layers, before.built_from, chosen[0])[0]
    cols = set(before[finest].columns)
    pop_col = population if population in cols else None
    if population is not None and pop_col is None and population != "population":
        raise ColumnError(f"blocks have no column '{population}'", layer=finest)
    inds = list(indicators)
    absent = [c for c in inds if c not in cols]
    if absent:
        raise ColumnError(
            f"blocks have no column(s) {', '.join(absent)}; columns are: "
            f"{', '.join(sorted(map(str, cols - {'geometry'})))}",
            layer=finest,
        )
    metrics: list[dict[str, Any]] = []
    units: dict[str, pd.DataFrame] = {}
    moved_parts: list[pd.DataFrame] = []
    blocks = before[finest].set_index("code")
    block_area = blocks.geometry.area
    pop_block = (
        parse_numbers(blocks[pop_col], pop_col, layer=finest, path=before.path)
        if pop_col
        else block_area * 0
    )
    fits: dict[tuple[str, int], pd.Series] = {}
    for key in chosen:
        a = _measure(before, key, pop_col, inds, fits)
        b = _measure(after, key, pop_col, inds, fits)
        metrics += _layer_metrics(key, a, b, pop_col, inds)
        units[key] = _unit_table(a, b, inds)
        to = b.of_block.reindex(a.of_block.index)
        m = a.of_block != to
        moved_parts.append(
            pd.DataFrame(
                {
                    "layer": key,
                    "block": a.of_block.index[m],
                    "from_unit": a.of_block[m].to_numpy(),
                    "to_unit": to[m].to_numpy(),
                    "population": pop_block.reindex(a.of_block.index[m]).to_numpy(),
                    "area_m2": block_area.reindex(a.of_block.index[m]).to_numpy(),
                }
            )
        )
    moved = pd.concat(moved_parts, ignore_index=True)
    name = proposal.name if proposal is not None else after.name
    description = proposal.description if proposal is not None else ""
    result = Impact(
        name=name,
        description=description,
        population=pop_col,
        finest=finest,
        layers=chosen,
        metrics=pd.DataFrame(metrics, columns=["layer", "metric", "before", "after", "change"]),
        units=units,
        moved=moved,
        summary=[],
        notes=list(after.notes),
    )
    result.summary.extend(_summary(result, float(pop_block.sum())))
    return result


def _people(x: float) -> str:
    return f"{x:,.0f} {'person' if round(x) == 1 else 'people'}"


def _summary(im: Impact, total_pop: float) -> list[str]:
    out: list[str] = []
    first = im.layers[0]
    moved_first = im.moved[im.moved["layer"] == first]
    if moved_first.empty and im.moved.empty:
        return [f"'{im.name}' changes no boundary: no {im.finest} block moves."]
    for key in im.layers:
        mv = im.moved[im.moved["layer"] == key]
        t = im.units[key]
        if mv.empty:
            out.append(f"No {im.finest} block changes {key}.")
            continue
        counts = t["status"].value_counts()
        text = (
            f"{len(mv):,} {im.finest} block(s) change {key}"
            + (
                f", with {_people(mv['population'].sum())} "
                f"({100 * mv['population'].sum() / total_pop:.1f}% of the population)"
                if im.population and total_pop > 0
                else ""
            )
            + f"; {int(counts.get('changed', 0))} of {int((t['status'] != 'new').sum())} "
            f"{key} unit(s) change"
        )
        extra = [f"{int(counts[s])} {s}" for s in ("new", "removed") if counts.get(s, 0)]
        out.append(text + (f" ({', '.join(extra)})" if extra else "") + ".")
        if im.population:
            top = t[t["status"] != "unchanged"].copy()
            top = top.reindex(top["population_change"].abs().sort_values(ascending=False).index)
            items = [
                f"{code} {row['name']} ({row['population_change']:+,.0f}"
                + (
                    f", {row['population_change_pct']:+.1f}%)"
                    if not pd.isna(row["population_change_pct"])
                    else ", new)"
                )
                for code, row in top.head(3).iterrows()
            ]
            if items:
                out.append(f"Largest {key} changes: {'; '.join(items)}.")
    for row in im.metrics.itertuples():
        metric = str(row.metric)
        if metric.startswith("units split") and row.before != row.after:
            out.append(
                f"{metric.capitalize()} ({row.layer}): {row.before:.0f} before, "
                f"{row.after:.0f} after."
            )
        elif metric.startswith("share of units more than") and row.before != row.after:
            out.append(
                f"{row.layer.capitalize()} units more than {VARIANCE_THRESHOLD:.0%} from the "
                f"average population: {row.before:.0%} before, {row.after:.0%} after."
            )
        elif "between-" in metric:
            out.append(
                f"{metric.split(':')[0]}: {100 * row.before:.1f}% of inequality lies between "
                f"{row.layer} units before, {100 * row.after:.1f}% after."
            )
    return out
