r"""CSV that is safe to open in a spreadsheet.

Analysts open lookup and aggregation tables in Excel or LibreOffice, which
run a cell beginning with ``=``, ``+``, ``-`` or ``@`` as a formula (and can
be made to fetch URLs or start programs). Codes, names and column names come
from files other people made, so every CSV the project writes goes through
:func:`write_csv`, which follows the OWASP convention: a text cell or header
beginning with one of those characters, a tab or a carriage return is written
with a leading apostrophe, which spreadsheets show as text.

Rules
-----
- Numbers stay numbers: cells of numeric columns are never changed, and a
  text cell that is a plain decimal number (``-12.5``, ``+3``, ``-1e-5``) is
  not a formula and is left as it is.
- A text cell that already begins with apostrophes before such a character
  gets one more, so :func:`unescape_formula` recovers every cell exactly.
- ``escape_formulas=False`` (``--no-escape-formulas`` on the command line)
  writes text exactly as it is, for programs that read the file.
- Lines end with ``\n``; when some text holds a carriage return they end
  with ``\r\n`` (as RFC 4180 has it), so that such text is quoted and reads
  back exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "escape_formula", "unescape_formula", "write_csv"]

#: Characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_FORMULA = r"'*[=+\-@\t\r]"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NEEDS = re.compile(rf"(?!{_NUMBER}\Z){_FORMULA}", re.DOTALL)


def escape_formula(text: str) -> str:
    """Return ``text`` with a leading ``'`` if a spreadsheet would run it as a formula."""
    return "'" + text if _NEEDS.match(text) else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula` (for a program reading a formula-safe CSV)."""
    return text[1:] if text.startswith("'") and _NEEDS.match(text[1:]) else text


def _text_mask(s: pd.Series, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Return ``test`` of the text cells of ``s``, False for every other cell."""
    try:
        found = test(s.astype(object))
    except AttributeError:  # no text at all (.str refuses a column of numbers or None)
        return s.isna() & False
    return found.fillna(False).astype(bool)


def _escape_series(s: pd.Series) -> pd.Series:
    import pandas as pd

    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        return s  # numbers, booleans and dates are never formulas
    if not _may_need(s):
        return s
    needs = _text_mask(s, lambda t: t.str.match(_NEEDS.pattern, flags=re.DOTALL))
    if not needs.any():
        return s
    out = s.astype(object).copy()
    out[needs] = "'" + s[needs].astype(str)
    return out


def _may_need(s: pd.Series) -> bool:
    """Tell whether any text cell of ``s`` starts as a formula might (a quick screen).

    A column of text (and missing cells) is screened in pyarrow; anything
    else is assumed to need the full check.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return True
    return bool(pc.any(pc.match_substring_regex(arr, r"^['=+\-@\t\r]")).as_py())


def _escape_index(index: pd.Index) -> pd.Index:
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        levels = [_escape_index(index.get_level_values(i)) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=_escape_names(index.names))
    values = _escape_series(pd.Series(index, dtype=index.dtype))
    return pd.Index(values, name=_escape_names([index.name])[0])


def _escape_names(names: Any) -> list[Any]:
    return [escape_formula(n) if isinstance(n, str) else n for n in names]


def _has_cr(frame: pd.DataFrame) -> bool:
    import pandas as pd

    labels = [*frame.columns, *frame.index.names]
    if any(isinstance(x, str) and "\r" in x for x in labels):
        return True
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])] + [frame.index.to_series()]
    for s in columns:
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype):
            if _text_mask(s, lambda t: t.str.contains("\r", regex=False)).any():
                return True
    return False


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with every text cell, header and index label escaped."""
    out = frame.copy()
    out.columns = _escape_index(frame.columns)
    for i in range(out.shape[1]):
        column = frame.iloc[:, i]
        escaped = _escape_series(column)
        if escaped is not column:
            out.isetitem(i, escaped.to_numpy())
    out.index = _escape_index(frame.index)
    return out


_PLAIN = re.compile(r'[,"\r\n]')


def _arrow_csv(frame: pd.DataFrame, options: dict[str, Any]) -> str | None:
    """Return what ``frame.to_csv(**options)`` gives, written by pyarrow, or None.

    Only for what the project's big tables are (``index=False``, floats as
    ``%.6f``, text and integer columns, at least two columns, no cell or
    header that CSV would quote): there the text is the same, written many
    times faster. Anything else returns None, for pandas to write.
    """
    import pandas as pd

    if set(options) - {"index", "float_format"} or options.get("index", True):
        return None
    if options.get("float_format", "%.6f") != "%.6f" or frame.shape[1] < 2 or len(frame) == 0:
        return None
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names) or not all(isinstance(c, str) for c in frame.columns):
        return None
    if any(_PLAIN.search(c) for c in names):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    arrays = []
    for i in range(frame.shape[1]):
        s = frame.iloc[:, i]
        if pd.api.types.is_float_dtype(s.dtype):
            if "float_format" not in options:
                return None
            arrays.append(_fixed6(s.to_numpy(dtype=float)))
        elif pd.api.types.is_integer_dtype(s.dtype) and not isinstance(
            s.dtype, pd.api.extensions.ExtensionDtype
        ):
            arrays.append(pa.array(s.to_numpy()))
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            try:  # text and missing cells only
                arr = pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return None
            if pc.any(pc.match_substring_regex(arr, r'[,"\r\n]')).as_py():
                return None
            arrays.append(arr)
        else:
            return None
    out = pa.BufferOutputStream()
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
    options_ = pcsv.WriteOptions(include_header=False, quoting_style="none")
    pcsv.write_csv(table, out, write_options=options_)
    return ",".join(names) + "\n" + out.getvalue().to_pybytes().decode("utf-8")


def _fixed6(x: Any) -> Any:
    """Return floats as text, as pandas writes them with ``%.6f`` (NaN as a missing cell)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    big = ~(np.abs(x) < 1e3)  # and NaN, infinities: none of them is scaled
    scaled = np.where(big, 0.0, x) * 1e6
    frac = np.abs(scaled - np.trunc(scaled))
    # cells whose rounding the scaled double might get wrong: Python formats them
    python = ~np.isnan(x) & (big | (np.abs(frac - 0.5) < 1e-4))
    units = np.abs(np.rint(scaled)).astype(np.int64)
    whole = pc.cast(pa.array(units // 1_000_000), pa.string())
    part = pc.utf8_lpad(pc.cast(pa.array(units % 1_000_000), pa.string()), 6, "0")
    sign = pa.array(np.where(np.signbit(x), "-", ""))
    cells = pc.binary_join_element_wise(sign, whole, ".", part, "")
    cells = np.asarray(cells.to_numpy(zero_copy_only=False), dtype=object)
    for k in np.flatnonzero(python):
        cells[k] = "%.6f" % x[k]  # noqa: UP031 - what pandas does with float_format
    cells[np.isnan(x)] = None
    return pa.array(cells, type=pa.string())


@overload
def write_csv(
    frame: pd.DataFrame, path: None = None, *, escape_formulas: bool = True, **options: Any
) -> str: ...


@overload
def write_csv(
    frame: pd.DataFrame, path: str | Path, *, escape_formulas: bool = True, **options: Any
) -> Path: ...


def write_csv(
    frame: pd.DataFrame,
    path: str | Path | None = None,
    *,
    escape_formulas: bool = True,
    **options: Any,
) -> str | Path:
    """Write ``frame`` as CSV atomically to ``path`` and return the path; without one, the text.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (unchanged).
    path : str or pathlib.Path, optional
        Where to write the UTF-8 text; nothing is written if this fails.
    escape_formulas : bool, default True
        Prefix text cells and headers a spreadsheet would run as formulas
        with ``'`` (see the module's rules). ``False`` writes text exactly.
    **options
        Passed to :meth:`pandas.DataFrame.to_csv` (``index``, ``float_format``...).

    Returns
    -------
    pathlib.Path or str
        The file written, given ``path``; otherwise the CSV text.
    """
    table = escape_frame(frame) if escape_formulas else frame
    fast = _arrow_csv(table, options)
    if fast is not None:
        text = fast
    else:
        if "lineterminator" not in options and _has_cr(table):
            options["lineterminator"] = "\r\n"  # Python's csv quotes only the line end's characters
        text = table.to_csv(**options)
    if path is not None:
        from localitygeo.io.atomic import write_text_atomic

        write_text_atomic(path, text)
        return Path(path)
    return text
