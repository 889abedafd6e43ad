r"""Render a validation report as text, JSON, JUnit XML or GitHub annotations.

The text format is for people: control characters from data are shown as
escapes (see :mod:`localitygeo.io.terminal`), one finding per line. JSON keeps
data exact. XML 1.0 cannot hold most control characters at all, so JUnit
XML writes each such character as ``\uXXXX`` (with the backslashes just
before such a sequence doubled); :func:`junit_unescape` reverses it exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from localitygeo.io.terminal import clean
from localitygeo.validation.report import ValidationReport

__all__ = ["FORMATS", "junit_unescape", "render"]


def to_text(report: ValidationReport) -> str:
    """Return a human-readable summary followed by one line per finding."""
    s = report.summary
    lines = [
        f"{clean(report.source)}: {'OK' if report.ok else 'FAILED'} — "
        f"{s['errors']} error(s), {s['warnings']} warning(s)"
    ]
    lines += [f"  note: {clean(n)}" for n in report.notes]
    for table_id, table in report.assignments.items():
        below = int((table["share"] < 1.0).sum())
        lines.append(
            f"  {clean(table_id)}: {len(table)} units, lowest best-parent share "
            f"{table['share'].min():.1%}" + ("" if below else " (all fully nested)")
        )
    for row in report.issues.itertuples(index=False):
        lines.append(
            f"{row.severity.upper():7} {row.rule:16} [{clean(row.layer)}] {clean(row.message)}"
        )
    return "\n".join(lines) + "\n"


def to_json(report: ValidationReport) -> str:
    """Return the report's JSON document."""
    return report.to_json() + "\n"


# Characters XML 1.0 cannot hold (raw or as character references).
_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_TO_ESCAPE = re.compile(rf"(\\*)([{_NOT_XML}]|u[0-9A-Fa-f]{{4}})")
_ESCAPED = re.compile(r"(\\+)(u[0-9A-Fa-f]{4})")


def _xml_safe(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        run, what = m.groups()
        if len(what) == 1:  # a character XML cannot hold
            return run * 2 + f"\\u{ord(what):04x}"
        return run * 2 + what  # literal text that looks like an escape

    return _TO_ESCAPE.sub(sub, text)


def junit_unescape(text: str) -> str:
    r"""Return the original text of a JUnit string, as an XML parser gives it.

    Every character XML 1.0 cannot hold was written as ``\uXXXX``, and
    each run of backslashes just before such a sequence was doubled, so
    ``junit_unescape`` of what :mod:`xml.etree` reads is the original.
    """

    def sub(m: re.Match[str]) -> str:
        run, what = m.groups()
        keep = "\\" * (len(run) // 2)
        return keep + (chr(int(what[1:], 16)) if len(run) % 2 else what)

    return _ESCAPED.sub(sub, text)


def _xml_text(text: str) -> str:
    return escape(_xml_safe(text), {"\r": "&#13;"})


def _xml_attr(text: str) -> str:
    return quoteattr(_xml_safe(text), {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})


def to_junit(report: ValidationReport) -> str:
    """Return JUnit XML: one test case per layer and rule that ran.

    Every string reads back exactly through an XML parser and
    :func:`junit_unescape`, whatever characters the data hold.
    """
    cases = []
    groups = report.issues.groupby(["layer", "rule"], sort=True)
    failures = 0
    source = _xml_attr(report.source)
    for (layer, rule), rows in groups:
        errors = rows[rows["severity"] == "error"]
        body = "\n".join(rows["message"])
        name = _xml_attr(f"{layer}: {rule}")
        if len(errors):
            failures += 1
            cases.append(
                f"  <testcase classname={source} name={name}>\n"
                f"    <failure message={_xml_attr(f'{len(rows)} finding(s)')}>"
                f"{_xml_text(body)}</failure>\n  </testcase>"
            )
        else:
            cases.append(
                f"  <testcase classname={source} name={name}>\n"
                f"    <system-out>{_xml_text(body)}</system-out>\n  </testcase>"
            )
    if not cases:
        cases.append(f'  <testcase classname={source} name="boundary set"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="localitygeo validate" tests="{len(cases)}" '
        f'failures="{failures}" errors="0">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_escape(text).replace(",", "%2C").replace(":", "%3A")


def to_github(report: ValidationReport) -> str:
    """Return GitHub Actions workflow commands that annotate the manifest.

    Data are escaped as the Actions toolkit escapes them (``%``, CR and LF
    everywhere; ``,`` and ``:`` in properties too), so a name or path cannot
    end a command early or start another.
    """
    lines = []
    source = _gh_property(report.source)
    for row in report.issues.itertuples(index=False):
        level = {"error": "error", "warning": "warning"}.get(row.severity, "notice")
        title = _gh_property(f"{row.rule} ({row.layer})")
        lines.append(f"::{level} file={source},title={title}::{_gh_escape(row.message)}")
    s = report.summary
    lines.append(f"::notice title=localitygeo::{s['errors']} error(s), {s['warnings']} warning(s)")
    return "\n".join(lines) + "\n"


#: Output format name -> renderer.
FORMATS: dict[str, Callable[[ValidationReport], str]] = {
    "text": to_text,
    "json": to_json,
    "junit": to_junit,
    "github": to_github,
}


def render(report: ValidationReport, fmt: str = "text") -> str:
    """Render ``report`` in format ``fmt`` (one of :data:`FORMATS`)."""
    try:
        return FORMATS[fmt](report)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}") from None
