"""A real council's output-area map read back from the browser: what it draws still fits.

The map (output areas coloured by IMD rank, LSOA, MSOA and ward outlines, as
benchmarks/bench_map_size.py draws Plymouth) is opened in Debian's headless
Chromium with the network cut; the features ``page.js`` decoded are read
from ``window.localitygeo.drawn`` and measured with plain shapely against
the source: no gap or overlap over 1 m² between output areas, and no output
area more than 1 m² further outside its LSOA (the drawn LSOA outline closed
into polygons) than in the source.
"""

from __future__ import annotations

import numpy as np
import pytest

import localitygeo as lg
from localitygeo.maps import locality_map, save
from tests.hostile.browser import Page, launch
from tests.readback import drawn, faces, gaps, geometries, nesting_report, overlaps

pytestmark = pytest.mark.realdata

IMD_FILE = "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
IMD_RANK = "Index of Multiple Deprivation (IMD) Rank"
FILES = {
    "oa": ("oa_2011.geojson", "OA11CD", None),
    "lsoa": ("lsoa_2011.geojson", "LSOA11CD", "LSOA11NM"),
    "msoa": ("msoa_2011.geojson", "MSOA11CD", "MSOA11NM"),
    "ward": ("wards_2013.geojson", "WD13CD", "WD13NM"),
}


@pytest.fixture(scope="module", params=["copeland", "telford-and-wrekin"])
def read_back(request, tmp_path_factory, shared_data):
    folder = shared_data / "councils" / request.param
    layers = {k: lg.read_layer(folder / f, code=c, name=n) for k, (f, c, n) in FILES.items()}
    bset = lg.BoundarySet.from_layers(layers, crs="EPSG:27700")
    imd = lg.read_indicators(
        shared_data / "imd2019" / IMD_FILE,
        "LSOA code (2011)",
        columns={IMD_RANK: "imd_rank"},
        numeric=["imd_rank"],
    )
    fit = lg.best_fit(bset["oa"], bset["lsoa"]).set_index("child_code")["parent_code"]
    rank = imd["imd_rank"].reindex(fit.reindex(bset["oa"]["code"]).to_numpy())
    data = rank.set_axis(bset["oa"]["code"]).to_frame()
    m = locality_map(
        bset, "oa", "imd_rank", data=data, localities="ward", wards=False,
        outlines=("lsoa", "msoa"), tiles=None,
    )  # fmt: skip
    path = tmp_path_factory.mktemp("maps") / f"{request.param}-oa.html"
    save(m, path, inline=True)
    with launch() as browser:
        page = Page(browser, path)
        layers_drawn = {layer["name"]: layer["geojson"] for layer in drawn(page.page)}
        page.close()
    return bset, layers_drawn


def test_every_output_area_is_drawn_with_no_gap_or_overlap(read_back):
    bset, layers = read_back
    (units,) = [g for name, g in layers.items() if not name.endswith("boundaries")]
    oa = geometries(units)
    assert len(oa) == len(bset["oa"])
    assert not oa.is_empty.any()
    # the drawn areas add up to the source's (simplification moves edges, not area)
    assert np.isclose(oa.area.sum(), bset["oa"].area.sum(), rtol=1e-3)
    assert len(gaps(oa)) <= len(gaps(bset["oa"].geometry))
    assert len(overlaps(oa)) <= len(overlaps(bset["oa"].geometry))


def test_output_areas_stay_inside_the_drawn_lsoa_outlines(read_back):
    bset, layers = read_back
    (units,) = [g for name, g in layers.items() if not name.endswith("boundaries")]
    oa = geometries(units)
    nest = nesting_report(bset["oa"], bset["lsoa"], oa, geometries(layers["Lsoa boundaries"]))
    assert nest["parents_found"] == len(bset["lsoa"])  # the outline closes into every LSOA
    worse = nest["worse"]
    assert len(worse) == 0, (worse, nest["published"][worse], nest["source"][worse])
    # the outline closed into faces gives each LSOA back with its own area
    closed = faces(geometries(layers["Lsoa boundaries"]), bset["lsoa"])
    assert np.allclose(closed.area.to_numpy(), bset["lsoa"].area.to_numpy(), rtol=0.01)
