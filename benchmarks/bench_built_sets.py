"""validate a real council whose neighbourhoods and localities are built from LSOAs, vs files.

The set: a council's LSOAs (blocks), wards, neighbourhoods (its MSOAs: each
LSOA's MSOA comes from its name) and localities (groups of four
neighbourhoods), with four nesting rules (LSOA -> neighbourhood ->
locality, neighbourhood -> ward, locality -> ward; by area). It is written
once with ``write_boundaries`` (one GeoPackage, EPSG:27700), then read two
ways:

- **built**: the manifest as written, so ``read_boundaries`` rebuilds the
  neighbourhoods from the LSOAs and the localities from the neighbourhoods;
- **files**: the same manifest without its ``blocks`` keys, so those two
  layers are read as drawn (the geometries that building gave).

Both are timed in the same run, alternately, best of ``--repeat``: as a
process (``localitygeo validate``, imports included) and in-process
(``read_boundaries`` then ``validate``), and reading alone. The target: built
no slower than 1.5x files. The script also checks that both report the same
findings (but ``block-straddles``, a warning only built sets can have).

Run: ``python benchmarks/bench_built_sets.py [--council NAME] [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

import localitygeo as lg

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
EXE = Path(sys.executable).parent / "localitygeo"
RULES = [
    ("lsoa", "neighbourhood", 0.001),
    ("neighbourhood", "locality", 0.001),
    ("neighbourhood", "ward", 0.02),
    ("locality", "ward", 0.02),
]


def write_sets(council: str, folder: Path) -> tuple[Path, Path]:
    """Write the set once; return the manifests that build and that read the layers."""
    src = DATA / "councils" / council
    lsoa = lg.read_layer(src / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(27700)
    msoa = lg.read_layer(src / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(27700)
    ward = lg.read_layer(src / "wards_2013.geojson", "WD13CD", name="WD13NM").to_crs(27700)
    lsoa["neighbourhood"] = msoa.set_index("name")["code"].reindex(lsoa["name"].str[:-1]).values
    order = np.argsort(msoa["name"].to_numpy())
    msoa.loc[msoa.index[order], "locality"] = [f"L{k // 4}" for k in range(len(msoa))]
    loc = msoa.dissolve("locality", as_index=False)[["locality", "geometry"]]
    loc = loc.rename(columns={"locality": "code"}).assign(name=lambda f: f["code"])
    bset = lg.BoundarySet.from_layers(
        {"lsoa": lsoa, "ward": ward, "neighbourhood": msoa, "locality": loc},
        nesting=[lg.NestingRule(c, p, t) for c, p, t in RULES],
        name=f"{council} (built from LSOAs)",
    )
    bset = bset.with_blocks("neighbourhood", "lsoa").with_blocks("locality", "neighbourhood")
    built = lg.write_boundaries(bset, folder / "built")
    text = built.read_text(encoding="utf-8")
    files = folder / "files" / "boundaries.toml"
    files.parent.mkdir()
    gpkg = (built.parent / "boundaries.gpkg").as_posix()
    text = re.sub(r"(?m)^blocks = .*\n", "", text).replace('"boundaries.gpkg"', f'"{gpkg}"')
    files.write_text(text.replace("(built from LSOAs)", "(layers from files)"), encoding="utf-8")
    return built, files


def alternate(repeat: int, fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best wall time of each function, running them in turn ``repeat`` times."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - t0)
    return best


def cli(manifest: Path) -> None:
    done = subprocess.run(
        [str(EXE), "validate", str(manifest), "--format", "json"], capture_output=True, text=True
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"localitygeo validate failed: {done.stderr.strip()}")


def findings(manifest: Path) -> Counter[tuple[str, str]]:
    """Findings per (layer, rule), but block-straddles: a rule only built sets have."""
    issues = lg.validate(lg.read_boundaries(manifest)).issues
    issues = issues[issues["rule"] != "block-straddles"]
    return Counter(zip(issues["layer"], issues["rule"], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--council", default="plymouth", help="folder in councils/")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (best is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        built, files = write_sets(args.council, Path(tmp))
        b, f = findings(built), findings(files)
        same = "the same findings" if b == f else f"DIFFERENT findings: {dict(f)} from files"
        print(
            f"{args.council}: {dict(sorted(b.items()))} ({same}); {platform.machine()}, "
            f"{os.cpu_count()} CPU(s); shapely {shapely.__version__} "
            f"(GEOS {shapely.geos_version_string}); load average "
            f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        times = alternate(
            args.repeat,
            {
                "process, built": lambda: cli(built),
                "process, files": lambda: cli(files),
                "in-process, built": lambda: lg.validate(lg.read_boundaries(built)),
                "in-process, files": lambda: lg.validate(lg.read_boundaries(files)),
                "read_boundaries, built": lambda: lg.read_boundaries(built),
                "read_boundaries, files": lambda: lg.read_boundaries(files),
            },
        )
    print(f"| validate (best of {args.repeat}) | built | files | built / files |")
    print("|---|---:|---:|---:|")
    for how in ("process", "in-process", "read_boundaries"):
        tb, tf = times[f"{how}, built"], times[f"{how}, files"]
        print(f"| {how} | {tb:.2f} s | {tf:.2f} s | {tb / tf:.2f}x |")
    print(f"load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
