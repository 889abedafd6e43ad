"""The impact report on paper: printed on A4 by Debian's headless Chromium, network cut.

In print media at the width of an A4 page less its margins, every column of
every unit table must lie on the page and no cell may overflow; the PDF
Chromium prints is A4 and holds the map on a page of its own. On the command
line, ``--format pdf`` (or a ``.pdf`` output) writes the PDF, and a missing
browser is one line and exit 2.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from localitygeo import apply, diff, impact, read_boundaries, read_proposal
from localitygeo.changes.proposal import Proposal
from localitygeo.changes.report import render_impact
from localitygeo.maps import change_map, render_html
from localitygeo.maps.change import fixed_parent
from tests.hostile.browser import Page

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"
PROPOSAL = CITY / "proposals" / "realign-to-wards.toml"
#: A4 less the print stylesheet's 12 mm margins, in CSS pixels (96 per inch).
A4_MM, MARGIN_MM = (210, 297), 12
CONTENT_PX = round((A4_MM[0] - 2 * MARGIN_MM) / 25.4 * 96)
A4_PT = (595.28, 841.89)
LONG = "Upper Kestrel Down and Quarry Bank Waterside Conservation Area (north)"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The example city's report, one neighbourhood renamed long, with its change map."""
    city = read_boundaries(CITY)
    realign = read_proposal(PROPOSAL)
    proposal = Proposal.from_dict(
        {
            "name": realign.name,
            "operations": [
                {"op": "rename", "layer": "neighbourhood", "unit": "EXN14", "name": LONG},
                {"op": "realign", "layer": "neighbourhood", "to": "ward"},
            ],
        }
    )
    after = apply(city, proposal)
    im = impact(city, after, proposal, indicators=["imd_score"])
    m = change_map(
        city,
        after,
        diff(city, after, "neighbourhood"),
        parents=fixed_parent(city, "neighbourhood"),
    )
    html = render_impact(im, "html", set_name=city.name, map_html=render_html(m, inline=True))
    path = tmp_path_factory.mktemp("print") / "report.html"
    path.write_text(html, encoding="utf-8")
    return path, im


_CELLS = """() => {
  const out = [];
  for (const table of document.querySelectorAll("table")) {
    for (const cell of table.querySelectorAll("th, td")) {
      const r = cell.getBoundingClientRect();
      out.push({table: table.className, text: cell.textContent, left: r.left, right: r.right,
                over: cell.scrollWidth - cell.clientWidth});
    }
  }
  return {cells: out, width: document.documentElement.scrollWidth};
}"""


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """The media boxes (width, height in points) of a PDF's pages."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_every_unit_table_column_fits_an_a4_page(browser, report):
    path, im = report
    page = Page(browser, path, wait=False)
    p = page.page
    p.set_viewport_size({"width": CONTENT_PX, "height": 1000})
    p.emulate_media(media="print")
    got = p.evaluate(_CELLS)
    units = [c for c in got["cells"] if c["table"] == "units"]
    # every column of the 17-column neighbourhood table is there, and on the page
    heads = {c["text"] for c in units}
    assert {"Code", "Name", "Compactness", "Wards it spans", "imd score"} <= heads
    assert len(units) > 17 * len(im.units["neighbourhood"].query("status != 'unchanged'"))
    off = [c for c in got["cells"] if c["right"] > CONTENT_PX + 0.5 or c["left"] < -0.5]
    assert not off, off[:5]
    assert not [c for c in got["cells"] if c["over"] > 1], "a cell overflows"
    assert got["width"] <= CONTENT_PX
    assert any(LONG in c["text"] for c in units)  # a long name wraps, not widens
    # the map starts a page of its own, and nothing follows it on that page
    breaks = p.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('.map-page'));"
        " return [s.breakBefore, s.breakAfter]; }"
    )
    assert breaks == ["page", "page"]
    pdf = p.pdf(prefer_css_page_size=True)
    page.close()
    pages = _pages(pdf)
    assert pdf.startswith(b"%PDF") and len(pages) >= 3
    assert all(w == pytest.approx(A4_PT[0], abs=1) and h == pytest.approx(A4_PT[1], abs=1)
               for w, h in pages)  # fmt: skip


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("localitygeo")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=REPO, check=False, env=env
    )


def test_format_pdf_prints_the_report_with_chromium(tmp_path):
    out = tmp_path / "report.pdf"
    r = _cli("impact", str(CITY), "--proposal", str(PROPOSAL), "--no-map", "-o", str(out))
    assert r.returncode == 0, r.stderr
    pdf = out.read_bytes()
    pages = _pages(pdf)
    assert pdf.startswith(b"%PDF") and len(pages) >= 2
    assert all(w == pytest.approx(A4_PT[0], abs=1) for w, _ in pages)
    assert f"wrote {out}" in r.stdout


def test_pdf_without_chromium_is_one_line_and_exit_2(tmp_path):
    import os

    out = tmp_path / "report.pdf"
    env = {**os.environ, "LOCALITYGEO_CHROMIUM": str(tmp_path / "no-such-chromium")}
    r = _cli("impact", str(CITY), "--proposal", str(PROPOSAL), "--format", "pdf",
             "-o", str(out), env=env)  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert str(out) in r.stderr and "chromium" in r.stderr.lower()
    assert not out.exists() and not r.stdout  # refused before any work
