"""Markdown output: every value from the data shows literally and makes no element.

Checked with two independent renderers, Python-Markdown (what mkdocs uses)
and markdown-it (CommonMark), with raw HTML allowed: the HTML they produce
from an escaped value holds only the elements of the surrounding Markdown,
and its text is the value itself.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from localitygeo.changes.report import md_text
from tests.hostile.harness import FORMULAS, MARKDOWN, hostile_texts

# What md_text promises about whitespace: line breaks and control characters
# become one space, and the value is stripped (restated here, not imported).
_SPACE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def shown(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class _Html(HTMLParser):
    """The elements (with attributes) and the text of a fragment of HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.parts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def python_markdown(text: str) -> str:
    return markdown.markdown(text, extensions=["tables"])


_MD_IT = MarkdownIt("commonmark").enable("table")


def markdown_it(text: str) -> str:
    return _MD_IT.render(text)


RENDERERS = [python_markdown, markdown_it]


def _cell_text(html: str, tag: str) -> str:
    """The text inside the (last) ``tag`` element of ``html``."""
    found = re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html, flags=re.DOTALL)
    assert found, html
    return _Html(found[-1]).text


TABLE = {"table", "thead", "tbody", "tr", "th", "td"}
CONTEXTS = {
    # context: (Markdown around the value, the element holding it, elements allowed)
    "paragraph": ("{}", "p", {"p"}),
    "list": ("- {}", "li", {"ul", "li"}),
    "heading": ("# Impact of \u201c{}\u201d", "h1", {"h1"}),
    "table": ("| a | b |\n|---|---:|\n| {} | 1 |", "td", TABLE),
}


def _check(value: str, render, context: str) -> None:
    around, holder, allowed = CONTEXTS[context]
    html = render(around.format(md_text(value)))
    tags = _Html(html).tags
    assert {t for t, _ in tags} <= allowed, (value, html)
    for _, attrs in tags:  # table alignment only
        assert all(k == "style" and "text-align" in (v or "") for k, v in attrs), (value, html)
    expected = shown(value)
    if context == "heading":
        expected = f"Impact of \u201c{expected}\u201d"
    got = _cell_text(html, holder)
    if context == "table" and got != expected:  # the right column is "1"
        got = _cell_text(html.split("</td>", 1)[0] + "</td>", holder)
    assert got == expected, (value, md_text(value), html)


PAYLOADS = sorted(
    {
        *hostile_texts(Path("/tmp/never-written")).values(),
        *FORMULAS,
        MARKDOWN,
        "<!-- comment -->",
        "<a href='javascript:alert(1)'>x</a>",
        "<http://example.com>",
        "![img](x.png)",
        "[ref]: http://example.com",
        "[x][ref]",
        "&amp; &lt;b&gt; &#60;",
        "$x^2$ \\(y\\) \\[z\\]",
        "~~struck~~",
        "_under_ __strong__ *em* ***both***",
        "a_b_c snake_case_name _leading trailing_",
        "---",
        "***",
        "___",
        "- item",
        "+ item",
        "1. first",
        "2) second",
        "# heading",
        "> quote",
        "    indented code",
        "```fence```",
        "line\nbreak\r\nand\u2028more",
        "trailing two spaces  ",
        "\\",
        "\\*not escaped\\*",
        "{: .class onclick=alert(1) }",
        "Hope & Anchor | Ward 7",
        "",
        " ",
    }
)


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("render", RENDERERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("value", PAYLOADS)
def test_payloads_show_literally(value, render, context):
    if not shown(value):
        assert md_text(value) == ""
        return
    _check(value, render, context)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("\\`*_{}[]()#+-.!|<>&$~=:;'\"/ \t\n\r")),
            st.characters(codec="utf-8"),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_text_shows_literally_in_every_context(value):
    if not shown(value):
        return
    for render in RENDERERS:
        for context in CONTEXTS:
            _check(value, render, context)
