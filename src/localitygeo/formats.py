"""Render a validation report as text, JSON, JUnit XML or GitHub annotations."""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from localitygeo.report import ValidationReport

__all__ = ["FORMATS", "render"]


def to_text(report: ValidationReport) -> str:
    """Return a human-readable summary followed by one line per finding."""
    s = report.summary
    lines = [
        f"{report.source}: {'OK' if report.ok else 'FAILED'} — "
        f"{s['errors']} error(s), {s['warnings']} warning(s)"
    ]
    lines += [f"  note: {n}" for n in report.notes]
    for table_id, table in report.assignments.items():
        below = int((table["share"] < 1.0).sum())
        lines.append(
            f"  {table_id}: {len(table)} units, lowest best-parent share "
            f"{table['share'].min():.1%}" + ("" if below else " (all fully nested)")
        )
    for row in report.issues.itertuples(index=False):
        lines.append(f"{row.severity.upper():7} {row.rule:16} [{row.layer}] {row.message}")
    return "\n".join(lines) + "\n"


def to_json(report: ValidationReport) -> str:
    """Return the report's JSON document."""
    return report.to_json() + "\n"


def to_junit(report: ValidationReport) -> str:
    """Return JUnit XML: one test case per layer and rule that ran."""
    cases = []
    groups = report.issues.groupby(["layer", "rule"], sort=True)
    failures = 0
    for (layer, rule), rows in groups:
        errors = rows[rows["severity"] == "error"]
        body = "\n".join(rows["message"])
        name = quoteattr(f"{layer}: {rule}")
        if len(errors):
            failures += 1
            cases.append(
                f"  <testcase classname={quoteattr(report.source)} name={name}>\n"
                f"    <failure message={quoteattr(f'{len(rows)} finding(s)')}>"
                f"{escape(body)}</failure>\n  </testcase>"
            )
        else:
            cases.append(
                f"  <testcase classname={quoteattr(report.source)} name={name}>\n"
                f"    <system-out>{escape(body)}</system-out>\n  </testcase>"
            )
    if not cases:
        cases.append(f'  <testcase classname={quoteattr(report.source)} name="boundary set"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="localitygeo validate" tests="{len(cases)}" '
        f'failures="{failures}" errors="0">\n' + "\n".join(cases) + "\n</testsuite>\n"
    )


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def to_github(report: ValidationReport) -> str:
    """Return GitHub Actions workflow commands that annotate the manifest."""
    lines = []
    for row in report.issues.itertuples(index=False):
        level = {"error": "error", "warning": "warning"}.get(row.severity, "notice")
        title = _gh_escape(f"{row.rule} ({row.layer})").replace(",", "%2C").replace(":", "%3A")
        lines.append(f"::{level} file={report.source},title={title}::{_gh_escape(row.message)}")
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
