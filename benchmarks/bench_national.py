"""National jobs as users run them: whole processes, imports included, beside their floors.

Each job is a separate Python process (``subprocess``), timed from start to
exit with its peak memory (``os.wait4``), on England's layers in
``../shared/data/england``:

lookup (all 171,372 output areas to their best-fit LSOA)
    * ``localitygeo lookup oa lsoa -o out.csv``;
    * the floor: a plain geopandas script that reads both files, reprojects
      them to EPSG:27700 and writes the LSOA holding each output area's point
      on surface (no shares);
    * a plain geopandas script that reads, reprojects, overlays
      (``geopandas.overlay``) and writes each output area's largest piece.

validate (wards, MSOAs, LSOAs and OAs; OA -> LSOA -> MSOA -> ward rules)
    * ``localitygeo validate set --format json -o report.json``;
    * the floor: a plain script that reads the four files and reprojects them.

The script checks that the three lookups assign every output area to the
same LSOA, and prints each time and its ratio to the floor measured in the
same run, with the load average before and after. Single runs of a few
seconds vary by ±0.5 s on a shared machine, so ``--repeat N`` (default 3)
runs each command and its floor N times, alternately, and the table gives
the medians (and the range); the overlay script runs once. ``--quick`` runs a dozen
councils instead of England (a smoke run); ``--only lookup`` or ``--only
validate`` runs one job; ``--no-overlay`` skips the slow overlay script;
``--keep DIR`` keeps the outputs (the validate report, to compare runs).

Run: ``python benchmarks/bench_national.py [--quick] [--only JOB] [--no-overlay] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

DATA = Path(
    os.environ.get("LOCALITYGEO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
LAYERS = {  # manifest key: (file, code column, name column)
    "ward": ("wards_2013.parquet", "WD13CD", "WD13NM"),
    "msoa": ("msoa_2011.parquet", "MSOA11CD", "MSOA11NM"),
    "lsoa": ("lsoa_2011.parquet", "LSOA11CD", "LSOA11NM"),
    "oa": ("oa_2011.parquet", "OA11CD", None),
}
RULES = [("oa", "lsoa", 0.001), ("lsoa", "msoa", 0.001), ("msoa", "ward", 0.01)]

FLOOR_LOOKUP = """
import sys
import geopandas as gpd

oa = gpd.read_parquet(sys.argv[1]).to_crs(27700)
lsoa = gpd.read_parquet(sys.argv[2]).to_crs(27700)
pts = oa.geometry.representative_point()
pts = gpd.GeoDataFrame({"child_code": oa["OA11CD"]}, geometry=pts, crs=oa.crs)
hit = gpd.sjoin(pts, lsoa[["LSOA11CD", "geometry"]], predicate="within", how="left")
hit = hit[~hit.index.duplicated()]
hit = hit.rename(columns={"LSOA11CD": "parent_code"})[["child_code", "parent_code"]]
hit.to_csv(sys.argv[3], index=False)
"""

OVERLAY_LOOKUP = """
import sys
import geopandas as gpd

oa = gpd.read_parquet(sys.argv[1]).to_crs(27700)[["OA11CD", "geometry"]]
lsoa = gpd.read_parquet(sys.argv[2]).to_crs(27700)[["LSOA11CD", "geometry"]]
oa["geometry"] = oa.geometry.make_valid()
lsoa["geometry"] = lsoa.geometry.make_valid()
pieces = gpd.overlay(oa, lsoa, how="intersection")
pieces["area"] = pieces.geometry.area
area = oa.set_index("OA11CD").geometry.area
pieces["share"] = pieces["area"] / area.loc[pieces["OA11CD"]].to_numpy()
best = pieces.sort_values(["OA11CD", "area", "LSOA11CD"], ascending=[True, False, True])
best = best.drop_duplicates("OA11CD")
best = best.rename(columns={"OA11CD": "child_code", "LSOA11CD": "parent_code"})
best[["child_code", "parent_code", "share"]].to_csv(sys.argv[3], index=False)
"""

FLOOR_VALIDATE = """
import sys
import geopandas as gpd

for path in sys.argv[1:]:
    gpd.read_parquet(path).to_crs(27700)
