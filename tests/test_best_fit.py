"""best_fit and its exact area engine, checked against a GEOS overlay computed here.

Property tests build coverages (square grids, Voronoi cells) as children and
unions of random groups of them as parents, then move the parents' vertices
(a little, a lot, or not at all; per parent, so parents do not agree with each
other either) the way separately generalised boundary layers disagree. Every
share must match ``geopandas.overlay`` to 1e-9 of the child's area.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localitygeo.geometry import measure as _measure
from localitygeo.geometry.engine import NonFiniteError, chunk, grid, intersection_areas
from localitygeo.geometry.engine.crossings import Crossings
from localitygeo.geometry.fitting import ASSIGNMENT_COLUMNS, best_fit
from localitygeo.io.layers import read_layer
from tests.helpers import BNG, dissolve_by, grid_layer

X0, Y0 = 400000.0, 200000.0
TOL = 1e-9
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ reference


def overlay_shares(child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of each child's area in each parent, by geopandas.overlay (GEOS)."""
    left = gpd.GeoDataFrame({"c": child["code"]}, geometry=child.geometry.values, crs=child.crs)
    right = gpd.GeoDataFrame({"p": parent["code"]}, geometry=parent.geometry.values, crs=child.crs)
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    area = pieces.assign(a=pieces.area).groupby(["c", "p"], as_index=False)["a"].sum()
    c_area = pd.Series(child.geometry.make_valid().area.to_numpy(), index=child["code"])
    return area.assign(share=area["a"] / c_area.loc[area["c"]].to_numpy())


