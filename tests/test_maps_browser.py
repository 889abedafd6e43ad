"""Published maps opened in a real browser: Debian's headless Chromium, no network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localitygeo import read_boundaries
from localitygeo.maps import locality_map, save

REPO = Path(__file__).resolve().parents[1]
EVIL = "<img src=x onerror=alert(1)>"
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


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup-browser.sh (make setup-test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def evil_map(tmp_path_factory):
    city = read_boundaries(REPO / "boundaries" / "example-city")
    nbhd = city["neighbourhood"].copy()
    nbhd.loc[0, "name"] = EVIL
    bset = city.with_layers(neighbourhood=nbhd)
    path = tmp_path_factory.mktemp("maps") / "map.html"
    save(locality_map(bset, title="Neighbourhoods"), path, inline=True)
    return path, len(nbhd)


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # Cut the network: anything not from the file itself is refused.
    page.route("http*://**/*", lambda route: route.abort())
    page.goto(path.as_uri())
    page.wait_for_selector("path.leaflet-interactive")
    return page, errors, dialogs


def test_map_draws_offline_with_tooltips_and_legend(browser, evil_map, tmp_path):
    path, n_units = evil_map
    page, errors, dialogs = _open(browser, path)
    # One interactive path per neighbourhood (outlines are not interactive).
    assert page.locator("path.leaflet-interactive").count() == n_units
    assert page.locator(".localitygeo-legend").is_visible()
    box = page.locator("path.leaflet-interactive").nth(5).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".leaflet-tooltip")
    assert "EXN" in page.locator(".leaflet-tooltip").inner_text()
    page.screenshot(path=str(tmp_path / "map.png"))
    tile_errors = [e for e in errors if "ERR_FAILED" not in e and "net::" not in e]
    assert not tile_errors, tile_errors  # only the refused background tiles may complain
    assert not dialogs
    page.close()


def test_injected_name_shows_as_text_and_never_runs(browser, evil_map, tmp_path):
    path, _ = evil_map
    page, _errors, dialogs = _open(browser, path)
    assert page.locator("img[src=x]").count() == 0
    # Hover every unit until the one with the injected name shows its tooltip.
    shown = ""
    for i in range(page.locator("path.leaflet-interactive").count()):
        box = page.locator("path.leaflet-interactive").nth(i).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = page.locator(".leaflet-tooltip")
        if tip.count() and "onerror" in tip.inner_text():
            shown = tip.inner_text()
            break
    assert EVIL in shown
    assert page.locator("img[src=x]").count() == 0
    assert not dialogs
    page.screenshot(path=str(tmp_path / "evil.png"))
    page.close()
