"""Impact metrics and reports of a boundary change."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from localitygeo import apply, impact, read_boundaries, read_proposal
from localitygeo.aggregation.inequality import theil_decomposition
from localitygeo.changes.metrics import polsby_popper
from localitygeo.changes.proposal import Proposal
from localitygeo.changes.report import render_impact, write_impact
from localitygeo.errors import ColumnError

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"
PROPOSAL = CITY / "proposals" / "realign-to-wards.toml"


@pytest.fixture(scope="module")
def city():
    return read_boundaries(CITY)


@pytest.fixture(scope="module")
def change(city):
    proposal = read_proposal(PROPOSAL)
    after = apply(city, proposal)
    return city, after, proposal, impact(city, after, proposal, indicators=["imd_score"])


def test_polsby_popper_by_hand():
    square = shapely.box(0, 0, 10, 10)
    strip = shapely.box(0, 0, 100, 1)
    got = polsby_popper([square, strip, shapely.Point(0, 0).buffer(5, 256)])
    assert got[0] == pytest.approx(math.pi / 4)
    assert got[1] == pytest.approx(4 * math.pi * 100 / 202**2)
    assert got[2] == pytest.approx(1.0, abs=1e-4)


def test_population_per_unit_matches_an_independent_count(change):
    before, after, _, im = change
    sa = before["small_area"]
    lookup = pd.read_csv(CITY / "small_area_lookup.csv").set_index("small_area")
    pop = sa.set_index("code")["population"]
    by_hand = pop.groupby(lookup["neighbourhood"].reindex(pop.index)).sum()
    t = im.units["neighbourhood"]
    assert (t["population_before"].reindex(by_hand.index) == by_hand).all()
    assert t["population_before"].sum() == t["population_after"].sum() == pop.sum()
    # after: counted from the realigned blocks' column
    after_hand = pop.groupby(after["small_area"].set_index("code")["neighbourhood"]).sum()
    assert (t["population_after"].reindex(after_hand.index) == after_hand).all()
    loc = im.units["locality"]
    assert loc["population_after"].sum() == pop.sum()


def test_moved_blocks_and_summary(change):
    before, after, _, im = change
    moved = im.moved[im.moved["layer"] == "neighbourhood"]
    a = before["small_area"].set_index("code")["neighbourhood"]
    b = after["small_area"].set_index("code")["neighbourhood"]
    assert set(moved["block"]) == set(a.index[a != b])
    people = before["small_area"].set_index("code")["population"][moved["block"]].sum()
    assert moved["population"].sum() == people
    assert im.summary[0].startswith(
        f"{len(moved)} small areas move to another neighbourhood, with {people:,} people"
    )
    assert (
        "Neighbourhoods not within one ward, as validate judges the nesting rule "
        "(by area, tolerance 0.01): 8 before, 0 after." in im.summary
    )
    assert not any("(s)" in line for line in im.summary)


def test_metrics_against_direct_computation(change):
    _before, after, _, im = change
    m = im.metrics.set_index(["layer", "id"])
    t = im.units["neighbourhood"]
    dev = t["population_after"] / t["population_after"].mean() - 1
    assert m.loc[("neighbourhood", "share_off_mean_10pct"), "after"] == (
        pytest.approx((dev.abs() > 0.10).mean())
    )
    assert m.loc[("neighbourhood", "max_deviation"), "after"] == pytest.approx(dev.abs().max())
    pp = polsby_popper(after["neighbourhood"].geometry.to_numpy())
    assert m.loc[("neighbourhood", "mean_polsby_popper"), "after"] == pytest.approx(pp.mean())
    assert m.loc[("neighbourhood", "split:ward"), "before"] == 8
    assert m.loc[("neighbourhood", "split:ward"), "after"] == 0
    sa = after["small_area"]
    loc_of = after["neighbourhood"].set_index("code")["locality"].reindex(sa["neighbourhood"])
    dec = theil_decomposition(sa["imd_score"], loc_of.to_numpy(), sa["population"])
    key = ("locality", "between_share:imd_score")
    assert m.loc[key, "after"] == pytest.approx(dec.between_share)
    # population-weighted mean score of one changed unit, by hand
    unit = t.index[t["status"] == "changed"][0]
    rows = sa[sa["neighbourhood"] == unit]
    want = np.average(rows["imd_score"], weights=rows["population"])
    assert t.loc[unit, "imd_score_after"] == pytest.approx(want)


def test_no_change_reports_no_change(city):
    nothing = Proposal.from_dict(
        {
            "name": "noop",
            "operations": [
                {"op": "rename", "layer": "neighbourhood", "unit": "EXN01", "name": "Same place"}
            ],
        }
    )
    im = impact(city, apply(city, nothing), nothing)
    assert im.moved.empty
    assert im.summary == ["'noop' changes no boundary: no small area moves."]
    assert (im.metrics["change"] == 0).all()


def test_layers_not_built_from_blocks_are_refused(city):
    from localitygeo.errors import ManifestError

    with pytest.raises(ManifestError, match="layer 'ward' is not built from blocks"):
        impact(city, city, layers=["ward"])


def test_unknown_columns_are_errors(city):
    with pytest.raises(ColumnError, match="no column\\(s\\) crime"):
        impact(city, city, indicators=["crime"])
    with pytest.raises(ColumnError, match="no column 'electorate'"):
        impact(city, city, population="electorate")


def test_reports_carry_the_same_content_and_escape_names(city, tmp_path):
    evil = "<img src=x onerror=alert(1)>|pipe"
    proposal = Proposal.from_dict(
        {
            "name": "Rename & move",
            "operations": [
                {"op": "rename", "layer": "neighbourhood", "unit": "EXN14", "name": evil},
                {"op": "realign", "layer": "neighbourhood", "to": "ward"},
            ],
        }
    )
    after = apply(city, proposal)
    im = impact(city, after, proposal)
    html = render_impact(im, "html", set_name=city.name)
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;|pipe" in html
    assert html.index("Summary") < html.index("measures before and after")
    md = render_impact(im, "md")
    assert "\\|pipe" in md and "## Summary" in md
    data = json.loads(render_impact(im, "json"))
    assert data["summary"] == im.summary
    assert {u["unit"] for u in data["units"]["neighbourhood"]} == set(
        im.units["neighbourhood"].index
    )
    written = write_impact(im, tmp_path / "r.md")
    assert isinstance(written, Path) and written == tmp_path / "r.md"
    assert written.read_text(encoding="utf-8") == render_impact(im, "md")


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("localitygeo")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_impact_command_writes_each_format_from_one_run(tmp_path):
    outs = [tmp_path / f"report.{suffix}" for suffix in ("html", "md", "json")]
    args = ["impact", str(CITY), "--proposal", str(PROPOSAL), "--indicator", "imd_score"]
    r = _cli(*args, "--no-map", *(a for o in outs for a in ("-o", str(o))))
    assert r.returncode == 0, r.stderr
    for out in outs:
        assert "small areas move to another neighbourhood" in out.read_text()
        assert f"wrote {out}" in r.stdout
    assert r.stdout.count("small areas move to another neighbourhood") == 1  # one computation
    data = json.loads(outs[2].read_text())
    md = outs[1].read_text()
    assert all(f"- {line.split(',')[0]}" in md for line in data["summary"][:1])
    # --formats: the same files beside one -o, named by their suffixes
    base = tmp_path / "again" / "report"
    base.parent.mkdir()
    r = _cli(*args, "--no-map", "--formats", "md,json", "-o", str(base))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in base.parent.iterdir()) == ["report.json", "report.md"]
    again = json.loads((base.parent / "report.json").read_text())
    assert again["metrics"] == data["metrics"]


def test_impact_command_refuses_mixed_format_options(tmp_path):
    args = ["impact", str(CITY), "--proposal", str(PROPOSAL)]
    a, b = str(tmp_path / "a.html"), str(tmp_path / "b.md")
    for extra in (
        ["--format", "md", "-o", a, "-o", b],
        ["--formats", "md,json", "-o", a, "-o", b],
        ["--formats", "md,docx", "-o", a],
        ["-o", a, "-o", a],
    ):
        r = _cli(*args, *extra)
        assert r.returncode == 2, extra
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir())


def test_write_impacts_writes_all_or_nothing(change, tmp_path):
    from localitygeo.changes.report import write_impacts
    from localitygeo.errors import OutputError

    *_, im = change
    written = write_impacts(im, [(str(tmp_path / "r.md"), None), (tmp_path / "r.json", "json")])
    assert written == [tmp_path / "r.md", tmp_path / "r.json"]
    assert all(isinstance(p, Path) and p.stat().st_size > 0 for p in written)
    with pytest.raises(OutputError):  # the second folder is missing: neither is written
        write_impacts(im, [(tmp_path / "s.md", None), (tmp_path / "no" / "s.json", None)])
    assert not (tmp_path / "s.md").exists()


def test_impact_command_bad_input_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[[operations]]\nop = 'merge'\nlayer = 'neighbourhood'\n")
    out = tmp_path / "report.html"
    r = _cli("impact", str(CITY), "--proposal", str(bad), "-o", str(out))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert str(bad) in r.stderr and "operation 1 (merge): missing key(s)" in r.stderr
    assert not out.exists()
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        "name = 'x'\n[[operations]]\nop = 'move'\nlayer = 'neighbourhood'\nunit = 'EXN77'\n"
        "to = 'EXL1'\n"
    )
    r = _cli("impact", str(CITY), "--proposal", str(unknown), "-o", str(out))
    assert r.returncode == 2 and "feature EXN77" in r.stderr and not out.exists()


def test_realign_command_writes_a_proposal_that_applies(tmp_path, city):
    out = tmp_path / "realign.toml"
    r = _cli("realign", str(CITY), "--layer", "neighbourhood", "--to", "ward", "-o", str(out))
    assert r.returncode == 0, r.stderr
    proposal = read_proposal(out)
    assert {o.op for o in proposal.operations} == {"reassign"}
    assert all(o.get("reason") for o in proposal.operations)
    after = apply(city, proposal)
    shipped = apply(city, read_proposal(PROPOSAL))
    assert (
        after["small_area"]["neighbourhood"].tolist()
        == shipped["small_area"]["neighbourhood"].tolist()
    )


def test_map_command_draws_the_change(tmp_path):
    out = tmp_path / "change.html"
    r = _cli("map", str(CITY), "--layer", "neighbourhood", "--proposal", str(PROPOSAL),
             "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    moved = realign_moves()
    assert f"{len(moved)} small areas change neighbourhood" in r.stdout
    html = out.read_text()
    import re

    assert len(re.findall(r"\.sync\(map_[0-9a-f]+\)", html)) == 2  # two synchronised panes
    assert html.count(moved["block"].iloc[0]) >= 2  # the moved block in both panes


def realign_moves():
    from localitygeo import realign

    return realign(read_boundaries(CITY), "neighbourhood", "ward").moves


def test_impact_html_embeds_the_change_map(tmp_path):
    out = tmp_path / "report.html"
    r = _cli("impact", str(CITY), "--proposal", str(PROPOSAL), "--attribution", "Made-up data",
             "-o", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert '<iframe class="map"' in html and "srcdoc=" in html
    srcdoc = html.split("srcdoc=")[1]
    assert "Made-up data" in srcdoc and "Crown copyright" not in srcdoc  # the map's credit too
    assert "<script" not in html.split("srcdoc=")[0]  # the report itself runs no script
