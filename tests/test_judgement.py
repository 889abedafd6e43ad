"""The nesting judgement (judge_nesting): by area, by blocks, from membership.

Hand-worked layouts: four 100 m square blocks in a row (C000..C003) make one
unit U; parent A covers the first two blocks and part of the third, B the
rest. Every share below is worked out by hand from those numbers.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings

from localitygeo import BoundarySet, read_boundaries, validate, write_boundaries
from localitygeo.errors import ColumnError, DataError, ManifestError
from localitygeo.geometry import measure
from localitygeo.geometry.fitting import ASSIGNMENT_COLUMNS
from localitygeo.model.boundary_set import NestingRule
from localitygeo.validation.judgement import judge_nesting

from .helpers import BNG, dissolve_by, grid_layer, write_manifest

X0, Y0 = 400000.0, 200000.0
CITY = Path(__file__).resolve().parents[1] / "boundaries" / "example-city"


def parents(split: float, codes: tuple[str, str] = ("A", "B")) -> gpd.GeoDataFrame:
    """Parent ``codes[0]`` west of ``X0 + split``, ``codes[1]`` east of it (blocks span 400 m)."""
    return gpd.GeoDataFrame(
        {"code": list(codes), "name": list(codes)},
        geometry=[
            shapely.box(X0, Y0, X0 + split, Y0 + 100),
            shapely.box(X0 + split, Y0, X0 + 400, Y0 + 100),
        ],
        crs=BNG,
    )


def block_set(
    population: list[float] | None,
    split: float = 260.0,
    units: list[str] | None = None,
    rules: tuple[NestingRule, ...] = (),
    parent_codes: tuple[str, str] = ("A", "B"),
) -> BoundarySet:
    """Blocks C000..C003 (one unit U unless ``units`` says), parents split at ``split``."""
    blocks = grid_layer(4, 1)
    blocks["unit"] = units or ["U"] * 4
    if population is not None:
        blocks["population"] = population
    unit = dissolve_by(blocks, blocks["unit"].tolist())
    return BoundarySet.from_layers(
        {"block": blocks, "unit": unit, "parent": parents(split, parent_codes)},
        nesting=rules,
    ).with_blocks("unit", "block")


def row(bset: BoundarySet, rule: NestingRule, code: str = "U") -> pd.Series:
    return judge_nesting(bset, rule).table.set_index("child_code").loc[code]


BY_AREA = NestingRule("unit", "parent", 0.01)
BY_BLOCKS = NestingRule("unit", "parent", 0.01, by="blocks")


def test_by_blocks_population_shares_hand_worked():
    # best fits: C000, C001 and C002 (60% in A) in A, C003 in B; people 10, 20, 30, 40
    j = judge_nesting(block_set([10, 20, 30, 40]), BY_BLOCKS)
    r = j.table.set_index("child_code").loc["U"]
    assert (r.parent_code, r.runner_up_code) == ("A", "B")
    assert r.share == pytest.approx(60 / 100) and r.runner_up_share == pytest.approx(40 / 100)
    assert r.basis == "blocks-population" and r.n_parents == 2
    assert list(j.not_nested) == ["U"] and j.method == "blocks"
    assert list(j.table.columns) == ASSIGNMENT_COLUMNS
    # the area outside the best parent is that of the block whose best fit is B
    assert j.outside_area["U"] == pytest.approx(100 * 100)
    blocks = j.block_table.set_index("child_code")
    assert list(blocks["parent_code"]) == ["A", "A", "A", "B"]
    assert blocks.loc["C002", "share"] == pytest.approx(0.6)


def test_by_area_from_the_blocks_hand_worked():
    r = row(block_set([10, 20, 30, 40]), BY_AREA)
    assert r.share == pytest.approx(260 / 400) and r.runner_up_share == pytest.approx(140 / 400)
    assert r.basis == "area"


def test_by_blocks_falls_back_to_area_without_population():
    # no population column: blocks weigh their area; 3 of 4 blocks' best fit is A
    bset = block_set(None, rules=(BY_BLOCKS,))
    r = row(bset, BY_BLOCKS)
    assert r.share == pytest.approx(0.75) and r.basis == "blocks-area"
    report = validate(bset, rules=["not-nested"])
    assert any("no 'population' column" in n for n in report.notes)
    assert "by its blocks' area: 75.0% in parent A, 25.0% in B" in report.issues["message"][0]
    # a unit whose blocks hold nobody is judged by area too
    assert row(block_set([0, 0, 0, 0]), BY_BLOCKS).basis == "blocks-area"


def test_by_blocks_ties_go_to_the_smaller_code_whatever_the_order():
    # 60 people in A's blocks, 60 in B's: a tie, decided by code
    for codes in (("A", "B"), ("B", "A")):
        r = row(block_set([10, 20, 30, 60], parent_codes=codes), BY_BLOCKS)
        assert r.parent_code == "A" and r.share == pytest.approx(0.5)
        assert r.runner_up_code == "B" and r.runner_up_share == pytest.approx(0.5)
    # a block exactly halved between two parents goes to the smaller code
    j = judge_nesting(block_set([10, 20, 30, 40], split=250.0), BY_BLOCKS)
    assert j.block_table.set_index("child_code").loc["C002", "parent_code"] == "A"
    assert j.table.set_index("child_code").loc["U", "share"] == pytest.approx(0.6)


def test_by_blocks_tolerance_is_of_population():
    # 1 person of 200 lives in C003, whose best fit is B: 0.5% outside A
    bset = block_set([100, 50, 49, 1], split=300.0)
    assert row(bset, BY_BLOCKS).share == pytest.approx(199 / 200)
    assert len(judge_nesting(bset, BY_BLOCKS).not_nested) == 0
    strict = NestingRule("unit", "parent", 0.001, by="blocks")
    assert list(judge_nesting(bset, strict).not_nested) == ["U"]
    # by area the same unit has a quarter outside A
    assert list(judge_nesting(bset, BY_AREA).not_nested) == ["U"]


def test_a_rule_by_blocks_needs_a_child_built_from_blocks(tmp_path):
    bset = block_set([1, 1, 1, 1])
    rule = NestingRule("block", "parent", by="blocks")
    with pytest.raises(ManifestError, match=r"block->parent.*not built from blocks"):
        judge_nesting(bset, rule)
    with pytest.raises(ManifestError, match=r"block->parent"):
        validate(BoundarySet.from_layers(dict(bset.layers), nesting=[rule]))
    with pytest.raises(ManifestError, match="by must be one of"):
        NestingRule("unit", "parent", by="population")
    grid_layer(2, 1).to_file(tmp_path / "c.geojson")
    base = '[layers.c]\npath = "../c.geojson"\ncode = "code"\n[layers.p]\npath = "../c.geojson"\n'
    base += 'code = "code"\n[[nesting]]\nchild = "c"\nparent = "p"\n'
    m = write_manifest(tmp_path / "s", base + 'by = "blocks"\n')
    with pytest.raises(ManifestError, match=r"\[\[nesting\]\] #1 \(c->p\).*built from blocks"):
        read_boundaries(m)
    m = write_manifest(tmp_path / "s", base + 'by = "weight"\n')
    with pytest.raises(ManifestError, match=r"by must be one of 'area', 'blocks', not 'weight'"):
        read_boundaries(m)


def test_manifest_by_and_population_read_and_written_back(tmp_path):
    text = (CITY / "boundaries.toml").read_text(encoding="utf-8")
    text = text.replace(
        'parent = "ward"\ntolerance = 0.01\n',
        'parent = "ward"\ntolerance = 0.01\nby = "blocks"\npopulation = "residents"\n',
    )
    folder = tmp_path / "city"
    folder.mkdir()
    for f in CITY.iterdir():
        if f.is_file() and f.name != "boundaries.toml":
            (folder / f.name).write_bytes(f.read_bytes())
    write_manifest(folder, text)
    bset = read_boundaries(folder)
    rule = next(r for r in bset.nesting if r.parent == "ward")
    assert (rule.by, rule.population) == ("blocks", "residents")
    with pytest.raises(ColumnError, match="blocks layer 'small_area' has no column 'residents'"):
        judge_nesting(bset, rule)
    back = read_boundaries(write_boundaries(bset, tmp_path / "out"))
    assert [(r.id, r.by, r.population) for r in back.nesting] == [
        (r.id, r.by, r.population) for r in bset.nesting
    ]


def test_bad_population_values_are_a_clear_error():
    bset = block_set([10, -1, 30, 40])
    with pytest.raises(DataError, match=r"'population' of layer 'block'.*1 block\(s\): C001"):
        judge_nesting(bset, BY_BLOCKS)
    blocks = bset["block"].assign(population=["10", "12,5", "30", "40"])
    with pytest.raises(DataError, match=r"population.*C001"):
        judge_nesting(bset.with_layers(block=blocks), BY_BLOCKS)


def test_block_straddles_names_block_parents_and_shares():
    bset = block_set([10, 20, 30, 40], rules=(BY_AREA,))
    report = validate(bset)
    st_ = report.issues[report.issues["rule"] == "block-straddles"]
    assert list(st_["codes"]) == [["C002", "A", "B"]]
    assert set(st_["severity"]) == {"warning"} and list(st_["layer"]) == ["block"]
    assert st_["message"].iloc[0] == (
        "block C002 (in unit U) lies in more than one parent: 60.0% in parent A, "
        "40.0% in B (tolerance 0.01)"
    )
    assert st_["area_m2"].iloc[0] == pytest.approx(4000.0)
    # under by = "blocks" too
    report = validate(block_set([10, 20, 30, 40], rules=(BY_BLOCKS,)), rules=["block-straddles"])
    assert list(report.issues["codes"]) == [["C002", "A", "B"]]


def test_block_straddles_tolerance_and_one_report_per_block():
    # C002 has 0.5% of its area in B (split at 299.5 m)
    rules = (NestingRule("unit", "parent", 0.01), NestingRule("pair", "parent", 0.001))
    blocks = grid_layer(4, 1)
    blocks["unit"] = ["U"] * 4
    blocks["pair"] = ["P1", "P1", "P2", "P2"]
    layers = {
        "block": blocks,
        "unit": dissolve_by(blocks, ["U"] * 4),
        "pair": dissolve_by(blocks, ["P1", "P1", "P2", "P2"]),
        "parent": parents(299.5),
    }
    loose = BoundarySet.from_layers(layers, nesting=rules[:1]).with_blocks("unit", "block")
    assert validate(loose, rules=["block-straddles"]).issues.empty
    both = BoundarySet.from_layers(layers, nesting=rules)
    both = both.with_blocks("unit", "block").with_blocks("pair", "block")
    found = validate(both, rules=["block-straddles"]).issues
    # the same block straddles the same parent for both rules: reported once, strictest
    assert list(found["codes"]) == [["C002", "A", "B"]]
    assert "(in pair P2)" in found["message"].iloc[0]
    assert "tolerance 0.001" in found["message"].iloc[0]


def test_a_block_at_the_coast_does_not_straddle():
    # parent A reaches only 399 m: C003 is 1% in no parent, but in one parent only
    par = gpd.GeoDataFrame(
        {"code": ["A"], "name": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + 399, Y0 + 100)], crs=BNG
    )
    blocks = grid_layer(4, 1).assign(unit="U")
    bset = BoundarySet.from_layers(
        {"block": blocks, "unit": dissolve_by(blocks, ["U"] * 4), "parent": par},
        nesting=[NestingRule("unit", "parent", 0.001)],
    ).with_blocks("unit", "block")
    j = judge_nesting(bset, bset.nesting[0])
    assert len(j.block_straddles) == 0
    assert j.block_table.set_index("child_code").loc["C003", "outside_share"] == pytest.approx(0.01)


def count_engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = measure.intersection_areas

    def counted(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(measure, "intersection_areas", counted)
    return calls


def test_block_to_unit_rules_come_from_membership(monkeypatch):
    calls = count_engine_calls(monkeypatch)
    bset = read_boundaries(CITY)
    for rule in bset.nesting:
        if rule.parent in ("neighbourhood", "locality"):
            j = judge_nesting(bset, rule)
            assert j.method == "membership"
            assert (j.table["share"] == 1.0).all() and (j.table["basis"] == "membership").all()
            assert len(j.table) == len(bset[rule.child])
    assert calls == []
    # transitively: small areas in localities, through neighbourhoods
    j = judge_nesting(bset, NestingRule("small_area", "locality"))
    lookup = bset["small_area"].set_index("code")["neighbourhood"]
    loc = bset["neighbourhood"].set_index("code")["locality"]
    want = loc.reindex(lookup.to_numpy()).to_numpy()
    assert list(j.table["parent_code"]) == list(want)
    assert calls == []


def test_validate_measures_each_pair_of_layers_once(monkeypatch):
    calls = count_engine_calls(monkeypatch)
    bset = read_boundaries(CITY)
    rules = (*bset.nesting, NestingRule("locality", "ward", 0.01, by="blocks"))
    bset = replace(bset, nesting=rules)
    report = validate(bset)
    # small areas x wards, once, for neighbourhood->ward, locality->ward and block-straddles
    assert calls == [len(bset["small_area"])]
    for rule in rules:
        j = judge_nesting(bset, rule)
        found = report.issues[(report.issues["rule"] == "not-nested")]
        found = found[found["layer"] == rule.child]
        mine = {c[0] for c, m in zip(found["codes"], found["message"], strict=True)
                if f"one {rule.parent}" in m}  # fmt: skip
        assert mine == set(j.not_nested), rule.id


def test_judgement_matches_a_geometric_best_fit_on_the_example_city():
    from localitygeo.geometry.fitting import best_fit

    bset = read_boundaries(CITY)
    rule = next(r for r in bset.nesting if r.parent == "ward")
    mine = judge_nesting(bset, rule).table.set_index("child_code")
    ref = best_fit(bset["neighbourhood"], bset["ward"]).set_index("child_code")
    assert (mine["parent_code"] == ref["parent_code"]).all()
    assert np.allclose(mine["share"], ref["share"], atol=1e-9)
    assert (mine["n_parents"] == ref["n_parents"]).all()


@st.composite
def layouts(draw):
    n = draw(st.integers(2, 8))
    units = draw(st.lists(st.sampled_from("UVW"), min_size=n, max_size=n))
    people = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    split = draw(st.floats(10, n * 100 - 10))
    perm = draw(st.permutations(range(n)))
    return n, units, people, split, perm


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_shares_lie_in_0_1_and_ignore_row_order(layout):
    n, units, people, split, perm = layout
    blocks = grid_layer(n, 1).assign(unit=units, population=people)
    unit = dissolve_by(blocks, units)
    par = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["A", "B"]},
        geometry=[
            shapely.box(X0, Y0, X0 + split, Y0 + 100),
            shapely.box(X0 + split, Y0, X0 + n * 100, Y0 + 100),
        ],
        crs=BNG,
    )

    def judged(b: gpd.GeoDataFrame, u: gpd.GeoDataFrame, p: gpd.GeoDataFrame, by: str):
        bset = BoundarySet.from_layers({"block": b, "unit": u, "parent": p})
        bset = bset.with_blocks("unit", "block")
        return judge_nesting(bset, NestingRule("unit", "parent", 0.01, by=by))  # type: ignore[arg-type]

    for by in ("area", "blocks"):
        a = judged(blocks, unit, par, by)
        b = judged(blocks.iloc[list(perm)], unit.iloc[::-1], par.iloc[::-1], by)
        for t in (a.table, a.block_table):
            assert t is not None
            shares = t[["share", "runner_up_share", "outside_share"]].to_numpy()
            assert ((shares >= 0) & (shares <= 1 + 1e-12)).all()
            assert (shares.sum(axis=1) <= 1 + 1e-9).all()
        ta = a.table.set_index("child_code").sort_index()
        tb = b.table.set_index("child_code").sort_index()
        pd.testing.assert_frame_equal(ta, tb, check_exact=False, atol=1e-12)
        assert set(a.not_nested) == set(b.not_nested)
        assert set(a.block_straddles) == set(b.block_straddles)


def test_blocks_that_cannot_be_traced_fall_back_to_geometry():
    # a set claiming a layer is built from blocks whose unit column is gone
    bset = block_set([10, 20, 30, 40])
    lost = replace(bset, layers={**bset.layers, "block": bset["block"].drop(columns="unit")})
    j = judge_nesting(lost, BY_AREA)
    assert j.method == "geometry" and j.blocks is None
    assert j.table.set_index("child_code").loc["U", "share"] == pytest.approx(0.65)
    with pytest.raises(ManifestError, match="cannot be traced: layer 'block'"):
        judge_nesting(lost, BY_BLOCKS)


def test_membership_neither_measures_nor_repairs_the_parent(monkeypatch):
    # a unit layer whose (built) geometry is invalid: membership never looks at it
    bset = block_set([10, 20, 30, 40])
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 400, Y0 + 100), (X0 + 400, Y0), (X0, Y0 + 100)])
    bad = bset.with_layers(unit=bset["unit"].assign(geometry=[bowtie]))
    repairs: list[int] = []
    real = shapely.make_valid

    def counted(geoms, *args, **kwargs):
        repairs.append(np.size(geoms))
        return real(geoms, *args, **kwargs)

    monkeypatch.setattr(shapely, "make_valid", counted)
    j = judge_nesting(bad, NestingRule("block", "unit", 0.001))
    assert j.method == "membership" and list(j.table["parent_code"]) == ["U"] * 4
    assert repairs == []
