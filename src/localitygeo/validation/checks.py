"""Validate a boundary set: geometry, codes, coverage and nesting.

Each rule is a small function registered by id in :data:`LAYER_RULES` (run on
every layer) or :data:`NESTING_RULES` (run on every ``[[nesting]]`` rule, on
its :func:`~localitygeo.judge_nesting` judgement); :func:`validate` runs them
and returns a :class:`~localitygeo.validation.report.ValidationReport`. Rules never stop
at the first problem: an invalid geometry is repaired (in a copy) for
measurement and validation goes on.

Rule ids
--------
``missing-code``, ``duplicate-code``, ``empty-geometry``, ``invalid-geometry``
(with the GEOS reason), ``overlap`` and ``gap`` (areas above the tolerances in
``[checks]``), ``not-nested`` (best parent's share below ``1 - tolerance``;
names the parents and shares), ``orphan`` (child in no parent) and
``block-straddles`` (a warning: a block of a child built from blocks that
itself lies in more than one parent, with its shares).

Each pair of layers is measured at most once per call: rules whose children
are built from the same blocks share those blocks' overlaps with the parent,
and a rule whose parent is built from the child is judged from membership.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pandas as pd
import shapely

from localitygeo.errors import ManifestError
from localitygeo.geometry.fitting import Progress
from localitygeo.geometry.overlap_cache import OverlapCache
from localitygeo.geometry.validity import ValidityMemo, remembering
from localitygeo.model.boundary_set import BoundarySet
from localitygeo.profiling import stage
from localitygeo.validation.findings import (
    LayerRule,
    NestRule,
    _block_straddles,
    _duplicate_code,
    _empty_geometry,
    _gap,
    _invalid_geometry,
    _missing_code,
    _not_nested,
    _orphan,
    _overlap,
    _prepare,
)
from localitygeo.validation.judgement import NestingJudgement, judge_nesting
from localitygeo.validation.report import Issue, ValidationReport

if TYPE_CHECKING:
    pass

__all__ = ["LAYER_RULES", "NESTING_RULES", "validate"]


#: Rules run on every layer, by id.
LAYER_RULES: dict[str, LayerRule] = {
    "missing-code": _missing_code,
    "duplicate-code": _duplicate_code,
    "empty-geometry": _empty_geometry,
    "invalid-geometry": _invalid_geometry,
    "overlap": _overlap,
    "gap": _gap,
}

#: Rules run on every nesting rule, by id.
NESTING_RULES: dict[str, NestRule] = {
    "not-nested": _not_nested,
    "orphan": _orphan,
    "block-straddles": _block_straddles,
}


def validate(
    boundary_set: BoundarySet,
    *,
    rules: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    fit_progress: Progress | None = None,
) -> ValidationReport:
    """Check a boundary set's layers and nesting rules.

    Parameters
    ----------
    boundary_set : BoundarySet
        From :func:`localitygeo.read_boundaries` or
        :meth:`BoundarySet.from_layers`. It is not modified.
    rules : list of str, optional
        Rule ids to run (default: all of :data:`LAYER_RULES` and
        :data:`NESTING_RULES`).
    progress : callable, optional
        Called with a short description before each step.
    fit_progress : callable, optional
        Called as ``progress(done, total)`` while areas are measured.

    Returns
    -------
    ValidationReport
        ``.ok``, ``.issues`` (DataFrame), ``.assignments`` (one assignment
        table per nesting rule, keyed ``"child->parent"``: the ``table`` of
        :func:`localitygeo.judge_nesting`), ``.notes``, ``.to_json()``.

    Raises
    ------
    ManifestError
        ``rules`` names an unknown rule, or a rule says ``by = "blocks"`` for
        a child not built from blocks.
    """
    known = set(LAYER_RULES) | set(NESTING_RULES)
    chosen = list(known) if rules is None else rules
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise ManifestError(
            f"unknown rule(s) {', '.join(unknown)}; rules are: {', '.join(sorted(known))}"
        )
    with remembering() as memo:  # validity checked for the layer rules serves the nesting rules
        return _validate(boundary_set, chosen, progress, fit_progress, memo)


def _validate(
    boundary_set: BoundarySet,
    chosen: list[str],
    progress: Callable[[str], None] | None,
    fit_progress: Progress | None,
    memo: ValidityMemo,
) -> ValidationReport:
    issues: list[Issue] = []
    with stage("layer rules"):
        for found in _layer_issues(boundary_set, chosen, progress, memo):
            issues.extend(found)
    assignments: dict[str, pd.DataFrame] = {}
    notes = list(boundary_set.notes)
    nest_chosen = [r for r in NESTING_RULES if r in chosen]
    judged: list[NestingJudgement] = []
    cache = OverlapCache()
    for rule in boundary_set.nesting if nest_chosen else ():
        if progress is not None:
            progress(f"nesting: {rule.id}")
        with stage(f"nesting {rule.id}"):
            j = judge_nesting(boundary_set, rule, cache=cache, progress=fit_progress)
        judged.append(j)
        assignments[rule.id] = j.table
        notes.extend(n for n in j.notes if n not in notes)
        for rid in nest_chosen:
            if rid != "block-straddles":
                issues.extend(NESTING_RULES[rid](j, boundary_set))
    if "block-straddles" in nest_chosen:
        for j in _straddle_judgements(judged):
            issues.extend(_block_straddles(j, boundary_set))
    return ValidationReport.from_issues(
        boundary_set.source, issues, assignments=assignments, notes=notes, crs=boundary_set.crs
    )


_GEOMETRY_RULES = ("invalid-geometry", "overlap", "gap")


def _layer_issues(
    bset: BoundarySet,
    chosen: list[str],
    progress: Callable[[str], None] | None,
    memo: ValidityMemo | None = None,
) -> list[list[Issue]]:
    """Issues of every layer rule, per layer in the set's order.

    Layers are checked two at a time, the largest first (GEOS and the area
    engine release the GIL), each layer's validity and repaired geometries
    computed once for all its geometry rules.
    """

    def one(key: str) -> list[Issue]:
        gdf = bset.layers[key]
        prep = None
        if any(r in chosen for r in _GEOMETRY_RULES):
            with stage(f"{key}: validity"):
                prep = _prepare(gdf, memo)
        out: list[Issue] = []
        for rid, fn in LAYER_RULES.items():
            if rid in chosen:
                if progress is not None:
                    progress(f"{rid}: {key}")
                if rid not in _GEOMETRY_RULES:
                    out.extend(fn(key, gdf, bset.checks))
                    continue
                # the first of the gap and overlap rules snaps the layer for both
                with stage(f"{key}: {rid}"):
                    out.extend(fn(key, gdf, bset.checks, prep=prep))
        return out

    keys = list(bset.layers)
    if len(keys) < 2:
        return [one(k) for k in keys]
    # the largest layer first, so that the others run beside it rather than after
    size = {k: int(shapely.get_num_coordinates(bset.layers[k].geometry.array).sum()) for k in keys}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(one, k) for k in sorted(keys, key=lambda k: -size[k])}
        return [futures[k].result() for k in keys]


def _straddle_judgements(judged: list[NestingJudgement]) -> list[NestingJudgement]:
    """One judgement per (blocks layer, parent layer): the strictest rule's.

    Rules whose children are built from the same blocks (neighbourhoods and
    localities from small areas) see the same blocks straddling the same
    parent; each block is reported once, at the smallest tolerance.
    """
    best: dict[tuple[str, str], NestingJudgement] = {}
    for j in judged:
        if j.blocks is None:
            continue
        key = (j.blocks, j.rule.parent)
        if key not in best or j.rule.tolerance < best[key].rule.tolerance:
            best[key] = j
    return list(best.values())
