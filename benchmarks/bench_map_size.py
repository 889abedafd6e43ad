"""Bytes of a published map: localitygeo vs ``GeoDataFrame.explore``, on Plymouth.

Both draw the same layers: Plymouth's 849 output areas coloured by an
indicator (the IMD 2019 rank of the LSOA each OA lies in, in five quantile
classes, with tooltips), and LSOA, MSOA and ward outlines. ``explore`` gets
the layers as geopandas reads them; localitygeo writes all four as one
network of shared arcs (simplified at 10 m) on an integer grid, decoded in
the page. Both files are written without inlining Leaflet, in one run.

The script also reads the output areas back from the localitygeo file and
checks that publishing opened no gap or overlap (over 1 m²) between them.

Run: ``python benchmarks/bench_map_size.py [--out DIR] [--tolerance M]``
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
PLYMOUTH = DATA / "councils" / "plymouth"
RANK = "Index of Multiple Deprivation (IMD) Rank"
TARGET = 0.40
#: mapshaper's TopoJSON page of the same layers (issue 14): ours must not be larger.
MAPSHAPER_BYTES = 184_477
FILES = {
    "oa": ("oa_2011.geojson", "OA11CD", None),
    "lsoa": ("lsoa_2011.geojson", "LSOA11CD", "LSOA11NM"),
    "msoa": ("msoa_2011.geojson", "MSOA11CD", "MSOA11NM"),
    "ward": ("wards_2013.geojson", "WD13CD", "WD13NM"),
}


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


def published_units(html: str) -> gpd.GeoDataFrame:
    """The first layer of the map's page data (the coloured units)."""
    from localitygeo.maps.page import layer_geometries, page_data

    pages = page_data(html)
    if not pages:
        raise SystemExit("no page data found in the localitygeo map")
    units = pages[0]["layers"][0]
    frame = gpd.GeoDataFrame(geometry=layer_geometries(pages[0], units), crs=4326)
    return frame.assign(code=[row[0] for row in units["rows"]])  # the tooltips' first field


def gaps_and_overlaps(layer: gpd.GeoDataFrame) -> tuple[int, int, float]:
    """Gaps and overlaps over 1 m², and their total area, in EPSG:27700."""
    from localitygeo import find_gaps, find_overlaps

    projected = layer.to_crs(27700)
    gaps, overlaps = find_gaps(projected, 1.0), find_overlaps(projected, 1.0)
    return len(gaps), len(overlaps), float(gaps["area_m2"].sum() + overlaps["area_m2"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--tolerance", type=float, default=10.0, help="metres (localitygeo)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import folium

    from localitygeo import BoundarySet, read_layer
    from localitygeo.maps import locality_map, save

    raw = {k: gpd.read_file(PLYMOUTH / f) for k, (f, _, _) in FILES.items()}
    layers = {k: read_layer(PLYMOUTH / f, code=c, name=n) for k, (f, c, n) in FILES.items()}
    bset = BoundarySet.from_layers(layers, crs="EPSG:27700", name="Plymouth")
    rank = indicator(bset["oa"], bset["lsoa"])
    print(
        f"Plymouth: {', '.join(f'{len(v)} {k}' for k, v in raw.items())}; "
        f"folium {folium.__version__}, geopandas {gpd.__version__}, shapely {shapely.__version__}"
    )

    t0 = time.perf_counter()
    oa = raw["oa"].assign(imd_rank=rank.reindex(raw["oa"]["OA11CD"]).to_numpy())
    m = oa.explore(column="imd_rank", scheme="quantiles", k=5, name="Output areas")
    for key, weight in (("lsoa", 1), ("msoa", 2), ("ward", 3)):
        style = {"fill": False, "color": "#111111", "weight": weight}
        raw[key].explore(m=m, name=key, style_kwds=style)
    explore_path = args.out / "plymouth-oa-explore.html"
    m.save(explore_path)
    t_explore = time.perf_counter() - t0
    explore_bytes = explore_path.stat().st_size

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to per-polygon simplification fails the run
        ours = locality_map(
            bset,
            "oa",
            "imd_rank",
            data=rank.to_frame(),
            localities="ward",
            wards=None,
            outlines=("lsoa", "msoa"),
            tolerance_m=args.tolerance,
            label="IMD 2019 rank of the output area's LSOA",
        )
    ours_path = args.out / "plymouth-oa-localitygeo.html"
    ours_bytes = save(ours, ours_path)
    t_ours = time.perf_counter() - t0
    inline_bytes = save(ours, args.out / "plymouth-oa-localitygeo-inline.html", inline=True)

    ratio = ours_bytes / explore_bytes
    print(f"GeoDataFrame.explore   {explore_bytes:>10,} bytes  ({t_explore:.1f} s)")
    print(f"localitygeo            {ours_bytes:>10,} bytes  ({t_ours:.1f} s)")
    print(f"localitygeo, inline    {inline_bytes:>10,} bytes  (Leaflet embedded, for reference)")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"ratio {ratio:.1%} of explore (target at most {TARGET:.0%}: {verdict})")
    verdict = "met" if ours_bytes <= MAPSHAPER_BYTES else "NOT met"
    print(f"mapshaper's TopoJSON page (issue 14): {MAPSHAPER_BYTES:,} bytes ({verdict})")

    written = published_units(ours_path.read_text(encoding="utf-8"))
    before = gaps_and_overlaps(bset["oa"])
    after = gaps_and_overlaps(written)
    print(
        f"output areas in the file: {len(written)}; gaps/overlaps over 1 m² "
        f"(count, count, total m²): source {before}, published {after}"
    )
    introduced = after[0] > before[0] or after[1] > before[1]
    if len(written) != len(bset["oa"]) or introduced:
        raise SystemExit("publishing dropped units or opened gaps or overlaps")


if __name__ == "__main__":
    main()
