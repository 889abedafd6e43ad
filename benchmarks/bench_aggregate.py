"""Aggregate IMD 2019 from all 32,844 LSOAs to all 7,681 wards: localitygeo vs tobler.

Both tools get the same layers, already reprojected to EPSG:27700 (reading and
reprojecting are not timed), and aggregate population (extensive) and the IMD
rank (intensive, area-weighted: the only weighting tobler offers). The script
checks that the results agree, times localitygeo's population-weighted mean
rank as well (tobler has no equivalent), and prints the ratio.

Run: ``python benchmarks/bench_aggregate.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from _timing import best_of

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
RANK = "Index of Multiple Deprivation (IMD) Rank"
POP = "Total population: mid 2015 (excluding prisoners)"


def load(quick: bool) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    england = DATA / "england"
    lsoa = gpd.read_parquet(england / "lsoa_2011.parquet").rename(columns={"LSOA11CD": "code"})
    ward = gpd.read_parquet(england / "wards_2013.parquet").rename(columns={"WD13CD": "code"})
    if quick:  # one region's worth: the councils whose codes sort first
        lads = sorted(lsoa["LAD_CD"].unique())[:20]
        lsoa = lsoa[lsoa["LAD_CD"].isin(lads)]
        ward = ward[ward["LAD_CD"].isin(lads)]
    lsoa, ward = lsoa.to_crs(27700), ward.to_crs(27700)
    read = {"encoding": "utf-8-sig", "thousands": ",", "index_col": "LSOA code (2011)"}
    imd = pd.read_csv(
        DATA / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", **read
    )
    pop = pd.read_csv(DATA / "imd2019" / "File_6_-_IoD2019_Population_Denominators.csv.gz", **read)
    data = pd.DataFrame({"population": pop[POP], "rank": imd[RANK]}).astype(float)
    return lsoa.reset_index(drop=True), ward.reset_index(drop=True), data.loc[lsoa["code"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 councils instead of England")
    parser.add_argument("--repeat", type=int, default=2, help="runs per tool (best is kept)")
    args = parser.parse_args()

    from tobler.area_weighted import area_interpolate

    from localitygeo.aggregation.transfer import aggregate
    from localitygeo.errors import LocalityGeoWarning

    lsoa, ward, data = load(args.quick)
    cpus = os.cpu_count() or 1
    print(
        f"{len(lsoa):,} LSOAs -> {len(ward):,} wards; {platform.machine()}, {cpus} CPU(s); "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}); "
        f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )

    source = lsoa[["code", "geometry"]].join(data, on="code")
    t_tobler, tb = best_of(
        args.repeat,
        lambda: area_interpolate(
            source, ward, extensive_variables=["population"], intensive_variables=["rank"]
        ),
    )

    def run(threads: int | None, **kw: Any) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LocalityGeoWarning)
            return aggregate(
                data,
                lsoa,
                ward,
                extensive=["population"],
                intensive=["rank"],
                threads=threads,
                **kw,
            )

    # tobler always normalises over the part of a source inside some target
    # (allocate_total=True): outside_tolerance=1 does the same.
    same = {"outside_tolerance": 1.0}
    t_one, _ = best_of(args.repeat, lambda: run(1, **same))
    t_lg, out = best_of(args.repeat, lambda: run(None, **same))
    t_pop, weighted = best_of(args.repeat, lambda: run(None, weight="population"))

    # tobler keeps its area table in float32, so agreement is to about 1e-6.
    pop_diff = np.nanmax(np.abs(out["population"].to_numpy() - tb["population"].to_numpy()))
    rel_rank = np.nanmax(
        np.abs(out["rank"].to_numpy() - tb["rank"].to_numpy()) / out["rank"].to_numpy()
    )
    total = data["population"].sum()
    print(f"tobler area_interpolate (n_jobs=1)      {t_tobler:8.2f} s")
    print(f"localitygeo aggregate, 1 thread          {t_one:8.2f} s   {t_tobler / t_one:5.1f}x")
    print(f"localitygeo aggregate, default threads   {t_lg:8.2f} s   {t_tobler / t_lg:5.1f}x")
    print(f"localitygeo, population-weighted rank    {t_pop:8.2f} s   (no tobler equivalent)")
    print(
        f"agreement: population max |diff| {pop_diff:.2g} people; rank max relative diff "
        f"{rel_rank:.2g}; population total {out['population'].sum():,.1f} of {total:,.0f} "
        f"(tobler {tb['population'].sum():,.1f})"
    )
    print(
        f"population-weighted vs area-weighted mean rank: median |diff| "
        f"{np.nanmedian(np.abs(weighted['rank'] - out['rank'])):.0f} ranks, max "
        f"{np.nanmax(np.abs(weighted['rank'] - out['rank'])):.0f}"
    )
    ok = pop_diff < 0.05 and rel_rank < 1e-5
    print("results agree" if ok else "RESULTS DIFFER")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
