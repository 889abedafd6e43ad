"""The rules :func:`~localitygeo.validate` runs, one function each (internal).

Layer rules take a layer's key, its frame and the set's
:class:`~localitygeo.model.boundary_set.Checks`; nesting rules take a
:class:`~localitygeo.validation.judgement.NestingJudgement` and the set. Each
returns a list of :class:`~localitygeo.validation.report.Issue`; the registries
in :mod:`localitygeo.validation.checks` name them by rule id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from localitygeo.errors import format_codes
from localitygeo.geometry.coverage import gaps_of, overlaps_of, valid_geoms
from localitygeo.geometry.crs import ensure_projected
from localitygeo.geometry.snapped import SnappedLayer, snap_layer
from localitygeo.geometry.validity import ValidityMemo, known_validity
from localitygeo.model.boundary_set import BoundarySet, Checks
from localitygeo.validation.judgement import NestingJudgement, usable, usable_mask
from localitygeo.validation.report import Issue

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["LayerRule", "NestRule"]


LayerRule = Callable[..., list[Issue]]


NestRule = Callable[[NestingJudgement, BoundarySet], list[Issue]]


@dataclass(frozen=True)
class _Prepared:
    """What the geometry rules of one layer share, computed once.

    ``valid`` is ``shapely.is_valid`` of every row; ``usable`` the measurable
    rows (:func:`~localitygeo.validation.judgement.usable`); ``idx`` and ``g`` the rows
    of ``usable`` with a geometry and those geometries, repaired.
    """

    valid: np.ndarray
    usable: gpd.GeoDataFrame
    idx: np.ndarray
    g: np.ndarray

    _cache: dict[str, SnappedLayer] = field(default_factory=dict, repr=False, compare=False)

    @property
    def snapped(self) -> SnappedLayer:
        """``g`` snapped onto itself, shared by the gap and overlap rules.

        Cached by hand: ``functools.cached_property`` holds one lock for
        every instance before Python 3.12, which would snap two layers one
        after the other.
        """
        if "snapped" not in self._cache:
            self._cache["snapped"] = snap_layer(self.g)
        return self._cache["snapped"]


def _prepare(gdf: gpd.GeoDataFrame, memo: ValidityMemo | None = None) -> _Prepared:
    """Return a layer's validity and repaired geometries (validity kept in ``memo``)."""
    from localitygeo.geometry.measure import in_threads

    geoms = np.asarray(gdf.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    valid = np.ones(len(geoms), dtype=bool)
    check = lambda x: in_threads(shapely.is_valid, x, None)  # noqa: E731
    valid[present] = known_validity(geoms[present], check, memo)
    mask = usable_mask(gdf)
    frame = gdf.loc[mask]
    idx, g = valid_geoms(frame, valid[mask])
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
    ensure_projected(
        p.usable,
        "layer",
        fix="give the set a projected crs (the manifest's crs, or crs= in from_layers)",
    )
    return fn(p.usable, p.idx, p.g, tolerance, snapped=p.snapped)


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
