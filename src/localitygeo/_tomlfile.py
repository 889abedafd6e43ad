"""Reading the TOML files users write (manifests, proposals) with one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from localitygeo.errors import LocalityGeoError

__all__ = ["brief", "read_toml"]


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
