"""Unions of real ONS blocks: candidate methods measured, and the chosen one at national scale.

For each of the three councils, MSOAs are rebuilt from their LSOAs (the MSOA of
an LSOA is in its name) and from their output areas, and LSOAs from their
output areas (each OA's LSOA holds its point on surface). Each candidate
union method is measured per unit against ``union_all`` of the unit's
repaired blocks (the exact union, slivers and all):

- valid: units that are valid polygons;
- added / lost: largest area (m²) a unit gains or loses against its blocks;
- sliver holes: holes under 1 m² left inside units;
- cracks: slivers narrower than 2 mm and longer than 20 cm that reach into a
  unit between two of its own blocks (found as what a 1 mm closing adds);
- time: best of ``--repeat`` runs of the whole layer.

With ``--national``, the chosen method (``localitygeo.geometry.unions.union_blocks``)
builds all of England's LSOAs from 171,372 OAs and MSOAs from 32,844 LSOAs.

Run: ``python benchmarks/bench_unions.py [--repeat N] [--national]``
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from _timing import best_of

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
COUNCILS = ["plymouth", "telford-and-wrekin", "copeland"]
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


def runs(geoms: np.ndarray, bounds: np.ndarray, fn: Callable[[np.ndarray], object]) -> np.ndarray:
    return np.array([fn(geoms[s:e]) for s, e in pairwise(bounds)], dtype=object)


def whole_layer_clean(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    cleaned = np.asarray(shapely.coverage_clean(geoms), dtype=object)
    return runs(cleaned, bounds, shapely.coverage_union_all)


def chosen(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    from localitygeo.geometry.unions import union_blocks

    return union_blocks(geoms, bounds)


def without_clean(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    from localitygeo.geometry import unions as _unions

    was, _unions._CLEAN = _unions._CLEAN, False
    try:
        return _unions.union_blocks(geoms, bounds)
    finally:
        _unions._CLEAN = was


METHODS: dict[str, Method] = {
    "coverage_union_all": lambda g, b: runs(g, b, shapely.coverage_union_all),
    "union_all": lambda g, b: runs(g, b, shapely.union_all),
    "union_all, grid 1 mm": lambda g, b: runs(g, b, lambda x: shapely.union_all(x, grid_size=1e-3)),
    "coverage_clean (layer) + coverage_union_all": whole_layer_clean,
    "localitygeo: per-unit clean (chosen)": chosen,
    "localitygeo without coverage_clean": without_clean,
}


def grouped(blocks: gpd.GeoDataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Blocks sorted by unit, and the bounds of each unit's run."""
    _, pos = np.unique(blocks[column].to_numpy(dtype=str), return_inverse=True)
    order = np.argsort(pos, kind="stable")
    geoms = np.asarray(blocks.geometry.array, dtype=object)[order]
    return geoms, np.searchsorted(pos[order], np.arange(pos.max() + 2))


def repaired(geoms: np.ndarray) -> np.ndarray:
    from localitygeo.geometry.measure import _needs_repair, _repaired

    return _repaired(geoms, _needs_repair(geoms, 1))


def cracks(unit: shapely.Geometry, blocks: np.ndarray) -> int:
    closed = shapely.buffer(
        shapely.buffer(unit, 1e-3, join_style="mitre", mitre_limit=10),
        -1e-3,
        join_style="mitre",
        mitre_limit=10,
    )
    parts = shapely.get_parts(shapely.difference(closed, unit))
    parts = parts[shapely.length(parts) > 0.4]  # perimeter of a 20 cm crack
    if len(parts) == 0:
        return 0
    tree = shapely.STRtree(blocks)
    near, _ = tree.query(parts, predicate="dwithin", distance=1e-6)
    return int((np.bincount(near, minlength=len(parts)) >= 2).sum())


