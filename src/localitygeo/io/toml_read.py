"""Reading the TOML files users write (manifests, proposals) and checking their values.

Every problem is one error naming the file and the key. Writing TOML is
:mod:`localitygeo.io.toml_write`.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localitygeo.errors import LocalityGeoError, ManifestError
from localitygeo.io.file_types import special

__all__ = ["brief", "flag", "number", "read_toml", "text", "unknown_keys"]


def brief(value: object, limit: int = 40) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_toml(p: Path, error: type[LocalityGeoError], what: str) -> dict[str, Any]:
    """Return the parsed TOML file ``p``; raise ``error`` naming it on any reading problem.

    Parameters
    ----------
    p : pathlib.Path
        The file.
    error : type
        The :class:`~localitygeo.errors.LocalityGeoError` subclass to raise.
    what : str
        What the file should be, for messages (``"proposal file"``).

    Raises
    ------
    LocalityGeoError
        Of type ``error``: the file is missing, a folder, unreadable, empty,
        binary, not UTF-8, not TOML (line and column given) or nested too
        deeply to parse.
    """
    if p.is_dir():
        raise error(f"is a folder, not a {what}", path=p)
    if other := special(p):
        raise error(f"is {other}, not a {what}", path=p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} not found", path=p) from None
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror or exc})", path=p) from None
    if not data.strip():
        raise error(f"the {what} is empty", path=p)
    if b"\x00" in data:
        raise error(f"is binary data, not a {what} (TOML text)", path=p)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise error(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8",
            path=p,
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"TOML syntax error: {exc}", path=p) from None
    except RecursionError:
        raise error("arrays or tables are nested too deeply to read", path=p) from None


def unknown_keys(keys: set[str], allowed: set[str], where: str, p: Path) -> None:
    """Raise ManifestError if ``keys`` holds any not ``allowed`` (a typo is never ignored)."""
    extra = sorted(keys - allowed)
    if extra:
        raise ManifestError(
            f"unknown key(s) {', '.join(extra)} in {where}; allowed: {', '.join(sorted(allowed))}",
            path=p,
        )


def number(value: Any, what: str, p: Path, *, upper: float | None = None) -> float:
    """Return ``value`` as a finite float in [0, ``upper``]; raise ManifestError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ManifestError(f"{what} must be a finite number, not {brief(value)}", path=p)
    v = float(value)
    if v < 0 or (upper is not None and v > upper):
        bound = f" and at most {upper:g}" if upper is not None else ""
        raise ManifestError(f"{what} must be at least 0{bound}, not {value!r}", path=p)
    return v


def text(table: Mapping[str, Any], key: str, where: str, p: Path) -> str | None:
    """Return ``table[key]`` when it is a non-empty string, None when absent; else raise."""
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where} {key} must be a non-empty string, not {brief(value)}", path=p)
    return value


def flag(table: Mapping[str, Any], key: str, default: bool, where: str, p: Path) -> bool:
    """Return ``table[key]`` when it is true or false, ``default`` when absent; else raise."""
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ManifestError(f"{where} {key} must be true or false, not {brief(value)}", path=p)
    return value
