"""Reading published indicator tables (CSV, gzipped CSV, Excel).

Government statistics arrive with byte-order marks, long human-readable
headers, thousands separators (``"29,199"``) and suppression markers
(``*``, ``..``, ``-``, ``x``, ``c``). :func:`read_indicators` reads them as
published and returns a clean numeric DataFrame indexed by area code. A file
is read by what it holds, not by its name: a gzipped CSV named ``.csv``
reads, a ZIP archive named ``.xlsx`` is an error saying what it holds.

Each column's human label and direction (whether higher values are worse or
better) travel with the frame in ``frame.attrs["indicators"]``; maps read
them (:func:`indicator_info`). :func:`recognised_direction` knows the
Indices of Deprivation's ranks and deciles (1 is the most deprived).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from localitygeo.errors import (
    ColumnError,
    DataError,
    InputError,
    ManifestError,
    format_codes,
    warn,
)
from localitygeo.io.file_types import describe, not_utf8, sniff, special, zip_members
from localitygeo.io.numbers import looks_numeric, parse_numbers
from localitygeo.io.toml_read import brief, text, unknown_keys

__all__ = [
    "HIGHER_IS",
    "SUPPRESSED",
    "HigherIs",
    "check_higher_is",
    "indicator_info",
    "manifest_indicators",
    "read_indicators",
    "recognised_direction",
]

#: What higher values of an indicator are: ``"worse"`` or ``"better"``.
HigherIs = Literal["worse", "better"]
HIGHER_IS: tuple[HigherIs, ...] = ("worse", "better")

#: Cell values treated as suppressed or not available.
SUPPRESSED = ("*", "..", "...", "-", "–", "x", "c", ":", "z", "")

_TABLES = "CSV, gzipped CSV or Excel"


def read_indicators(
    path: str | Path,
    code: str,
    *,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    numeric: Sequence[str] | None = None,
    sheet: str | int | None = None,
    na_values: Sequence[str] = SUPPRESSED,
    labels: Mapping[str, str] | None = None,
    higher_is: Mapping[str, HigherIs] | None = None,
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
        rules of :func:`localitygeo.io.numbers.parse_numbers`, such as a
        decimal comma, is an error); columns of text stay text.
    sheet : str or int, optional
        Worksheet of an Excel file (default: the first).
    na_values : sequence of str
        Cell values meaning "suppressed" or "not available".
    labels : dict of str to str, optional
        Human labels of columns (after renaming), for maps' legends. A
        renamed column is labelled by its header in the file by default.
    higher_is : dict of str to {"worse", "better"}, optional
        Whether higher values of a column (after renaming) are worse or
        better. By default a column the project recognises (see
        :func:`recognised_direction`, which reads the header too) has its
        direction recorded, and others none.

    Returns
    -------
    pandas.DataFrame
        Indexed by code (index name ``"code"``), one column per indicator;
        ``attrs["indicators"]`` maps columns to their ``label`` and
        ``higher_is`` where known (see :func:`indicator_info`).

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
    out.attrs["indicators"] = _described(out.columns, rename, labels, higher_is, p)
    out.attrs["path"] = str(p)  # so a later stage's error can name the file
    return out


def _described(
    columns: Sequence[str],
    rename: Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
    higher_is: Mapping[str, HigherIs] | None,
    p: Path,
) -> dict[str, dict[str, str]]:
    """Return each column's label and direction, as ``read_indicators`` records them."""
    headers = {new: old for old, new in (rename or {}).items()}
    for what, given in (("labels", labels), ("higher_is", higher_is)):
        stray = sorted(set(given or ()) - set(columns))
        if stray:
            raise ColumnError(
                f"{what} names column(s) {', '.join(stray)} that are not among the selected "
                f"columns: {', '.join(columns)}",
                path=p,
            )
    info: dict[str, dict[str, str]] = {}
    for col in columns:
        entry: dict[str, str] = {}
        label = (labels or {}).get(col) or (headers[col] if headers.get(col, col) != col else None)
        if label:
            entry["label"] = str(label)
        way = check_higher_is((higher_is or {}).get(col), f"higher_is of '{col}'")
        way = way or recognised_direction(col, headers.get(col))
        if way:
            entry["higher_is"] = way
        if entry:
            info[col] = entry
    return info


