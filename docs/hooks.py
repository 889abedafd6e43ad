"""mkdocs hooks: generate pages from the code so they cannot drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill generated sections: the CLI reference and the changelog."""
    if "<!-- cli-reference -->" in markdown:
        from localitygeo.cli import reference_markdown

        markdown = markdown.replace("<!-- cli-reference -->", reference_markdown())
    if "<!-- changelog -->" in markdown:
        text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        markdown = markdown.replace("<!-- changelog -->", text.split("\n", 1)[1])
    return markdown
