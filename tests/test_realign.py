"""Realignment of units built from blocks onto a parent layer."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings

from localitygeo import BoundarySet, apply, read_boundaries, read_layer, validate
from localitygeo.boundaries import NestingRule
from localitygeo.realign import apply_moves, diff, realign

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


def test_apply_moves_changes_only_the_layer(city):
    moves = realign(city, "neighbourhood", "ward").moves
    after = apply_moves(city, "neighbourhood", "small_area", moves)
    assert after["locality"] is city["locality"]
    assert (
        validate(after, rules=["not-nested"]).issues["message"].str.contains("one ward").sum() == 0
    )


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
    proposal = realign(bset, "msoa", "ward", "oa")
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
    moves = realign(bset, "unit", "ward", "block").moves
    after = apply_moves(bset, "unit", "block", moves)
    # Every unit now lies in one ward; totals and union are conserved.
    per_unit = after["block"].groupby("unit")["ward"].nunique()
    assert (per_unit == 1).all()
    assert after["unit"].area.sum() == pytest.approx(unit_layer.area.sum())
    assert np.isclose(after["block"]["population"].sum(), sum(pops))
    moved, _ = diff(bset, after, "unit", "block")
    assert set(moved["block"]) == set(moves["block"])
    assert not realign(after, "unit", "ward", "block").operations


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
    proposal = realign(bset, "unit", "ward")
    moves = proposal.moves.set_index("block")
    assert set(moves.index) == {"C002", "C006", "C010", "C008", "C009"}
    assert (moves.loc[["C002", "C006", "C010"], "to_unit"] == "R").all()
    assert (moves.loc[["C008", "C009"], "to_unit"] == "Q").all()
    assert moves.loc["C008", "reason"].startswith("cut off from the rest of unit P")
    after = apply(bset, proposal)
    assert (after["unit"].geom_type == "Polygon").all()
    assert after["block"].groupby("unit")["ward"].nunique().eq(1).all()
