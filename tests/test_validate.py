"""validate() rules on small hand-built layers, and the report's forms."""

from __future__ import annotations

import json

import geopandas as gpd
import hypothesis.strategies as st
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings

from localitygeo import BoundarySet, validate
from localitygeo.errors import CRSError, ManifestError
from localitygeo.model.boundary_set import NestingRule
from localitygeo.validation.renderers import render

from .helpers import dissolve_by, grid_layer


def _set(child, parent, tol=0.01):
    return BoundarySet.from_layers(
        {"child": child, "parent": parent}, nesting=[NestingRule("child", "parent", tol)]
    )


def test_hand_worked_straddle():
    # 4x1 grid of 100 m squares; parent A = squares 0,1 and left half of 2; B = the rest.
    child = grid_layer(4, 1)
    x0, y0 = 400000.0, 200000.0
    a = shapely.box(x0, y0, x0 + 250, y0 + 100)
    b = shapely.box(x0 + 250, y0, x0 + 400, y0 + 100)
    parent = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["A", "B"]}, geometry=[a, b], crs=child.crs
    )
    report = validate(_set(child, parent))
    nn = report.issues[report.issues["rule"] == "not-nested"]
    assert list(nn["codes"]) == [["C002", "A", "B"]]
    assert nn["area_m2"].iloc[0] == pytest.approx(5000.0)
    assert "50.0% in parent A" in nn["message"].iloc[0]
    table = report.assignments["child->parent"].set_index("child_code")
    assert table.loc["C000", "share"] == 1.0 and table.loc["C000", "parent_code"] == "A"
    assert table.loc["C003", "parent_code"] == "B"
    assert table.loc["C002", "runner_up_share"] == pytest.approx(0.5)
    assert not report.ok


def test_tolerance_decides():
    child = grid_layer(4, 1)
    x0, y0 = 400000.0, 200000.0
    # C002 has 0.5% of its area in B.
    a = shapely.box(x0, y0, x0 + 299.5, y0 + 100)
    b = shapely.box(x0 + 299.5, y0, x0 + 400, y0 + 100)
    parent = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[a, b], crs=child.crs)
    assert validate(_set(child, parent, 0.01)).ok
    strict = validate(_set(child, parent, 0.001))
    assert list(strict.issues["codes"]) == [["C002", "A", "B"]]


def test_codes_and_empty_geometry_are_reported_not_raised():
    g = grid_layer(4, 1)
    g.loc[1, "code"] = "C000"
    g.loc[2, "code"] = None
    g.loc[3, "geometry"] = shapely.Polygon()
    report = validate(BoundarySet.from_layers({"l": g}))
    rules = dict(zip(report.issues["rule"], report.issues["codes"], strict=True))
    assert rules["duplicate-code"] == ["C000"]
    assert "missing-code" in rules
    assert rules["empty-geometry"] == ["C003"]


def test_invalid_geometry_is_reported_and_validation_goes_on():
    g = grid_layer(3, 1)
    x0, y0 = 400000.0, 200000.0
    bowtie = shapely.Polygon(
        [(x0 + 200, y0), (x0 + 300, y0 + 100), (x0 + 300, y0), (x0 + 200, y0 + 100)]
    )
    g.loc[2, "geometry"] = bowtie
    parent = dissolve_by(grid_layer(3, 1), ["P", "P", "P"])
    report = validate(_set(g, parent))
    inv = report.issues[report.issues["rule"] == "invalid-geometry"]
    assert list(inv["codes"]) == [["C002"]]
    assert "Self-intersection" in inv["message"].iloc[0]
    assert "child->parent" in report.assignments


def test_json_shape_and_formats():
    child = grid_layer(4, 1)
    parent = dissolve_by(child, ["A", "A", "B", "B"]).assign(
        geometry=lambda d: d.geometry.translate(50, 0)
    )
    report = validate(_set(child, parent))
    doc = json.loads(report.to_json())
    assert set(doc) >= {"ok", "summary", "issues"}
    assert doc["summary"]["errors"] == len(doc["issues"]) > 0
    assert set(doc["issues"][0]) == {"rule", "severity", "layer", "codes", "area_m2", "message"}
    assert list(report.issues.columns) == [
        "rule",
        "severity",
        "layer",
        "codes",
        "area_m2",
        "message",
    ]
    junit = render(report, "junit")
    assert "<failure" in junit and "child: not-nested" in junit
    gh = render(report, "github")
    assert gh.startswith("::error file=")
    assert "FAILED" in render(report, "text")
    assert len(report.to_geodataframe()) == len(report.issues)


def test_unknown_rule():
    with pytest.raises(ManifestError, match="unknown rule"):
        validate(BoundarySet.from_layers({"l": grid_layer(2, 1)}), rules=["nope"])


def test_from_layers_refuses_mixed_crs_without_crs():
    a = grid_layer(2, 1)
    b = grid_layer(2, 1).to_crs(4326)
    with pytest.raises(CRSError, match="pass crs="):
        BoundarySet.from_layers({"a": a, "b": b})
    bset = BoundarySet.from_layers({"a": a, "b": b}, crs="EPSG:27700")
    assert any("reprojected" in n for n in bset.notes)


def test_input_frames_are_not_mutated():
    child = grid_layer(4, 1)
    parent = dissolve_by(child, ["A", "A", "B", "B"])
    before_c, before_p = child.copy(), parent.copy()
    validate(_set(child, parent))
    assert child.equals(before_c) and parent.equals(before_p)


@st.composite
def layouts(draw):
    nx = draw(st.integers(2, 6))
    ny = draw(st.integers(1, 4))
    groups = draw(st.lists(st.sampled_from("ABC"), min_size=nx * ny, max_size=nx * ny))
    shift = draw(st.floats(0, 60))
    perm = draw(st.permutations(range(nx * ny)))
    return nx, ny, groups, shift, perm


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_verdict_independent_of_row_order_and_crs(layout):
    nx, ny, groups, shift, perm = layout
    assume(abs(shift - 1.0) > 1e-3)  # a share exactly at the tolerance is a coin toss
    child = grid_layer(nx, ny)
    parent = dissolve_by(child, groups)
    parent["geometry"] = parent.geometry.translate(shift, 0)
    base = validate(_set(child, parent))
    shuffled = validate(_set(child.iloc[list(perm)], parent.iloc[::-1]))
    key = ["rule", "message"]
    assert sorted(map(tuple, base.issues[key].values)) == sorted(
        map(tuple, shuffled.issues[key].values)
    )
    order = base.assignments["child->parent"].set_index("child_code").sort_index()
    again_order = shuffled.assignments["child->parent"].set_index("child_code").sort_index()
    assert order.equals(again_order)
    # Same data handed over in another CRS and reprojected explicitly to the working CRS.
    other = BoundarySet.from_layers(
        {"child": child.to_crs(3857), "parent": parent.to_crs(3857)},
        nesting=[NestingRule("child", "parent", 0.01)],
        crs="EPSG:27700",
    )
    again = validate(other)

    def verdict(r):
        return {
            (rule, tuple(codes))
            for rule, codes in zip(r.issues["rule"], r.issues["codes"], strict=True)
        }

    if abs(shift - 50.0) > 1e-3:  # an exact tie between two parents is decided by code
        assert verdict(again) == verdict(base)
    a = base.assignments["child->parent"].set_index("child_code")["share"]
    b = again.assignments["child->parent"].set_index("child_code")["share"]
    assert np.allclose(a.sort_index(), b.sort_index(), atol=1e-6)
    assert ((a >= 0) & (a <= 1)).all()
