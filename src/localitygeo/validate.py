"""Validate a boundary set: geometry, codes, coverage and nesting.

Each rule is a small function registered by id in :data:`LAYER_RULES` (run on
every layer) or :data:`NESTING_RULES` (run on every ``[[nesting]]`` rule, on
its :func:`~localitygeo.judge_nesting` judgement); :func:`validate` runs them
and returns a :class:`~localitygeo.report.ValidationReport`. Rules never stop
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from localitygeo._profile import stage
from localitygeo.boundaries import BoundarySet, Checks
from localitygeo.coverage import _valid_geoms, gaps_of, overlaps_of
from localitygeo.crs import ensure_projected
from localitygeo.errors import ManifestError, format_codes
from localitygeo.judgement import NestingJudgement, judge_nesting, usable, usable_mask
from localitygeo.nesting import Progress
from localitygeo.overlay import OverlapCache
from localitygeo.report import Issue, ValidationReport

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["LAYER_RULES", "NESTING_RULES", "validate"]

LayerRule = Callable[..., list[Issue]]
NestRule = Callable[[NestingJudgement, BoundarySet], list[Issue]]


@dataclass(frozen=True)
class _Prepared:
    """What the geometry rules of one layer share, computed once.

    ``valid`` is ``shapely.is_valid`` of every row; ``usable`` the measurable
    rows (:func:`~localitygeo.judgement.usable`); ``idx`` and ``g`` the rows
    of ``usable`` with a geometry and those geometries, repaired.
    """

    valid: np.ndarray
    usable: gpd.GeoDataFrame
    idx: np.ndarray
    g: np.ndarray


def _prepare(gdf: gpd.GeoDataFrame) -> _Prepared:
    from localitygeo._measure import _in_threads

    geoms = np.asarray(gdf.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    valid = np.ones(len(geoms), dtype=bool)
    valid[present] = _in_threads(shapely.is_valid, geoms[present], None)
    mask = usable_mask(gdf)
    frame = gdf.loc[mask]
    idx, g = _valid_geoms(frame, valid[mask])
    return _Prepared(valid, frame, idx, g)


def _label(gdf: gpd.GeoDataFrame, codes: np.ndarray) -> dict[str, str]:
    names = gdf.set_index("code")["name"] if "name" in gdf.columns else None
    out = {}
    for c in codes:
        n = names.get(c) if names is not None else None
        out[str(c)] = f"{c} ({n})" if isinstance(n, str) and n and n != c else str(c)
    return out


def _missing_code(layer: str, gdf: gpd.GeoDataFrame, checks: Checks) -> list[Issue]:
    missing = gdf["code"].isna().to_numpy()
    if not missing.any():
        return []
    rows = np.flatnonzero(missing)
    return [
        Issue(
            "missing-code",
            "error",
            layer,
            (),
            f"{len(rows)} feature(s) have no code (rows {format_codes(rows.tolist())})",
        )
    ]


def _duplicate_code(layer: str, gdf: gpd.GeoDataFrame, checks: Checks) -> list[Issue]:
    codes = gdf["code"].dropna()
    counts = codes.value_counts()
    dups = sorted(counts[counts > 1].index)
    return [
        Issue(
            "duplicate-code",
            "error",
            layer,
            (str(c),),
            f"code {c} is used by {int(counts[c])} features",
        )
        for c in dups
    ]


def _empty_geometry(layer: str, gdf: gpd.GeoDataFrame, checks: Checks) -> list[Issue]:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    codes = gdf["code"].to_numpy(dtype=object)[empty]
    return [
        Issue("empty-geometry", "error", layer, (str(c),), f"feature {c} has no geometry")
        for c in codes
    ]


def _invalid_geometry(
    layer: str, gdf: gpd.GeoDataFrame, checks: Checks, prep: _Prepared | None = None
) -> list[Issue]:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bad = usable & ~(shapely.is_valid(geoms) if prep is None else prep.valid)
    idx = np.flatnonzero(bad)
    reasons = shapely.is_valid_reason(geoms[idx])
    codes = gdf["code"].to_numpy(dtype=object)[idx]
    return [
        Issue(
            "invalid-geometry",
            "error",
            layer,
            (str(c),),
            f"feature {c} is not a valid polygon: {r}; it was repaired for measurement",
            geometry=geoms[i],
        )
        for c, r, i in zip(codes, reasons, idx, strict=True)
    ]


def _measured(
    fn: Callable[..., gpd.GeoDataFrame],
    gdf: gpd.GeoDataFrame,
    prep: _Prepared | None,
    tolerance: float,
) -> gpd.GeoDataFrame:
    """``fn`` (overlaps_of or gaps_of) of the layer's usable rows, repaired."""
    p = _prepare(gdf) if prep is None else prep
    ensure_projected(p.usable, "layer")
    return fn(p.usable, p.idx, p.g, tolerance)


def _overlap(
    layer: str, gdf: gpd.GeoDataFrame, checks: Checks, prep: _Prepared | None = None
) -> list[Issue]:
    found = _measured(overlaps_of, gdf, prep, checks.overlap_tolerance_m2)
    return [
        Issue(
            "overlap",
            "error",
            layer,
            (str(r.code_a), str(r.code_b)),
            f"{r.code_a} and {r.code_b} overlap by {r.area_m2:,.1f} m²",
            area_m2=float(r.area_m2),
            geometry=r.geometry,
        )
        for r in found.itertuples(index=False)
    ]


