"""Screen, repair and measure the overlaps of two layers (the engine's driver).

:func:`_overlaps` runs the exact area engine (``localitygeo.geometry.engine``) on two
layers' geometries while GEOS checks their validity in another thread, and
recomputes the pairs that involve a geometry needing repair. Public entry
points are :func:`localitygeo.geometry.overlay.overlap_table` and
:func:`localitygeo.best_fit`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely

from localitygeo.errors import ColumnError, GeometryError, InputError, format_codes
from localitygeo.geometry.engine import intersection_areas
from localitygeo.geometry.validity import ValidityMemo, current, known_validity

Progress = Callable[[int, int], None]

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def check_codes(frame: gpd.GeoDataFrame, what: str) -> None:
    """Raise unless ``frame`` has a ``code`` column with unique, present codes."""
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
    return _repaired(geoms, _needs_repair(geoms, threads, current()))


def _screened(frame: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """Return the layer's geometries; null, empty or non-polygonal ones raise GeometryError."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    for bad, what_is_wrong in (
        (shapely.is_missing(geoms) | shapely.is_empty(geoms), "have null or empty geometry"),
        (~np.isin(shapely.get_type_id(geoms), (*_POLYGONAL, 7)), "are not polygons"),
    ):
        if bad.any():
            codes = frame["code"].to_numpy()[bad]
            raise GeometryError(
                f"{len(codes)} feature(s) {what_is_wrong}: {format_codes(codes)}",
                layer=what,
                code=str(codes[0]),
            )
    return geoms


def _needs_repair(
    geoms: np.ndarray, threads: int | None, memo: ValidityMemo | None = None
) -> np.ndarray:
    """Invalid geometries and collections: what make_valid and _polygonal must fix.

    Validity ``memo`` knows (:mod:`localitygeo.geometry.validity`) is not checked again.
    """
    valid = known_validity(geoms, lambda x: in_threads(shapely.is_valid, x, threads), memo)
    return ~valid | (shapely.get_type_id(geoms) == 7)


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

    memo = current()  # this thread's: the checking thread has its own context

    def check(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fix = _needs_repair(geoms, 1, memo)
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


def in_threads(
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
