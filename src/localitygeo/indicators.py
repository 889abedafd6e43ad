"""Reading published indicator tables (CSV, gzipped CSV, Excel).

Government statistics arrive with byte-order marks, long human-readable
headers, thousands separators (``"29,199"``) and suppression markers
(``*``, ``..``, ``-``, ``x``, ``c``). :func:`read_indicators` reads them as
published and returns a clean numeric DataFrame indexed by area code. A file
is read by what it holds, not by its name: a gzipped CSV named ``.csv``
reads, a ZIP archive named ``.xlsx`` is an error saying what it holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from localitygeo._sniff import describe, not_utf8, sniff, special, zip_members
from localitygeo.errors import ColumnError, DataError, InputError, format_codes, warn
from localitygeo.numbers import looks_numeric, parse_numbers

__all__ = ["SUPPRESSED", "read_indicators"]

#: Cell values treated as suppressed or not available.
SUPPRESSED = ("*", "..", "...", "-", "–", "x", "c", ":", "z", "")

_TABLES = "CSV, gzipped CSV or Excel"


def read_indicators(
    path: str | Path,
    code: str,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    *,
    numeric: Sequence[str] | None = None,
    sheet: str | int | None = None,
    na_values: Sequence[str] = SUPPRESSED,
) -> pd.DataFrame:
    """Read an indicator table keyed by area code.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV file (``.csv``, ``.csv.gz``, ``.txt``) or an Excel workbook.
    code : str
        Column holding the area code (e.g. ``"LSOA code (2011)"``).
    columns : list of str or dict of str to str, optional
        Columns to keep; a dict also renames them (``{"long header": "rank"}``).
        Default: every column.
    numeric : list of str, optional
        Columns (after renaming) that must be numbers: text in them is an
        error. Every other kept column whose values are all written as
        numbers is converted too (and a value in it that breaks the number
        rules of :func:`localitygeo.numbers.parse_numbers`, such as a
        decimal comma, is an error); columns of text stay text.
    sheet : str or int, optional
        Worksheet of an Excel file (default: the first).
    na_values : sequence of str
        Cell values meaning "suppressed" or "not available".

    Returns
    -------
    pandas.DataFrame
        Indexed by code (index name ``"code"``), one column per indicator.

    Raises
    ------
    InputError
        The file is missing, empty, not UTF-8, or not a table (binary data,
        a ZIP archive posing as a workbook, an image...), judged by content.
    ColumnError
        ``code`` or a requested column does not exist (the message lists the
        columns that do).
    DataError
        Codes are repeated or missing, a ``numeric`` column holds text, or a
        column of numbers holds a value that is not one (a decimal comma,
        ``NaN``, a value out of range or a whole number too large to be held
        exactly); the message names the column and the first bad rows' codes.

    Warns
    -----
    LocalityGeoWarning
        Suppressed values were turned into missing values (count per column).
    """
    p = Path(path)
    raw = _read_table(p, sheet)
    raw.columns = [str(c).lstrip("\ufeff").strip() for c in raw.columns]
    if code not in raw.columns:
        raise ColumnError(f"no code column '{code}'; columns are: {', '.join(raw.columns)}", path=p)
    rename = dict(columns) if isinstance(columns, Mapping) else None
    keep = (
        list(rename)
        if rename is not None
        else (list(columns) if columns is not None else [c for c in raw.columns if c != code])
    )
    missing = [c for c in keep if c not in raw.columns]
    if missing:
        raise ColumnError(
            f"no column(s) {', '.join(repr(c) for c in missing)}; columns are: "
            f"{', '.join(raw.columns)}",
            path=p,
        )
    codes = raw[code].astype("string").str.strip()
    if codes.isna().any() or (codes == "").any():
        rows = list(np.flatnonzero((codes.isna() | (codes == "")).to_numpy())[:5] + 2)
        raise DataError(f"rows without a code (file lines {rows})", path=p)
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"duplicate codes: {format_codes(sorted(set(codes[dup])))}",
            path=p,
            code=str(codes[dup].iloc[0]),
        )
    out = raw[keep].copy()
    out.index = pd.Index(codes.astype(object), name="code")
    if rename is not None:
        out = out.rename(columns=rename)
    wanted = set(numeric or ())
    unknown = wanted - set(out.columns)
    if unknown:
        raise ColumnError(
            f"numeric column(s) {', '.join(sorted(unknown))} are not among the selected "
            f"columns: {', '.join(out.columns)}",
            path=p,
        )
    na = {str(v).strip() for v in na_values}
    for col in out.columns:
        out[col] = _clean_column(out[col], col, na, col in wanted, p)
    return out


def _read_table(p: Path, sheet: str | int | None) -> pd.DataFrame:
    """Read a CSV (plain or gzipped) or Excel table as text, choosing by content, not name."""
    if not p.exists():
        raise InputError("file not found", path=p)
    if p.is_dir():
        raise InputError("is a folder, not a table", path=p)
    if other := special(p):
        raise InputError(f"is {other}, not a table", path=p)
    kind = sniff(p)
    if kind not in ("text", "gzip", "xlsx", "ole2"):
        raise InputError(_not_a_table(p, kind), path=p)
    try:
        if kind in ("xlsx", "ole2"):
            frame = pd.read_excel(p, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(
                p,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                compression="gzip" if kind == "gzip" else None,
            )
    except UnicodeDecodeError as exc:
        raise InputError(
            f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8 "
            "(in Excel: CSV UTF-8)",
            path=p,
        ) from None
    except ImportError as exc:
        raise InputError(f"cannot read Excel files here ({exc})", path=p) from exc
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not a readable table ({msg})", path=p) from exc
    if frame.empty:
        raise InputError("the table has no rows", path=p)
    return frame


def _clean_column(col: pd.Series, name: str, na: set[str], must: bool, p: Path) -> pd.Series:
    """Return ``col`` as numbers when it must or does hold them, else as text."""
    text = col.astype("string").str.strip()
    suppressed = text.isin(na) & (text != "")
    missing = text.isna() | text.isin(na)
    if not (must or missing.all() or looks_numeric(text, na)):
        return text.mask(missing).astype(object)
    parsed = parse_numbers(text, name, na=na, path=p)
    n_supp = int(suppressed.sum())
    if n_supp:
        warn(f"{p.name}: column '{name}': {n_supp} suppressed value(s) read as missing")
    if parsed.notna().all() and (parsed == parsed.round()).all():
        return parsed.astype("int64")
    return parsed


def _not_a_table(p: Path, kind: str) -> str:
    if kind == "empty":
        return "the file is empty (0 bytes)"
    if kind == "legacy-text":
        return f"is not UTF-8 text ({not_utf8(p)}); save it as UTF-8 (in Excel: CSV UTF-8)"
    if kind == "zip":
        held = format_codes(zip_members(p)) or "nothing readable"
        return (
            f"is a ZIP archive, not an Excel workbook or a table (it holds {held}); "
            "unzip it and give the table inside"
        )
    return f"is {describe(kind)}, not a table ({_TABLES})"