def _gap(
    layer: str, gdf: gpd.GeoDataFrame, checks: Checks, prep: _Prepared | None = None
) -> list[Issue]:
    found = _measured(gaps_of, gdf, prep, checks.gap_tolerance_m2)
    return [
        Issue(
            "gap",
            "error",
            layer,
            tuple(r.codes),
            f"gap of {r.area_m2:,.1f} m² inside the layer, between {format_codes(r.codes)}",
            area_m2=float(r.area_m2),
            geometry=r.geometry,
        )
        for r in found.itertuples(index=False)
    ]


def _shares(r: Any, parent: str) -> str:
    """Describe an assignment row's shares: best, runner-up, others, none."""
    parts = [f"{r.share:.1%} in {parent} {r.parent_code}"]
    if isinstance(r.runner_up_code, str):
        parts.append(f"{r.runner_up_share:.1%} in {r.runner_up_code}")
    rest = 1.0 - r.share - r.runner_up_share - r.outside_share
    if r.n_parents > 2 and rest > 0.0005:
        parts.append(f"{rest:.1%} in {r.n_parents - 2} other(s)")
    if r.outside_share > 0.0005:
        parts.append(f"{r.outside_share:.1%} in no {parent}")
    return ", ".join(parts)


_BY = {
    "blocks-population": " by its blocks' population",
    "blocks-area": " by its blocks' area",
}


def _not_nested(j: NestingJudgement, bset: BoundarySet) -> list[Issue]:
    rule, table = j.rule, j.table
    child = usable(bset[rule.child])
    bad = table[table["child_code"].isin(j.not_nested)]
    labels = _label(child, bad["child_code"].to_numpy())
    geoms = child.set_index("code").geometry
    return [
        Issue(
            "not-nested",
            rule.severity,
            rule.child,
            tuple(
                str(c)
                for c in (r.child_code, r.parent_code, r.runner_up_code)
                if isinstance(c, str)
            ),
            f"{rule.child} {labels[r.child_code]} is not within one {rule.parent}"
            f"{_BY.get(r.basis, '')}: {_shares(r, rule.parent)} (tolerance {rule.tolerance:g})",
            area_m2=float(j.outside_area.get(r.child_code)),
            geometry=geoms.get(r.child_code),
        )
        for r in bad.itertuples(index=False)
    ]


def _orphan(j: NestingJudgement, bset: BoundarySet) -> list[Issue]:
    rule = j.rule
    child = usable(bset[rule.child])
    lost = j.orphans
    labels = _label(child, lost.to_numpy())
    geoms = child.set_index("code").geometry
    return [
        Issue(
            "orphan",
            rule.severity,
            rule.child,
            (str(c),),
            f"{rule.child} {labels[c]} lies in no {rule.parent}",
            area_m2=float(geoms.get(c).area),
            geometry=geoms.get(c),
        )
        for c in lost
    ]


def _block_straddles(j: NestingJudgement, bset: BoundarySet) -> list[Issue]:
    if j.blocks is None or j.block_table is None or j.of_block is None:
        return []
    rule, layer = j.rule, j.blocks
    blocks = usable(bset[layer])
    table = j.block_table
    bad = table[table["child_code"].isin(j.block_straddles)]
    labels = _label(blocks, bad["child_code"].to_numpy())
    units = _label(
        usable(bset[rule.child]), j.of_block.reindex(bad["child_code"]).dropna().unique()
    )
    geoms = blocks.set_index("code").geometry
    issues = []
    for r in bad.itertuples(index=False):
        unit = j.of_block.get(r.child_code)
        geom = geoms.get(r.child_code)
        issues.append(
            Issue(
                "block-straddles",
                "warning",
                layer,
                tuple(
                    str(c)
                    for c in (r.child_code, r.parent_code, r.runner_up_code)
                    if isinstance(c, str)
                ),
                f"{layer} {labels[r.child_code]} (in {rule.child} {units.get(str(unit), unit)}) "
                f"lies in more than one {rule.parent}: {_shares(r, rule.parent)} "
                f"(tolerance {rule.tolerance:g})",
                area_m2=float(geom.area) * (1.0 - float(r.share)),
                geometry=geom,
            )
        )
    return issues


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
    rules: list[str] | None = None,
    *,
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
    issues: list[Issue] = []
    with stage("layer rules"):
        for found in _layer_issues(boundary_set, chosen, progress):
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
        boundary_set.source, issues, assignments, notes, boundary_set.crs
    )


_GEOMETRY_RULES = ("invalid-geometry", "overlap", "gap")


def _layer_issues(
    bset: BoundarySet, chosen: list[str], progress: Callable[[str], None] | None
) -> list[list[Issue]]:
    """Issues of every layer rule, per layer in the set's order.

    Layers are checked two at a time, the largest first (GEOS and the area
    engine release the GIL), each layer's validity and repaired geometries
    computed once for all its geometry rules.
    """

    def one(key: str) -> list[Issue]:
        gdf = bset.layers[key]
        prep = _prepare(gdf) if any(r in chosen for r in _GEOMETRY_RULES) else None
        out: list[Issue] = []
        for rid, fn in LAYER_RULES.items():
            if rid in chosen:
                if progress is not None:
                    progress(f"{rid}: {key}")
                extra = {"prep": prep} if rid in _GEOMETRY_RULES else {}
                out.extend(fn(key, gdf, bset.checks, **extra))
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
