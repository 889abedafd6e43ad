"""What a file really is, from its first bytes, whatever its name says.

Readers choose how to read a file by its content (a GeoParquet file named
``.geojson`` is still GeoParquet; a ZIP archive named ``.xlsx`` is not a
workbook) and say what it really is when it cannot be read.
"""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

__all__ = ["describe", "not_utf8", "sniff", "special", "zip_members"]

_HEAD = 4096

# Leading bytes -> kind.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"PAR1", "parquet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"\x00\x00\x27\x0a", "shapefile"),
    (b"fgb\x03", "flatgeobuf"),
    (b"ARROW1", "arrow"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "rar"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)

_NAMES = {
    "empty": "an empty file (0 bytes)",
    "zip": "a ZIP archive",
    "xlsx": "an Excel workbook",
    "gzip": "gzip-compressed data",
    "sqlite": "an SQLite database",
    "parquet": "a Parquet file",
    "ole2": "an old-style Office document (.xls)",
    "shapefile": "a Shapefile (.shp)",
    "flatgeobuf": "a FlatGeobuf file",
    "arrow": "an Arrow file",
    "pdf": "a PDF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "tiff": "a TIFF image",
    "7z": "a 7-Zip archive",
    "rar": "a RAR archive",
    "bzip2": "bzip2-compressed data",
    "xz": "xz-compressed data",
    "text": "UTF-8 text",
    "legacy-text": "text that is not UTF-8",
    "binary": "binary data",
}


def special(path: Path) -> str | None:
    """Return what ``path`` is when it exists but is neither a file nor a folder, else None.

    Opening a named pipe blocks until something writes to it, and a device
    can be read for ever: readers refuse both before opening them.
    """
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def sniff(path: Path) -> str:
    """Return what ``path`` holds, from its first bytes.

    Returns
    -------
    str
        ``"empty"``, a container or format from the magic numbers (``"zip"``,
        ``"xlsx"`` for a ZIP holding a workbook, ``"gzip"``, ``"sqlite"``,
        ``"parquet"``...), ``"text"`` (UTF-8, as far as read),
        ``"legacy-text"`` (mostly printable but not UTF-8) or ``"binary"``.
    """
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    if not head:
        return "empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "zip" and any(n.startswith("xl/") for n in zip_members(path)):
                return "xlsx"
            return kind
    if b"\x00" in head:
        return "binary"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
        return "legacy-text" if printable >= 0.9 * len(head) else "binary"
    return "text"


def describe(kind: str) -> str:
    """Return how a message names a kind from :func:`sniff` (``"a ZIP archive"``)."""
    return _NAMES.get(kind, kind)


def zip_members(path: Path) -> list[str]:
    """Return the names of the files in a ZIP archive (empty when it cannot be read)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for n in zf.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def not_utf8(path: Path, chunk: int = 1 << 20) -> str | None:
    """Return where ``path`` stops being UTF-8 (``"byte 0xf4 at offset 1234"``), or None.

    Reads the file in chunks, so memory stays small for any size.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while data := fh.read(chunk):
            try:
                decoder.decode(data, final=False)
            except UnicodeDecodeError as exc:
                return f"byte 0x{data[exc.start]:02x} at offset {offset + exc.start}"
            offset += len(data)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return f"a truncated character at the end (offset {offset})"
    return None
