"""Realignment of units built from blocks onto a parent layer."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings

from localitygeo import BoundarySet, apply, read_boundaries, read_layer, validate
from localitygeo.changes.differences import apply_moves, diff
from localitygeo.changes.realignment import realign
from localitygeo.model.boundary_set import NestingRule

from .helpers import dissolve_by, grid_layer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def city():
    return read_boundaries(REPO / "boundaries" / "example-city")


def test_example_city_realigns_onto_wards(city):
    proposal = realign(city, "neighbourhood", "ward")
    moves = proposal.moves
    assert len(moves) > 0 and moves["reason"].str.len().gt(0).all()
    # one reassign operation per pair of units, covering every moved block once
    assert {o.op for o in proposal.operations} == {"reassign"}
    blocks = [b for o in proposal.operations for b in o["blocks"]]
    assert sorted(blocks) == sorted(moves["block"])
    after = apply(city, proposal)
    # Localities are rebuilt from the realigned neighbourhoods, so nothing fails to nest.
    report = validate(after, rules=["not-nested", "orphan"])
    assert report.ok, report.issues["message"].tolist()
    # every neighbourhood and locality is still one piece
    for key in ("neighbourhood", "locality"):
        assert (after[key].geom_type == "Polygon").all(), key
    # Neighbourhoods that straddled before are exactly the ones that gave blocks away.
    before = validate(city, rules=["not-nested"])
    straddlers = {c[0] for c in before.issues["codes"]}
    assert set(moves["from_unit"]) == straddlers
    # Nothing lost: population, area and the union of the layer are conserved.
    assert after["neighbourhood"].area.sum() == pytest.approx(city["neighbourhood"].area.sum())
    union_b = city["neighbourhood"].union_all()
    union_a = after["neighbourhood"].union_all()
    assert union_b.symmetric_difference(union_a).area < 1e-3
    assert city["neighbourhood"]["code"].tolist()[:3] == ["EXN01", "EXN02", "EXN03"]  # untouched
    # Idempotent: a second run proposes nothing.
    again = realign(after, "neighbourhood", "ward")
    assert not again.operations and again.moves is not None and again.moves.empty


def test_apply_moves_rebuilds_the_layer_and_those_built_from_it(city):
    moves = realign(city, "neighbourhood", "ward").moves
    after = apply_moves(city, "neighbourhood", "small_area", moves)
    assert after["ward"] is city["ward"]  # not built from the changed layer
    assert validate(after, rules=["not-nested"]).ok
    # each locality is the union of its neighbourhoods after the moves
    nb = after["neighbourhood"]
    for code, geom in zip(after["locality"]["code"], after["locality"].geometry, strict=True):
        union = nb.loc[nb["locality"] == code].union_all()
        assert geom.symmetric_difference(union).area < 1e-6, code
    # units keep their attributes (localities are built from their 'locality' column);
    # a new unit takes those of the unit its blocks left
    was = city["neighbourhood"].set_index("code")["locality"]
    now = after["neighbourhood"].set_index("code")["locality"]
    old = now.index.isin(was.index)
    assert (now[old] == was.reindex(now.index[old])).all()
    first = moves.drop_duplicates("to_unit").set_index("to_unit")["from_unit"]
    for code in now.index[~old]:
        assert now[code] == was[first[code]]


def test_diff_gives_back_the_moves(city):
    moves = realign(city, "neighbourhood", "ward").moves
    after = apply(city, realign(city, "neighbourhood", "ward"))
    moved, units = diff(city, after, "neighbourhood")
    assert set(moved["block"]) == set(moves["block"])
    assert moved["population"].sum() == pytest.approx(moves["population"].sum())
    assert units["population_change"].sum() == pytest.approx(0.0)
    assert units["population_after"].sum() == city["small_area"]["population"].sum()
    changed = set(units.index[units["status"] != "unchanged"])
    assert changed == set(moves["from_unit"]) | set(moves["to_unit"])


def test_plymouth_msoas_realigned_onto_wards(plymouth):
    oa = read_layer(plymouth / "oa_2011.geojson", "OA11CD", strict=False).to_crs(27700)
    msoa = read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD").to_crs(27700)
    wards = read_layer(plymouth / "wards_2013.geojson", "WD13CD").to_crs(27700)
    oa["geometry"] = oa.geometry.make_valid()
    bset = BoundarySet.from_layers(
        {"oa": oa, "msoa": msoa, "ward": wards},
        nesting=[NestingRule("msoa", "ward", 0.05)],
    )
    before = validate(bset, rules=["not-nested"])
    assert len(before.issues) > 10
    proposal = realign(bset, "msoa", "ward", blocks="oa")
    after = apply(bset.with_blocks("msoa", "oa"), proposal)
    report = validate(after, rules=["not-nested", "orphan"])
    assert report.ok, report.issues["message"].head().tolist()
    assert after["msoa"].area.sum() == pytest.approx(oa.area.sum(), rel=1e-9)
    # no MSOA-unit falls into more pieces than it had (OA slivers make a few multi-part)
    built = bset.with_blocks("msoa", "oa")["msoa"]
    parts = dict(zip(built["code"], shapely.get_num_geometries(built.geometry), strict=True))
    now = shapely.get_num_geometries(after["msoa"].geometry)
    for code, k in zip(after["msoa"]["code"], now, strict=True):
        assert k <= parts.get(code, 1), code
    assert not realign(after, "msoa", "ward").operations


@st.composite
def block_layouts(draw):
    nx, ny = draw(st.integers(3, 7)), draw(st.integers(2, 5))
    n = nx * ny
    units = draw(st.lists(st.sampled_from("PQRS"), min_size=n, max_size=n))
    cols = draw(st.integers(1, nx - 1))
    pops = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    return nx, ny, units, cols, pops


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block_layouts())
def test_realign_invariants(layout):
    nx, ny, units, cols, pops = layout
    blocks = grid_layer(nx, ny).assign(population=pops)
    parents = ["W1" if i % nx < cols else "W2" for i in range(nx * ny)]
    blocks["unit"] = units
    blocks["ward"] = parents
    unit_layer = dissolve_by(blocks, units)
    ward_layer = dissolve_by(blocks, parents)
    bset = BoundarySet.from_layers({"block": blocks, "unit": unit_layer, "ward": ward_layer})
    moves = realign(bset, "unit", "ward", blocks="block").moves
    after = apply_moves(bset, "unit", "block", moves)
    # Every unit now lies in one ward; totals and union are conserved.
    per_unit = after["block"].groupby("unit")["ward"].nunique()
    assert (per_unit == 1).all()
    assert after["unit"].area.sum() == pytest.approx(unit_layer.area.sum())
    assert np.isclose(after["block"]["population"].sum(), sum(pops))
    moved, _ = diff(bset, after, "unit", blocks="block")
    assert set(moved["block"]) == set(moves["block"])
    assert not realign(after, "unit", "ward", blocks="block").operations


def test_units_stay_contiguous_when_a_bridge_moves():
    # P is a U whose two arms (in ward W1) meet only through column 2 (ward W2).
    nx, ny = 4, 3
    layout = {
        (0, 0): "P", (1, 0): "P", (2, 0): "P", (3, 0): "R",
        (0, 1): "Q", (1, 1): "Q", (2, 1): "P", (3, 1): "R",
        (0, 2): "P", (1, 2): "P", (2, 2): "P", (3, 2): "R",
    }  # fmt: skip
    pops = {(0, 0): 100, (1, 0): 100, (0, 2): 50, (1, 2): 50}
    units = [layout[(i % nx, i // nx)] for i in range(nx * ny)]
    pop = [pops.get((i % nx, i // nx), 60) for i in range(nx * ny)]
    wards = ["W1" if i % nx < 2 else "W2" for i in range(nx * ny)]
    blocks = grid_layer(nx, ny).assign(population=pop, unit=units, ward=wards)
    bset = BoundarySet.from_layers(
        {"block": blocks, "unit": dissolve_by(blocks, units), "ward": dissolve_by(blocks, wards)}
    ).with_blocks("unit", "block")
    # the straddling piece (180 people) is over half the mean unit (260): by default a new unit
    default = realign(bset, "unit", "ward").moves.set_index("block")
    assert (default.loc[["C002", "C006", "C010"], "to_unit"] == "P-W2").all()
    proposal = realign(bset, "unit", "ward", min_new=float("inf"))  # pieces always join
    moves = proposal.moves.set_index("block")
    assert set(moves.index) == {"C002", "C006", "C010", "C008", "C009"}
    assert (moves.loc[["C002", "C006", "C010"], "to_unit"] == "R").all()
    assert (moves.loc[["C008", "C009"], "to_unit"] == "Q").all()
    assert moves.loc["C008", "reason"].startswith("cut off from the rest of unit P")
    after = apply(bset, proposal)
    assert (after["unit"].geom_type == "Polygon").all()
    assert after["block"].groupby("unit")["ward"].nunique().eq(1).all()


def _perturbed_grid(nx: int, ny: int, jitter: list[float], size: float = 100.0):
    """A grid of blocks whose shared edges do not match exactly.

    Each block's edges get a midpoint of their own, pushed sideways by up to a
    few centimetres (a different push for each of the two neighbours), as
    separately generalised small areas are: slivers and overlaps, never
    shared vertices.
    """
    x0, y0 = 400000.0, 200000.0
    polys, codes = [], []
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            d = jitter[k % len(jitter)]
            x, y, s = x0 + i * size, y0 + j * size, size
            polys.append(
                shapely.Polygon(
                    [
                        (x, y),
                        (x + s / 2, y + d),
                        (x + s, y),
                        (x + s - d, y + s / 2),
                        (x + s, y + s),
                        (x + s / 2, y + s - d),
                        (x, y + s),
                        (x + d, y + s / 2),
                    ]
                )
            )
            codes.append(f"C{k:03d}")
    import geopandas as gpd

    return gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=polys, crs="EPSG:27700")


@st.composite
def perturbed_layouts(draw):
    nx, ny = draw(st.integers(3, 6)), draw(st.integers(2, 4))
    n = nx * ny
    units = draw(st.lists(st.sampled_from("PQRS"), min_size=n, max_size=n))
    cut = draw(st.floats(0.3, nx - 0.3))  # the wards' boundary cuts through blocks
    pops = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    jitter = draw(st.lists(st.floats(-0.05, 0.05), min_size=1, max_size=5))
    min_new = draw(st.sampled_from([None, 0.0, float("inf")]))
    return nx, ny, units, cut, pops, jitter, min_new


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perturbed_layouts())
# a unit whose only straddling blocks are empty nests by population: left alone
@example((3, 2, ["P"] * 6, 1.0, [0, 0, 0, 0, 0, 1], [0.0], None))
def test_realign_apply_validate_by_blocks_finds_nothing_not_nested(layout):
    nx, ny, units, cut, pops, jitter, min_new = layout
    blocks = _perturbed_grid(nx, ny, jitter).assign(population=pops, unit=units)
    x = 400000.0 + 100.0 * cut
    box = shapely.box(399000.0, 199000.0, x, 201000.0), shapely.box(x, 199000.0, 401000.0, 201000.0)
    wards = blocks.iloc[:2][["code", "name"]].assign(code=["W1", "W2"], name=["W1", "W2"])
    wards = wards.set_geometry(list(box), crs=blocks.crs)
    rule = NestingRule("unit", "ward", 0.01, by="blocks")
    bset = BoundarySet.from_layers(
        {"block": blocks, "unit": dissolve_by(blocks, units), "ward": wards}, nesting=[rule]
    ).with_blocks("unit", "block")
    proposal = realign(bset, "unit", "ward", min_new=min_new)
    after = apply(bset, proposal)
    report = validate(after, rules=["not-nested"])
    assert report.ok, report.issues["message"].tolist()
    # and impact counts what validate counts, before and after
    from localitygeo import impact

    if proposal.operations:
        split = impact(bset, after, proposal).metrics.set_index(["layer", "id"])
        before = validate(bset, rules=["not-nested"]).issues
        assert split.loc[("unit", "split:ward"), "before"] == len(before) > 0
        assert split.loc[("unit", "split:ward"), "after"] == 0
    assert np.isclose(after["block"]["population"].sum(), sum(pops))
    assert not realign(after, "unit", "ward").operations


def test_new_units_get_distinct_names_and_codes():
    # Rows P, R, S; ward W2 is the left block of the top and bottom rows, not
    # touching: P and S each leave a piece in W2, where no unit is at home.
    units = ["P", "P", "P", "R", "R", "R", "S", "S", "S"]
    wards = ["W2", "W1", "W1", "W1", "W1", "W1", "W2", "W1", "W1"]
    blocks = grid_layer(3, 3).assign(population=[100] * 9, unit=units)
    bset = BoundarySet.from_layers(
        {"block": blocks, "unit": dissolve_by(blocks, units), "ward": dissolve_by(blocks, wards)}
    ).with_blocks("unit", "block")
    proposal = realign(bset, "unit", "ward")
    new = [o for o in proposal.operations if o.get("new")]
    assert sorted(o["name"] for o in new) == ["W2 (new unit)", "W2 (new unit) 2"]
    assert sorted(o["to"] for o in new) == ["P-W2", "S-W2"]
    after = apply(bset, proposal)
    assert sorted(after["unit"].loc[after["unit"]["new"], "name"]) == [
        "W2 (new unit)",
        "W2 (new unit) 2",
    ]
    assert any("no neighbouring unit at home" in s for s in proposal.summary)


def test_keep_never_moves_a_block_across_a_locality(city):
    proposal = realign(city, "neighbourhood", "ward", keep="locality")
    after = apply(city, proposal)
    loc_before = city["neighbourhood"].set_index("code")["locality"]
    loc_after = after["neighbourhood"].set_index("code")["locality"]
    sa_b = city["small_area"].set_index("code")["neighbourhood"]
    sa_a = after["small_area"].set_index("code")["neighbourhood"]
    assert (
        loc_before.reindex(sa_b).to_numpy()
        == loc_after.reindex(sa_a.reindex(sa_b.index)).to_numpy()
    ).all()
    sym = city["locality"].geometry.symmetric_difference(after["locality"].geometry, align=False)
    assert sym.area.max() < 1e-3  # no locality boundary moved
    assert validate(after, rules=["not-nested"]).ok
    assert "Every block stays in its locality" in " ".join(proposal.summary)


def test_min_new_decides_between_joining_and_a_new_unit(city):
    join = realign(city, "neighbourhood", "ward", min_new=float("inf")).moves
    split = realign(city, "neighbourhood", "ward", min_new=0).moves
    known = set(city["neighbourhood"]["code"])
    assert set(split["block"]) == set(join["block"])
    assert not (split["to_unit"].isin(known)).any()  # every straddling piece a unit of its own
    assert join["to_unit"].isin(known).mean() > (split["to_unit"].isin(known)).mean()


def test_summary_states_people_moved_and_balance(city):
    p = realign(city, "neighbourhood", "ward")
    text = " ".join(p.summary)
    assert f"({p.moves['population'].sum():,.0f} people)" in text
    pop = city["small_area"].set_index("code")["population"]
    before = pop.groupby(city["small_area"].set_index("code")["neighbourhood"]).sum()
    share = float(((before / before.mean() - 1).abs() > 0.10).mean())
    assert f"{share:.0%} before" in text
    assert p.description == "\n".join(p.summary)
    assert any(s.startswith("Warning: balance gets worse") for s in realign(
        city, "neighbourhood", "ward", balance_warning=-1.0).summary)  # fmt: skip
    assert not any(s.startswith("Warning") for s in realign(
        city, "neighbourhood", "ward", balance_warning=1.0).summary)  # fmt: skip


def test_without_population_realign_and_impact_say_so(city):
    from localitygeo import impact

    bare = city.with_layers(small_area=city["small_area"].drop(columns=["population"]))
    p = realign(bare, "neighbourhood", "ward")
    assert p.moves["population"].isna().all()  # unknown, not zero people
    assert any("has no 'population' column" in s for s in p.summary)
    im = impact(bare, apply(bare, p), p)
    assert im.population is None and "mean_population" not in set(im.metrics["id"])
    assert any("no population column" in s for s in im.summary)
    assert not any("0 people" in s for s in im.summary)
