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
from typing import TYPE_CHECKING, Any

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
    needs = _text_mask(s, lambda t: t.str.match(_NEEDS.pattern, flags=re.DOTALL))
    if not needs.any():
        return s
    out = s.astype(object).copy()
    out[needs] = "'" + s[needs].astype(str)
    return out


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


def write_csv(
    frame: pd.DataFrame,
    path: str | Path | None = None,
    *,
    escape_formulas: bool = True,
    **options: Any,
) -> str:
    """Return ``frame`` as CSV text and, given ``path``, write it there atomically.

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
    str
        The CSV text.
    """
    table = escape_frame(frame) if escape_formulas else frame
    if "lineterminator" not in options and _has_cr(table):
        options["lineterminator"] = "\r\n"  # Python's csv quotes only the line end's characters
    text: str = table.to_csv(**options)
    if path is not None:
        from localitygeo._atomic import write_text_atomic

        write_text_atomic(path, text)
    return text
