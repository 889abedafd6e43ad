"""What read_layer's input checks cost: England's layers read with and without them.

``read_layer`` recognises the file by content, checks every coordinate is
finite and on Earth, and checks the coordinates fit the CRS (area of use,
look-alike CRSs). Timed in one run, alternately, best of ``--repeat``:

- **geopandas**: ``geopandas.read_parquet`` alone (the peer: no checks);
- **checks**: the checks alone on the frame read (``_sniff.sniff`` and
  ``coordinates.check_coordinates``);
- **read_layer**: the whole of ``read_layer`` (reading, canonical columns,
  geometry types, the checks, strict code checks).

Run: ``python benchmarks/bench_read_checks.py [--repeat N] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import geopandas as gpd
import shapely

from _timing import best_of
from localitygeo import read_layer
from localitygeo.io.coordinates import check_coordinates
from localitygeo.io.file_types import sniff

DATA = Path(os.environ.get("LOCALITYGEO_DATA", Path(__file__).parents[2] / "shared" / "data"))
LAYERS = [
    ("wards_2013", "WD13CD"),
    ("lsoa_2011", "LSOA11CD"),
    ("oa_2011", "OA11CD"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="wards only, best of 2")
    args = ap.parse_args()
    layers = LAYERS[:1] if args.quick else LAYERS
    repeat = 2 if args.quick else args.repeat
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("| layer | features | vertices | geopandas | checks | read_layer | checks / geopandas |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, code in layers:
        path = DATA / "england" / f"{name}.parquet"
        t_gpd = t_chk = t_all = float("inf")
        for _ in range(repeat):
            t, frame = best_of(1, lambda p=path: gpd.read_parquet(p))
            t_gpd = min(t_gpd, t)
            t, _ = best_of(1, lambda p=path, f=frame: (sniff(p), check_coordinates(f, p)))
            t_chk = min(t_chk, t)
            t, _ = best_of(1, lambda p=path, c=code: read_layer(p, c))
            t_all = min(t_all, t)
        vertices = int(shapely.get_num_coordinates(frame.geometry.values).sum())
        print(
            f"| {name} | {len(frame):,} | {vertices:,} | {t_gpd:.2f} s | {t_chk:.2f} s | "
            f"{t_all:.2f} s | {t_chk / t_gpd:.0%} |"
        )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
