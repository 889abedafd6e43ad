"""Numbers that do not parse as numbers are errors naming the column and rows, never silent.

Decimal commas, 30-digit counts, ``1e400``, ``NaN``/``inf`` strings and text in
a column of counts, in an indicator table (``--data``) and in a layer's
attributes (the blocks' population that ``impact`` and ``realign`` count),
each one line and exit 2; thousands separators as the ONS publishes them
("29,199") keep working.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from localitygeo.errors import DataError
from localitygeo.io.numbers import EXACT_LIMIT, looks_numeric, parse_numbers
from localitygeo.io.tables import read_indicators

from .harness import run_cli
from .inputs import (
    aggregate_cli,
    edit_geojson,
    example_copy,
    indicator_csv,
    replace_cell,
    small_set,
)

BAD_COUNTS = {
    "decimal-comma": ("12,61", "12,61"),
    "european": ("1.234,5", "1.234,5"),
    "thirty-digits": ("1" * 30, "too large"),
    "overflow-float": ("1e400", "out of range"),
    "nan-text": ("NaN", "'NaN'"),
    "inf-text": ("inf", "'inf'"),
    "minus-inf": ("-Infinity", "Infinity"),
    "text": ("about 40", "about 40"),
    "bad-grouping": ("1,23,456", "1,23,456"),
}


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return example_copy(tmp_path)


def _data(tmp_path: Path, city: Path) -> Path:
    return indicator_csv(
        tmp_path / "data.csv",
        city / "small_areas.geojson",
        {"population": "population", "score": "imd_score"},
    )


# (column, row, code, aggregate's arguments): a count summed, a rate averaged
COLUMNS = {
    "count": ("population", 0, "EXA0001", ["--extensive", "population"]),
    "rate": ("score", 3, "EXA0004", ["--intensive", "score", "--weight", "population"]),
}
DATA_CASES = [("count", c) for c in sorted(BAD_COUNTS)] + [
    ("rate", c) for c in ("decimal-comma", "nan-text", "overflow-float")
]


@pytest.mark.parametrize(("kind", "case"), DATA_CASES)
def test_bad_number_in_data_is_one_line(tmp_path, kind, case):
    value, shown = BAD_COUNTS[case]
    column, row, code, args = COLUMNS[kind]
    bset = small_set(tmp_path)
    data = replace_cell(_data(tmp_path, bset), row, column, value)
    aggregate_cli(bset, data, *args, names=["data.csv", f"'{column}'", code, shown])


def test_thousands_separators_keep_working(tmp_path):
    city = small_set(tmp_path)
    data = _data(tmp_path, city)
    rows = [line.split(",") for line in data.read_text().splitlines()]

    def write(fmt):
        body = [f"{code},{fmt(int(pop) * 1001)},{score}" for code, pop, score in rows[1:]]
        data.write_text("\n".join([",".join(rows[0]), *body]) + "\n")

    write(str)
    plain = aggregate_cli(city, data, "--extensive", "population", expect=0)
    write(lambda n: f'"{n:,}"')  # as published: "1,234,567" in quotes
    assert '"' in data.read_text() and ",001" not in plain.stdout
    published = aggregate_cli(city, data, "--extensive", "population", expect=0)
    assert published.stdout == plain.stdout
    assert pd.read_csv(io.StringIO(plain.stdout))["population"].sum() > 1_000_000


@pytest.mark.parametrize("command", ["impact", "realign"])
@pytest.mark.parametrize("case", ["decimal-comma", "thirty-digits", "text"])
def test_bad_count_in_layer_attributes(tmp_path, city, command, case):
    """The blocks' population is a layer attribute: a bad one is named, not read as 0."""
    value, shown = BAD_COUNTS[case]

    def poison(doc):
        doc["features"][0]["properties"]["population"] = value

    edit_geojson(city / "small_areas.geojson", poison)
    out = tmp_path / "out" / ("report.json" if command == "impact" else "proposal.toml")
    out.parent.mkdir()
    if command == "impact":
        args = ["--proposal", city / "proposals" / "merge-and-move.toml"]
    else:
        args = ["--layer", "neighbourhood", "--to", "ward"]
    run_cli(
        command,
        city,
        *args,
        "-o",
        out,
        inputs=[city],
        watch=[city, out.parent],
        names=["boundaries.toml", "small_area", "'population'", "EXA0001", shown],
    )


