"""Validate a boundary set: geometry, codes, coverage and nesting.

Each rule is a small function registered by id in :data:`LAYER_RULES` (run on
every layer) or :data:`NESTING_RULES` (run on every ``[[nesting]]`` rule);
:func:`validate` runs them and returns a
:class:`~localitygeo.report.ValidationReport`. Rules never stop at the first
problem: an invalid geometry is repaired (in a copy) for measurement and
validation goes on.

Rule ids
--------
``missing-code``, ``duplicate-code``, ``empty-geometry``, ``invalid-geometry``
(with the GEOS reason), ``overlap`` and ``gap`` (areas above the tolerances in
``[checks]``), ``not-nested`` (best parent's share below ``1 - tolerance``;
names the parents and shares) and ``orphan`` (child in no parent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from localitygeo.boundaries import BoundarySet, Checks, NestingRule
from localitygeo.coverage import find_gaps, find_overlaps
from localitygeo.errors import ManifestError, format_codes
from localitygeo.nesting import Progress, best_fit
from localitygeo.report import Issue, ValidationReport

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["LAYER_RULES", "NESTING_RULES", "validate"]

LayerRule = Callable[[str, "gpd.GeoDataFrame", Checks], list[Issue]]
NestRule = Callable[[NestingRule, pd.DataFrame, "gpd.GeoDataFrame"], list[Issue]]


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


def _invalid_geometry(layer: str, gdf: gpd.GeoDataFrame, checks: Checks) -> list[Issue]:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bad = usable & ~shapely.is_valid(geoms)
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


def _usable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows that can be measured: a code (first of duplicates) and a geometry."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & gdf["code"].notna().to_numpy()
    sub = gdf.loc[ok]
    return sub.loc[~sub["code"].duplicated()]


def _overlap(layer: str, gdf: gpd.GeoDataFrame, checks: Checks) -> list[Issue]:
    found = find_overlaps(_usable(gdf), checks.overlap_tolerance_m2)
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


def _gap(layer: str, gdf: gpd.GeoDataFrame, checks: Checks) -> list[Issue]:
    found = find_gaps(_usable(gdf), checks.gap_tolerance_m2)
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


def _not_nested(rule: NestingRule, table: pd.DataFrame, child: gpd.GeoDataFrame) -> list[Issue]:
    bad = table[table["parent_code"].notna() & (table["share"] < 1.0 - rule.tolerance)]
    labels = _label(child, bad["child_code"].to_numpy())
    geoms = child.set_index("code").geometry
    issues = []
    for r in bad.itertuples(index=False):
        parts = [f"{r.share:.1%} in {rule.parent} {r.parent_code}"]
        if isinstance(r.runner_up_code, str):
            parts.append(f"{r.runner_up_share:.1%} in {r.runner_up_code}")
        rest = 1.0 - r.share - r.runner_up_share - r.outside_share
        if r.n_parents > 2 and rest > 0.0005:
            parts.append(f"{rest:.1%} in {r.n_parents - 2} other(s)")
        if r.outside_share > 0.0005:
            parts.append(f"{r.outside_share:.1%} in no {rule.parent}")
        outside = 1.0 - r.share
        area = float(geoms.get(r.child_code).area) * outside
        issues.append(
            Issue(
                "not-nested",
                rule.severity,
                rule.child,
                tuple(
                    str(c)
                    for c in (r.child_code, r.parent_code, r.runner_up_code)
                    if isinstance(c, str)
                ),
                f"{rule.child} {labels[r.child_code]} is not within one {rule.parent}: "
                f"{', '.join(parts)} (tolerance {rule.tolerance:g})",
                area_m2=area,
                geometry=geoms.get(r.child_code),
            )
        )
    return issues


def _orphan(rule: NestingRule, table: pd.DataFrame, child: gpd.GeoDataFrame) -> list[Issue]:
    lost = table[table["parent_code"].isna()]
    labels = _label(child, lost["child_code"].to_numpy())
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
        for c in lost["child_code"]
    ]


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
        Passed to :func:`localitygeo.best_fit` as its ``progress``.

    Returns
    -------
    ValidationReport
        ``.ok``, ``.issues`` (DataFrame), ``.assignments`` (one best-fit table
        per nesting rule, keyed ``"child->parent"``), ``.to_json()``.

    Raises
    ------
    ManifestError
        ``rules`` names an unknown rule.
    """
    known = set(LAYER_RULES) | set(NESTING_RULES)
    chosen = list(known) if rules is None else rules
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise ManifestError(
            f"unknown rule(s) {', '.join(unknown)}; rules are: {', '.join(sorted(known))}"
        )
    issues: list[Issue] = []
    for key, gdf in boundary_set.layers.items():
        for rid, fn in LAYER_RULES.items():
            if rid in chosen:
                if progress is not None:
                    progress(f"{rid}: {key}")
                issues.extend(fn(key, gdf, boundary_set.checks))
    assignments: dict[str, pd.DataFrame] = {}
    nest_chosen = [r for r in NESTING_RULES if r in chosen]
    for rule in boundary_set.nesting:
        if not nest_chosen:
            break
        if progress is not None:
            progress(f"best fit: {rule.id}")
        child = _usable(boundary_set[rule.child])
        parent = _usable(boundary_set[rule.parent])
        table = best_fit(child, parent, progress=fit_progress)
        assignments[rule.id] = table
        for rid in nest_chosen:
            issues.extend(NESTING_RULES[rid](rule, table, child))
    return ValidationReport.from_issues(
        boundary_set.source, issues, assignments, boundary_set.notes, boundary_set.crs
    )
