"""Render an :class:`~localitygeo.impact.Impact` as an HTML, Markdown or JSON report.

The HTML report is one self-contained file (styles inline, no script of its
own): a plain-language summary first, then the measures and changed units of
each layer, the before/after map when one is given, and the moved blocks.
Every name and value from the boundary files is escaped. Templates are
Jinja2 files shipped in ``localitygeo/templates``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from localitygeo._impact_words import nouns, unit_label
from localitygeo.impact import VARIANCE_THRESHOLD, Impact

__all__ = ["FORMATS", "format_of", "md_text", "render_impact", "write_impact", "write_impacts"]

Format = Literal["html", "md", "json", "pdf"]
#: The report formats and their usual file suffixes.
FORMATS: dict[str, str] = {"html": ".html", "md": ".md", "json": ".json", "pdf": ".pdf"}
_SUFFIXES = {".md": "md", ".markdown": "md", ".json": "json", ".pdf": "pdf"}

_ATTRIBUTION = (
    "Where real boundaries are shown: contains OS data © Crown copyright and database right, "
    "and ONS data, licensed under the Open Government Licence v3.0."
)


def _num(value: Any, decimals: int = 0, *, signed: bool = False, suffix: str = "") -> str:
    """Format a number for people: thousands separators, fixed decimals, no NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    text = f"{float(value):{'+' if signed else ''},.{decimals}f}"
    if signed and float(text.replace(",", "").rstrip("%")) == 0:
        text = text.lstrip("+-")  # "0", never "+0" or "-0.0"
    return text + suffix


def _pct(value: Any, *, signed: bool = False) -> str:
    """Return a share (0.123) as a percentage with one decimal: ``12.3%``."""
    return _num(None if value is None else 100 * value, 1, signed=signed, suffix="%")


def decimals_for(values: Any) -> int:
    """Return the decimals to show a column of values with: fewer the larger they are.

    Every value of a column is shown with the same decimals: none from 100 up
    (a mean rank of 15,941.696 shows as 15,942, beside counts such as 3,177),
    one from 1 up, two below.
    """
    arr = np.abs(np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float))
    arr = arr[np.isfinite(arr)]
    big = float(arr.max()) if arr.size else 0.0
    return 0 if big >= 100 or big == 0 else 1 if big >= 1 else 2


def _indicator_decimals(im: Impact) -> dict[str, int]:
    """Per indicator column, the decimals its unit means are shown with (in every layer)."""
    out: dict[str, int] = {}
    for row in im.metrics.itertuples():
        mid = str(row.id)
        if mid.startswith("range:"):
            col = mid.split(":", 1)[1]
            values = [t[f"{col}_{side}"] for t in im.units.values() for side in ("before", "after")]
            out[col] = decimals_for(pd.concat(values)) if values else 0
    return out


def _title(im: Impact, key: str) -> str:
    return im.titles.get(key, key.replace("_", " "))


def _start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _metric_label(im: Impact, layer: str, mid: str, label: str) -> str:
    one, many = nouns(_title(im, layer))
    if mid == "units":
        return f"Number of {many}"
    if mid == "mean_population":
        return f"Average population of a {one}"
    if mid.startswith("share_off_mean_"):
        return f"{_start(many)} more than {VARIANCE_THRESHOLD:.0%} from the average population"
    if mid == "max_deviation":
        return "Largest difference from the average population"
    if mid == "mean_polsby_popper":
        return "Average compactness (Polsby-Popper: 1 is a circle)"
    if mid == "min_polsby_popper":
        return f"Compactness of the least compact {one}"
    if mid.startswith("split:"):
        parent = nouns(_title(im, mid.split(":", 1)[1]))[0]
        basis = label[label.index("(") :] if "(" in label else ""
        return f"{_start(many)} not within one {parent} {basis}".strip()
    col = mid.split(":", 1)[1].replace("_", " ") if ":" in mid else ""
    if mid.startswith("range:"):
        return f"{col}: highest minus lowest {one} average"
    if mid.startswith("between_share:"):
        return f"{col}: share of inequality between {many}"
    return label