def expected_table(child: gpd.GeoDataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The assignment table best_fit should return, from reference shares."""
    real = shares[shares["share"] >= TOL].sort_values(["c", "share", "p"], ascending=[1, 0, 1])
    rows = []
    for code in child["code"]:
        mine = real[real["c"] == code]
        top = mine.iloc[:2]
        total = mine["share"].sum()
        scale = max(total, 1.0)
        rows.append(
            {
                "child_code": code,
                "parent_code": top["p"].iloc[0] if len(top) else None,
                "share": top["share"].iloc[0] / scale if len(top) else 0.0,
                "runner_up_code": top["p"].iloc[1] if len(top) > 1 else None,
                "runner_up_share": top["share"].iloc[1] / scale if len(top) > 1 else 0.0,
                "outside_share": min(max(1.0 - total / scale, 0.0), 1.0),
                "n_parents": len(mine),
                "near_threshold": bool(
                    (np.abs(shares.loc[shares["c"] == code, "share"] - TOL) < 1e-11).any()
                ),
            }
        )
    return pd.DataFrame(rows)


def assert_matches_overlay(got: pd.DataFrame, child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame):
    want = expected_table(child, overlay_shares(child, parent))
    assert list(got.columns) == ASSIGNMENT_COLUMNS
    assert got["child_code"].tolist() == want["child_code"].tolist()
    for col in ("share", "runner_up_share", "outside_share"):
        np.testing.assert_allclose(got[col], want[col], rtol=0, atol=TOL, err_msg=col)
    # codes must agree unless two parents hold (within tolerance) the same share
    tie = (want["share"] - want["runner_up_share"]).abs() < 2 * TOL
    for col in ("parent_code", "runner_up_code"):
        same = got[col].fillna("-").to_numpy() == want[col].fillna("-").to_numpy()
        assert (same | tie.to_numpy()).all(), col
    counted = got["n_parents"].to_numpy() == want["n_parents"].to_numpy()
    assert (counted | want["near_threshold"].to_numpy()).all()


def check_shares(table: pd.DataFrame) -> None:
    for col in ("share", "runner_up_share", "outside_share"):
        assert ((table[col] >= 0) & (table[col] <= 1)).all()
    total = table["share"] + table["runner_up_share"] + table["outside_share"]
    assert (total <= 1 + TOL).all()
    assert (table["runner_up_share"] <= table["share"]).all()


# ------------------------------------------------------------------ scenes


def voronoi_layer(points: np.ndarray, size: float) -> gpd.GeoDataFrame:
    frame = shapely.box(X0, Y0, X0 + size, Y0 + size)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame)
    )
    cells = shapely.intersection(cells, frame)
    cells = cells[shapely.area(cells) > 1.0]
    codes = [f"C{i:03d}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=cells, crs=BNG)


def jitter(geoms: np.ndarray, amount: float, fraction: float, seed: int) -> np.ndarray:
    """Move a fraction of each geometry's distinct vertices by up to ``amount``.

    Each parent moves its own copy of a shared vertex independently, so the
    parents stop agreeing with each other as well as with the children.
    """
    out = []
    for k, g in enumerate(geoms):
        rng = np.random.default_rng([seed, k])
        xy = shapely.get_coordinates(g)
        uniq, inv = np.unique(xy, axis=0, return_inverse=True)
        move = (rng.random(len(uniq)) < fraction)[:, None]
        noise = rng.uniform(-amount, amount, uniq.shape) * move
        out.append(shapely.set_coordinates(g, xy + noise[inv.ravel()]))
    return np.array(out, dtype=object)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        child = grid_layer(draw(st.integers(2, 6)), draw(st.integers(1, 5)), 100.0, "C", X0, Y0)
    else:
        n = draw(st.integers(3, 25))
        child = voronoi_layer(rng.uniform(0, 500, (n, 2)) + np.array([X0, Y0]), 500.0)
    k = draw(st.integers(1, min(6, len(child))))
    groups = [f"P{g}" for g in rng.integers(0, k, len(child))]
    parent = dissolve_by(child, groups)
    amount = draw(st.sampled_from([0.0, 1e-9, 1e-6, 1e-3, 0.5]))
    if amount:
        fraction = draw(st.sampled_from([0.3, 1.0]))
        geoms = jitter(np.asarray(parent.geometry.array, dtype=object), amount, fraction, seed)
        parent = parent.set_geometry(geoms)
    if len(parent) > 1 and draw(st.booleans()):  # some children now lie outside every parent
        parent = parent.iloc[1:].reset_index(drop=True)
    if draw(st.booleans()):  # a parent with a hole
        g = parent.geometry.iloc[0]
        c = shapely.point_on_surface(g)
        hole = shapely.box(c.x - 10, c.y - 10, c.x + 10, c.y + 10)
        parent.loc[parent.index[0], "geometry"] = g.difference(hole)
    return child, parent


# ------------------------------------------------------------------ properties


@SETTINGS
@given(scenes())
def test_shares_match_an_overlay(scene: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    child, parent = scene
    table = best_fit(child, parent)
    check_shares(table)
    assert_matches_overlay(table, child, parent)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(scene, rnd) -> None:
    child, parent = scene
    table = best_fit(child, parent)
    ci = list(range(len(child)))
    pi = list(range(len(parent)))
    rnd.shuffle(ci)
    rnd.shuffle(pi)
    shuffled = best_fit(child.iloc[ci], parent.iloc[pi]).set_index("child_code")
    pd.testing.assert_frame_equal(
        shuffled.loc[table["child_code"]].reset_index(), table, rtol=0, atol=1e-12
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_input_crs_does_not_matter(scene) -> None:
    child, parent = scene
    table = best_fit(child, parent)
    moved = best_fit(child.to_crs(4326), parent.to_crs(4326), crs=BNG)
    for col in ("share", "runner_up_share", "outside_share"):
        np.testing.assert_allclose(moved[col], table[col], rtol=0, atol=1e-6)
    clear = (table["share"] - table["runner_up_share"]) > 1e-6
    assert (moved["parent_code"][clear] == table["parent_code"][clear]).all()


# ------------------------------------------------------------------ hand-made cases


def b(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def layer(prefix: str, geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    codes = [f"{prefix}{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=geoms, crs=BNG)


def bowtie() -> shapely.Polygon:
    return shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])


CASES = {
    # child identical to its parent; a child only touching a parent
    "identical": ([b(0, 0, 100, 100)], [b(0, 0, 100, 100), b(100, 0, 200, 100)]),
    # a child split in half: a tie, broken by the smaller code
    "tie": ([b(0, 0, 100, 100)], [b(50, 0, 100, 100), b(0, 0, 50, 100)]),
    # parents with holes, children in and across the holes
    "holes": (
        [b(40, 40, 60, 60), b(30, 45, 50, 55), b(0, 0, 100, 100)],
        [b(0, 0, 100, 100).difference(b(35, 35, 65, 65)), b(35, 35, 65, 65)],
    ),
    # a child with a hole holding a parent
    "child hole": ([b(0, 0, 100, 100).difference(b(20, 20, 80, 80))], [b(10, 10, 90, 90)]),
    # overlapping children; overlapping parents (shares scaled to sum to 1)
    "overlaps": (
        [b(0, 0, 60, 100), b(40, 0, 100, 100)],
        [b(0, 0, 70, 100), b(30, 0, 100, 100)],
    ),
    # a child partly outside every parent; a multipolygon child across two parents
    "outside": (
        [b(50, 0, 150, 100), shapely.union(b(0, 0, 10, 10), b(80, 80, 90, 90))],
        [b(0, 0, 60, 100), b(60, 0, 100, 100)],
    ),
    # an invalid (self-crossing) child, repaired before measuring
    "bowtie": ([bowtie()], [b(0, 0, 50, 100), b(50, 0, 100, 100)]),
    # an invalid parent: its pairs are redone once it is repaired
    "bowtie parent": (
        [b(0, 0, 50, 100), b(50, 0, 100, 100), b(100, 0, 150, 100)],
        [bowtie(), b(90, 0, 150, 100)],
    ),
    # vertices on the other layer's edges, and collinear runs of edges
    "t-junctions": (
        [b(0, 0, 30, 100), b(30, 0, 70, 100), b(70, 0, 100, 100)],
        [b(0, 0, 100, 50), b(0, 50, 100, 100)],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_made_cases(name: str) -> None:
    kids, parents = CASES[name]
    child, parent = layer("C", kids), layer("P", parents)
    table = best_fit(child, parent)
    check_shares(table.assign(share=table["share"].clip(upper=1)))
    assert_matches_overlay(table, child, parent)


def test_hand_worked_shares() -> None:
    child = layer("C", [b(0, 0, 100, 100), b(50, 0, 150, 100)])
    parent = layer("P", [b(0, 0, 80, 100), b(80, 0, 100, 100)])
    t = best_fit(child, parent).set_index("child_code")
    assert t.loc["C0", "parent_code"] == "P0"
    assert t.loc["C0", "share"] == pytest.approx(0.8, abs=1e-12)
    assert t.loc["C0", "runner_up_share"] == pytest.approx(0.2, abs=1e-12)
    # C1 spans x = 50..150: 30 in P0, 20 in P1, half of it in no parent
    assert t.loc["C1", ["parent_code", "runner_up_code"]].tolist() == ["P0", "P1"]
    assert t.loc["C1", "share"] == pytest.approx(0.3, abs=1e-12)
    assert t.loc["C1", "runner_up_share"] == pytest.approx(0.2, abs=1e-12)
    assert t.loc["C1", "outside_share"] == pytest.approx(0.5, abs=1e-12)
    assert t["n_parents"].tolist() == [2, 2]


def test_nested_layers_give_whole_shares() -> None:
    # parents built from the children themselves: every share is 1 and nothing else
    child = grid_layer(6, 4, 100.0, "C", X0, Y0)
    parent = dissolve_by(child, [f"P{i % 3}" for i in range(len(child))])
    t = best_fit(child, parent)
    assert np.abs(t["share"] - 1).max() < 1e-12
    assert (t["n_parents"] == 1).all()


# ------------------------------------------------------------------ the engine


def engine_vs_geos(a: list[shapely.Geometry], bb: list[shapely.Geometry]) -> float:
    """Largest |engine - GEOS| over all pairs, relative to the first polygon's area."""
    a_, b_ = np.array(a, dtype=object), np.array(bb, dtype=object)
    i, j, area = intersection_areas(a_, b_)
    got = {(int(p), int(q)): v for p, q, v in zip(i, j, area, strict=True)}
    worst = 0.0
    for p in range(len(a_)):
        for q in range(len(b_)):
            ref = shapely.area(shapely.intersection(a_[p], b_[q]))
            worst = max(worst, abs(got.get((p, q), 0.0) - ref) / shapely.area(a_[p]))
    return worst


def test_engine_decides_collinear_floats_exactly() -> None:
    # 0.1, 0.3, 0.7 are not exact in binary: the floating-point orientation of
    # these nearly collinear points is unsure and must be settled exactly
    s = 1e3
    tri = shapely.Polygon([(0.1 * s, 0.1 * s), (0.7 * s, 0.7 * s), (0.1 * s, 0.7 * s)])
    cut = shapely.Polygon([(0.3 * s, 0.3 * s), (0.9 * s, 0.9 * s), (0.9 * s, 0.0)])
    assert engine_vs_geos([tri, cut], [cut, tri]) < 1e-12


def test_engine_falls_back_to_geos_when_a_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    real = chunk.find_crossings

    def broken(*args: object) -> Crossings:
        c = real(*args)  # type: ignore[arg-type]
        return Crossings(*(c.__dict__[f] for f in list(c.__dict__)[:-1]), c.x < 0)

    monkeypatch.setattr(chunk, "find_crossings", broken)
    child = grid_layer(4, 3, 100.0, "C", X0, Y0)
    geoms = jitter(np.asarray(child.geometry.array, dtype=object), 0.5, 1.0, 7)
    assert engine_vs_geos(list(child.geometry), list(geoms[::-1])) < 1e-12


def test_unchecked_run_failing_on_invalid_input_is_redone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the engine first runs on unchecked geometries while GEOS checks them;
    # if that run fails, best_fit reruns on the repaired geometries, but only
    # when something needed repair (otherwise the failure is real)
    def fails(*args: object) -> None:
        raise RuntimeError("unchecked run failed")

    monkeypatch.setattr(_measure, "_raw_areas", fails)
    kids, parents = CASES["bowtie parent"]
    child, parent = layer("C", kids), layer("P", parents)
    assert_matches_overlay(best_fit(child, parent), child, parent)
    with pytest.raises(RuntimeError, match="unchecked run failed"):
        best_fit(child, layer("P", [b(0, 0, 50, 100)]))


def test_engine_on_empty_input() -> None:
    i, j, area = intersection_areas(np.array([], dtype=object), np.array([b(0, 0, 1, 1)]))
    assert len(i) == len(j) == len(area) == 0


def brute_entries(box: np.ndarray, g: grid.Grid) -> set[tuple[int, int, int]]:
    """Every (cell key, box, flag) by looping over the cells each box touches."""
    out = set()
    for n in range(box.shape[1]):
        i0, j0, i1, j1 = (int(np.floor((box[k, n] - (g.gx, g.gy)[k % 2]) / g.s)) for k in range(4))
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                out.add((i * g.ny + j, n, int(i == i0) | (int(j == j0) << 1)))
    return out


@pytest.mark.parametrize("span", [0.9, 2.5])
def test_grid_registers_boxes_in_every_cell_they_touch(span: float) -> None:
    # boxes up to one cell wide take the 2 x 2 shortcut; wider ones the general path
    rng = np.random.default_rng(3)
    g = grid.Grid(0.0, 0.0, 10.0, 50)
    lo = rng.uniform(5, 300, (2, 200))
    box = np.vstack([lo, lo + rng.uniform(0, span * g.s, (2, 200))])
    key, idx, flag = grid._entries(box, g)
    got = set(zip(key.tolist(), idx.tolist(), flag.tolist(), strict=True))
    assert len(got) == len(key)
    assert got == brute_entries(box, g)


def test_grid_candidates_same_without_the_dense_cell_table() -> None:
    # very large grids look cells up by binary search instead of a dense table
    rng = np.random.default_rng(5)

    def edges(n: int) -> np.ndarray:  # (4, n) rows x0, y0, x1, y1; shorter than a cell
        start = rng.uniform(0, 1000, (2, n))
        return np.vstack([start, start + rng.uniform(-30, 30, (2, n))])

    ea, eb = edges(3000), edges(3000)
    g = grid.Grid(-100.0, -100.0, 40.0, 40)
    dense = grid.candidates(ea, grid.build_index(eb, g, 40 * 40), g)
    sparse = grid.candidates(ea, grid.build_index(eb, g, 1 << 27), g)
    pairs = {tuple(p) for p in np.column_stack(dense).tolist()}
    assert len(pairs) > 1000
    assert pairs == {tuple(p) for p in np.column_stack(sparse).tolist()}
    a0, a1 = np.minimum(ea[:2], ea[2:]), np.maximum(ea[:2], ea[2:])
    b0, b1 = np.minimum(eb[:2], eb[2:]), np.maximum(eb[:2], eb[2:])
    meet = (a0[:, :, None] <= b1[:, None, :]).all(0) & (b0[:, None, :] <= a1[:, :, None]).all(0)
    assert pairs == {tuple(p) for p in np.argwhere(meet).tolist()}


def test_engine_reports_progress_and_rejects_non_finite_coordinates() -> None:
    calls: list[tuple[int, int]] = []
    kids = np.array([b(0, 0, 10, 10), b(10, 0, 20, 10)], dtype=object)
    intersection_areas(
        kids, np.array([b(5, 0, 15, 10)]), progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(1, 1)]
    far = intersection_areas(kids, np.array([b(500, 500, 510, 510)]))
    assert all(len(v) == 0 for v in far)
    with np.errstate(invalid="ignore"):
        nan = shapely.Polygon([(X0, Y0), (X0 + 1, Y0), (X0 + 1, np.nan), (X0, Y0 + 1)])
    with pytest.raises(NonFiniteError):
        intersection_areas(np.array([nan]), np.array([b(0, 0, 10, 10)]))


# ------------------------------------------------------------------ real data


def real(folder: Path, name: str, code: str) -> gpd.GeoDataFrame:
    return read_layer(folder / f"{name}.geojson", code, strict=False).to_crs(27700)


@pytest.mark.realdata
def test_plymouth_output_areas_nest_in_lsoas(plymouth: Path) -> None:
    oa, lsoa = real(plymouth, "oa_2011", "OA11CD"), real(plymouth, "lsoa_2011", "LSOA11CD")
    table = best_fit(oa, lsoa)
    assert len(table) == 849
    assert table["share"].min() >= 0.999
    assert table["share"].min() < 1  # separately generalised: slivers everywhere
    assert_matches_overlay(table, oa, lsoa)


@pytest.mark.realdata
def test_plymouth_lsoas_do_not_nest_in_wards(plymouth: Path) -> None:
    lsoa, ward = real(plymouth, "lsoa_2011", "LSOA11CD"), real(plymouth, "wards_2013", "WD13CD")
    table = best_fit(lsoa, ward)
    assert len(table) == 161
    assert int((table["share"] < 0.99).sum()) == 28
    assert table["share"].min() == pytest.approx(0.9447, abs=5e-5)
    assert_matches_overlay(table, lsoa, ward)


# ------------------------------------------------------------------ weights


def test_weight_shares_hand_worked() -> None:
    child = layer("C", [b(0, 0, 100, 100), b(100, 0, 200, 100), b(200, 0, 300, 100)])
    parent = layer("P", [b(0, 0, 150, 100), b(150, 0, 200, 100)])
    units = [b(10, 10, 20, 20), b(110, 10, 120, 20), b(160, 10, 170, 20), b(250, 10, 260, 20)]
    weights = layer("W", units).assign(population=[0.0, 10.0, 30.0, 5.0])
    t = best_fit(child, parent, blocks=weights).set_index("child_code")
    # C0: its only unit holds nobody, so area decides: wholly in P0
    assert t.loc["C0", ["parent_code", "basis"]].tolist() == ["P0", "area"]
    assert t.loc["C0", "share"] == pytest.approx(1.0)
    # C1: half its area in each parent (a tie) but 30 of its 40 people in P1
    assert t.loc["C1", ["parent_code", "runner_up_code", "basis"]].tolist() == [
        "P1",
        "P0",
        "weight",
    ]
    assert t.loc["C1", ["share", "runner_up_share"]].tolist() == pytest.approx([0.75, 0.25])
    # C2: its 5 people live outside every parent
    assert pd.isna(t.loc["C2", "parent_code"])
    assert t.loc["C2", "outside_share"] == pytest.approx(1.0)
    area_only = best_fit(child, parent).set_index("child_code")
    assert area_only.loc["C1", ["parent_code", "share"]].tolist() == ["P0", pytest.approx(0.5)]
