"""Best fit of all 171,372 English output areas to the 32,844 LSOAs: localitygeo vs overlay.

Every method gets the same layers, already reprojected to EPSG:27700 (reading
and reprojecting are not timed), and answers the same question: for each
output area, which LSOA holds most of its area. The methods:

* ``localitygeo.best_fit`` (exact area shares, runner-up, outside share), with
  its default threads and with one;
* a plain geopandas approach: ``geopandas.overlay(how="intersection")``, then
  the largest piece per output area (ties to the smaller LSOA code);
* ``maup.assign``, when maup is installed.

The script checks that all agree (same LSOA for every output area; shares
equal to the overlay's) and prints each time and the ratio to the overlay.

Run: ``python benchmarks/bench_best_fit.py [--quick] [--repeat N] [--no-maup]``
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from _timing import best_of
from localitygeo import best_fit

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def load(quick: bool) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    england = DATA / "england"
    if not (england / "oa_2011.parquet").exists():
        raise SystemExit(f"national layers not found in {england}; set LOCALITYGEO_DATA")
    oa = gpd.read_parquet(england / "oa_2011.parquet").rename(columns={"OA11CD": "code"})
    lsoa = gpd.read_parquet(england / "lsoa_2011.parquet").rename(columns={"LSOA11CD": "code"})
    if quick:  # one region's worth: the councils whose codes sort first
        lads = sorted(lsoa["LAD_CD"].unique())[:12]
        oa = oa[oa["LAD_CD"].isin(lads)]
        lsoa = lsoa[lsoa["LAD_CD"].isin(lads)]
    oa = oa[["code", "geometry"]].to_crs(27700).reset_index(drop=True)
    lsoa = lsoa[["code", "geometry"]].to_crs(27700).reset_index(drop=True)
    return oa, lsoa


def overlay_best_fit(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> pd.DataFrame:
    """The plain geopandas way: overlay, then each output area's largest piece.

    Also returns the share of the largest piece and the sum of all the
    output area's shares (above 1 where neighbouring LSOAs overlap).
    """
    pieces = gpd.overlay(oa, lsoa.rename(columns={"code": "parent"}), how="intersection")
    pieces["area"] = pieces.area
    area = oa.set_index("code").geometry.make_valid().area
    # shares below one part in a billion are floating-point noise, as in best_fit
    real = pieces[pieces["area"] >= 1e-9 * area.loc[pieces["code"]].to_numpy()]
    total = real.groupby("code")["area"].sum()
    best = pieces.sort_values(["code", "area", "parent"], ascending=[True, False, True])
    best = best.drop_duplicates("code").set_index("code")
    area = area.loc[best.index]
    return pd.DataFrame(
        {"parent_code": best["parent"], "share": best["area"] / area, "total": total / area}
    )


def maup_assign(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> pd.Series:
    import maup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = [g.assign(geometry=g.geometry.make_valid()) for g in (oa, lsoa)]
        out = maup.assign(fixed[0].geometry, fixed[1].set_index("code").geometry)
    return pd.Series(out.to_numpy(), index=oa["code"].to_numpy())


def rep_point_lookup(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> int:
    """Reference floor: the LSOA holding each output area's point on surface."""
    tree = shapely.STRtree(np.asarray(lsoa.geometry.array, dtype=object))
    pts = shapely.point_on_surface(np.asarray(oa.geometry.array, dtype=object))
    return len(tree.query(pts, predicate="within")[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one region only (smoke test)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="best of N runs (maup always runs once)"
    )
    parser.add_argument("--no-maup", action="store_true", help="skip maup even if installed")
    args = parser.parse_args()

    oa, lsoa = load(args.quick)
    print(f"{len(oa):,} output areas -> {len(lsoa):,} LSOAs (EPSG:27700)")
    print(
        f"python {platform.python_version()}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), geopandas {gpd.__version__}, "
        f"{os.cpu_count()} CPUs; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )

    rows = []
    t_lg, table = best_of(args.repeat, lambda: best_fit(oa, lsoa))
    rows.append(("localitygeo best_fit", t_lg))
    # the default uses every core (up to 4); the overlay uses one
    t_one, one = best_of(args.repeat, lambda: best_fit(oa, lsoa, threads=1))
    rows.append(("localitygeo best_fit, 1 thread", t_one))
    if not one.equals(table):
        raise SystemExit("best_fit differs between 1 thread and the default")
    t_ov, ref = best_of(args.repeat, lambda: overlay_best_fit(oa, lsoa))
    rows.append(("geopandas overlay + largest piece", t_ov))
    t_pt, _ = best_of(args.repeat, lambda: rep_point_lookup(oa, lsoa))
    rows.append(("(floor) point-on-surface lookup only", t_pt))

    table = table.set_index("child_code")
    ref = ref.reindex(table.index)
    same = table["parent_code"].to_numpy(dtype=object) == ref["parent_code"].to_numpy(dtype=object)
    # best_fit scales a child's shares down when they sum past 1 (overlapping parents)
    diff = (table["share"] - ref["share"] / ref["total"].clip(lower=1)).abs()
    print(
        f"overlay agreement: same LSOA for {int(same.sum()):,} of {len(same):,} output areas; "
        f"shares differ by at most {diff.max():.1e}\n"
        f"  median share {table['share'].median():.9f}, lowest {table['share'].min():.6f}; "
        f"OAs whose LSOA shares sum past 1 (neighbouring LSOAs overlap): "
        f"{int((ref['total'] > 1).sum()):,}, by up to {ref['total'].max() - 1:.1e}"
    )

    maup_ok = None
    if not args.no_maup:
        try:
            import maup  # noqa: F401
        except ImportError:
            print("maup not installed: skipped")
        else:
            t_mp, assigned = best_of(1, lambda: maup_assign(oa, lsoa))  # minutes: once
            rows.append(("maup.assign", t_mp))
            got = assigned.reindex(table.index).to_numpy(dtype=object)
            maup_ok = int((got == table["parent_code"].to_numpy(dtype=object)).sum())
            print(f"maup agreement: same LSOA for {maup_ok:,} of {len(table):,} output areas")

    print()
    print(f"{'method':40s} {'time':>9s} {'overlay / method':>17s}")
    for name, t in rows:
        print(f"{name:40s} {t:8.2f}s {t_ov / t:16.1f}x")
    if not same.all() or (maup_ok is not None and maup_ok != len(table)):
        raise SystemExit("the methods disagree")


if __name__ == "__main__":
    main()