def measure(geoms: np.ndarray, bounds: np.ndarray, method: Method, repeat: int) -> dict:
    t, units = best_of(repeat, lambda: method(geoms, bounds))
    fixed = repaired(geoms)
    ref = runs(fixed, bounds, shapely.union_all)
    valid = shapely.is_valid(units)
    row = {"time": t, "valid": int(valid.sum()), "n": len(units)}
    ok = np.flatnonzero(valid)
    if len(ok) == 0:
        return row
    row["added"] = float(shapely.area(shapely.difference(units[ok], ref[ok])).max())
    row["lost"] = float(shapely.area(shapely.difference(ref[ok], units[ok])).max())
    parts = shapely.get_parts(units[ok])
    rings, part = shapely.get_rings(parts, return_index=True)
    hole = np.ones(len(rings), bool)
    hole[np.unique(part, return_index=True)[1]] = False
    row["sliver_holes"] = int((shapely.area(shapely.polygons(rings[hole])) < 1.0).sum())
    row["cracks"] = sum(cracks(units[k], fixed[bounds[k] : bounds[k + 1]]) for k in ok)
    return row


def council_layers(name: str) -> dict[str, gpd.GeoDataFrame]:
    folder = DATA / "councils" / name
    lsoa = gpd.read_file(folder / "lsoa_2011.geojson").to_crs(27700)
    oa = gpd.read_file(folder / "oa_2011.geojson").to_crs(27700)
    lsoa["msoa"] = lsoa["LSOA11NM"].str[:-1]
    return {"lsoa": lsoa, "oa": with_lsoa(oa, lsoa)}


def with_lsoa(oa: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """OAs with the LSOA (and MSOA) holding their point on surface."""
    pts = gpd.GeoDataFrame(geometry=oa.representative_point(), crs=oa.crs)
    hit = gpd.sjoin(pts, lsoa[["LSOA11CD", "msoa", "geometry"]], predicate="within")
    hit = hit[~hit.index.duplicated()]
    return oa.join(hit[["LSOA11CD", "msoa"]]).dropna(subset=["LSOA11CD"])


def fmt(row: dict, key: str, spec: str) -> str:
    return format(row[key], spec) if key in row else "-"


def councils(repeat: int) -> None:
    print(
        "| council | built | method | valid | max added m² | max lost m² "
        "| sliver holes | cracks | time |\n|---|---|---|---:|---:|---:|---:|---:|---:|"
    )
    for name in COUNCILS:
        layers = council_layers(name)
        for label, blocks, column in (
            ("MSOA from LSOA", "lsoa", "msoa"),
            ("MSOA from OA", "oa", "msoa"),
            ("LSOA from OA", "oa", "LSOA11CD"),
        ):
            geoms, bounds = grouped(layers[blocks], column)
            for method, fn in METHODS.items():
                r = measure(geoms, bounds, fn, repeat)
                print(
                    f"| {name} | {label} | {method} | {r['valid']}/{r['n']} "
                    f"| {fmt(r, 'added', '.4f')} | {fmt(r, 'lost', '.4f')} "
                    f"| {fmt(r, 'sliver_holes', 'd')} | {fmt(r, 'cracks', 'd')} "
                    f"| {r['time'] * 1000:.0f} ms |",
                    flush=True,
                )


def national() -> None:
    england = DATA / "england"
    lsoa = gpd.read_parquet(england / "lsoa_2011.parquet").to_crs(27700)
    oa = gpd.read_parquet(england / "oa_2011.parquet").to_crs(27700)
    lsoa["msoa"] = lsoa["LSOA11NM"].str[:-1]
    oa = with_lsoa(oa, lsoa)
    for label, blocks, column in (
        ("LSOAs from OAs", oa, "LSOA11CD"),
        ("MSOAs from LSOAs", lsoa, "msoa"),
    ):
        geoms, bounds = grouped(blocks, column)
        load = os.getloadavg()[0]
        t, units = best_of(1, lambda g=geoms, b=bounds: chosen(g, b))
        valid = int(shapely.is_valid(units).sum())
        t0, _ = best_of(
            1, lambda g=geoms, b=bounds: runs(repaired(g), b, shapely.coverage_union_all)
        )
        print(
            f"{label}: {len(units):,} units from {len(geoms):,} blocks in {t:.1f} s "
            f"(load {load:.1f}), {valid:,} valid; coverage_union_all alone {t0:.1f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per method (best is kept)")
    parser.add_argument("--national", action="store_true", help="also all of England")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU(s); shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}); load average "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    councils(args.repeat)
    if args.national:
        national()


if __name__ == "__main__":
    main()
