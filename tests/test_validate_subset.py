"""National validate's findings on a subset of England, against plain references.

Two councils of ``england/`` where the national run finds real problems:
Stockton-on-Tees (a 2.6 m² gap in the OAs, LSOAs and MSOAs) and North Norfolk
(LSOAs and MSOAs overlapping by 1-4 m²), with the benchmark's four layers
and three nesting rules. Every finding is compared with what is computed
here the plain way: ``shapely.is_valid`` of the files, the holes of a GEOS
union, GEOS intersections of every pair, and the MSOAs' best share in a
ward by ``geopandas.overlay``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from localitygeo import read_boundaries, validate

from .helpers import write_manifest
from .test_coverage_fast import reference_gaps, reference_overlaps

LADS = ["E06000004", "E07000147"]
LAYERS = {
    "ward": ("wards_2013", "WD13CD", "WD13NM"),
    "msoa": ("msoa_2011", "MSOA11CD", "MSOA11NM"),
    "lsoa": ("lsoa_2011", "LSOA11CD", "LSOA11NM"),
    "oa": ("oa_2011", "OA11CD", None),
}
RULES = [("oa", "lsoa", 0.001), ("lsoa", "msoa", 0.001), ("msoa", "ward", 0.01)]


@pytest.fixture(scope="module")
def subset(shared_data: Path, tmp_path_factory) -> tuple[Path, dict[str, gpd.GeoDataFrame]]:
    folder = tmp_path_factory.mktemp("england-subset")
    raw, text = {}, ['name = "subset"', 'crs = "EPSG:27700"']
    for key, (name, code, label) in LAYERS.items():
        gdf = gpd.read_parquet(shared_data / "england" / f"{name}.parquet")
        gdf = gdf[gdf["LAD_CD"].isin(LADS)].reset_index(drop=True)
        gdf.to_parquet(folder / f"{name}.parquet")
        raw[key] = gdf.rename(columns={code: "code"})
        text.append(f'[layers.{key}]\npath = "../{name}.parquet"\ncode = "{code}"')
        if label:
            text.append(f'name = "{label}"')
    for child, parent, tol in RULES:
        text.append(f'[[nesting]]\nchild = "{child}"\nparent = "{parent}"\ntolerance = {tol}')
    text.append("[checks]\ngap_tolerance_m2 = 1.0\noverlap_tolerance_m2 = 1.0")
    return write_manifest(folder / "set", "\n".join(text)), raw


@pytest.fixture(scope="module")
def report(subset):
    manifest, _ = subset
    return validate(read_boundaries(manifest))


def _found(report, rule: str, layer: str) -> list[tuple[str, ...]]:
    rows = report.issues[(report.issues["rule"] == rule) & (report.issues["layer"] == layer)]
    return [tuple(c) for c in rows["codes"]]


def test_invalid_geometries(report, subset):
    _, raw = subset
    for key, gdf in raw.items():
        bad = sorted(gdf.loc[~shapely.is_valid(gdf.geometry.values), "code"])
        assert sorted(c for (c,) in _found(report, "invalid-geometry", key)) == bad


def test_gaps_and_overlaps(report, subset):
    _, raw = subset
    seen = 0
    for key, gdf in raw.items():
        layer = gdf.to_crs(27700)
        gaps = report.issues[(report.issues["rule"] == "gap") & (report.issues["layer"] == key)]
        ref = reference_gaps(layer, 1.0)
        np.testing.assert_allclose(np.sort(gaps["area_m2"].to_numpy())[::-1], ref, atol=1e-3)
        pairs = {(a, b) for a, b, _ in reference_overlaps(layer, 1.0)}
        assert set(_found(report, "overlap", key)) == pairs
        seen += len(ref) + len(pairs)
    assert seen >= 5  # the known gap (three layers) and overlaps are there


def test_not_nested_msoas(report, subset):
    _, raw = subset
    msoa = raw["msoa"][["code", "geometry"]].to_crs(27700)
    ward = raw["ward"][["code", "geometry"]].rename(columns={"code": "wcode"}).to_crs(27700)
    msoa["geometry"] = msoa.geometry.make_valid()
    ward["geometry"] = ward.geometry.make_valid()
    pieces = gpd.overlay(msoa, ward, how="intersection", keep_geom_type=True)
    best = pieces.assign(a=pieces.geometry.area).groupby("code")["a"].max()
    share = best / msoa.set_index("code").geometry.area.loc[best.index]
    expected = set(share.index[share < 0.99])
    assert {codes[0] for codes in _found(report, "not-nested", "msoa")} == expected
    assert expected
    assert not _found(report, "not-nested", "oa") and not _found(report, "not-nested", "lsoa")
