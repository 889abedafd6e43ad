"""Best-fit assignment of a child layer to a parent layer.

:func:`best_fit` says, for every child unit (an output area, a neighbourhood),
which parent unit (an LSOA, a ward, a locality) holds most of it and by how
much. Shares are of area by default, or of a weight carried by a finer layer
(such as the population of output areas).

The area computation is vectorised with shapely 2:

1. an STRtree of the parents and each child's point-on-surface give the
   parent that certainly holds part of the child;
2. a prepared ``within`` test settles every child that lies wholly inside that
   parent (share exactly 1) without any overlay;
3. only the remaining children are intersected with the parents they
   intersect, in chunks spread over threads (GEOS releases the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.crs import ensure_projected, same_crs
from localitygeo.errors import ColumnError, DataError, GeometryError, InputError, format_codes

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

_CHUNK = 8192
_NEGLIGIBLE = 1e-9


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
        Worker threads for the overlay step (default: the number of CPUs,
        at most 4).
    progress : callable, optional
        Called as ``progress(done, total)`` while children are overlaid.

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
        A child or parent has null or empty geometry, or a child has no area.
    ColumnError
        ``weight_column`` is not a column of ``weights``.
    """
    if crs is not None:
        child, parent = child.to_crs(crs), parent.to_crs(crs)
        weights = None if weights is None else weights.to_crs(crs)
    for frame, what in ((child, "child layer"), (parent, "parent layer")):
        ensure_projected(frame, what)
        _check_codes(frame, what)
    same_crs(child, parent, ("child layer", "parent layer"))

    cgeom = _measurable(child, "child layer")
    pgeom = _measurable(parent, "parent layer")
    c_area = shapely.area(cgeom)
    if (c_area <= 0).any():
        codes = child["code"].to_numpy()[c_area <= 0]
        raise GeometryError(
            f"{len(codes)} child unit(s) have zero area: {format_codes(codes)}",
            layer="child layer",
            code=str(codes[0]),
        )
    tree = shapely.STRtree(pgeom)
    ci, pj, inter = _area_pairs(cgeom, pgeom, tree, threads, progress)
    share = inter / c_area[ci]
    basis = np.full(len(child), "area", dtype=object)

    if weights is not None:
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


def _measurable(frame: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """Return the geometries as an array, repairing invalid ones in a copy."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        codes = frame["code"].to_numpy()[empty]
        raise GeometryError(
            f"{len(codes)} feature(s) have null or empty geometry: {format_codes(codes)}",
            layer=what,
            code=str(codes[0]),
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def _area_pairs(
    cgeom: np.ndarray,
    pgeom: np.ndarray,
    tree: shapely.STRtree,
    threads: int | None,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (child index, parent index, intersection area) for overlapping pairs."""
    n = len(cgeom)
    # 1. The parent holding each child's point on surface (first one if several).
    rep = shapely.point_on_surface(cgeom)
    rc, rp = tree.query(rep, predicate="within")
    first = np.unique(rc, return_index=True)[1]
    rc, rp = rc[first], rp[first]
    # 2. Children wholly within that parent need no overlay.
    shapely.prepare(pgeom)
    inside = shapely.within(cgeom[rc], pgeom[rp])
    done_c, done_p = rc[inside], rp[inside]
    done_area = shapely.area(cgeom[done_c])
    # 3. Everything else: intersect with every parent it intersects.
    rest = np.setdiff1d(np.arange(n), done_c, assume_unique=True)
    qc, qp = tree.query(cgeom[rest], predicate="intersects")
    qc = rest[qc]
    areas = _overlay_areas(cgeom, pgeom, qc, qp, threads, progress, len(done_c), n)
    pos = areas > 0
    return (
        np.concatenate([done_c, qc[pos]]),
        np.concatenate([done_p, qp[pos]]),
        np.concatenate([done_area, areas[pos]]),
    )


def _overlay_areas(
    cgeom: np.ndarray,
    pgeom: np.ndarray,
    qc: np.ndarray,
    qp: np.ndarray,
    threads: int | None,
    progress: Progress | None,
    done: int,
    total: int,
) -> np.ndarray:
    if len(qc) == 0:
        if progress is not None:
            progress(total, total)
        return np.zeros(0)
    chunks = [slice(i, i + _CHUNK) for i in range(0, len(qc), _CHUNK)]
    workers = threads or min(4, os.cpu_count() or 1)

    def one(sl: slice) -> np.ndarray:
        return shapely.area(shapely.intersection(cgeom[qc[sl]], pgeom[qp[sl]]))

    out = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for k, res in enumerate(pool.map(one, chunks)):
            out.append(res)
            if progress is not None:
                frac = min(1.0, (k + 1) / len(chunks))
                progress(done + int(frac * (total - done)), total)
    return np.concatenate(out)


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
    w = pd.to_numeric(weights[column], errors="coerce").to_numpy(dtype=float)
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
    in_parent["share"] = in_parent["w"].to_numpy() / totals.loc[in_parent["c"]].to_numpy()
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
    order = np.lexsort((code_rank[pj], -share, ci))
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