def _metric_rows(im: Impact) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {k: [] for k in im.layers}
    inds = _indicator_decimals(im)
    for row in im.metrics.itertuples():
        mid, layer = str(row.id), str(row.layer)
        if mid.startswith(("share_off_mean_", "between_share:")) or mid == "max_deviation":
            before, after = _pct(row.before), _pct(row.after)
            change = _num(100 * row.change, 1, signed=True, suffix=" pts")
        else:
            d = (
                2
                if mid.endswith("polsby_popper")
                else inds.get(mid.split(":", 1)[1], 0)
                if mid.startswith("range:")
                else 0
            )
            before, after = _num(row.before, d), _num(row.after, d)
            change = _num(row.change, d, signed=True)
        out[layer].append(
            {
                "id": mid,
                "metric": _metric_label(im, layer, mid, str(row.metric)),
                "before": before,
                "after": after,
                "change": change,
            }
        )
    return out


@dataclass(frozen=True)
class _Column:
    """A column of a unit table: its key, its group heading and its own heading."""

    key: str
    group: str
    head: str

    @property
    def flat(self) -> str:
        """The heading where there is no group row (Markdown)."""
        return f"{self.group} {self.head.lower()}" if self.group else self.head

    @property
    def numeric(self) -> bool:
        return self.key not in ("unit", "name", "status")


def _unit_columns(im: Impact, table: pd.DataFrame) -> list[_Column]:
    cols = [_Column("unit", "", "Code"), _Column("name", "", "Name")]
    cols.append(_Column("status", "", "Change"))
    if im.population:
        cols += [
            _Column("population_before", "People", "Before"),
            _Column("population_after", "People", "After"),
            _Column("population_change", "People", "Change"),
            _Column("population_change_pct", "People", "Change %"),
            _Column("deviation_before", "From the average", "Before"),
            _Column("deviation_after", "From the average", "After"),
        ]
    cols += [
        _Column("polsby_popper_before", "Compactness", "Before"),
        _Column("polsby_popper_after", "Compactness", "After"),
    ]
    for c in table.columns:
        if c.startswith("parents_") and c.endswith("_before"):
            parent = c[len("parents_") : -len("_before")]
            group = f"{_start(nouns(_title(im, parent))[1])} it spans"
            after = f"parents_{parent}_after"
            cols += [_Column(c, group, "Before"), _Column(after, group, "After")]
    for col in _indicator_decimals(im):
        group = col.replace("_", " ")
        cols += [_Column(f"{col}_before", group, "Before"), _Column(f"{col}_after", group, "After")]
    return cols


def _groups(columns: list[_Column]) -> list[tuple[str, int]]:
    """Return the group heading row: each group and how many columns it spans."""
    out: list[tuple[str, int]] = []
    for c in columns:
        if out and out[-1][0] == c.group and c.group:
            out[-1] = (c.group, out[-1][1] + 1)
        else:
            out.append((c.group, 1))
    return out


def _cell(key: str, value: Any, inds: dict[str, int]) -> str:
    if key in ("unit", "status"):
        return str(value)
    if key == "name":
        return "" if value is None or pd.isna(value) else str(value)
    if key.startswith("deviation"):
        return _pct(value, signed=True)
    if key == "population_change_pct":
        return _num(value, 1, signed=True, suffix="%")
    if key == "population_change":
        return _num(value, 0, signed=True)
    if key.startswith(("population", "parents")):
        return _num(value, 0)
    if key.startswith("polsby_popper"):
        return _num(value, 2)
    return _num(value, inds.get(key.rsplit("_", 1)[0], 0))


