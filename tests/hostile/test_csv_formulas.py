"""Issue 11, item 3: no CSV the project writes carries a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from localitygeo.io.safecsv import FORMULA_TRIGGERS, escape_formula, unescape_formula, write_csv

from .harness import FORMULAS, run_cli
from .set_fixtures import _city_master, city_set, hostile_set

__all__ = ["_city_master", "city_set"]


def _payload(code: str) -> str:
    """Give every unit a formula code, cycling through the corpus's payloads."""
    return f"{FORMULAS[int(code[-2:]) % len(FORMULAS)]}{code}"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _is_formula(cell: str) -> bool:
    return cell[:1] in FORMULA_TRIGGERS and not _number(cell)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return not cell[:1].isalpha() and cell.strip() == cell and "_" not in cell


def test_lookup_escapes_formula_codes_and_keeps_them_exact_when_asked(city_set, tmp_path):
    folder = hostile_set(tmp_path / "set", city_set, code=_payload)
    child, parent = folder / "small_areas.geojson", folder / "wards.geojson"
    args = ("lookup", child, parent, "--child-code", "code", "--parent-code", "code")
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    run_cli(*args, "-o", safe, inputs=[folder], outputs=[safe], expect=0)
    run_cli(*args, "-o", raw, "--no-escape-formulas", inputs=[folder], outputs=[raw], expect=0)
    safe_rows = _rows(safe.read_text(encoding="utf-8"))
    raw_rows = _rows(raw.read_text(encoding="utf-8"))
    cells = [c for row in safe_rows for c in row]
    assert not [c for c in cells if _is_formula(c)]
    escaped = [c for c in cells if c.startswith("'")]
    assert len(escaped) >= len(safe_rows)  # every row has at least its child code escaped
    # The exact file holds the formulas themselves; unescaping the safe one gives it back.
    assert [[unescape_formula(c) for c in row] for row in safe_rows] == raw_rows
    # (read_layer strips surrounding white space from codes: tab and CR are covered below)
    firsts = {r[0][0] for r in raw_rows[1:]}
    assert set("=+-@") <= firsts


def test_aggregate_escapes_headers_and_codes_but_not_negative_numbers(city_set, tmp_path):
    folder = hostile_set(tmp_path / "set", city_set, code=lambda c: "@" + c)
    small = pd.read_csv(city_set / "small_area_lookup.csv")[["small_area"]]
    data = tmp_path / "data.csv"
    header = '=HYPERLINK("http://x","PWNED")'
    frame = pd.DataFrame(
        {
            "code": "@" + small["small_area"],
            header: -1.5 - small.index.to_numpy(),  # negative numbers, not formulas
            "+score": 0.25 * small.index.to_numpy(),
        }
    )
    frame.to_csv(data, index=False)
    out = tmp_path / "wards.csv"
    args = ("aggregate", folder, "--data", data, "--data-code", "code", "--from", "small_area")
    args += ("--to", "ward", f"--extensive={header}", "--intensive=+score", "-o", out)
    run_cli(*args, inputs=[folder, data], outputs=[out], expect=0)
    rows = _rows(out.read_text(encoding="utf-8"))
    assert rows[0][:3] == ["code", "'" + header, "'+score"]
    assert all(r[0].startswith("'@EXW") for r in rows[1:])
    totals = [float(r[1]) for r in rows[1:]]
    assert all(r[1].startswith("-") for r in rows[1:])  # written as numbers, unprefixed
    assert math.isclose(sum(totals), float(frame[header].sum()), rel_tol=1e-9)


@given(st.text())
def test_escape_is_undone_exactly(text):
    assert unescape_formula(escape_formula(text)) == text


@given(st.text())
def test_an_escaped_cell_is_never_a_formula(text):
    out = escape_formula(text)
    assert not _is_formula(out) or _number(out)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_written_as_text_stay_numbers(x):
    assert escape_formula(repr(x)) == repr(x)


_cells = st.one_of(st.text(), st.sampled_from(FORMULAS), st.text().map(lambda t: "'=" + t))


# no deadline: the first example imports pyarrow's CSV writer, which on a
# loaded machine can take longer than hypothesis's 200 ms
@settings(deadline=None)
@given(
    st.lists(st.tuples(_cells, _cells), min_size=1, max_size=8),
    st.sampled_from(FORMULAS),
    st.booleans(),
)
def test_csv_reads_back_exactly_through_the_csv_module(rows, header, escape):
    frame = pd.DataFrame(rows, columns=[header, "plain"])
    text = write_csv(frame, index=False, escape_formulas=escape)
    back = _rows(text)
    undo = unescape_formula if escape else (lambda c: c)
    assert [undo(c) for c in back[0]] == [header, "plain"]
    assert [[undo(c) for c in row] for row in back[1:]] == [list(r) for r in rows]
