"""Reading numbers from text and attribute columns, strictly.

Counts, weights and indicators reach localitygeo as text in published CSV
files, as attribute columns of boundary layers and as numeric columns of
frames built in code. :func:`parse_numbers` is the one place that turns any of
them into floats, and it never guesses:

- a comma is read only as a thousands separator in groups of three digits
  (``"29,199"``, ``"1,234,567.5"``); anything else with a comma, such as the
  decimal comma of ``"12,61"``, is not a number;
- ``"NaN"``, ``"inf"`` and other words are not numbers (leave a cell empty, or
  use a suppression marker, for a missing value);
- a value must be finite (``"1e400"`` is out of range) and a whole number
  must be small enough to be held exactly (below 2**53, about 9e15), so
  that no count is silently rounded or overflows when summed.

A value that breaks a rule is an error naming the column and its first bad
rows, never a silent missing value.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from os import PathLike

import numpy as np
import pandas as pd

from localitygeo.errors import DataError

__all__ = ["EXACT_LIMIT", "layer_numbers", "looks_numeric", "parse_numbers"]

#: Whole numbers must be smaller than this in magnitude (2**53): every integer
#: below it is held exactly by a float64.
EXACT_LIMIT = float(2**53)

# A number as written in published tables: optional sign, digits with
# optional thousands separators in groups of three, optional decimals and
# exponent.
_NUMBER = r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_INTEGER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)")
# Text that was meant as a number but breaks the rules: decimal commas
# ("12,61", "1.234,5"), badly grouped separators, non-finite words.
_NUMBERISH = (
    r"[+-]?(?:[\d.,]*\d[\d.,]*(?:[eE][+-]?\d+)?"
    r"|(?:nan|inf|infinity))"
)
_WORDS = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_SHOWN = 5


def looks_numeric(values: pd.Series, na: Collection[str] = ()) -> bool:
    """Return whether every present value of a text column was meant as a number.

    True when each non-missing value (after stripping, and other than the
    ``na`` markers) is a number or something written like one (``"12,61"``,
    ``"NaN"``, a 30-digit count), so that :func:`parse_numbers` should read the
    column and report the bad values; False for columns of names or codes.

    Parameters
    ----------
    values : pandas.Series
        A column.
    na : collection of str
        Cell values meaning "not available".

    Returns
    -------
    bool
        Whether the column holds numbers (at least one present value).
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    _, text = _present_text(values, na)
    if not len(text):
        return False
    return bool(text.str.fullmatch(_NUMBERISH, case=False).all())


def parse_numbers(
    values: pd.Series,
    column: str,
    *,
    na: Collection[str] = (),
    path: str | PathLike[str] | None = None,
    layer: str | None = None,
    what: str = "numbers",
) -> pd.Series:
    """Return a column as floats, raising on anything that is not a number.

    Parameters
    ----------
    values : pandas.Series
        Text (as published), numbers or a mix (object dtype). Rows are named
        in messages by the series' index, so index it by code.
    column : str
        The column's name, for messages.
    na : collection of str
        Cell values meaning "suppressed" or "not available" (read as missing).
        Empty cells and null values are always missing.
    path, layer : optional
        The file and layer named in the error.
    what : str, default "numbers"
        What the column should hold, for the message (``"counts"``...).

    Returns
    -------
    pandas.Series
        float64, same index; missing values are NaN.

    Raises
    ------
    DataError
        A value is text, a decimal comma, a non-finite word or value, or a
        whole number too large to be held exactly. The message names the
        column and the first bad rows.
    """
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(values.to_numpy(dtype=float), index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        out = pd.Series(values.to_numpy(dtype=float, na_value=np.nan), index=values.index)
        big = np.abs(out.to_numpy()) >= EXACT_LIMIT
        if pd.api.types.is_integer_dtype(values) and big.any():
            _raise(values, big, column, "whole numbers too large to be held exactly", path, layer)
        inf = np.isinf(out.to_numpy())
        if inf.any():
            _raise(values, inf, column, "infinite values", path, layer)
        return out
    pos, text = _present_text(values, na)
    good = text.str.fullmatch(_NUMBER).to_numpy(dtype=bool)
    if not good.all():
        hint = _hint(text[~good])
        _raise(
            values,
            _at(pos[~good], len(values)),
            column,
            f"values that are not {what}",
            path,
            layer,
            hint,
        )
    parsed = text.str.replace(",", "", regex=False).astype("float64").to_numpy()
    inf = np.isinf(parsed)
    if inf.any():
        _raise(values, _at(pos[inf], len(values)), column, "numbers out of range", path, layer)
    whole = text.str.fullmatch(_INTEGER).to_numpy(dtype=bool)
    big = whole & (np.abs(parsed) >= EXACT_LIMIT)
    if big.any():
        _raise(
            values,
            _at(pos[big], len(values)),
            column,
            "whole numbers too large to be held exactly (more than 15 digits)",
            path,
            layer,
        )
    out = np.full(len(values), np.nan)
    out[pos] = parsed
    return pd.Series(out, index=values.index)


def _at(positions: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return mask


def _present_text(values: pd.Series, na: Collection[str]) -> tuple[np.ndarray, pd.Series]:
    """Return the positions and stripped text of the values present (not null, empty or ``na``)."""
    text = values.astype("string").str.strip()
    missing = (text.isna() | (text == "") | text.isin(list(na))).to_numpy(dtype=bool)
    pos = np.flatnonzero(~missing)
    return pos, pd.Series(text.to_numpy(dtype=object)[pos], dtype=object).astype(str)


def _hint(bad: pd.Series) -> str:
    if bad.str.contains(",", regex=False).any():
        return (
            "; a comma is read only as a thousands separator in groups of three digits "
            "(29,199): write decimals with a point (12.61)"
        )
    if bad.str.fullmatch(_WORDS).any():
        return "; leave a missing value's cell empty (or use a suppression marker such as '..')"
    return ""


def _raise(
    values: pd.Series,
    bad: np.ndarray,
    column: str,
    problem: str,
    path: str | PathLike[str] | None,
    layer: str | None,
    hint: str = "",
) -> None:
    rows = values[bad]
    shown = ", ".join(f"{label}: {_show(value)}" for label, value in rows.head(_SHOWN).items())
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    raise DataError(
        f"column '{column}' holds {problem}: {shown}{more}{hint}",
        path=path,
        layer=layer,
        code=str(rows.index[0]),
    )


def _show(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def layer_numbers(
    frame: pd.DataFrame,
    column: str,
    layer: str | None = None,
    path: str | PathLike[str] | None = None,
) -> np.ndarray:
    """Return a layer's attribute ``column`` as floats, naming bad rows by their code.

    Parameters
    ----------
    frame : pandas.DataFrame
        A layer (with a ``code`` column, used in messages when present).
    column : str
        The column to read.
    layer : str, optional
        The layer's name, for messages.
    path : str or os.PathLike, optional
        The file (or boundary-set manifest) named in messages.

    Returns
    -------
    numpy.ndarray
        float64 in the frame's row order; missing values are NaN.

    Raises
    ------
    DataError
        As :func:`parse_numbers`.
    """
    values = frame[column]
    if "code" in frame.columns:
        values = pd.Series(values.to_numpy(), index=frame["code"].to_numpy(), dtype=values.dtype)
    return parse_numbers(values, column, layer=layer, path=path).to_numpy()