def _unit_rows(
    im: Impact,
) -> tuple[dict[str, list[_Column]], dict[str, list[dict[str, str]]]]:
    columns: dict[str, list[_Column]] = {}
    rows: dict[str, list[dict[str, str]]] = {}
    inds = _indicator_decimals(im)
    for layer, table in im.units.items():
        t = table[table["status"] != "unchanged"].reset_index()
        cols = _unit_columns(im, table)
        columns[layer] = cols
        rows[layer] = [
            {c.key: _cell(c.key, rec.get(c.key), inds) for c in cols}
            for rec in t.to_dict("records")
        ]
    return columns, rows


def _moved_rows(im: Impact) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {k: [] for k in im.layers}
    for r in im.moved.itertuples():
        out[str(r.layer)].append(
            {
                "block": unit_label(r.block, getattr(r, "block_name", None)),
                "from_unit": unit_label(r.from_unit, getattr(r, "from_name", None)),
                "to_unit": unit_label(r.to_unit, getattr(r, "to_name", None)),
                "population": _num(r.population, 0) if im.population else "–",
                "area": _num(r.area_m2 / 10_000, 1),
            }
        )
    return out


#: Characters written as HTML character references in Markdown: HTML (``&<>``), links
#: and images (``[]``), math (``$``, for pages rendered with MathJax) and GFM
#: strikethrough (``~``). References work in every Markdown dialect and, unlike a
#: backslash, never start MathJax's ``\[`` math.
_MD_REFERENCES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "&#91;", "]": "&#93;", "$": "&#36;",
                  "~": "&#126;"}  # fmt: skip
#: Characters backslash-escaped in Markdown (emphasis, code, tables, attribute lists and
#: template syntax such as ``{{`` for sites that render pages as templates).
_MD_BACKSLASHED = set("\\`*{}|")
_MD_SPACE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
#: A value starting with one of these could start a list item, heading or rule
#: (Python-Markdown takes "#x" as a heading and "- --" as a rule): escape it.
_MD_BLOCK_START = ("-", "+", "#")
_MD_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def _md_char(text: str, i: int) -> str:
    char = text[i]
    if char in _MD_REFERENCES:
        return _MD_REFERENCES[char]
    if char in _MD_BACKSLASHED:
        return "\\" + char
    if char == "_":  # inside a word (small_area) it is plain text in every dialect
        inside = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        return char if inside else "\\_"
    return char


def md_text(value: Any) -> str:
    """Return a value as Markdown text that shows it literally and makes no element.

    Used as the Markdown template's ``finalize``: every value the template
    prints passes through it. Line breaks and control characters become
    spaces (a value never starts a block), HTML and link syntax become
    character references, emphasis, code and table syntax are
    backslash-escaped, and a value that would start a list (``- x``, ``1. x``),
    heading (``# x``) or rule (``---``) cannot.

    Parameters
    ----------
    value : object
        Text or a number (None prints as nothing).

    Returns
    -------
    str
        The escaped text.
    """
    if value is None:
        return ""
    text = _MD_SPACE.sub(" ", str(value)).strip()
    out = "".join(_md_char(text, i) for i in range(len(text)))
    if text.startswith(_MD_BLOCK_START):
        return "\\" + out
    return _MD_LIST_NUMBER.sub(r"\1\\\2", out)  # "1." or "1)": a numbered list


