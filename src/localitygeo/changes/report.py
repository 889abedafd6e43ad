"""Render an :class:`~localitygeo.changes.assessment.Impact` as an HTML, Markdown or JSON report.

The HTML report is one self-contained file (styles inline, no script of its
own): a plain-language summary first, then the measures and changed units of
each layer, the before/after map when one is given, and the moved blocks.
Every name and value from the boundary files is escaped. Templates are
Jinja2 files shipped in ``localitygeo/templates``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from localitygeo.changes.assessment import Impact
from localitygeo.changes.report_tables import (
    _groups,
    _metric_rows,
    _moved_rows,
    _title,
    _unit_rows,
)

__all__ = ["FORMATS", "format_of", "md_text", "render_impact", "write_impact", "write_impacts"]

Format = Literal["html", "md", "json", "pdf"]
#: The report formats and their usual file suffixes.
FORMATS: dict[str, str] = {"html": ".html", "md": ".md", "json": ".json", "pdf": ".pdf"}
_SUFFIXES = {".md": "md", ".markdown": "md", ".json": "json", ".pdf": "pdf"}

_ATTRIBUTION = (
    "Where real boundaries are shown: contains OS data © Crown copyright and database right, "
    "and ONS data, licensed under the Open Government Licence v3.0."
)


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
    loader = jinja2.PackageLoader("localitygeo.changes", "templates")
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
) -> list[Path]:
    """Write the report in several formats from one impact, all or none; return the paths.

    Every file is rendered first (a PDF printed by headless Chromium from
    the HTML report, see :mod:`localitygeo.io.pdf`), then all are moved into
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
    list of pathlib.Path
        The files written, in the order of ``outputs``.

    Raises
    ------
    OutputError
        A file cannot be written, or a PDF cannot be printed (no Chromium).
    """
    from localitygeo.io.atomic import atomic_files, utf8

    texts: dict[str, str] = {}
    data: list[bytes] = []
    for path, fmt in outputs:
        f = fmt or format_of(path)
        if f == "pdf":
            from localitygeo.io.pdf import html_to_pdf

            texts.setdefault("html", render_impact(im, "html", **kwargs))
            data.append(html_to_pdf(texts["html"], path))
        else:
            if f not in texts:
                texts[f] = render_impact(im, f, **kwargs)  # type: ignore[arg-type]
            data.append(utf8(texts[f], path))
    with atomic_files([p for p, _ in outputs]) as tmps:
        for tmp, blob in zip(tmps, data, strict=True):
            tmp.write_bytes(blob)
    return [Path(p) for p, _ in outputs]


def write_impact(
    im: Impact,
    path: str | Path,
    fmt: Format | None = None,
    **kwargs: Any,
) -> Path:
    """Write the report atomically and return the path written.

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
    pathlib.Path
        The file written.
    """
    return write_impacts(im, [(path, fmt)], **kwargs)[0]
