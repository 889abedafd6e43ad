"""National best fit: output areas (171,372) to LSOAs (32,844), localitygeo vs peers.

In one process, on layers already reprojected to EPSG:27700 (reading and
reprojecting are not timed): ``localitygeo.best_fit``, a plain geopandas
``overlay`` that keeps each OA's largest piece, and ``maup.assign`` when maup
is installed. Checks that every method assigns every OA to the same LSOA and
prints each time and the ratios.

Run: ``python benchmarks/bench_best_fit.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from localitygeo import best_fit

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def load(quick: bool) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    england = DATA / "england"
    oa = gpd.read_parquet(england / "oa_2011.parquet").rename(columns={"OA11CD": "code"})
    lsoa = gpd.read_parquet(england / "lsoa_2011.parquet").rename(columns={"LSOA11CD": "code"})
    if quick:
        lads = sorted(lsoa["LAD_CD"].unique())[:10]
        oa, lsoa = oa[oa["LAD_CD"].isin(lads)], lsoa[lsoa["LAD_CD"].isin(lads)]
    oa, lsoa = oa.to_crs(27700), lsoa.to_crs(27700)
    for g in (oa, lsoa):
        bad = ~g.is_valid
        g.loc[bad, "geometry"] = shapely.make_valid(g.geometry[bad].values)
    return oa.reset_index(drop=True), lsoa.reset_index(drop=True)


def by_overlay(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> pd.Series:
    pieces = gpd.overlay(
        oa[["code", "geometry"]],
        lsoa[["code", "geometry"]].rename(columns={"code": "parent"}),
        how="intersection",
        keep_geom_type=True,
    )
    pieces["area"] = pieces.geometry.area
    best = pieces.sort_values(["code", "area"], ascending=[True, False]).drop_duplicates("code")
    return best.set_index("code")["parent"]


def by_maup(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> pd.Series | None:
    try:
        import maup
    except ImportError:
        return None
    idx = maup.assign(oa, lsoa)
    return pd.Series(lsoa["code"].to_numpy()[idx.to_numpy().astype(int)], index=oa["code"])


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    seconds = time.perf_counter() - start
    print(f"{label:28} {seconds:8.2f} s", flush=True)
    return out, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="ten councils only")
    args = parser.parse_args()
    oa, lsoa = load(args.quick)
    print(
        f"{len(oa):,} OAs -> {len(lsoa):,} LSOAs; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, shapely {shapely.__version__} / GEOS {shapely.geos_version}"
    )
    table, t_lg = timed("localitygeo best_fit", best_fit, oa, lsoa)
    ours = table.set_index("child_code")["parent_code"]
    ref, t_ov = timed("geopandas overlay", by_overlay, oa, lsoa)
    agree = (ours.reindex(ref.index) == ref).mean()
    print(f"overlay agreement: {agree:.6%} of {len(ref):,} OAs")
    result, t_mp = timed("maup.assign", by_maup, oa, lsoa)
    if result is not None:
        print(f"maup agreement:    {(ours.reindex(result.index) == result).mean():.6%}")
    print(f"ratio overlay / localitygeo: {t_ov / t_lg:.1f}x")
    if result is not None:
        print(f"ratio maup / localitygeo:    {t_mp / t_lg:.1f}x")


if __name__ == "__main__":
    main()
