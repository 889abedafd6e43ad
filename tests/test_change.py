"""Proposals: reading, checking and applying boundary changes to layers built from blocks."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings

from localitygeo import BoundarySet, apply, diff, read_boundaries, read_proposal, realign, validate
from localitygeo.changes.proposal import Proposal
from localitygeo.errors import InputError, ManifestError, ProposalError

from .helpers import dissolve_by, grid_layer

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"


@pytest.fixture(scope="module")
def city():
    return read_boundaries(CITY)


def _proposal(*ops: dict, name: str = "test") -> Proposal:
    return Proposal.from_dict({"name": name, "operations": list(ops)})


def _units_of(bset: BoundarySet, layer: str) -> pd.Series:
    blocks = bset[bset.built_from[layer]]
    return blocks.set_index("code")[layer]


# -- layers built from blocks -------------------------------------------------


def test_city_layers_are_unions_of_their_blocks(city):
    assert city.built_from == {"neighbourhood": "small_area", "locality": "neighbourhood"}
    sa = city["small_area"]
    for key, below in city.built_from.items():
        blocks = city[below]
        for row in city[key].head(5).itertuples():
            union = shapely.union_all(blocks.geometry[blocks[key] == row.code].to_numpy())
            assert shapely.symmetric_difference(row.geometry, union).area < 1e-6
    # the lookup file and the small areas' own column agree
    lookup = pd.read_csv(CITY / "small_area_lookup.csv").set_index("small_area")
    assert (lookup["neighbourhood"].reindex(sa["code"]).to_numpy() == sa["neighbourhood"]).all()
    assert any("lookup small_area_lookup.csv" in n for n in city.notes)


def test_blocks_manifest_errors_name_the_problem(tmp_path):
    text = (CITY / "boundaries.toml").read_text()
    for f in (
        "small_areas.geojson",
        "wards.geojson",
        "neighbourhoods.geojson",
        "localities.geojson",
    ):
        (tmp_path / f).write_bytes((CITY / f).read_bytes())
    lookup = (CITY / "small_area_lookup.csv").read_text().splitlines()
    (tmp_path / "small_area_lookup.csv").write_text("\n".join(lookup[:-1]) + "\n")
    (tmp_path / "boundaries.toml").write_text(text)
    with pytest.raises(InputError, match=r"1 block\(s\) have no neighbourhood: EXA0872"):
        read_boundaries(tmp_path)
    (tmp_path / "boundaries.toml").write_text(text.replace('layer = "small_area"', 'layer = "oa"'))
    with pytest.raises(ManifestError, match="'oa' is not another layer"):
        read_boundaries(tmp_path)
    (tmp_path / "boundaries.toml").write_text(
        text.replace('blocks = "neighbourhood"', 'blocks = { layer = "neighbourhood", colour = 1 }')
    )
    with pytest.raises(ManifestError, match="unknown key"):
        read_boundaries(tmp_path)


def test_with_blocks_by_best_fit_matches_the_lookup(city):
    bare = city["small_area"].drop(columns=["neighbourhood"])
    bset = BoundarySet.from_layers({"small_area": bare, "neighbourhood": city["neighbourhood"]})
    built = bset.with_blocks("neighbourhood", "small_area")
    assert "neighbourhood" not in bset["small_area"].columns  # input untouched
    got = built["small_area"].set_index("code")["neighbourhood"]
    want = city["small_area"].set_index("code")["neighbourhood"]
    assert (got.reindex(want.index) == want).all()
    assert any("best fit" in n for n in built.notes)


# -- each operation -----------------------------------------------------------


def test_reassign_moves_blocks_and_localities_follow(city):
    sa = city["small_area"].set_index("code")
    nb = city["neighbourhood"].set_index("code")
    # a small area touching a neighbourhood of another locality (the first, by code)
    loc_of = nb["locality"].reindex(sa["neighbourhood"]).to_numpy()
    touching = [
        (b, t)
        for b, own in zip(sa.index, loc_of, strict=True)
        for t in nb.index[(nb["locality"] != own) & nb.geometry.touches(sa.geometry[b])]
    ]
    assert touching, "localities meet somewhere in the example city"
    block, target = touching[0]
    unit = sa.loc[block, "neighbourhood"]
    home = nb.loc[unit, "locality"]
    after = apply(
        city,
        _proposal({"op": "reassign", "layer": "neighbourhood", "blocks": [block], "to": target}),
    )
    assert _units_of(after, "neighbourhood")[block] == target
    assert _units_of(city, "neighbourhood")[block] == unit  # input untouched
    moved_area = sa.geometry[block].area
    a_nb = after["neighbourhood"].set_index("code").area
    b_nb = city["neighbourhood"].set_index("code").area
    assert a_nb[unit] == pytest.approx(b_nb[unit] - moved_area)
    assert a_nb[target] == pytest.approx(b_nb[target] + moved_area)
    # the localities are rebuilt from the neighbourhoods: the block changes locality too
    loc_a = after["locality"].set_index("code").area
    loc_b = city["locality"].set_index("code").area
    dst = nb.loc[target, "locality"]
    assert loc_a[dst] == pytest.approx(loc_b[dst] + moved_area)
    assert loc_a[home] == pytest.approx(loc_b[home] - moved_area)
    assert loc_a.sum() == pytest.approx(loc_b.sum())
    assert (
        validate(after, rules=["not-nested"])
        .issues.query("layer == 'neighbourhood'")["message"]
        .str.contains("locality")
        .sum()
        == 0
    )


def test_move_a_neighbourhood_to_another_locality(city):
    nb = city["neighbourhood"].set_index("code")
    loc = nb.loc["EXN05", "locality"]
    other = next(c for c in city["locality"]["code"] if c != loc)
    after = apply(
        city, _proposal({"op": "move", "layer": "neighbourhood", "unit": "EXN05", "to": other})
    )
    assert after["neighbourhood"].set_index("code").loc["EXN05", "locality"] == other
    area = nb.geometry["EXN05"].area
    la, lb = after["locality"].set_index("code").area, city["locality"].set_index("code").area
    assert la[other] == pytest.approx(lb[other] + area)
    assert la[loc] == pytest.approx(lb[loc] - area)


def test_merge_split_rename(city):
    sa = city["small_area"]
    nb = city["neighbourhood"].set_index("code")
    pair = [c for c in nb.index if nb.loc[c, "locality"] == nb.loc["EXN01", "locality"]][:2]
    blocks3 = sa.loc[sa["neighbourhood"] == "EXN03", "code"].tolist()
    after = apply(
        city,
        _proposal(
            {
                "op": "merge",
                "layer": "neighbourhood",
                "units": pair,
                "into": "EXN99",
                "name": "Merged <b>",
            },
            {
                "op": "split",
                "layer": "neighbourhood",
                "unit": "EXN03",
                "parts": [{"code": "EXN03A", "name": "Part A", "blocks": blocks3[:3]}],
            },
            {
                "op": "rename",
                "layer": "neighbourhood",
                "unit": "EXN04",
                "name": "Renamed",
                "code": "EXN04R",
            },
        ),
    )
    a = after["neighbourhood"].set_index("code")
    assert set(pair).isdisjoint(a.index) and "EXN99" in a.index
    assert a.loc["EXN99", "name"] == "Merged <b>" and bool(a.loc["EXN99", "new"])
    assert a.geometry["EXN99"].area == pytest.approx(nb.geometry[pair].area.sum())
    assert a.geometry["EXN03A"].area + a.geometry["EXN03"].area == pytest.approx(
        nb.geometry["EXN03"].area
    )
    assert "EXN04" not in a.index and a.loc["EXN04R", "name"] == "Renamed"
    assert (_units_of(after, "neighbourhood") == "EXN04R").sum() == (
        _units_of(city, "neighbourhood") == "EXN04"
    ).sum()
    assert len(a) == len(nb) - 2 + 1 + 1
    assert after["neighbourhood"].area.sum() == pytest.approx(city["neighbourhood"].area.sum())


# -- errors name the operation and the code -----------------------------------


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (
            {"op": "reassign", "layer": "neighbourhood", "blocks": ["NOPE"], "to": "EXN02"},
            r"operation 1 \(reassign\): unknown small_area block\(s\) NOPE",
        ),
        (
            {"op": "reassign", "layer": "neighbourhood", "blocks": ["EXA0001"], "to": "EXN00"},
            r"operation 1 \(reassign\): unknown neighbourhood unit\(s\) EXN00",
        ),
        (
            {"op": "move", "layer": "neighbourhood", "unit": "EXN01", "to": "EXL9"},
            r"operation 1 \(move\): unknown locality unit\(s\) EXL9",
        ),
        (
            {"op": "merge", "layer": "ward", "units": ["EXW01", "EXW02"], "into": "EXW01"},
            r"operation 1 \(merge\): layer 'ward' is not built from blocks",
        ),
        (
            {"op": "rename", "layer": "neighbourhood", "unit": "EXN01", "code": "EXN02"},
            r"operation 1 \(rename\): neighbourhood EXN02 exists already",
        ),
        (
            {
                "op": "split",
                "layer": "neighbourhood",
                "unit": "EXN01",
                "parts": [{"code": "X", "blocks": ["EXA0002"]}],
            },
            r"operation 1 \(split\): block\(s\) EXA0002 are not in neighbourhood EXN01",
        ),
    ],
)
def test_bad_operations_name_position_op_and_code(city, op, message):
    with pytest.raises(ProposalError, match=message):
        apply(city, _proposal(op))


def test_emptying_a_unit_is_an_error(city):
    sa = city["small_area"]
    blocks = sa.loc[sa["neighbourhood"] == "EXN02", "code"].tolist()
    ok = {"op": "rename", "layer": "neighbourhood", "unit": "EXN05", "name": "Fine"}
    bad = {"op": "reassign", "layer": "neighbourhood", "blocks": blocks, "to": "EXN01"}
    with pytest.raises(
        ProposalError, match=r"operation 2 \(reassign\): empties neighbourhood EXN02"
    ):
        apply(city, _proposal(ok, bad))
    # moving the last neighbourhood out of a locality empties the locality
    nb = city["neighbourhood"]
    loc = nb["locality"].value_counts().index[-1]
    members = nb.loc[nb["locality"] == loc, "code"].tolist()
    other = next(c for c in city["locality"]["code"] if c != loc)
    moves = [{"op": "move", "layer": "neighbourhood", "unit": u, "to": other} for u in members]
    with pytest.raises(ProposalError, match=f"empties locality {loc}"):
        apply(city, _proposal(*moves))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\n[[operations]\n", "TOML syntax error"),
        ("name = 'x'\n[[operations]]\nop = 'teleport'\n", r"operation 1: unknown op 'teleport'"),
        (
            "name = 'x'\n[[operations]]\nop = 'move'\nlayer = 'n'\n",
            r"operation 1 \(move\): missing key\(s\) unit, to",
        ),
        (
            "name = 'x'\n[[operations]]\nop = 'rename'\nlayer = 'n'\nunit = 'a'\ncolour = 1\n",
            r"operation 1 \(rename\): unknown key\(s\) colour",
        ),
        (
            "name = 'x'\n[[operations]]\nop = 'reassign'\nlayer = 'n'\nblocks = 'a'\nto = 'b'\n",
            r"'blocks' must be a list of strings",
        ),
        ("description = 'no name'\n", "needs a 'name'"),
        ("name = 'x'\n", "at least one"),
    ],
)
def test_malformed_proposal_files(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProposalError, match=message) as info:
        read_proposal(path)
    assert str(path) in str(info.value)


def test_proposal_round_trips_through_toml(city, tmp_path):
    proposal = realign(city, "neighbourhood", "ward")
    path = tmp_path / "p.toml"
    path.write_text(proposal.to_toml())
    back = read_proposal(path)
    assert back.operations == tuple(
        type(o)(o.op, dict(o.params), o.position) for o in proposal.operations
    )
    a, b = apply(city, proposal), apply(city, back)
    assert (a["neighbourhood"].area.to_numpy() == b["neighbourhood"].area.to_numpy()).all()


def test_shipped_proposal_leaves_nothing_unnested(city):
    proposal = read_proposal(CITY / "proposals" / "realign-to-wards.toml")
    assert [o.op for o in proposal.operations] == ["realign"]
    before = validate(city, rules=["not-nested"])
    assert not before.ok
    after = apply(city, proposal)
    assert validate(after, rules=["not-nested", "orphan"]).ok
    # the direct route gives the same neighbourhoods
    direct = apply(city, realign(city, "neighbourhood", "ward"))
    assert direct["neighbourhood"]["code"].tolist() == after["neighbourhood"]["code"].tolist()


# -- invariants on generated layouts ------------------------------------------


def _grid_set(nx, ny, units, parents, pops):
    blocks = grid_layer(nx, ny).assign(population=pops, unit=units, ward=parents)
    unit_layer = dissolve_by(blocks, units).assign(area_group=lambda d: d["code"].str[:1])
    wards = dissolve_by(blocks, parents)
    bset = BoundarySet.from_layers({"block": blocks, "unit": unit_layer, "ward": wards})
    return bset.with_blocks("unit", "block")


@st.composite
def layouts_and_moves(draw):
    nx, ny = draw(st.integers(3, 6)), draw(st.integers(2, 4))
    n = nx * ny
    units = draw(st.lists(st.sampled_from("PQRS"), min_size=n, max_size=n))
    pops = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    cols = draw(st.integers(1, nx - 1))
    parents = ["W1" if i % nx < cols else "W2" for i in range(n)]
    # a few reassignments that never empty a unit
    ops = []
    current = list(units)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, n - 1))
        to = draw(st.sampled_from(sorted(set(current))))
        if current.count(current[i]) > 1 and to != current[i]:
            ops.append({"op": "reassign", "layer": "unit", "blocks": [f"C{i:03d}"], "to": to})
            current[i] = to
    return nx, ny, units, parents, pops, ops


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts_and_moves())
def test_any_valid_proposal_conserves_and_diffs_back(case):
    nx, ny, units, parents, pops, ops = case
    bset = _grid_set(nx, ny, units, parents, pops)
    proposal = _proposal(*ops, {"op": "realign", "layer": "unit", "to": "ward"})
    after = apply(bset, proposal)
    # population, area and the union of the layer are conserved
    assert after["block"]["population"].sum() == sum(pops)
    assert after["unit"].area.sum() == pytest.approx(nx * ny * 100 * 100)
    union_b, union_a = bset["unit"].union_all(), after["unit"].union_all()
    assert union_b.symmetric_difference(union_a).area < 1e-6
    # every unit now lies in one ward, and a second realign proposes nothing
    assert (after["block"].groupby("unit")["ward"].nunique() == 1).all()
    assert not realign(after, "unit", "ward").operations
    # diffing gives back exactly the blocks whose unit changed
    start = dict(zip(bset["block"]["code"], bset["block"]["unit"], strict=True))
    end = dict(zip(after["block"]["code"], after["block"]["unit"], strict=True))
    changed = {b for b in start if start[b] != end[b]}
    assert set(diff(bset, after, "unit").moved["block"]) == changed
    # the input is untouched
    assert bset["block"]["unit"].tolist() == units


def test_apply_does_not_change_inputs_in_place(city):
    before = {k: v.copy() for k, v in city.layers.items()}
    apply(city, read_proposal(CITY / "proposals" / "realign-to-wards.toml"))
    for key, frame in before.items():
        pd.testing.assert_frame_equal(
            pd.DataFrame(city[key].drop(columns="geometry")),
            pd.DataFrame(frame.drop(columns="geometry")),
        )
        assert city[key].geometry.geom_equals_exact(frame.geometry, 0).all()


def test_realign_op_names_blocks_for_a_layer_not_declared_built(city):
    # the same layers, but nothing declared built: the op says which blocks to use
    bare = BoundarySet.from_layers(
        {k: city[k] for k in ("small_area", "ward", "neighbourhood")},
        nesting=[r for r in city.nesting if "locality" not in r.id],
    )
    assert bare.built_from == {}
    op = {"op": "realign", "layer": "neighbourhood", "to": "ward"}
    with pytest.raises(ProposalError, match="is not built from blocks"):
        apply(bare, _proposal(op))
    after = apply(bare, _proposal({**op, "blocks": "small_area"}))
    assert after.built_from == {"neighbourhood": "small_area"}
    assert validate(after, rules=["not-nested"]).ok
    declared = apply(city, _proposal(op))
    assert (
        after["small_area"]["neighbourhood"].tolist()
        == declared["small_area"]["neighbourhood"].tolist()
    )


def test_shipped_hand_made_proposal(city):
    proposal = read_proposal(CITY / "proposals" / "merge-and-move.toml")
    assert [o.op for o in proposal.operations] == ["merge", "move"]
    after = apply(city, proposal)
    nb_b = city["neighbourhood"].set_index("code")
    nb_a = after["neighbourhood"].set_index("code")
    assert len(nb_a) == len(nb_b) - 1 and "EXN25" not in nb_a.index
    assert nb_a.loc["EXN24", "name"] == "Kestrel Down"
    assert nb_a.geometry["EXN24"].area == pytest.approx(
        nb_b.geometry[["EXN24", "EXN25"]].area.sum()
    )
    assert nb_b.loc["EXN41", "locality"] == "EXL5" and nb_a.loc["EXN41", "locality"] == "EXL1"
    loc_b, loc_a = city["locality"].set_index("code").area, after["locality"].set_index("code").area
    moved = nb_b.geometry["EXN41"].area
    assert loc_a["EXL1"] == pytest.approx(loc_b["EXL1"] + moved)
    assert loc_a["EXL5"] == pytest.approx(loc_b["EXL5"] - moved)
    issues = validate(after, rules=["not-nested", "orphan", "gap", "overlap"]).issues
    assert set(issues["rule"]) <= {"not-nested"}  # the merge does not realign wards
    assert not issues["message"].str.contains("locality").any()
    assert issues["message"].str.contains("within one ward").all()


def test_a_realign_operation_takes_keep_and_min_new():
    city = read_boundaries(REPO / "boundaries" / "example-city")
    op = {"op": "realign", "layer": "neighbourhood", "to": "ward", "keep": "locality"}
    after = apply(city, Proposal.from_dict({"name": "r", "operations": [{**op, "min_new": 0}]}))
    direct = apply(city, realign(city, "neighbourhood", "ward", keep="locality", min_new=0))
    assert (
        after["small_area"]["neighbourhood"].tolist()
        == direct["small_area"]["neighbourhood"].tolist()
    )
    with pytest.raises(ProposalError, match="'min_new' must be a number"):
        Proposal.from_dict({"name": "r", "operations": [{**op, "min_new": "big"}]})