"""


def _console_script() -> str:
    """The ``localitygeo`` command of this interpreter's environment (PATH need not hold it)."""
    beside = Path(sys.executable).parent / "localitygeo"
    found = str(beside) if beside.exists() else shutil.which("localitygeo")
    if found is None:
        raise SystemExit(
            f"no localitygeo command beside {sys.executable} or on PATH; "
            "install the package (make setup) and run this with .venv/bin/python"
        )
    return found


def subset(folder: Path, quick: bool) -> dict[str, Path]:
    """Return the layer files to use: England's, or (quick) a dozen councils' copies."""
    england = DATA / "england"
    files = {k: england / f for k, (f, _, _) in LAYERS.items()}
    if not all(p.exists() for p in files.values()):
        raise SystemExit(f"national layers not found in {england}; set LOCALITYGEO_DATA")
    if not quick:
        return files
    import geopandas as gpd
    import pandas as pd

    lads = sorted(pd.read_parquet(files["lsoa"], columns=["LAD_CD"])["LAD_CD"].unique())[:12]
    out = {}
    for key, path in files.items():
        gdf = gpd.read_parquet(path)
        out[key] = folder / path.name
        gdf[gdf["LAD_CD"].isin(lads)].to_parquet(out[key])
    return out


def manifest(folder: Path, files: dict[str, Path]) -> Path:
    parts = ['name = "England"', 'crs = "EPSG:27700"']
    for key, (_, code, name) in LAYERS.items():
        parts.append(f'[layers.{key}]\npath = "{files[key]}"\ncode = "{code}"')
        if name:
            parts.append(f'name = "{name}"')
    for child, parent, tol in RULES:
        parts.append(f'[[nesting]]\nchild = "{child}"\nparent = "{parent}"\ntolerance = {tol}')
    parts.append("[checks]\ngap_tolerance_m2 = 1.0\noverlap_tolerance_m2 = 1.0")
    path = folder / "set" / "boundaries.toml"
    path.parent.mkdir()
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path.parent


LAUNCHER = """
import os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {wall} {usage.ru_maxrss}")
"""


