"""Best-fit assignment of a child layer to a parent layer.

:func:`best_fit` says, for every child unit (an output area, a neighbourhood),
which parent unit (an LSOA, a ward, a locality) holds most of it and by how
much. Shares are of area by default, or of a weight carried by a finer layer
(such as the population of output areas).

Area shares are exact: the area of every child ∩ parent pair is computed from
the two boundaries (where they cross, and Green's theorem), vectorised in
numpy, without building intersection geometries (see
``localitygeo._overlap``). Layers generalised separately (output areas and
LSOAs, LSOAs and wards) make almost every child poke out of its parent by
slivers far thinner than a millimetre; those slivers are what a per-pair
GEOS overlay spends its time on, and here they cost no more than any other
crossing. Shares agree with a GEOS overlay to about 1e-12 of the child's area.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo._overlap import intersection_areas
from localitygeo._overlap.keys import stable_argsort
from localitygeo.crs import ensure_projected, same_crs
from localitygeo.errors import ColumnError, DataError, GeometryError, InputError, format_codes
from localitygeo.numbers import layer_numbers

__all__ = ["ASSIGNMENT_COLUMNS", "best_fit"]

#: Columns of the assignment table that :func:`best_fit` returns.
ASSIGNMENT_COLUMNS = [
    "child_code",
    "parent_code",
    "share",
    "runner_up_code",
    "runner_up_share",
    "outside_share",
    "n_parents",
    "basis",
]

Progress = Callable[[int, int], None]

_NEGLIGIBLE = 1e-9
_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def best_fit(
    child: gpd.GeoDataFrame,
    parent: gpd.GeoDataFrame,
    weights: gpd.GeoDataFrame | None = None,
    *,
    weight_column: str = "population",
    crs: object = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Assign each child unit to the parent unit that holds most of it.

    Parameters
    ----------
    child, parent : geopandas.GeoDataFrame
        Layers with a unique ``code`` column (as :func:`localitygeo.read_layer`
        returns), in one projected CRS.
    weights : geopandas.GeoDataFrame, optional
        A finer layer (e.g. output areas) carrying ``weight_column``. Each of
        its units counts wholly towards the child and the parent that contain
        its point on surface, and shares are shares of that weight. Children
        holding no weight fall back to area shares (``basis == "area"``).
    weight_column : str, default "population"
        Column of ``weights`` to use.
    crs : optional
        Reproject ``child``, ``parent`` and ``weights`` to this CRS before
        measuring. Without it, all must already share one projected CRS.
    threads : int, optional
        Worker threads for the area computation (default: the number of
        CPUs, at most 4); geometry validity is checked in one more thread
        meanwhile.
    progress : callable, optional
        Called as ``progress(done, total)`` while areas are computed.

    Returns
    -------
    pandas.DataFrame
        One row per child, in the child layer's order, with columns
        ``child_code``, ``parent_code`` (best parent; missing for a child in
        no parent), ``share`` (of the child's area or weight in that parent),
        ``runner_up_code``, ``runner_up_share``, ``outside_share`` (in no
        parent at all), ``n_parents`` (parents holding a positive share) and
        ``basis`` (``"area"`` or ``"weight"``). Shares lie in [0, 1] and sum
        to at most 1 per child.

    Raises
    ------
    CRSError
        A layer is in a geographic CRS, or the layers' CRSs differ.
    InputError
        Codes are missing or repeated.
    GeometryError
        A child or parent has null or empty geometry or is not a polygon, or a
        child has no area.
    ColumnError
        ``weight_column`` is not a column of ``weights``.

    Notes
    -----
    Invalid geometries are repaired (in a copy) with
    :func:`shapely.make_valid` first, as a GEOS overlay would need. Shares
    below one part in a billion are dropped as floating-point noise.
    """
    if crs is not None:
        child, parent = child.to_crs(crs), parent.to_crs(crs)
        weights = None if weights is None else weights.to_crs(crs)
    for frame, what in ((child, "child layer"), (parent, "parent layer")):
        ensure_projected(frame, what)
        _check_codes(frame, what)
    same_crs(child, parent, ("child layer", "parent layer"))

    cgeom, pgeom, ci, pj, inter = _overlaps(child, parent, threads, progress)
    c_area = shapely.area(cgeom)
    if (c_area <= 0).any():
        codes = child["code"].to_numpy()[c_area <= 0]
        raise GeometryError(
            f"{len(codes)} child unit(s) have zero area: {format_codes(codes)}",
            layer="child layer",
            code=str(codes[0]),
        )
    share = inter / c_area[ci]
    basis = np.full(len(child), "area", dtype=object)

    if weights is not None:
        tree = shapely.STRtree(pgeom)
        wc, wp, wshare, has_weight = _weight_pairs(weights, weight_column, cgeom, tree, child)
        keep = ~has_weight[ci]
        ci = np.concatenate([ci[keep], wc])
        pj = np.concatenate([pj[keep], wp])
        share = np.concatenate([share[keep], wshare])
        basis[has_weight] = "weight"

    return _table(child, parent, ci, pj, share, basis)