def test_real_imd_file_with_a_decimal_comma(tmp_path, shared_data, plymouth):
    """The published population file, one Plymouth LSOA's count given a decimal comma."""
    src = shared_data / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz"
    rows = list(csv.reader(io.StringIO(gzip.decompress(src.read_bytes()).decode("utf-8-sig"))))
    lsoa = "E01015064"  # Plymouth 008B, published as "1,671"
    (row,) = [r for r in rows if r[0] == lsoa]
    assert row[3] == "Plymouth" and row[4] == "1,671"
    row[4] = "1671,5"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = tmp_path / "pop.csv.gz"
    data.write_bytes(gzip.compress(("\ufeff" + buf.getvalue()).encode()))
    folder = tmp_path / "plymouth"
    folder.mkdir()
    (folder / "boundaries.toml").write_text(
        f'crs = "EPSG:27700"\n[layers.lsoa]\npath = "{plymouth / "lsoa_2011.geojson"}"\n'
        f'code = "LSOA11CD"\n[layers.ward]\npath = "{plymouth / "wards_2013.geojson"}"\n'
        'code = "WD13CD"\n'
    )
    column = rows[0][4]
    run_cli(
        "aggregate",
        folder,
        "--data",
        data,
        "--data-code",
        "LSOA code (2011)",
        "--from",
        "lsoa",
        "--to",
        "ward",
        "--extensive",
        column,
        inputs=[folder, data],
        names=["pop.csv.gz", lsoa, "1671,5", "decimal"],
    )


# --- the API: one parser, the project's own error, the rules as invariants ---------------


@pytest.mark.parametrize("case", sorted(BAD_COUNTS))
def test_parse_numbers_raises_data_error_with_code_and_path(tmp_path, case):
    value, shown = BAD_COUNTS[case]
    s = pd.Series(["5", value, "7"], index=["A", "B", "C"])
    with pytest.raises(DataError) as info:
        parse_numbers(s, "count", path=tmp_path / "t.csv", layer="lsoa")
    err = info.value
    assert (err.code, err.layer, err.path) == ("B", "lsoa", str(tmp_path / "t.csv"))
    assert "'count'" in str(err) and shown in str(err)


@pytest.mark.parametrize("case", ["decimal-comma", "thirty-digits", "nan-text", "text"])
def test_read_indicators_names_file_and_row(tmp_path, case):
    value, shown = BAD_COUNTS[case]
    p = tmp_path / "t.csv"
    p.write_text(f'area,count\nA1,3\nA2,"{value}"\nA3,4\n')
    with pytest.raises(DataError) as info:
        read_indicators(p, code="area", numeric=["count"])
    assert info.value.path == str(p) and info.value.code == "A2"
    assert shown in str(info.value)


def test_a_column_written_as_numbers_is_checked_without_being_asked(tmp_path):
    """Without ``numeric=``, a column of numbers with a decimal comma is not left as text."""
    p = tmp_path / "t.csv"
    p.write_text('area,count,label\nA1,3,p\nA2,"12,61",q\n')
    with pytest.raises(DataError, match=r"'count'.*A2: '12,61'"):
        read_indicators(p, code="area")
    p.write_text('area,count,label\nA1,3,p\nA2,"12,612",q\n')
    df = read_indicators(p, code="area")
    assert df["count"].tolist() == [3, 12612] and df["label"].tolist() == ["p", "q"]


def test_numeric_columns_from_files_and_code():
    ints = pd.Series(np.array([1, 2**53], dtype="int64"), index=["a", "b"])
    with pytest.raises(DataError, match=r"too large.*b: 9007199254740992"):
        parse_numbers(ints, "n")
    with pytest.raises(DataError, match=r"infinite.*b: inf"):
        parse_numbers(pd.Series([1.0, math.inf], index=["a", "b"]), "n")
    mixed = pd.Series([1, 2.5, None, "3"], dtype=object)
    assert parse_numbers(mixed, "n").tolist()[:2] == [1.0, 2.5]
    assert math.isnan(parse_numbers(mixed, "n").iloc[2])
    assert looks_numeric(pd.Series(["12,61", "3"])) and not looks_numeric(pd.Series(["E01", "3"]))


@given(st.integers(min_value=1 - 2**53, max_value=2**53 - 1))
def test_whole_numbers_round_trip_with_and_without_separators(n):
    s = pd.Series([str(n), f"{n:,}"])
    assert parse_numbers(s, "n").tolist() == [float(n), float(n)]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip(x):
    assert parse_numbers(pd.Series([repr(x)]), "x").iloc[0] == x


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=99))
def test_decimal_commas_are_never_numbers(whole, frac):
    # "12,61": one or two digits after the comma can only be a decimal comma
    with pytest.raises(DataError, match="decimal"):
        parse_numbers(pd.Series([f"{whole},{frac:02d}"]), "x")


@given(st.integers(min_value=int(EXACT_LIMIT), max_value=10**40))
def test_counts_beyond_exact_floats_are_errors(n):
    with pytest.raises(DataError, match="too large"):
        parse_numbers(pd.Series([str(n)]), "x")
