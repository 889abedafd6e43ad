"""read_indicators on the published IMD 2019 files and on every messy input."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from localitygeo.errors import ColumnError, DataError, InputError, LocalityGeoWarning
from localitygeo.io.tables import read_indicators

IMD = "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
POP = "File_6_-_IoD2019_Population_Denominators.csv.gz"
RANK = "Index of Multiple Deprivation (IMD) Rank"
TOTAL = "Total population: mid 2015 (excluding prisoners)"


def test_published_imd_file(shared_data):
    df = read_indicators(
        shared_data / "imd2019" / IMD,
        code="LSOA code (2011)",
        columns={RANK: "rank", "Index of Multiple Deprivation (IMD) Decile": "decile"},
    )
    assert len(df) == 32844
    assert df.index.name == "code"
    assert df.loc["E01000001", "rank"] == 29199  # published as "29,199"
    assert df["rank"].dtype == "int64" and df["decile"].dtype == "int64"
    assert df["rank"].between(1, 32844).all()
    # The published ranks hold 26 tied pairs (e.g. two LSOAs ranked 2,852).
    assert df["rank"].nunique() == 32818
    assert df["decile"].between(1, 10).all()


def test_published_population_file(shared_data):
    df = read_indicators(
        shared_data / "imd2019" / POP,
        code="LSOA code (2011)",
        columns={TOTAL: "population"},
        numeric=["population"],
    )
    assert df.loc["E01000001", "population"] == 1296
    assert 50_000_000 < df["population"].sum() < 60_000_000  # England, mid-2015


def _write(tmp_path, text: str, name: str = "t.csv", bom: bool = True):
    p = tmp_path / name
    data = ("\ufeff" if bom else "") + text
    if name.endswith(".gz"):
        with gzip.open(p, "wt", encoding="utf-8") as fh:
            fh.write(data)
    else:
        p.write_text(data, encoding="utf-8")
    return p


def test_bom_thousands_and_suppression(tmp_path):
    p = _write(
        tmp_path,
        'area,count,rate,label\nA1,"1,234",0.5,x1\nA2,*,..,x2\nA3,12,-,x3\n',
        name="t.csv.gz",
    )
    with pytest.warns(LocalityGeoWarning, match=r"'count': 1 suppressed") as rec:
        df = read_indicators(p, code="area")
    assert any("'rate': 2 suppressed" in str(w.message) for w in rec)
    assert df.loc["A1", "count"] == 1234
    assert pd.isna(df.loc["A2", "count"]) and pd.isna(df.loc["A3", "rate"])
    assert df.loc["A1", "rate"] == 0.5
    assert list(df["label"]) == ["x1", "x2", "x3"]  # text stays text


def test_duplicate_codes_listed(tmp_path):
    p = _write(tmp_path, "area,v\nA1,1\nA2,2\nA1,3\n")
    with pytest.raises(DataError, match="duplicate codes: A1"):
        read_indicators(p, code="area")


def test_unknown_columns_list_what_exists(tmp_path):
    p = _write(tmp_path, "area,v\nA1,1\n")
    with pytest.raises(ColumnError, match="no code column 'code'; columns are: area, v"):
        read_indicators(p, code="code")
    with pytest.raises(ColumnError, match=r"no column\(s\) 'w'"):
        read_indicators(p, code="area", columns=["w"])


def test_text_in_a_numeric_column_names_rows(tmp_path):
    p = _write(tmp_path, "area,v\nA1,1\nA2,two\nA3,3\n")
    with pytest.raises(DataError, match=r"column 'v' holds values that are not numbers.*A2: 'two'"):
        read_indicators(p, code="area", numeric=["v"])
    assert read_indicators(p, code="area")["v"].tolist() == ["1", "two", "3"]


def test_excel(tmp_path):
    p = tmp_path / "t.xlsx"
    pd.DataFrame({"area": ["A1", "A2"], "v": ["1,000", "c"]}).to_excel(
        p, index=False, sheet_name="data"
    )
    with pytest.warns(LocalityGeoWarning):
        df = read_indicators(p, code="area", sheet="data")
    assert df.loc["A1", "v"] == 1000 and pd.isna(df.loc["A2", "v"])


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, InputError, "file not found"),
        ("", InputError, "the file is empty"),
        ("area,v\n", InputError, "no rows"),
    ],
)
def test_bad_files(tmp_path, content, error, message):
    p = tmp_path / "x.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(error, match=message):
        read_indicators(p, code="area")
