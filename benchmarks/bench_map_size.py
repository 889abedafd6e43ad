"""Bytes of a published map: localitygeo, ``GeoDataFrame.explore`` and mapshaper, on Plymouth.

All three draw the same layers: Plymouth's 849 output areas coloured by an
indicator (the IMD 2019 rank of the LSOA each OA lies in, in five quantile
classes, with tooltips), and LSOA, MSOA and ward outlines, and none inlines
Leaflet. All three pages are made in this run:

- ``explore`` gets the layers as geopandas reads them;
- localitygeo writes all four as one network of shared arcs (simplified at
  10 m) on an integer grid, decoded in the page;
- mapshaper (from npm, ``scripts/setup-bench-npm.sh``) imports the four
  layers into one topology (``combine-files``, shared arcs), snaps vertices
  within 2 m, simplifies the shared arcs at 10 m (Douglas-Peucker, repairing
  the crossings it makes, keeping every unit), and writes quantised TopoJSON
  (its automatic grid, ``fix-geometry``); the benchmark's own page
  (``topojson_page.html``) holds it and links Leaflet and topojson-client,
  which decodes it in the browser.

Then both compact pages are opened in Debian's headless Chromium with the
network cut (linked scripts served from local copies), and the features the
page decoded are read back (``window.localitygeo.drawn``,
``window.topojsonPage.drawn``) and measured in EPSG:27700: gaps and overlaps
between output areas over 1 m², and each OA's area outside its LSOA (the
drawn LSOA outlines closed into polygons) against the same misfit in the
source. localitygeo's page must open no gap or overlap the source lacks and
leave no OA more than 1 m² further outside its LSOA than in the source.

Run: ``python benchmarks/bench_map_size.py [--out DIR] [--tolerance M]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the browser read-back helpers live in tests/

DATA = Path(os.environ.get("LOCALITYGEO_DATA", REPO.parent / "shared" / "data"))
PLYMOUTH = DATA / "councils" / "plymouth"
RANK = "Index of Multiple Deprivation (IMD) Rank"
LABEL = "IMD 2019 rank of the output area's LSOA"
TARGET = 0.40
NODE = REPO / "benchmarks" / "node_modules"
TEMPLATE = Path(__file__).with_name("topojson_page.html")
CREDIT = "Contains OS data © Crown copyright and database right 2016; ONS, MHCLG data, OGL v3.0"
#: metres per degree of latitude (mapshaper snaps in the data's units, degrees)
M_PER_DEGREE = 111_320.0
FILES = {
    "oa": ("oa_2011.geojson", "OA11CD", None),
    "lsoa": ("lsoa_2011.geojson", "LSOA11CD", "LSOA11NM"),
    "msoa": ("msoa_2011.geojson", "MSOA11CD", "MSOA11NM"),
    "ward": ("wards_2013.geojson", "WD13CD", "WD13NM"),
}
OUTLINES = (("lsoa", "LSOA", 0.8), ("msoa", "MSOA", 0.8), ("ward", "Ward", 3.5))


def indicator(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> pd.Series:
    """IMD 2019 rank of each OA's LSOA (index: OA code)."""
    from localitygeo import best_fit

    imd = pd.read_csv(
        DATA / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        encoding="utf-8-sig",
        thousands=",",
        index_col="LSOA code (2011)",
    )[RANK]
    fit = best_fit(oa, lsoa).set_index("child_code")["parent_code"]
    return pd.Series(imd.reindex(fit.to_numpy()).to_numpy(), index=fit.index, name="imd_rank")


def explore_page(raw: dict[str, gpd.GeoDataFrame], rank: pd.Series, path: Path) -> int:
    """Write the map with ``GeoDataFrame.explore``; return its bytes."""
    oa = raw["oa"].assign(imd_rank=rank.reindex(raw["oa"]["OA11CD"]).to_numpy())
    m = oa.explore(column="imd_rank", scheme="quantiles", k=5, name="Output areas")
    for key, weight in (("lsoa", 1), ("msoa", 2), ("ward", 3)):
        style = {"fill": False, "color": "#111111", "weight": weight}
        raw[key].explore(m=m, name=key, style_kwds=style)
    m.save(path)
    return path.stat().st_size


