"""Write TOML that any TOML 1.0 parser reads back exactly.

One implementation serves every TOML file the project writes (proposals,
manifests). Keys are bare only when they consist of ``A-Za-z0-9_-``;
otherwise they are quoted. Strings are basic strings in which the quote, the
backslash and every control character (DEL included) are escaped; other
characters, non-BMP ones included, are written as UTF-8.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["key", "string", "table", "value"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return _SHORT.get(c) or f"\\u{ord(c):04X}"


def string(text: str) -> str:
    """Return ``text`` as a TOML basic string (with its quotes).

    Raises
    ------
    OutputError
        ``text`` holds a lone surrogate, which no TOML (or UTF-8) file can hold.
    """
    if _SURROGATE.search(text):
        from localitygeo.io.atomic import utf8

        utf8(text)  # raises OutputError with the one message for such text
    return '"' + _ESCAPE.sub(_escape, text) + '"'


def key(name: str) -> str:
    """Return ``name`` as a TOML key: bare when it can be, quoted otherwise."""
    return name if _BARE.fullmatch(name) else string(name)


def table(*names: str) -> str:
    """Return the header of table ``names`` (``[layers."my layer"]``)."""
    return "[" + ".".join(key(n) for n in names) + "]"


def value(v: Any) -> str:
    """Return a string, boolean, number, list or inline table as TOML."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return string(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return "nan"
        return repr(f)  # inf, -inf, 1e+300 and 0.1 are all TOML floats
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{key(str(k))} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, Sequence):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")