def render_impact(
    im: Impact,
    fmt: Format = "html",
    *,
    set_name: str = "",
    map_html: str | None = None,
    attribution: str = _ATTRIBUTION,
) -> str:
    """Return the report text.

    Parameters
    ----------
    im : Impact
        From :func:`localitygeo.impact`.
    fmt : {"html", "md", "json"}, default "html"
        The format. All three carry the same content.
    set_name : str
        The boundary set's name, shown under the title.
    map_html : str, optional
        A complete HTML page (a saved map) embedded in the HTML report as an
        ``iframe`` ``srcdoc``, so the report stays one file.
    attribution : str
        Footer line.

    Returns
    -------
    str
        The report.
    """
    if fmt == "json":
        return im.to_json() + "\n"
    if fmt == "pdf":
        raise ValueError("a PDF is bytes, printed from the HTML: use write_impact(..., 'pdf')")
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; formats are: {', '.join(FORMATS)}")
    import jinja2

    from localitygeo import __version__

    # The templates are files shipped with the package; data only ever fill their
    # variables, escaped on output: HTML by autoescaping, Markdown by md_text.
    loader = jinja2.PackageLoader("localitygeo", "templates")
    env = (
        jinja2.Environment(
            loader=loader,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        if fmt == "html"
        else jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=md_text,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
    )
    columns, changed = _unit_rows(im)
    context: dict[str, Any] = {
        "im": im,
        "set_name": set_name,
        "metrics": _metric_rows(im),
        "unit_columns": columns,
        "groups": {k: _groups(v) for k, v in columns.items()},
        "changed": changed,
        "titles": {k: _title(im, k) for k in im.layers},
        "blocks_title": _title(im, im.finest),
        "moved": _moved_rows(im),
        "map_html": map_html,
        "version": __version__,
        "attribution": attribution,
    }
    return env.get_template(f"impact.{fmt}.j2").render(**context)


def format_of(path: str | Path) -> Format:
    """Return the report format a file's suffix asks for (HTML unless .md, .json or .pdf)."""
    return _SUFFIXES.get(Path(path).suffix.lower(), "html")  # type: ignore[return-value]


def write_impacts(
    im: Impact,
    outputs: Sequence[tuple[str | Path, str | None]],
    **kwargs: Any,
) -> list[int]:
    """Write the report in several formats from one impact, all or none; return the sizes.

    Every file is rendered first (a PDF printed by headless Chromium from
    the HTML report, see :mod:`localitygeo._pdf`), then all are moved into
    place together, so a failure leaves every destination as it was.

    Parameters
    ----------
    im : Impact
        From :func:`localitygeo.impact`.
    outputs : list of (path, format)
        Each file and its format (``None``: from the suffix, see :func:`format_of`).
    **kwargs
        Passed to :func:`render_impact`.

    Returns
    -------
    list of int
        Bytes written, per output.

    Raises
    ------
    OutputError
        A file cannot be written, or a PDF cannot be printed (no Chromium).
    """
    from localitygeo._atomic import atomic_files, utf8

    texts: dict[str, str] = {}
    data: list[bytes] = []
    for path, fmt in outputs:
        f = fmt or format_of(path)
        if f == "pdf":
            from localitygeo._pdf import html_to_pdf

            texts.setdefault("html", render_impact(im, "html", **kwargs))
            data.append(html_to_pdf(texts["html"], path))
        else:
            if f not in texts:
                texts[f] = render_impact(im, f, **kwargs)  # type: ignore[arg-type]
            data.append(utf8(texts[f], path))
    with atomic_files([p for p, _ in outputs]) as tmps:
        for tmp, blob in zip(tmps, data, strict=True):
            tmp.write_bytes(blob)
    return [len(b) for b in data]


def write_impact(
    im: Impact,
    path: str | Path,
    fmt: Format | None = None,
    **kwargs: Any,
) -> int:
    """Write the report atomically and return its size in bytes.

    Parameters
    ----------
    im : Impact
        From :func:`localitygeo.impact`.
    path : str or pathlib.Path
        The file to write; nothing is written if rendering fails.
    fmt : {"html", "md", "json", "pdf"}, optional
        Default: from the suffix (``.md``, ``.json``, ``.pdf``, otherwise HTML).
        A PDF is the HTML report printed on A4 by headless Chromium.
    **kwargs
        Passed to :func:`render_impact`.

    Returns
    -------
    int
        Bytes written.
    """
    return write_impacts(im, [(path, fmt)], **kwargs)[0]