def mapshaper_page(
    raw: dict[str, gpd.GeoDataFrame],
    rank: pd.Series,
    legend_colours: list[str],
    path: Path,
    simplify: list[str],
    snap_m: float,
) -> tuple[int, dict[str, Any]]:
    """Write the TopoJSON page made with mapshaper; return its bytes and what mapshaper said.

    ``simplify`` holds the options of mapshaper's ``-simplify``.
    """
    import mapclassify

    from localitygeo.maps.page import script_json

    exe = NODE / ".bin" / "mapshaper"
    if not exe.exists():
        raise SystemExit("mapshaper is missing: run scripts/setup-bench-npm.sh (make bench)")
    version = subprocess.run([exe, "-v"], capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for key in FILES:
            frame = raw[key][["geometry"]]
            if key == "oa":
                code = raw["oa"]["OA11CD"]
                values = rank.reindex(code).to_numpy().astype(int)
                frame = frame.assign(OA11CD=code, rank=values)
            inputs.append(Path(tmp) / f"{key}.json")
            frame.to_file(inputs[-1], driver="GeoJSON")
        topo_path = Path(tmp) / "topology.json"
        run = subprocess.run(
            [exe, "-i", *inputs, "combine-files", "snap", f"snap-interval={snap_m / M_PER_DEGREE}",
             "-simplify", *simplify, "keep-shapes", "stats",
             "-o", "format=topojson", "id-field=OA11CD", "fix-geometry", topo_path],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        topo = json.loads(topo_path.read_text(encoding="utf-8"))
    values = rank.reindex(raw["oa"]["OA11CD"]).to_numpy().astype(float)
    classes = mapclassify.Quantiles(values, k=5)
    style = {
        "units": "oa",
        "unitsName": "Output areas",
        "field": "rank",
        "label": LABEL,
        "colours": legend_colours,
        "classes": [
            [int(values[classes.yb == c].min()), int(values[classes.yb == c].max())]
            for c in range(5)
        ],
        "outlines": [{"key": k, "name": f"{n} boundaries", "weight": w} for k, n, w in OUTLINES],
        "credit": escape(CREDIT),
    }
    page = (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("__TITLE__", escape(LABEL))
        .replace("__TOPOLOGY__", script_json(topo))
        .replace("__STYLE__", script_json(style))
    )
    path.write_text(page, encoding="utf-8")
    wanted = ("intersection", "Snapped", "displacement")
    said = [line.strip() for line in run.stderr.splitlines() if any(w in line for w in wanted)]
    kx, ky = topo["transform"]["scale"]
    lat = np.radians(topo["transform"]["translate"][1])
    grid = (kx * M_PER_DEGREE * np.cos(lat), ky * M_PER_DEGREE)
    info = {
        "version": version.strip(),
        "said": said,
        "grid_m": grid,
        "arcs": len(topo["arcs"]),
        "points": sum(len(a) for a in topo["arcs"]),
    }
    return path.stat().st_size, info


def variants(tolerance_m: float) -> dict[str, tuple[str, list[str]]]:
    """mapshaper's simplifications to run: at our tolerance, and its own default method."""
    return {
        "same": (f"Douglas-Peucker at {tolerance_m:g} m", ["dp", f"interval={tolerance_m}m"]),
        "10%": ("weighted Visvalingam keeping 10% of removable points", ["10%"]),
    }


def read_back(
    browser: Any,
    path: Path,
    expression: str,
    files: dict[str, Path] | None,
) -> dict[str, Any]:
    """Open a page in the browser and return what its script drew, by layer name."""
    from tests.readback import LocalPage, drawn

    page = LocalPage(browser, path, files or {})
    layers = drawn(page.page, expression)
    page.close()  # fails on any console error or refused request
    return {layer["name"]: layer["geojson"] for layer in layers}


def check(
    name: str,
    units: gpd.GeoSeries,
    lsoa_lines: Any,
    source: dict[str, gpd.GeoDataFrame],
) -> bool:
    """Print a published page's gaps, overlaps and nesting against the source; True if sound."""
    from tests.readback import gaps, nesting_report, overlaps

    oa = source["oa"]
    before = (gaps(oa.geometry), overlaps(oa.geometry))
    after = (gaps(units), overlaps(units))
    nest = nesting_report(oa, source["lsoa"], units, lsoa_lines)
    over = (nest["published"] > 1.0).sum(), (nest["source"] > 1.0).sum()

    def areas(found: tuple[list[Any], list[Any]]) -> str:
        g, o = found
        return f"{len(g)} gaps, {len(o)} overlaps ({sum(g) + sum(a for *_, a in o):,.1f} m²)"

    print(
        f"{name}: {len(units)} output areas read back in the browser; over 1 m²: "
        f"{areas(after)} (source {areas(before)}); OAs more than 1 m² outside their LSOA: "
        f"{over[0]} (source {over[1]}), largest {nest['published'].max():,.1f} m² "
        f"(source {nest['source'].max():,.1f} m²), worse than the source by over 1 m²: "
        f"{len(nest['worse'])}; LSOAs closed from the outlines: {nest['parents_found']}"
    )
    sound = (
        len(units) == len(oa)
        and len(after[0]) <= len(before[0])
        and len(after[1]) <= len(before[1])
        and len(nest["worse"]) == 0
    )
    return bool(sound)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--tolerance", type=float, default=10.0, help="metres (both tools)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import folium
    from tests.hostile.browser import launch

    from localitygeo import BoundarySet, read_layer
    from localitygeo.maps import locality_map, save
    from localitygeo.maps.page import page_data
    from localitygeo.maps.publish import assets_dir

    raw = {k: gpd.read_file(PLYMOUTH / f) for k, (f, _, _) in FILES.items()}
    layers = {k: read_layer(PLYMOUTH / f, code=c, name=n) for k, (f, c, n) in FILES.items()}
    bset = BoundarySet.from_layers(layers, crs="EPSG:27700", name="Plymouth")
    rank = indicator(bset["oa"], bset["lsoa"])
    print(
        f"Plymouth: {', '.join(f'{len(v)} {k}' for k, v in raw.items())}; "
        f"folium {folium.__version__}, geopandas {gpd.__version__}, shapely {shapely.__version__}"
        f" / GEOS {shapely.geos_version_string}; load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )

    t0 = time.perf_counter()
    explore_bytes = explore_page(raw, rank, args.out / "plymouth-oa-explore.html")
    t_explore = time.perf_counter() - t0

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to per-polygon simplification fails the run
        ours = locality_map(
            bset,
            "oa",
            "imd_rank",
            data=rank.to_frame(),
            localities="ward",
            wards=False,
            outlines=("lsoa", "msoa"),
            tolerance_m=args.tolerance,
            label=LABEL,
        )
    ours_path = args.out / "plymouth-oa-localitygeo.html"
    ours_bytes = save(ours, ours_path).stat().st_size
    t_ours = time.perf_counter() - t0
    inline_path = args.out / "plymouth-oa-localitygeo-inline.html"
    inline_bytes = save(ours, inline_path, inline=True).stat().st_size
    (doc,) = page_data(ours_path.read_text(encoding="utf-8"))
    if page_data(inline_path.read_text(encoding="utf-8")) != [doc]:
        raise SystemExit("the inline page's data differ from the measured page's")

    colours = [row[0] for row in doc["legend"]["rows"]]
    made = {}
    for key, (what, options) in variants(args.tolerance).items():
        t0 = time.perf_counter()
        path = args.out / f"plymouth-oa-mapshaper-{key}.html"
        size, info = mapshaper_page(raw, rank, colours, path, options, args.tolerance / 5)
        made[key] = (what, path, size, info, time.perf_counter() - t0)

    print(f"GeoDataFrame.explore     {explore_bytes:>10,} bytes  ({t_explore:.1f} s)")
    for key, (what, _, size, ms, t_ms) in made.items():
        print(
            f"mapshaper {ms['version']}, {key:<5} {size:>10,} bytes  ({t_ms:.1f} s; {what}; "
            f"{ms['arcs']:,} arcs, {ms['points']:,} points, "
            f"grid {ms['grid_m'][0]:.2f} x {ms['grid_m'][1]:.2f} m)"
        )
        for line in ms["said"]:
            print(f"    mapshaper: {line}")
    grid = doc["arcs"]["transform"][2]
    print(f"localitygeo              {ours_bytes:>10,} bytes  ({t_ours:.1f} s; grid {grid:.0e}°)")
    print(f"localitygeo, inline      {inline_bytes:>10,} bytes  (Leaflet embedded, for reference)")
    ratio = ours_bytes / explore_bytes
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"ratio {ratio:.1%} of explore (target at most {TARGET:.0%}: {verdict})")
    same = made["same"][2]
    verdict = "met" if ours_bytes <= same else "NOT met"
    print(
        f"localitygeo {ours_bytes / same:.1%} of mapshaper's page at the same tolerance "
        f"(at most 100%: {verdict})"
    )

    assets = assets_dir()
    cdn = "https://cdn.jsdelivr.net/npm/"
    linked = {
        f"{cdn}leaflet@1.9.3/dist/leaflet.js": assets / "leaflet.js",
        f"{cdn}leaflet@1.9.3/dist/leaflet.css": assets / "leaflet.css",
        f"{cdn}topojson-client@3.1.0/dist/topojson-client.min.js": NODE
        / "topojson-client"
        / "dist"
        / "topojson-client.min.js",
    }
    source = {"oa": bset["oa"], "lsoa": bset["lsoa"]}
    with launch() as browser:
        mine = read_back(browser, inline_path, "window.localitygeo.drawn", None)
        theirs = {
            key: read_back(browser, m[1], "window.topojsonPage.drawn", linked)
            for key, m in made.items()
        }
    from tests.readback import geometries

    codes = [row[0] for row in doc["layers"][0]["rows"]]
    if codes != list(bset["oa"]["code"]):
        raise SystemExit("the page's units are not in the source's order")
    units = geometries(mine[doc["layers"][0]["name"]])
    ok = check("localitygeo", units, geometries(mine["Lsoa boundaries"]), source)
    for key, drawn in theirs.items():
        ms_units = geometries(drawn["oa"])
        ms_codes = [f.get("id") for f in drawn["oa"]["features"]]
        ms_units = ms_units.set_axis(ms_codes).reindex(bset["oa"]["code"]).reset_index(drop=True)
        check(f"mapshaper, {key}", ms_units, geometries(drawn["lsoa"]), source)
    if not ok:
        raise SystemExit("localitygeo's page dropped units, opened gaps or overlaps, or unnested")


if __name__ == "__main__":
    main()
