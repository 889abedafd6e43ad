"""Indicator tables that are not what their names say: judged by content, one line or read right.

A ZIP archive posing as a workbook, empty files, binary data, non-UTF-8 text,
images; and the reverse, tables with the wrong suffix, which read. The data
are the example city's small-area populations, written here.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from localitygeo.errors import InputError
from localitygeo.io.tables import read_indicators

from .inputs import aggregate_cli, indicator_csv, small_set


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return small_set(tmp_path)


@pytest.fixture
def csv_text(tmp_path: Path, city: Path) -> str:
    src = indicator_csv(tmp_path / "src.csv", city / "small_areas.geojson", {"pop": "population"})
    text = src.read_text(encoding="utf-8")
    src.unlink()
    return text


def _zip(text: str):
    def write(p: Path) -> None:
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("data.csv", text)

    return write


def _sqlite(p: Path) -> None:
    with sqlite3.connect(p) as db:
        db.execute("create table t (code text, pop int)")


def _latin1(text: str):
    def write(p: Path) -> None:
        lines = text.splitlines()
        lines[0] += ",name"
        lines[1:] = [ln + ",Ynys Môn" for ln in lines[1:]]
        p.write_bytes("\n".join(lines).encode("latin-1"))

    return write


# id -> (file name, writer given the CSV text, what the error line must name)
def _broken(text: str) -> dict:
    return {
        "zip-as-xlsx": ("data.xlsx", _zip(text), ["ZIP archive", "data.csv"]),
        "zip-as-csv": ("data.csv", _zip(text), ["ZIP archive"]),
        "empty": ("data.csv", lambda p: p.write_bytes(b""), ["empty"]),
        "binary": ("data.csv", lambda p: p.write_bytes(os.urandom(3000)), ["binary"]),
        "binary-xlsx": ("data.xlsx", lambda p: p.write_bytes(os.urandom(3000)), ["not a table"]),
        "png": ("data.csv", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), ["PNG"]),
        "sqlite": ("data.csv", _sqlite, ["SQLite"]),
        "not-utf8": ("data.csv", _latin1(text), ["UTF-8", "0xf4"]),
        "not-gzip": ("data.csv.gz", lambda p: p.write_bytes(bytes(range(256)) * 4), ["binary"]),
    }


CASES = sorted(_broken(""))


@pytest.mark.parametrize("case", CASES)
def test_unreadable_table_is_one_line(tmp_path, city, csv_text, case):
    name, write, names = _broken(csv_text)[case]
    data = tmp_path / name
    write(data)
    aggregate_cli(city, data, "--extensive", "pop", names=[name, *names])
    with pytest.raises(InputError) as info:
        read_indicators(data, code="code")
    assert info.value.path == str(data)


def _excel(text: str, p: Path) -> None:
    rows = [ln.split(",") for ln in text.splitlines()]
    pd.DataFrame(rows[1:], columns=rows[0]).to_excel(p, index=False)


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("data.csv", lambda t, p: p.write_text(t, encoding="utf-8")),
        ("data.txt", lambda t, p: p.write_text("\ufeff" + t, encoding="utf-8")),
        ("data.csv", lambda t, p: p.write_bytes(gzip.compress(t.encode()))),  # gzip, no .gz
        ("data.csv.gz", lambda t, p: p.write_text(t, encoding="utf-8")),  # text named .gz
        ("data.xlsx", lambda t, p: p.write_text(t, encoding="utf-8")),  # CSV named .xlsx
        ("data.csv", _excel),  # a workbook named .csv
    ],
    ids=["csv", "bom-txt", "gzip-named-csv", "text-named-gz", "csv-named-xlsx", "xlsx-named-csv"],
)
def test_tables_read_by_content_whatever_their_name(tmp_path, city, csv_text, name, write):
    reference = tmp_path / "ref.csv"
    reference.write_text(csv_text, encoding="utf-8")
    data = tmp_path / "given" / name
    data.parent.mkdir()
    write(csv_text, data)
    expected = read_indicators(reference, code="code", numeric=["pop"])
    pd.testing.assert_frame_equal(read_indicators(data, code="code", numeric=["pop"]), expected)


def test_a_gzipped_csv_named_csv_aggregates_as_the_plain_one(tmp_path, city, csv_text):
    plain = tmp_path / "plain.csv"
    plain.write_text(csv_text, encoding="utf-8")
    packed = tmp_path / "packed" / "data.csv"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(csv_text.encode()))
    expected = aggregate_cli(city, plain, "--extensive", "pop", expect=0).stdout
    assert aggregate_cli(city, packed, "--extensive", "pop", expect=0).stdout == expected
