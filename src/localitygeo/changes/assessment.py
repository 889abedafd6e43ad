"""What a boundary change does: impact metrics before and after.

:func:`impact` compares a boundary set before and after a proposal, layer by
layer, on the measures officers and boundary commissions report:

- **population per unit** and its deviation from the layer's mean: the share
  of units more than 10% from the average and the largest deviation, as the
  Local Government Boundary Commission for England reports electoral
  variance (any column can stand in for electorate);
- **Polsby-Popper compactness**, 4πA / P², 1 for a circle;
- **units not nested** in one parent unit, for every nesting rule the layer
  is the child of, judged as ``validate`` judges that rule
  (:func:`localitygeo.judge_nesting`, by area or by blocks): metric
  ``split:<parent>`` before and after is the number of ``not-nested``
  findings ``validate`` reports for the rule on the set before and after;
- chosen **indicators** as population-weighted means per unit (through
  :func:`localitygeo.aggregate`) and the **between-unit share** of their
  inequality (Theil T, :func:`localitygeo.theil_decomposition`);
- the blocks that move and the people in them.

Everything is measured on the finest blocks (small areas), so population is
exact and conserved. The result renders as HTML, Markdown or JSON with
:mod:`localitygeo.changes.report`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from localitygeo.changes.metrics import (
    VARIANCE_THRESHOLD,
    _layer_metrics,
    _measure,
    _unit_table,
    judged_basis,
    polsby_popper,
)
from localitygeo.changes.wording import straddle_line, summary
from localitygeo.errors import ColumnError, ManifestError, missing_column
from localitygeo.geometry.overlap_cache import OverlapCache
from localitygeo.io.numbers import parse_numbers
from localitygeo.model.blocks import finest_assignment

if TYPE_CHECKING:
    from localitygeo.changes.proposal import Proposal
    from localitygeo.model.boundary_set import BoundarySet

__all__ = ["VARIANCE_THRESHOLD", "Impact", "impact", "polsby_popper"]


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
        One row per layer and measure: ``layer``, ``id`` (stable: ``units``,
        ``mean_population``, ``share_off_mean_10pct``, ``max_deviation``,
        ``mean_polsby_popper``, ``min_polsby_popper``, ``split:<parent>``,
        ``range:<indicator>``, ``between_share:<indicator>``: select by it),
        ``metric`` (its label, for display only: from
        :data:`~localitygeo.changes.metrics.METRIC_LABELS`), ``before``,
        ``after``, ``change``.
    units : dict of str to pandas.DataFrame
        Per layer, one row per unit (before or after) with name, population,
        area, deviation, compactness, parents and indicators before and after,
        the change and ``status`` (new, removed, changed, unchanged).
    moved : pandas.DataFrame
        Every finest block whose unit changed in some layer: ``layer``,
        ``block``, ``block_name``, ``from_unit``, ``from_name``, ``to_unit``,
        ``to_name``, ``population``, ``area_m2`` (names missing where the layer
        has none).
    summary : list of str
        Plain-language sentences, most important first; a sentence warning that
        population balance gets worse starts with ``"Warning:"``.
    notes : list of str
        What was done (reprojections, blocks built, the proposal applied).
    titles : dict of str to str
        Per layer key (the compared layers and the blocks), its human title
        from the manifest (e.g. ``"Neighbourhoods"``), else a readable key.
    judged : dict of str to str
        Per nesting rule of the compared layers (``"child->parent"``), how it
        is judged (``"by area, tolerance 0.01"``), for the ``split:`` metrics.
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
    titles: dict[str, str] = field(default_factory=dict)
    judged: dict[str, str] = field(default_factory=dict)

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
            "titles": self.titles,
            "summary": self.summary,
            "metrics": records(self.metrics),
            "moved": records(self.moved),
            "units": {k: records(v.reset_index()) for k, v in self.units.items()},
            "notes": self.notes,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as JSON text.

        Parameters
        ----------
        indent : int or None, default 2
            Indentation, or None for one line.

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


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
        if key not in after.built_from:
            raise ManifestError(
                f"layer '{key}' is not built from blocks, so its units cannot be measured "
                f"block by block; layers built from blocks: "
                f"{', '.join(after.built_from) or 'none'}",
                layer=key,
            )
    notes: list[str] = []
    for key in chosen:
        # a proposal may rebuild a layer from other blocks (realign blocks="oa"):
        # measure the set before as built from them too, as apply did
        now = after.built_from[key]
        was = before.built_from.get(key)
        if was != now:
            notes.append(
                f"layer '{key}' is built from '{now}' after the change"
                + (f", from '{was}' before" if was else "")
                + f": measured before as built from '{now}' too"
            )
            before = before.with_blocks(key, now)
    finest = finest_assignment(before.layers, before.built_from, chosen[0])[0]
    cols = set(before[finest].columns)
    pop_col = population if population in cols else None
    if population is not None and pop_col is None:
        notes.append(
            f"layer '{finest}' has no '{population}' column: population measures are left "
            "out (nobody is counted, not zero people)"
        )
    if population is not None and pop_col is None and population != "population":
        raise missing_column(
            population, cols, role="population", layer=finest, path=before.file_of(finest)
        )
    inds = list(indicators)
    absent = [c for c in inds if c not in cols]
    if absent:
        raise ColumnError(
            f"blocks have no column(s) {', '.join(absent)}; columns are: "
            f"{', '.join(sorted(map(str, cols - {'geometry'})))}",
            layer=finest,
            path=before.file_of(finest),
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
    extra: list[str] = []
    rules: dict[tuple[str, str], str] = {}
    titles = _titles(after, [finest, *chosen])
    block_names = blocks["name"] if "name" in blocks.columns else pd.Series(dtype=object)
    cache = OverlapCache()  # the blocks and fixed parents are the same before and after
    for key in chosen:
        a = _measure(before, key, pop_col, inds, cache)
        b = _measure(after, key, pop_col, inds, cache)
        for j in (*a.judged.values(), *b.judged.values()):
            notes.extend(n for n in j.notes if n not in notes)
        for parent, j in b.judged.items():
            rules[(key, parent)] = judged_basis(j)
            straddle = j.block_straddles
            if j.rule.by == "area" and len(straddle) and len(j.not_nested):
                extra.append(straddle_line(titles, key, j.blocks or finest, parent, len(straddle)))
        metrics += _layer_metrics(key, a, b, pop_col, inds)
        units[key] = _unit_table(a, b, inds)
        to = b.of_block.reindex(a.of_block.index)
        m = a.of_block != to
        moved_parts.append(
            pd.DataFrame(
                {
                    "layer": key,
                    "block": a.of_block.index[m],
                    "block_name": block_names.reindex(a.of_block.index[m]).to_numpy(),
                    "from_unit": a.of_block[m].to_numpy(),
                    "from_name": a.names.reindex(a.of_block[m]).to_numpy(),
                    "to_unit": to[m].to_numpy(),
                    "to_name": b.names.reindex(to[m]).to_numpy(),
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
        metrics=pd.DataFrame(
            metrics, columns=["layer", "id", "metric", "before", "after", "change"]
        ),
        units=units,
        moved=moved,
        summary=[],
        notes=[*after.notes, *notes],
        titles=titles,
        judged={f"{c}->{p}": basis for (c, p), basis in rules.items()},
    )
    result.summary.extend(summary(result, float(pop_block.sum()), extra, rules, VARIANCE_THRESHOLD))
    return result


def _titles(bset: BoundarySet, keys: list[str]) -> dict[str, str]:
    """Human titles of the set's layers (the manifest's, else the key made readable)."""
    out = {}
    for key in [*keys, *bset.layers]:
        spec = bset.specs.get(key)
        out[key] = (spec.title if spec is not None and spec.title else "") or key.replace("_", " ")
    return out
