"""Text from data made safe for a terminal.

Codes, names, layer keys and paths come from files other people made. Sent
raw to a terminal, an escape sequence in them can recolour, hide or rewrite
what the user sees (``ESC [ 2 J`` clears the screen, a carriage return
overwrites the line, U+202E reverses it). :func:`clean` shows such characters
as visible escapes instead. It is for what people read (messages, summaries,
progress, ``validate``'s text format); machine formats (JSON, CSV, JUnit)
keep data exact and escape it their own way.
"""

from __future__ import annotations

import re

__all__ = ["clean"]

# C0 controls (tab and newline aside), DEL, C1 controls, and the bidirectional
# formatting characters that reorder what a terminal shows.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINE = re.compile(f"[\t\n{_UNSAFE.pattern[1:-1]}]")


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _show(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _SHORT:
        return _SHORT[ch]
    c = ord(ch)
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def clean(text: object, *, lines: bool = False) -> str:
    r"""Return ``text`` with terminal control characters shown as escapes.

    Parameters
    ----------
    text : object
        Converted with :class:`str`.
    lines : bool, default False
        Keep newlines and tabs (for multi-line text); by default they are
        escaped too, so one message stays on one line.

    Returns
    -------
    str
        For example ``\x1b[31mRED`` (eight visible characters) for the
        escape sequence that would turn the terminal red.
    """
    return (_UNSAFE if lines else _UNSAFE_LINE).sub(_show, str(text))
