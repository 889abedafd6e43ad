"""Headless Chromium for published pages: Debian's chromium, no network, nothing may run.

:func:`launch` starts one browser (share it per test module); :class:`Page`
opens a file with every request leaving the page intercepted: map tiles get a
blank PNG made here, anything else is refused and recorded. It records
console errors, uncaught exceptions and dialogs (``alert`` and friends), and
:meth:`Page.close` fails on any of them, on any refused request, and on a
``window.__pwned`` set by an injected script in the page or its frames.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import REPO

SHOTS = Path(os.environ.get("LOCALITYGEO_TEST_OUTPUT", REPO / "test-output")) / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def launch() -> Iterator[Any]:
    """Yield a headless Chromium (Debian's, driven by playwright; no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup-browser.sh (make setup-test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def blank_png(size: int = 256) -> bytes:
    """Return a blank (light grey) PNG tile, built here so nothing is fetched."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\xee" * size  # filter byte, then one grey byte per pixel
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


TILE = blank_png()


class Page:
    """A page opened with the network cut off, recording what went wrong.

    Parameters
    ----------
    browser
        From :func:`launch`.
    path : pathlib.Path
        The HTML file.
    wait : bool, default True
        Wait until a map has drawn a unit (``path.leaflet-interactive``).
    """

    def __init__(self, browser: Any, path: Path, *, wait: bool = True) -> None:
        self.page = browser.new_page(viewport={"width": 1000, "height": 700})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.refused: list[str] = []
        self.tiles = 0
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("http*://**/*", self._route)
        self.page.goto(path.as_uri())
        if wait:
            self.page.wait_for_selector("path.leaflet-interactive")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if route.request.resource_type == "image" and url.endswith(".png"):
            self.tiles += 1
            route.fulfill(status=200, content_type="image/png", body=TILE)
        else:
            self.refused.append(url)
            route.abort()

    def shot(self, name: str) -> Path:
        """Save a screenshot in ``test-output/browser/`` for a person to look at."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        out = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(out))
        assert out.stat().st_size > 5_000  # something was drawn
        return out

    def pwned(self) -> list[str]:
        """Return the URLs of the page and frames in which ``window.__pwned`` is set."""
        return [
            f.url
            for f in self.page.frames
            if f.evaluate("() => typeof window.__pwned !== 'undefined'")
        ]

    def close(self) -> None:
        """Close the page; fail on any error, refused request, dialog or injected script."""
        self.page.wait_for_timeout(200)  # let late tiles and scripts report
        pwned = self.pwned()
        self.page.close()
        assert not self.errors, self.errors  # no console error at all
        assert not self.refused, self.refused  # nothing but tiles asked for the network
        assert not self.dialogs, self.dialogs
        assert not pwned, f"an injected script ran in {pwned}"