def run(name: str, argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Run ``argv`` as a process; return its wall time (s) and peak memory (MB).

    A small launcher process starts it and measures it: a child forked from
    this (larger) process would report this one's memory as its peak.
    """
    with tempfile.TemporaryDirectory() as name_dir:
        result = Path(name_dir) / "result"
        launcher = Path(name_dir) / "launch.py"
        launcher.write_text(LAUNCHER, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-S", str(launcher), str(result), *argv],
            stderr=subprocess.PIPE,
            check=False,
        )
        code, wall, rss = result.read_text(encoding="utf-8").split()
    if int(code) not in ok:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        raise SystemExit(f"{name} exited with {code}")
    peak_mb = int(rss) / 1024  # kilobytes on Linux
    print(f"  {name:44s} {float(wall):7.2f} s  {peak_mb:7.0f} MB", flush=True)
    return float(wall), peak_mb


def alternate(
    jobs: list[tuple[str, list[str], tuple[int, ...]]], repeat: int
) -> list[tuple[str, float, float, float, float]]:
    """Run each job ``repeat`` times, the jobs in turn; (name, median, min, max, peak MB) each."""
    import statistics

    seen: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in jobs}
    for _ in range(repeat):
        for name, argv, ok in jobs:
            seen[name].append(run(name, argv, ok))
    rows = []
    for name, got in seen.items():
        times = [t for t, _ in got]
        peak = max(mb for _, mb in got)
        rows.append((name, statistics.median(times), min(times), max(times), peak))
    return rows


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def lookup_job(
    tmp: Path, files: dict[str, Path], overlay: bool, repeat: int
) -> list[tuple[str, float, float, float, float]]:
    import pandas as pd

    py, exe = sys.executable, _console_script()
    scripts = {}
    for name, text in (("floor_lookup", FLOOR_LOOKUP), ("overlay_lookup", OVERLAY_LOOKUP)):
        scripts[name] = tmp / f"{name}.py"
        scripts[name].write_text(textwrap.dedent(text), encoding="utf-8")
    oa, lsoa = str(files["oa"]), str(files["lsoa"])
    out = {k: tmp / f"{k}.csv" for k in ("localitygeo", "floor", "overlay")}
    argv = [exe, "lookup", oa, lsoa, "--child-code", "OA11CD", "--parent-code", "LSOA11CD"]
    lg = [*argv, "-o", str(out["localitygeo"])]
    floor = [py, str(scripts["floor_lookup"]), oa, lsoa, str(out["floor"])]
    rows = alternate(
        [
            ("localitygeo lookup", lg, (0,)),
            ("floor: read, reproject, point on surface", floor, (0,)),
        ],
        repeat,
    )
    if overlay:
        plain = [py, str(scripts["overlay_lookup"]), oa, lsoa, str(out["overlay"])]
        t, mb = run("plain geopandas overlay", plain)
        rows.append(("plain geopandas overlay", t, t, t, mb))
    got = pd.read_csv(out["localitygeo"], dtype=str).set_index("child_code")["parent_code"]
    for other in ("floor", "overlay"):
        if not out[other].exists():
            continue
        ref = pd.read_csv(out[other], dtype=str).set_index("child_code")["parent_code"]
        ref = ref.reindex(got.index)
        same = int((ref.to_numpy(dtype=object) == got.to_numpy(dtype=object)).sum())
        print(f"  same LSOA as the {other} script for {same:,} of {len(got):,} output areas")
        if same != len(got):
            raise SystemExit(f"localitygeo lookup and the {other} script disagree")
    return rows


def validate_job(
    tmp: Path, files: dict[str, Path], keep: Path | None, repeat: int
) -> list[tuple[str, float, float, float, float]]:
    py, exe = sys.executable, _console_script()
    script = tmp / "floor_validate.py"
    script.write_text(textwrap.dedent(FLOOR_VALIDATE), encoding="utf-8")
    folder = manifest(tmp, files)
    report = tmp / "report.json"
    argv = [exe, "validate", str(folder), "--format", "json", "-o", str(report)]
    floor = [py, str(script), *map(str, files.values())]
    rows = alternate(
        [
            ("localitygeo validate", argv, (0, 1)),
            ("floor: read, reproject 4 layers", floor, (0,)),
        ],
        repeat,
    )
    found = json.loads(report.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for issue in found["issues"]:
        counts[issue["rule"]] = counts.get(issue["rule"], 0) + 1
    print(f"  findings: {', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none'}")
    if keep is not None:
        shutil.copy(report, keep / "report.json")
    return rows


def table(title: str, rows: list[tuple[str, float, float, float, float]]) -> None:
    floor = next(t for name, t, *_ in rows if name.startswith("floor"))
    head = f"{'process (median of the runs)':44s} {'time':>8s} {'range':>13s} {'peak':>8s}"
    print(f"\n{title}\n{head} {'/ floor':>8s}")
    for name, t, lo, hi, mb in rows:
        span = f"{lo:5.2f}-{hi:5.2f}s" if hi > lo else ""
        print(f"{name:44s} {t:7.2f}s {span:>13s} {mb:6.0f}MB {t / floor:7.2f}x")
    if len(rows) > 2:
        lg, ov = rows[0][1], rows[-1][1]
        print(f"{'overlay / localitygeo':44s} {ov / lg:7.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a dozen councils (smoke run)")
    parser.add_argument("--only", choices=["lookup", "validate"], help="run one job")
    parser.add_argument("--no-overlay", action="store_true", help="skip the overlay script")
    parser.add_argument("--keep", type=Path, help="copy the validate report into this folder")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each command and its floor (medians)"
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {load()} at start")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        files = subset(tmp, args.quick)
        results = []
        if args.only in (None, "lookup"):
            print("lookup, OA -> LSOA:")
            results.append(("lookup", lookup_job(tmp, files, not args.no_overlay, args.repeat)))
        if args.only in (None, "validate"):
            print("validate, 4 layers, 3 nesting rules:")
            results.append(("validate", validate_job(tmp, files, args.keep, args.repeat)))
    for title, rows in results:
        table(title, rows)
    print(f"\nload average {load()} at end")


if __name__ == "__main__":
    main()
