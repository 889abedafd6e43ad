"""Screenshots for docs/publishing.md: real-council maps in Debian's headless Chromium.

Draws Plymouth's output areas coloured by IMD 2019 rank (LSOA, MSOA and
ward outlines, ward names, no tiles) and the change map of Plymouth's MSOAs
realigned onto its wards, saves each as an offline page, opens it with the
network cut (as the browser tests do) and writes a PNG to docs/img/.

Run from the repository: ``.venv/bin/python scripts/docs-screenshots.py``
(needs ../shared/data or ``$LOCALITYGEO_DATA``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the browser helper lives in tests/

from tests.hostile.browser import Page, launch  # noqa: E402

import localitygeo as lg  # noqa: E402
from localitygeo.maps import change_map, locality_map, save  # noqa: E402

DATA = Path(os.environ.get("LOCALITYGEO_DATA", REPO.parent / "shared" / "data"))
PLYMOUTH = DATA / "councils" / "plymouth"
IMD = DATA / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
POP = DATA / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz"
RANK = "Index of Multiple Deprivation (IMD) Rank"
POPULATION = "Total population: mid 2015 (excluding prisoners)"


def layer(file: str, code: str, name: str | None = None) -> Any:
    return lg.read_layer(PLYMOUTH / file, code=code, name=name).to_crs(27700)


def imd_map(out: Path) -> None:
    layers = {
        "oa": layer("oa_2011.geojson", "OA11CD"),
        "lsoa": layer("lsoa_2011.geojson", "LSOA11CD", "LSOA11NM"),
        "msoa": layer("msoa_2011.geojson", "MSOA11CD", "MSOA11NM"),
        "ward": layer("wards_2013.geojson", "WD13CD", "WD13NM"),
    }
    bset = lg.BoundarySet.from_layers(layers, name="Plymouth")
    imd = lg.read_indicators(
        IMD, "LSOA code (2011)", columns={RANK: "imd_rank"}, numeric=["imd_rank"]
    )
    fit = lg.best_fit(bset["oa"], bset["lsoa"]).set_index("child_code")["parent_code"]
    rank = imd["imd_rank"].reindex(fit.reindex(bset["oa"]["code"]).to_numpy())
    m = locality_map(
        bset, "oa", "imd_rank", data=rank.set_axis(bset["oa"]["code"]).to_frame(),
        localities="ward", wards=False, outlines=("lsoa", "msoa"), labels="ward", tiles=None,
        label="IMD 2019 rank of the output area's LSOA",
        title="Plymouth: deprivation by output area",
    )  # fmt: skip
    save(m, out, inline=True)


def msoa_change(out: Path) -> None:
    lsoa = layer("lsoa_2011.geojson", "LSOA11CD", "LSOA11NM")
    pop = lg.read_indicators(POP, code="LSOA code (2011)", columns={POPULATION: "population"})
    lsoa = lsoa.join(pop, on="code")
    bset = lg.BoundarySet.from_layers(
        {
            "lsoa": lsoa,
            "msoa": layer("msoa_2011.geojson", "MSOA11CD", "MSOA11NM"),
            "ward": layer("wards_2013.geojson", "WD13CD", "WD13NM"),
        },
        nesting=[lg.NestingRule("msoa", "ward", 0.05)],
        name="Plymouth",
    ).with_blocks("msoa", "lsoa")
    after = lg.apply(bset, lg.realign(bset, "msoa", "ward"))
    d = lg.diff(bset, after, "msoa")
    m = change_map(
        bset, after, d, parents="ward", tiles=None, title="Plymouth: MSOAs realigned onto wards"
    )
    save(m, out, inline=True)


def main() -> None:
    img = REPO / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp, launch() as browser:
        for name, draw in (("plymouth-imd-map", imd_map), ("plymouth-msoa-change", msoa_change)):
            page_path = Path(tmp) / f"{name}.html"
            draw(page_path)
            page = Page(browser, page_path)
            page.page.set_viewport_size({"width": 1100, "height": 720})
            page.page.wait_for_timeout(500)
            page.page.screenshot(path=str(img / f"{name}.png"))
            page.close()
            print(f"wrote docs/img/{name}.png")


if __name__ == "__main__":
    main()
