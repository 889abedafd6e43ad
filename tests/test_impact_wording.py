"""The impact report in plain English: nouns and plurals, balance warnings, headings, numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from localitygeo import apply, impact, read_boundaries, read_proposal
from localitygeo.changes.metrics import VARIANCE_THRESHOLD
from localitygeo.changes.report import render_impact
from localitygeo.changes.report_tables import decimals_for
from localitygeo.changes.wording import count, nouns, people

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"
PROPOSAL = CITY / "proposals" / "realign-to-wards.toml"

METRIC_IDS = [
    "units",
    "mean_population",
    "share_off_mean_10pct",
    "max_deviation",
    "mean_polsby_popper",
    "min_polsby_popper",
]


@pytest.fixture(scope="module")
def sets():
    before = read_boundaries(CITY)
    proposal = read_proposal(PROPOSAL)
    return before, apply(before, proposal), proposal


@pytest.fixture(scope="module")
def im(sets):
    before, after, proposal = sets
    return impact(before, after, proposal, indicators=["imd_score"])


@pytest.mark.parametrize(
    ("title", "want"),
    [
        ("Small areas", ("small area", "small areas")),
        ("Localities", ("locality", "localities")),
        ("Neighbourhoods", ("neighbourhood", "neighbourhoods")),
        ("LSOAs", ("LSOA", "LSOAs")),
        ("lsoa", ("LSOA", "LSOAs")),
        ("ward", ("ward", "wards")),
        ("county", ("county", "counties")),
        ("Parish", ("parish", "parishes")),
        ("Parishes", ("parish", "parishes")),
        ("Output areas", ("output area", "output areas")),
        ("", ("unit", "units")),
    ],
)
def test_nouns_by_hand(title, want):
    assert nouns(title) == want


def test_counts_and_people_are_whole_and_plural():
    assert count(1, "ward", "wards") == "1 ward"
    assert count(1204, "ward", "wards") == "1,204 wards"
    assert count(0, "ward", "wards") == "0 wards"
    assert people(1) == "1 person" and people(-1, signed=True) == "-1 person"
    assert people(15941.696) == "15,942 people"
    assert people(2, signed=True) == "+2 people"


def _balance(t, side):
    dev = t[f"deviation_{side}"].dropna().abs()
    return (dev > VARIANCE_THRESHOLD).sum(), len(dev), dev.max()


def test_balance_sentence_and_warning_follow_the_numbers(sets, im):
    t = im.units["neighbourhood"]
    # by hand, from the populations: deviation from the mean of each side
    for side in ("before", "after"):
        pop = t[f"population_{side}"].dropna()
        dev = (pop / pop.mean() - 1).abs()
        assert _balance(t, side)[0] == (dev > 0.10).sum()
    (off_b, n_b, max_b), (off_a, n_a, max_a) = _balance(t, "before"), _balance(t, "after")
    line = next(s for s in im.summary if "from the average population" in s)
    assert f"{off_b} of {n_b} neighbourhoods ({off_b / n_b:.0%}) are more than 10%" in line
    assert f"{off_a} of {n_a} ({off_a / n_a:.0%}) after" in line
    assert f"{max_b:.0%} before, {max_a:.0%} after" in line
    assert off_a < off_b and max_a > max_b  # fewer out of balance, but the worst is worse
    assert line.startswith("Warning: the most unbalanced neighbourhood is further")
    # the change undone: more units out of balance, a warning that balance gets worse
    before, after, _ = sets
    back = impact(after, before)
    back_line = next(s for s in back.summary if "from the average population" in s)
    assert back_line.startswith("Warning: population balance of neighbourhoods gets worse")
    loc = next(s for s in im.summary if "balance of localities" in s)
    assert loc.startswith("Population balance of localities improves")  # 72% -> 66%


def test_summary_names_units_beside_codes(im):
    line = next(s for s in im.summary if s.startswith("Largest changes in neighbourhoods"))
    t = im.units["neighbourhood"]
    top = t["population_change"].abs().idxmax()
    row = t.loc[top]
    assert line.startswith(
        f"Largest changes in neighbourhoods: {row['name']} ({top}) "
        f"{row['population_change']:+,.0f} people"
    )


def test_json_keeps_machine_values_and_metric_ids(im):
    data = json.loads(render_impact(im, "json"))
    ids = [m["id"] for m in data["metrics"] if m["layer"] == "neighbourhood"]
    assert ids[: len(METRIC_IDS)] == METRIC_IDS
    assert "split:ward" in ids and "between_share:imd_score" in ids
    m = im.metrics.set_index(["layer", "id"])
    for rec in data["metrics"]:
        want = m.loc[(rec["layer"], rec["id"]), "before"]
        assert rec["before"] == pytest.approx(want, rel=1e-5)  # 6 decimals in JSON
    units = {u["unit"]: u for u in data["units"]["neighbourhood"]}
    assert (
        units["EXN14"]["population_after"]
        == im.units["neighbourhood"].loc["EXN14", "population_after"]
    )
    assert data["titles"]["small_area"] == "Small areas"
    moved = data["moved"][0]
    assert {"block_name", "from_name", "to_name"} <= set(moved)


def _tables(md: str) -> list[list[list[str]]]:
    """The Markdown tables of a report, as rows of cells (header first, rule dropped)."""
    out, cur = [], []
    for line in md.splitlines():
        if line.startswith("|"):
            if not re.fullmatch(r"\|(-+:?\|)+", line):  # not the rule under the header
                cur.append([c.strip().replace("\\", "") for c in line.strip("|").split(" | ")])
        elif cur:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def test_markdown_headings_are_human_and_numbers_consistent(im):
    md = render_impact(im, "md")
    assert "polsby popper" not in md.lower() and "parents ward" not in md
    assert "(s)" not in md and "15,941.696" not in md
    tables = _tables(md)
    units = next(t for t in tables if t[0][:3] == ["Code", "Name", "Change"])
    head = units[0]
    assert "Compactness before" in head and "Wards it spans after" in head
    assert "People before" in head and "imd score after" in head
    col = {h: [r[i] for r in units[1:]] for i, h in enumerate(head)}
    whole = re.compile(r"[+-]?\d{1,3}(,\d{3})*")
    assert all(whole.fullmatch(v) for v in col["People before"] + col["People change"])
    assert all(re.fullmatch(r"[+-]?\d+\.\d%", v) for v in col["People change %"])
    assert all(re.fullmatch(r"\d\.\d\d", v) for v in col["Compactness after"])
    decimals = {len(v.split(".")[1]) if "." in v else 0 for v in col["imd score before"]}
    assert len(decimals) == 1  # one column, one number format
    # names beside codes where blocks move, and areas in hectares with one decimal
    moved = next(t for t in tables if t[0][0] == "Small areas")
    t = im.units["neighbourhood"]
    first = moved[1]
    code = re.search(r"\((EXN\d+)\)$", first[1]).group(1)
    assert first[1] == f"{t.loc[code, 'name']} ({code})"
    assert all(re.fullmatch(r"[\d,]+\.\d", r[4]) for r in moved[1:])


def test_html_has_two_heading_rows_and_flags_warnings(im):
    html = render_impact(im, "html")
    assert '<th colspan="4" class="group">People</th>' in html
    assert '<li class="warning">Warning: the most unbalanced neighbourhood' in html
    assert "<h2>Neighbourhoods: measures before and after</h2>" in html


@pytest.mark.parametrize(
    ("values", "want"),
    [([15941.696, 3177.0], 0), ([23.456, 9.1], 1), ([0.42, 0.05], 2), ([float("nan")], 0)],
)
def test_decimals_for_a_column(values, want):
    assert decimals_for(values) == want


def test_metrics_are_picked_by_id_so_relabelling_changes_only_the_labels(sets, monkeypatch):
    from localitygeo.changes import metrics

    before, after, proposal = sets
    plain = impact(before, after, proposal, indicators=["imd_score"])
    texts = {fmt: render_impact(plain, fmt) for fmt in ("md", "html")}
    for kind in metrics.METRIC_LABELS:  # every label now reads "relabelled <kind>"
        monkeypatch.setitem(metrics.METRIC_LABELS, kind, f"relabelled {kind}")
    again = impact(before, after, proposal, indicators=["imd_score"])
    # the patch took: every metric carries its new label...
    assert again.metrics["metric"].str.startswith("relabelled ").all()
    assert (again.metrics["metric"] != plain.metrics["metric"]).all()
    # ...yet the same metrics are picked, with the same values
    cols = ["layer", "id", "before", "after", "change"]
    assert again.metrics[cols].equals(plain.metrics[cols])
    assert {"split:ward", "between_share:imd_score"} <= set(again.metrics["id"])
    # the summary sentences and the rendered reports do not depend on the labels
    assert again.summary == plain.summary
    assert any("not within one ward" in line for line in plain.summary)
    for fmt, text in texts.items():
        assert render_impact(again, fmt) == text, fmt
        assert "relabelled" not in text
    assert "not within one ward (by area, tolerance 0.01)" in texts["md"]
