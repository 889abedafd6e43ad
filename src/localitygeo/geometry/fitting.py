"""Best-fit assignment of a child layer to a parent layer.

:func:`best_fit` says, for every child unit (an output area, a neighbourhood),
which parent unit (an LSOA, a ward, a locality) holds most of it and by how
much. Shares are of area by default, or of a weight carried by a finer layer
(such as the population of output areas).

Area shares are exact: the area of every child ∩ parent pair is computed from
the two boundaries (where they cross, and Green's theorem), vectorised in
numpy, without building intersection geometries (see
``localitygeo.geometry.engine``). Layers generalised separately (output areas and
LSOAs, LSOAs and wards) make almost every child poke out of its parent by
slivers far thinner than a millimetre; those slivers are what a per-pair
GEOS overlay spends its time on, and here they cost no more than any other
crossing. Shares agree with a GEOS overlay to about 1e-12 of the child's area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from localitygeo.deprecation import renamed
from localitygeo.errors import DataError, GeometryError, format_codes, missing_column
from localitygeo.geometry.crs import measure_in, same_crs
from localitygeo.geometry.engine.keys import stable_argsort
from localitygeo.geometry.measure import Progress
from localitygeo.io.numbers import layer_numbers
from localitygeo.profiling import stage

if TYPE_CHECKING:
    from localitygeo.geometry.overlay import OverlapTable

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

_NEGLIGIBLE = 1e-9


@renamed(weights="blocks", weight_column="weight")
def best_fit(
    child: gpd.GeoDataFrame,
    parent: gpd.GeoDataFrame,
    *,
    blocks: gpd.GeoDataFrame | None = None,
    weight: str = "population",
    crs: object = None,
    threads: int | None = None,
    progress: Progress | None = None,
    table: OverlapTable | None = None,
) -> pd.DataFrame:
    """Assign each child unit to the parent unit that holds most of it.

    Parameters
    ----------
    child, parent : geopandas.GeoDataFrame
        Layers with a unique ``code`` column (as :func:`localitygeo.read_layer`
        returns), in one projected CRS.
    blocks : geopandas.GeoDataFrame, optional
        A finer layer (e.g. output areas) carrying the ``weight`` column. Each of
        its units counts wholly towards the child and the parent that contain
        its point on surface, and shares are shares of that weight. Children
        holding no weight fall back to area shares (``basis == "area"``).
    weight : str, default "population"
        Column of ``blocks`` to weight by.
    crs : optional
        Reproject ``child``, ``parent`` and ``blocks`` to this CRS before
        measuring. Without it, all must already share one projected CRS.
    threads : int, optional
        Worker threads for the area computation (default: the number of
        CPUs, at most 4); geometry validity is checked in one more thread
        meanwhile.
    progress : callable, optional
        Called as ``progress(done, total)`` while areas are computed.
    table : OverlapTable, optional
        The child × parent overlaps, already computed by
        :func:`localitygeo.geometry.overlay.overlap_table` (or
        :func:`~localitygeo.geometry.overlay.set_overlap_table`) for these two layers:
        then nothing is measured again. Not with ``crs``.

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
        ``weight`` is not a column of ``blocks``.
    DataError
        ``table`` was computed for other layers, or comes with ``crs``.

    Notes
    -----
    Invalid geometries are repaired (in a copy) with
    :func:`shapely.make_valid` first, as a GEOS overlay would need. Shares
    below one part in a billion are dropped as floating-point noise.
    """
    from localitygeo.geometry.overlay import overlap_table

    names = ("child layer", "parent layer")
    child, parent, blocks = measure_in(crs, child, parent, blocks, threads=threads, table=table)
    if table is None:
        with stage("overlaps"):
            table = overlap_table(child, parent, threads=threads, progress=progress, names=names)
    else:
        table.check(child, parent, names=names)
    cgeom, pgeom = table.source_geometry, table.target_geometry
    ci, pj, inter = table.si, table.tj, table.area
    c_area = table.source_area
    if (c_area <= 0).any():
        codes = child["code"].to_numpy()[c_area <= 0]
        raise GeometryError(
            f"{len(codes)} child unit(s) have zero area: {format_codes(codes)}",
            layer="child layer",
            code=str(codes[0]),
        )
    share = inter / c_area[ci]
    basis = np.full(len(child), "area", dtype=object)

    if blocks is not None:
        tree = shapely.STRtree(pgeom)
        wc, wp, wshare, has_weight = _weight_pairs(blocks, weight, cgeom, tree, child)
        keep = ~has_weight[ci]
        ci = np.concatenate([ci[keep], wc])
        pj = np.concatenate([pj[keep], wp])
        share = np.concatenate([share[keep], wshare])
        basis[has_weight] = "weight"

    with stage("assignment table"):
        return assignment_table(child, parent, ci, pj, share, basis)


def fit_table(table: OverlapTable) -> pd.DataFrame:
    """Return the area best fit of a table's source units in its targets (best_fit's columns).

    Nothing is measured: the shares come from the table. A source of zero
    area is in no target.
    """
    area = table.source_area[table.si]
    share = np.divide(table.area, area, out=np.zeros_like(table.area), where=area > 0)
    return assignment_table(
        pd.DataFrame({"code": table.source_codes}),
        pd.DataFrame({"code": table.target_codes}),
        table.si,
        table.tj,
        share,
        np.full(len(table.source_codes), "area", dtype=object),
    )


def _weight_pairs(
    weights: gpd.GeoDataFrame,
    column: str,
    cgeom: np.ndarray,
    ptree: shapely.STRtree,
    child: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (child index, parent index, weight share, child has weight) pairs."""
    if column not in weights.columns:
        raise missing_column(column, weights.columns, role="weight", layer="blocks")
    same_crs(child, weights, ("child layer", "blocks layer"))
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


def assignment_table(
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