def _check_codes(frame: gpd.GeoDataFrame, what: str) -> None:
    if "code" not in frame.columns:
        raise ColumnError(
            f"{what} has no 'code' column; read it with localitygeo.read_layer(path, code=...)"
        )
    codes = frame["code"]
    if codes.isna().any():
        raise InputError(f"{what} has {int(codes.isna().sum())} feature(s) without a code")
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise InputError(f"{what} has duplicate codes: {format_codes(sorted(set(codes[dup])))}")


def _measurable(frame: gpd.GeoDataFrame, what: str, threads: int | None = None) -> np.ndarray:
    """Return the geometries as an array, repairing invalid ones in a copy.

    Every geometry is a valid Polygon or MultiPolygon afterwards (possibly
    empty if a repair left nothing of area). Null, empty or non-polygonal
    input raises :class:`GeometryError`.
    """
    geoms = _screened(frame, what)
    return _repaired(geoms, _needs_repair(geoms, threads))


def _screened(frame: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """Return the layer's geometries; null, empty or non-polygonal ones raise GeometryError."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        codes = frame["code"].to_numpy()[empty]
        raise GeometryError(
            f"{len(codes)} feature(s) have null or empty geometry: {format_codes(codes)}",
            layer=what,
            code=str(codes[0]),
        )
    other = ~np.isin(shapely.get_type_id(geoms), (*_POLYGONAL, 7))
    if other.any():
        codes = frame["code"].to_numpy()[other]
        raise GeometryError(
            f"{len(codes)} feature(s) are not polygons: {format_codes(codes)}",
            layer=what,
            code=str(codes[0]),
        )
    return geoms


def _needs_repair(geoms: np.ndarray, threads: int | None) -> np.ndarray:
    """Invalid geometries and collections: what make_valid and _polygonal must fix."""
    return ~_in_threads(shapely.is_valid, geoms, threads) | (shapely.get_type_id(geoms) == 7)


def _repaired(geoms: np.ndarray, fix: np.ndarray) -> np.ndarray:
    """Return ``geoms`` with those flagged in ``fix`` made valid and polygonal (a copy)."""
    if not fix.any():
        return geoms
    geoms = geoms.copy()
    geoms[fix] = [_polygonal(g) for g in shapely.make_valid(geoms[fix])]
    return geoms


def _overlaps(
    child: gpd.GeoDataFrame,
    parent: gpd.GeoDataFrame,
    threads: int | None,
    progress: Progress | None,
    names: tuple[str, str] = ("child layer", "parent layer"),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Repaired geometries and (child, parent, area) of every overlapping pair.

    The exact area engine runs on the geometries as given while GEOS checks
    their validity in another thread (GEOS releases the GIL, so on a spare
    core the check costs no time). Pairs involving a geometry that needed
    repair are computed on the repaired geometries, in the checking thread
    once the repairs are made, and replace the engine's. The geometries
    returned are those of :func:`_measurable`, and only pairs with a positive
    area are returned, as from :func:`_area_pairs`. ``names`` name the two
    layers in errors.
    """
    cgeom = _screened(child, names[0])
    pgeom = _screened(parent, names[1])
    ok_c = np.flatnonzero(np.isin(shapely.get_type_id(cgeom), _POLYGONAL))
    ok_p = np.flatnonzero(np.isin(shapely.get_type_id(pgeom), _POLYGONAL))

    def check(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fix = _needs_repair(geoms, 1)
        return fix, _repaired(geoms, fix)

    def checked() -> tuple[np.ndarray, ...]:
        (fix_c, cg), (fix_p, pg) = check(cgeom), check(pgeom)
        # pairs with a repaired geometry need only the repairs: compute them here,
        # while the engine is still busy with the rest
        return fix_c, cg, fix_p, pg, *_repaired_pairs(cg, pg, fix_c, fix_p)

    with ThreadPoolExecutor(max_workers=1) as pool:
        checking = pool.submit(checked)
        raw: tuple[np.ndarray, np.ndarray, np.ndarray] | None
        failure: Exception | None = None
        try:
            raw = _raw_areas(cgeom, pgeom, ok_c, ok_p, threads, progress)
        except Exception as exc:  # judged once validity is known
            raw, failure = None, exc
        fix_c, cgeom, fix_p, pgeom, fi, fj, fa = checking.result()
    if raw is None:
        # the unchecked run may fail only because of geometries that need repair
        # (NaN coordinates, say): then run again on the repaired ones
        if failure is not None and not (fix_c.any() or fix_p.any()):
            raise failure
        return cgeom, pgeom, *_area_pairs(cgeom, pgeom, None, threads, progress)
    i, j, area = raw
    # drop what the unchecked run could not get right: pairs with a repaired
    # geometry (computed above), and pairs it could not settle (NaN: GEOS here)
    redo = np.isnan(area)
    repaired = fix_c[i] | fix_p[j]
    keep = np.flatnonzero(~(repaired | redo))
    geos = np.flatnonzero(redo & ~repaired)
    ri, rj = i[geos], j[geos]
    ci = np.concatenate([i[keep], ri, fi])
    pj = np.concatenate([j[keep], rj, fj])
    inter = np.concatenate(
        [area[keep], shapely.area(shapely.intersection(cgeom[ri], pgeom[rj])), fa]
    )
    pos = np.flatnonzero(inter > 0)
    return cgeom, pgeom, ci[pos], pj[pos], inter[pos]


def _repaired_pairs(
    cgeom: np.ndarray, pgeom: np.ndarray, fix_c: np.ndarray, fix_p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(child, parent, area) of every pair involving a repaired geometry (one thread)."""
    if not (fix_c.any() or fix_p.any()):
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0)
    fc, fp = np.flatnonzero(fix_c), np.flatnonzero(fix_p)
    qc, qp = shapely.STRtree(pgeom).query(cgeom[fc])
    qc = fc[qc]
    if len(fp):
        pp, pc = shapely.STRtree(cgeom).query(pgeom[fp])
        keep = ~fix_c[pc]  # pairs of two repaired geometries are already in
        qc, qp = np.concatenate([qc, pc[keep]]), np.concatenate([qp, fp[pp[keep]]])
    uc, up = np.unique(qc), np.unique(qp)
    a, b, s = _area_pairs(cgeom[uc], pgeom[up], None, 1)
    # _area_pairs covered every pair of those children and parents: keep just the
    # ones that involve a repaired geometry (the others come from the main run)
    ci, pj = uc[a], up[b]
    mine = np.flatnonzero(fix_c[ci] | fix_p[pj])
    return ci[mine], pj[mine], s[mine]


def _per_child(progress: Progress | None, n: int) -> Progress | None:
    """Rescale the engine's (done, total) progress to ``n`` children."""
    if progress is None:
        return None
    prog = progress

    def report(done: int, total: int) -> None:
        prog(n * done // max(total, 1), n)

    return report


def _raw_areas(
    cgeom: np.ndarray,
    pgeom: np.ndarray,
    ok_c: np.ndarray,
    ok_p: np.ndarray,
    threads: int | None,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Engine areas on unchecked polygons (unsettled pairs get NaN), global indices."""
    i, j, area = intersection_areas(
        cgeom[ok_c],
        pgeom[ok_p],
        threads=threads,
        progress=_per_child(progress, len(cgeom)),
        fallback=False,
    )
    return ok_c[i], ok_p[j], area


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Return the polygonal part of a valid geometry (a collection's polygons, merged)."""
    if shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
    if len(parts) == 0:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _in_threads(
    fn: Callable[[np.ndarray], np.ndarray], geoms: np.ndarray, threads: int | None
) -> np.ndarray:
    """Apply a vectorised GEOS function in chunks over threads (GEOS releases the GIL)."""
    workers = threads if threads is not None else min(4, os.cpu_count() or 1)
    if workers <= 1 or len(geoms) < 2048:
        return fn(geoms)
    parts = np.array_split(geoms, 4 * workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(fn, parts)))


def _area_pairs(
    cgeom: np.ndarray,
    pgeom: np.ndarray,
    tree: shapely.STRtree | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (child index, parent index, intersection area) for overlapping pairs.

    Geometries must be valid (as :func:`_measurable` returns them). ``tree``
    is accepted for callers written against the earlier overlay-based
    version; the engine builds its own index. Only pairs with a positive area
    are returned.
    """
    c_ok = np.flatnonzero(~shapely.is_empty(cgeom))
    p_ok = np.flatnonzero(~shapely.is_empty(pgeom))
    report = _per_child(progress, len(cgeom))
    i, j, area = intersection_areas(cgeom[c_ok], pgeom[p_ok], threads=threads, progress=report)
    pos = area > 0
    return c_ok[i[pos]], p_ok[j[pos]], area[pos]


def _weight_pairs(
    weights: gpd.GeoDataFrame,
    column: str,
    cgeom: np.ndarray,
    ptree: shapely.STRtree,
    child: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (child index, parent index, weight share, child has weight) pairs."""
    if column not in weights.columns:
        raise ColumnError(
            f"weights layer has no column '{column}'; columns are: "
            f"{', '.join(str(c) for c in weights.columns if c != weights.geometry.name)}"
        )
    same_crs(child, weights, ("child layer", "weights layer"))
    w = layer_numbers(weights, column)
    if np.isnan(w).any() or (w < 0).any():
        bad = int(np.isnan(w).sum() + (w < 0).sum())
        raise DataError(f"weight column '{column}' has {bad} missing or negative value(s)")
    pts = shapely.point_on_surface(np.asarray(weights.geometry.array, dtype=object))
    wc_i, wc_c = shapely.STRtree(cgeom).query(pts, predicate="within")
    wp_i, wp_p = ptree.query(pts, predicate="within")
    child_of = _first(wc_i, wc_c, len(pts))
    parent_of = _first(wp_i, wp_p, len(pts))
    frame = pd.DataFrame({"c": child_of, "p": parent_of, "w": w})
    frame = frame[frame["c"] >= 0]
    totals = frame.groupby("c")["w"].sum()
    in_parent = frame[frame["p"] >= 0].groupby(["c", "p"], as_index=False)["w"].sum()
    total = totals.loc[in_parent["c"]].to_numpy()
    weight = in_parent["w"].to_numpy()
    in_parent["share"] = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    has_weight = np.zeros(len(cgeom), dtype=bool)
    has_weight[totals.index[totals.to_numpy() > 0].to_numpy()] = True
    in_parent = in_parent[has_weight[in_parent["c"].to_numpy()]]
    return (
        in_parent["c"].to_numpy(dtype=np.intp),
        in_parent["p"].to_numpy(dtype=np.intp),
        in_parent["share"].to_numpy(dtype=float),
        has_weight,
    )


def _first(idx: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.intp)
    first = np.unique(idx, return_index=True)[1]
    out[idx[first]] = target[first]
    return out


def _table(
    child: gpd.GeoDataFrame,
    parent: gpd.GeoDataFrame,
    ci: np.ndarray,
    pj: np.ndarray,
    share: np.ndarray,
    basis: np.ndarray,
) -> pd.DataFrame:
    n = len(child)
    share = np.clip(share, 0.0, 1.0)
    # Shares below one part in a billion are floating-point noise along shared
    # edges, not parents the child really lies in.
    real = share >= _NEGLIGIBLE
    ci, pj, share = ci[real], pj[real], share[real]
    # Rank each child's parents by share; ties go to the smaller parent code so
    # that the answer does not depend on row order.
    code_rank = np.argsort(np.argsort(parent["code"].to_numpy(dtype=str), kind="stable"))
    # three stable sorts, last key first (np.lexsort is slower with a float key)
    order = stable_argsort(code_rank[pj])
    order = order[np.argsort(-share[order], kind="stable")]
    order = order[stable_argsort(ci[order])]
    ci, pj, share = ci[order], pj[order], share[order]
    starts = np.searchsorted(ci, np.arange(n), side="left")
    ends = np.searchsorted(ci, np.arange(n), side="right")
    count = ends - starts
    pcodes = parent["code"].to_numpy(dtype=object)

    def pick(offset: int) -> tuple[np.ndarray, np.ndarray]:
        has = count > offset
        code = np.full(n, None, dtype=object)
        val = np.zeros(n)
        code[has] = pcodes[pj[starts[has] + offset]]
        val[has] = share[starts[has] + offset]
        return code, val

    best_code, best_share = pick(0)
    run_code, run_share = pick(1)
    total = np.bincount(ci, weights=share, minlength=n)
    scale = np.where(total > 1.0, total, 1.0)  # float noise can push the sum past 1
    return pd.DataFrame(
        {
            "child_code": child["code"].to_numpy(dtype=object),
            "parent_code": best_code,
            "share": best_share / scale,
            "runner_up_code": run_code,
            "runner_up_share": run_share / scale,
            "outside_share": np.clip(1.0 - total / scale, 0.0, 1.0),
            "n_parents": count,
            "basis": basis,
        },
        columns=ASSIGNMENT_COLUMNS,
    )