def check_higher_is(value: Any, what: str = "higher_is") -> HigherIs | None:
    """Return ``value`` if it is ``"worse"``, ``"better"`` or None; refuse anything else.

    Raises
    ------
    DataError
        Any other value.
    """
    if value is None or value in HIGHER_IS:
        return value
    raise DataError(f"{what} must be 'worse' or 'better', not {value!r}")


_DEPRIVATION = {"imd", "iod", "deprivation", "deprived", "idaci", "idaopi"}


def recognised_direction(*names: str | None) -> HigherIs | None:
    """Return the direction of a column the project recognises from its name or header.

    Parameters
    ----------
    *names : str or None
        The column's name and, optionally, its label or published header.

    Returns
    -------
    {"worse", "better"} or None
        ``"better"`` (lower is worse) for deprivation ranks and deciles:
        a header saying "where 1 is most deprived", or any name with the
        word ``rank`` or ``decile`` (``imd_rank``, ``mean_rank``, ``Income
        Decile``). ``"worse"`` for measures of how deprived: ``extent``,
        shares and counts of decile 1 (``share_decile1``, ``n_decile1``) and
        deprivation scores (``imd_score``). None for anything else.
    """
    for name in names:
        if not name:
            continue
        low = str(name).lower()
        words = set(re.split(r"[^a-z0-9]+", low))
        if re.search(r"\b1 is (the )?most deprived", low):
            return "better"
        if words & {"decile1", "extent"} or ("score" in words and words & _DEPRIVATION):
            return "worse"
        if words & {"rank", "ranks", "decile", "deciles"}:
            return "better"
    return None


def indicator_info(column: str, *sources: Mapping[str, Mapping[str, str]] | None) -> dict[str, str]:
    """Return what is known of a column: its ``label`` and ``higher_is``, where known.

    Parameters
    ----------
    column : str
        The column.
    *sources : dict, optional
        Descriptions by column, most trusted first: a frame's
        ``attrs["indicators"]`` (from :func:`read_indicators`), a layer's
        ``indicators`` in the manifest. Each key is taken from the first
        source that has it.

    Returns
    -------
    dict
        Possibly empty; ``higher_is`` is ``"worse"`` or ``"better"``.
    """
    out: dict[str, str] = {}
    for source in sources:
        entry = (source or {}).get(column) or {}
        for key in ("label", "higher_is"):
            if key not in out and entry.get(key):
                out[key] = str(entry[key])
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


def manifest_indicators(raw: Any, where: str, p: Path) -> dict[str, dict[str, str]]:
    """Return a manifest layer's ``indicators`` table: by column, ``label`` and ``higher_is``.

    Parameters
    ----------
    raw : object
        The table as TOML read it (None when absent), such as
        ``{"imd_rank": {"label": "IMD rank", "higher_is": "better"}}``.
    where : str
        The table's place in the manifest (``[layers.lsoa]``), for messages.
    p : pathlib.Path
        The manifest.

    Returns
    -------
    dict
        Possibly empty.

    Raises
    ------
    ManifestError
        Not a table of tables, an unknown key, an empty label, or a
        ``higher_is`` other than "worse" or "better".
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ManifestError(
            f"{where} indicators must be a table of columns, not {brief(raw)}", path=p
        )
    out: dict[str, dict[str, str]] = {}
    for column, entry in raw.items():
        place = f"{where} indicators.{column}"
        if not isinstance(entry, dict):
            raise ManifestError(
                f'{place} must be a table such as {{ label = "...", higher_is = "worse" }}, '
                f"not {brief(entry)}",
                path=p,
            )
        unknown_keys(set(entry), {"label", "higher_is"}, place, p)
        label = text(entry, "label", place, p)
        way = entry.get("higher_is")
        if way is not None and way not in HIGHER_IS:
            raise ManifestError(
                f"{place} higher_is must be 'worse' or 'better', not {brief(way)}", path=p
            )
        out[str(column)] = {
            k: v for k, v in (("label", label), ("higher_is", way)) if v is not None
        }
    return out
