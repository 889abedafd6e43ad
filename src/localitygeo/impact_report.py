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
from pathlib import Path
from typing import Any, Literal

from localitygeo.impact import Impact

__all__ = ["FORMATS", "md_text", "render_impact", "write_impact"]

Format = Literal["html", "md", "json"]
#: The report formats and their usual file suffixes.
FORMATS: dict[str, str] = {"html": ".html", "md": ".md", "json": ".json"}

_ATTRIBUTION = (
    "Where real boundaries are shown: contains OS data © Crown copyright and database right, "
    "and ONS data, licensed under the Open Government Licence v3.0."
)


def _num(value: Any, kind: str = "") -> str:
    """Format a number for people: thousands separators, percentages, no NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        return value
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "signed-pct":
        return f"{value:+.1f}%"
    if kind == "int" or (float(value).is_integer() and abs(value) >= 1):
        return f"{value:,.0f}"
    if kind == "signed":
        return f"{value:+,.1f}"
    return f"{value:,.3f}"


def _metric_kind(metric_id: str) -> str:
    if metric_id.startswith(("share_off_mean_", "between_share:")) or metric_id == "max_deviation":
        return "pct"
    if metric_id in ("units", "mean_population") or metric_id.startswith("split:"):
        return "int"
    return ""


def _metric_rows(im: Impact) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {k: [] for k in im.layers}
    for row in im.metrics.itertuples():
        kind = _metric_kind(str(row.id))
        change = f"{100 * row.change:.1f} pts" if kind == "pct" else _num(row.change, kind)
        if row.change > 0 and not change.startswith("+"):
            change = "+" + change
        out[str(row.layer)].append(
            {
                "metric": str(row.metric),
                "before": _num(row.before, kind),
                "after": _num(row.after, kind),
                "change": change if row.change != 0 else "0",
            }
        )
    return out


def _unit_rows(im: Impact) -> tuple[dict[str, list[str]], dict[str, list[dict[str, str]]]]:
    columns: dict[str, list[str]] = {}
    rows: dict[str, list[dict[str, str]]] = {}
    for layer, table in im.units.items():
        t = table[table["status"] != "unchanged"].reset_index()
        keep = ["unit", "name", "status"]
        if im.population:
            keep += [
                "population_before",
                "population_after",
                "population_change",
                "population_change_pct",
                "deviation_before",
                "deviation_after",
            ]
        keep += ["polsby_popper_before", "polsby_popper_after"]
        keep += [c for c in t.columns if c.startswith("parents_")]
        keep += [
            c
            for c in t.columns
            if c.endswith(("_before", "_after")) and c not in keep and not c.startswith("area")
        ]
        columns[layer] = keep
        formatted = []
        for rec in t[keep].to_dict("records"):
            cells = {}
            for c, v in rec.items():
                if c.startswith("deviation"):
                    cells[c] = _num(v, "pct")
                elif c == "population_change_pct":
                    cells[c] = _num(v, "signed-pct")
                elif c == "population_change":
                    cells[c] = f"{v:+,.0f}"
                elif c.startswith(("population", "parents")):
                    cells[c] = _num(v, "int")
                else:
                    cells[c] = _num(v) if not isinstance(v, str) else v
            formatted.append(cells)
        rows[layer] = formatted
    return columns, rows


def _moved_rows(im: Impact) -> list[dict[str, str]]:
    return [
        {
            "layer": str(r.layer),
            "block": str(r.block),
            "from_unit": str(r.from_unit),
            "to_unit": str(r.to_unit),
            "population": _num(r.population, "int") if im.population else "–",
            "area": f"{r.area_m2 / 10_000:,.2f}",
        }
        for r in im.moved.itertuples()
    ]


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
        "headers": {k: [c.replace("_", " ") for c in v] for k, v in columns.items()},
        "changed": changed,
        "moved": _moved_rows(im),
        "map_html": map_html,
        "version": __version__,
        "attribution": attribution,
    }
    return env.get_template(f"impact.{fmt}.j2").render(**context)


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
    fmt : {"html", "md", "json"}, optional
        Default: from the suffix (``.md``, ``.json``, otherwise HTML).
    **kwargs
        Passed to :func:`render_impact`.

    Returns
    -------
    int
        Bytes written.
    """
    from localitygeo._atomic import write_text_atomic

    p = Path(path)
    if fmt is None:
        fmt = {".md": "md", ".json": "json"}.get(p.suffix.lower(), "html")  # type: ignore[assignment]
    assert fmt is not None
    text = render_impact(im, fmt, **kwargs)
    write_text_atomic(p, text)
    return len(text.encode("utf-8"))
