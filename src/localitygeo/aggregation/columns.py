"""Checks and shapes of the tables the aggregation stage reads (internal).

Column checks that say what is wrong in words (the column, the layer, the
codes), indicator tables keyed by code, numeric columns coerced, codes matched
between a table and a layer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from localitygeo.errors import ColumnError, DataError, format_codes, missing_column, warn
from localitygeo.io.numbers import parse_numbers

#: Result columns the function adds itself (user columns may not use these names).
_RESERVED = ("coverage",)

__all__ = [
    "by_code",
    "check_columns",
    "check_weight",
    "match_codes",
    "numeric",
    "report",
    "report_outside",
]


def check_weight(wv: np.ndarray, codes: np.ndarray, weight: str) -> None:
    """Raise DataError naming the units whose weight is missing or negative."""
    bad = np.isnan(wv)
    if bad.any():
        raise DataError(
            f"weight column '{weight}' is missing for {int(bad.sum())} source unit(s): "
            f"{format_codes(codes[bad])}; fill or drop them before weighting",
            code=str(codes[bad][0]),
        )
    neg = wv < 0
    if neg.any():
        raise DataError(
            f"weight column '{weight}' is negative for {int(neg.sum())} source unit(s): "
            f"{format_codes(codes[neg])}",
            code=str(codes[neg][0]),
        )
    if len(wv) and not (wv > 0).any():
        raise DataError(f"weight column '{weight}' is zero for every source unit")


def check_columns(
    data: pd.DataFrame,
    extensive: Iterable[str],
    intensive: Iterable[str],
    weight: str | None,
) -> tuple[list[str], list[str]]:
    """Check the indicator columns asked for: present, not reserved, numeric where needed."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if isinstance(extensive, str) or isinstance(intensive, str):
        raise DataError("extensive and intensive take a list of column names, not one string")
    ext, inten = list(extensive), list(intensive)
    for name, cols in (("extensive", ext), ("intensive", inten)):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            raise DataError(f"column(s) named twice in {name}: {format_codes(dup)}")
    both = sorted(set(ext) & set(inten))
    if both:
        raise DataError(
            f"column(s) {format_codes(both)} are listed as both extensive and intensive; a "
            "count is extensive (summed), a rate or rank intensive (averaged)"
        )
    if weight is not None and weight in inten:
        raise DataError(
            f"weight column '{weight}' is intensive; weight by an extensive count such as "
            "population"
        )
    have = set(map(str, data.columns))
    if weight is not None and weight not in have:
        raise missing_column(weight, data.columns, role="weight", path=data.attrs.get("path"))
    names = [*ext, *inten]
    missing = [c for c in names if c not in have]
    if missing:
        raise ColumnError(
            f"data has no column(s) {format_codes(missing)}; columns are: "
            f"{format_codes(list(data.columns), limit=20)}",
            path=data.attrs.get("path"),
        )
    reserved = [c for c in [*ext, *inten] if c in _RESERVED]
    if reserved:
        raise ColumnError(
            f"column name(s) {format_codes(reserved)} are reserved for the result; rename them"
        )
    return ext, inten


def by_code(data: pd.DataFrame) -> pd.DataFrame:
    """Return ``data`` indexed by str codes, checking they are present and unique."""
    if isinstance(data.index, pd.RangeIndex) and "code" in data.columns:
        data = data.set_index("code")
    if len(data) == 0:
        raise DataError("data have no rows")
    idx = data.index
    if idx.hasnans:
        raise DataError(f"data have {int(idx.isna().sum())} row(s) without a code")
    codes = idx.astype(str)
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise DataError(f"data have duplicate codes: {format_codes(sorted(set(codes[dup])))}")
    out = data.copy(deep=False)
    out.index = pd.Index(codes, name="code")
    return out


def numeric(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``columns`` of ``data`` as floats; raise naming values that are not numbers."""
    out: dict[str, np.ndarray] = {}
    for col in columns:
        v = parse_numbers(data[col], col).to_numpy()
        if len(v) and np.isnan(v).all():
            raise DataError(f"column '{col}' has no values (every row is missing)")
        out[col] = v
    return pd.DataFrame(out, index=data.index)


def match_codes(codes: pd.Index, scodes: np.ndarray, strict: bool) -> None:
    """Warn (or raise, when strict) about codes of the table and the layer that do not match."""
    in_geom = pd.Index(scodes)
    no_geom = codes.difference(in_geom)
    no_data = in_geom.difference(codes)
    if len(no_geom):
        report(
            f"{len(no_geom)} of {len(codes)} code(s) in the data are not in the source "
            f"layer and are ignored: {format_codes(no_geom)}",
            strict,
        )
    if len(no_data):
        report(
            f"{len(no_data)} of {len(in_geom)} source unit(s) have no row in the data; "
            f"targets they overlap are only partly covered: {format_codes(no_data)}",
            strict,
        )
    if len(codes) and len(no_geom) == len(codes):
        raise DataError(
            "none of the data's codes is in the source layer (e.g. data "
            f"{format_codes(codes[:3])}; layer {format_codes(scodes[:3])}); is the data "
            "keyed by the right code column?"
        )


def report_outside(mask: np.ndarray, codes: np.ndarray, what: str, strict: bool) -> None:
    """Report the units of ``what`` flagged by ``mask`` (warning, or DataError when strict)."""
    if mask.any():
        report(
            f"{int(mask.sum())} source unit(s) with data {what}; the rest of their values "
            f"are not counted: {format_codes(codes[mask])}",
            strict,
        )


def report(message: str, strict: bool) -> None:
    """Warn with ``message``, or raise DataError when ``strict``."""
    if strict:
        raise DataError(message + " (strict=True)")
    warn(message, stacklevel=2 + _frames_in_package())


def _frames_in_package() -> int:
    """Count the frames from the caller of this function out to the user's code."""
    # the package root: this module sits in localitygeo/aggregation/
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame = sys._getframe(1)
    n = 0
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        n += 1
        frame = frame.f_back  # type: ignore[assignment]
    return n
