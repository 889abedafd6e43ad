"""The code itself: no path by which data could become template or markup source.

A grep over the package, so that a later change cannot quietly bring back
``folium.Element(f"...")``, a branca ``Template`` built from text, an
environment without escaping, or ``|safe``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "localitygeo"
PY = sorted(SRC.rglob("*.py"))
TEMPLATES = sorted((SRC / "changes" / "templates").glob("*"))


def _lines(pattern: str, files: list[Path]) -> list[str]:
    found = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{f.relative_to(SRC)}:{n}: {line.strip()}")
    return found


def test_the_sources_are_found():
    assert len(PY) > 20 and any(t.name == "impact.html.j2" for t in TEMPLATES)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bfrom_string\(",  # a template built from text
        r"\bMarkup\(",  # text declared safe
        r"\|\s*safe\b",  # template output declared safe
        r"\bTemplate\(",  # folium/branca/jinja templates built in code
        r"\bElement\(",  # branca's Element(text) parses its text as a template
        r"\bfolium\.(Element|Html|Popup|Tooltip|GeoJson|LayerControl|Marker)\b",
        r"\bIFrame\(",
    ],
)
def test_no_template_or_markup_is_built_from_code(pattern):
    allowed = {"maps/page.py"}  # Verbatim and PageData: constant text, never a template
    found = [hit for hit in _lines(pattern, PY + TEMPLATES) if hit.split(":")[0] not in allowed]
    assert not found, "\n".join(found)


def test_branca_is_used_only_by_the_page_module():
    # maps/scale.py reads branca's colour schemes (lists of colours), nothing else.
    found = [
        h
        for h in _lines(r"\bbranca\b", PY)
        if not h.startswith("maps/page.py")
        and not (h.startswith("maps/scale.py") and re.search(r"color_brewer|scheme_info", h))
    ]
    assert not found, "\n".join(found)


def test_every_jinja_environment_escapes_its_output():
    text = (SRC / "changes" / "report.py").read_text(encoding="utf-8")
    envs = re.findall(r"jinja2\.Environment\((.*?)\n\s*\)", text, flags=re.DOTALL)
    assert len(envs) == 2  # HTML and Markdown
    for env in envs:
        assert "autoescape=True" in env or "finalize=md_text" in env, env
    others = [h for h in _lines(r"jinja2\.Environment\(", PY) if "changes/report.py" not in h]
    assert not others, others
