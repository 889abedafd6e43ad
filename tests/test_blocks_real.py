"""Layers built from real ONS blocks (not vertex-exact): valid, faithful, and judged right.

For each of the three councils, MSOAs are rebuilt from their LSOAs (each
LSOA's MSOA comes from its name: "Plymouth 001A" is in "Plymouth 001") and
from their output areas (each OA's LSOA by largest overlap, computed here with
geopandas). Neighbourhoods are groups of LSOAs given by a lookup CSV written
here, localities groups of neighbourhoods, read through a manifest with the
LSOAs written in each format the package reads.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import localitygeo as lg
from localitygeo.geometry import unions as _unions

from .helpers import write_manifest

pytestmark = pytest.mark.realdata

COUNCILS = ["plymouth", "telford-and-wrekin", "copeland"]
BNG = "EPSG:27700"


def _layer(folder: Path, file: str, code: str, name: str | None = None) -> gpd.GeoDataFrame:
    return lg.read_layer(folder / file, code, name=name).to_crs(BNG)


def _largest_piece(small: gpd.GeoDataFrame, big: gpd.GeoDataFrame) -> pd.Series:
    """Code of the unit of ``big`` holding most of each unit of ``small`` (geopandas overlay)."""
    a = small[["code", "geometry"]].assign(geometry=shapely.make_valid(small.geometry.values))
    b = big[["code", "geometry"]].rename(columns={"code": "big"})
    b = b.assign(geometry=shapely.make_valid(b.geometry.values))
    pieces = gpd.overlay(a, b, keep_geom_type=True)
    pieces["a"] = pieces.area
    return pieces.sort_values("a").groupby("code")["big"].last()


@pytest.fixture(scope="module", params=COUNCILS)
def council(request: pytest.FixtureRequest, shared_data: Path) -> dict[str, gpd.GeoDataFrame]:
    folder = shared_data / "councils" / request.param
    lsoa = _layer(folder, "lsoa_2011.geojson", "LSOA11CD", "LSOA11NM")
    msoa = _layer(folder, "msoa_2011.geojson", "MSOA11CD", "MSOA11NM")
    oa = _layer(folder, "oa_2011.geojson", "OA11CD")
    ward = _layer(folder, "wards_2013.geojson", "WD13CD", "WD13NM")
    by_name = msoa.set_index("name")["code"]
    lsoa["msoa"] = by_name.reindex(lsoa["name"].str[:-1]).to_numpy()
    assert lsoa["msoa"].notna().all()
    oa["lsoa"] = _largest_piece(oa, lsoa).reindex(oa["code"]).to_numpy()
    oa["msoa"] = lsoa.set_index("code")["msoa"].reindex(oa["lsoa"]).to_numpy()
    return {"name": request.param, "lsoa": lsoa, "msoa": msoa, "oa": oa, "ward": ward}


def _holes(geoms: np.ndarray) -> np.ndarray:
    parts = shapely.get_parts(geoms)
    rings, part = shapely.get_rings(parts, return_index=True)
    shell = np.ones(len(rings), bool)
    shell[1:] = part[1:] != part[:-1]
    return np.asarray(shapely.polygons(rings[~shell]), dtype=object)


@pytest.mark.parametrize("blocks", ["lsoa", "oa"])
def test_msoas_built_from_real_blocks_are_valid_and_equal_their_blocks(council, blocks) -> None:
    bset = lg.BoundarySet.from_layers(
        {blocks: council[blocks], "msoa": council["msoa"]}
    ).with_blocks("msoa", blocks)
    built = bset["msoa"]
    geoms = np.asarray(built.geometry.array, dtype=object)
    assert shapely.is_valid(geoms).all(), shapely.is_valid_reason(geoms)
    # each unit against the union of its (repaired) blocks, unioned by GEOS here
    src = council[blocks]
    fixed = shapely.make_valid(np.asarray(src.geometry.array, dtype=object))
    ref = np.array(
        [shapely.union_all(fixed[(src["msoa"] == c).to_numpy()]) for c in built["code"]],
        dtype=object,
    )
    added = shapely.area(shapely.difference(geoms, ref))
    lost = shapely.area(shapely.difference(ref, geoms))
    assert (added + lost).max() <= 1.0
    # what a unit gains is only the slivers between its own blocks (measured:
    # at most 0.06 m² per MSOA here)
    assert added.max() <= 0.1
    assert abs(shapely.union_all(geoms).area - shapely.union_all(fixed).area) <= 1.0
    # no sliver left inside: the only holes are real ones, bigger than a gap
    # tolerance (there are none in these councils' MSOAs)
    assert all(h.area > 1.0 for h in _holes(geoms))


def test_without_coverage_clean_msoas_are_still_valid_and_hole_free(council, monkeypatch) -> None:
    # the path taken with GEOS < 3.14: union_all, thin holes filled
    monkeypatch.setattr(_unions, "_CLEAN", False)
    bset = lg.BoundarySet.from_layers(
        {"lsoa": council["lsoa"], "msoa": council["msoa"]}
    ).with_blocks("msoa", "lsoa")
    geoms = np.asarray(bset["msoa"].geometry.array, dtype=object)
    assert shapely.is_valid(geoms).all()
    assert all(h.area > 1.0 for h in _holes(geoms))
    fixed = shapely.make_valid(np.asarray(council["lsoa"].geometry.array, dtype=object))
    assert abs(shapely.union_all(geoms).area - shapely.union_all(fixed).area) <= 1.0


@pytest.mark.parametrize("blocks", ["lsoa", "oa"])
def test_validate_finds_no_gap_or_overlap_the_blocks_do_not_have(council, blocks) -> None:
    bset = lg.BoundarySet.from_layers(
        {blocks: council[blocks], "msoa": council["msoa"]}
    ).with_blocks("msoa", blocks)
    issues = lg.validate(bset, rules=["gap", "overlap", "invalid-geometry"]).to_geodataframe()
    built = issues[issues["layer"] == "msoa"]
    assert (built["rule"] != "invalid-geometry").all()
    below = issues[issues["layer"] == blocks]
    for rule in ("gap", "overlap"):
        theirs = below.loc[below["rule"] == rule, "geometry"].to_numpy()
        for geom in built.loc[built["rule"] == rule, "geometry"]:
            assert shapely.intersects(geom, theirs).any(), f"{rule} not in the blocks"


FORMATS = {
    "geojson": ("lsoa.geojson", {"driver": "GeoJSON"}),
    "geojson-rfc7946": ("lsoa.geojson", {"driver": "GeoJSON", "RFC7946": "YES"}),
    "gpkg": ("lsoa.gpkg", {"driver": "GPKG"}),
    "shapefile": ("lsoa.shp", {"driver": "ESRI Shapefile"}),
    "geoparquet": ("lsoa.parquet", None),
}
RULES = [
    ("lsoa", "neighbourhood", 0.001),
    ("neighbourhood", "locality", 0.001),
    ("neighbourhood", "ward", 0.02),
    ("locality", "ward", 0.02),
]
CASES = [(c, "geojson") for c in COUNCILS] + [("plymouth", f) for f in FORMATS if f != "geojson"]


def _write_set(council_dir: Path, folder: Path, fmt: str) -> Path:
    """A boundary set: LSOA blocks in ``fmt``, neighbourhoods by lookup, localities of those."""
    lsoa = gpd.read_file(council_dir / "lsoa_2011.geojson")  # as published: CRS84
    file, options = FORMATS[fmt]
    folder.mkdir()
    if options is None:
        lsoa.to_parquet(folder / file)
    else:
        lsoa.to_file(folder / file, **options)
    msoa = gpd.read_file(council_dir / "msoa_2011.geojson")
    code_of = msoa.set_index("MSOA11NM")["MSOA11CD"]
    pd.DataFrame(
        {
            "lsoa": lsoa["LSOA11CD"].to_numpy(),
            "neighbourhood": code_of.reindex(lsoa["LSOA11NM"].str[:-1]).to_numpy(),
        }
    ).to_csv(folder / "lookup.csv", index=False)
    order = np.argsort(msoa["MSOA11NM"].to_numpy())
    msoa["locality"] = "L0"
    msoa.loc[msoa.index[order], "locality"] = [f"L{k // 4}" for k in range(len(msoa))]
    msoa[["MSOA11CD", "MSOA11NM", "locality", "geometry"]].to_file(
        folder / "neighbourhoods.gpkg", driver="GPKG"
    )
    loc = msoa.dissolve("locality", as_index=False)[["locality", "geometry"]]
    loc.to_file(folder / "localities.geojson", driver="GeoJSON")
    nesting = "".join(
        f'[[nesting]]\nchild = "{c}"\nparent = "{p}"\ntolerance = {t}\n' for c, p, t in RULES
    )
    return write_manifest(
        folder,
        f"""
name = "{council_dir.name} ({fmt})"
crs = "EPSG:27700"
[layers.lsoa]
path = "{file}"
code = "LSOA11CD"
name = "LSOA11NM"
[layers.ward]
path = "{council_dir / "wards_2013.geojson"}"
code = "WD13CD"
name = "WD13NM"
[layers.neighbourhood]
path = "neighbourhoods.gpkg"
code = "MSOA11CD"
name = "MSOA11NM"
[layers.neighbourhood.blocks]
layer = "lsoa"
lookup = "lookup.csv"
block_code = "lsoa"
unit_code = "neighbourhood"
[layers.locality]
path = "localities.geojson"
code = "locality"
blocks = "neighbourhood"
{nesting}
""",
    )


def _reference_shares(
    blocks: gpd.GeoDataFrame, unit_of_block: pd.Series, ward: gpd.GeoDataFrame
) -> pd.Series:
    """Best-ward share of each unit: geopandas dissolve of the repaired blocks, then overlay."""
    b = blocks[["code", "geometry"]].assign(
        unit=unit_of_block.reindex(blocks["code"]).to_numpy(),
        geometry=shapely.make_valid(blocks.geometry.values),
    )
    units = b.dissolve("unit", as_index=False)[["unit", "geometry"]]
    w = ward[["code", "geometry"]].assign(geometry=shapely.make_valid(ward.geometry.values))
    pieces = gpd.overlay(units, w, keep_geom_type=True)
    pieces["a"] = pieces.area
    best = pieces.groupby("unit")["a"].max()
    return best / units.set_index("unit").area.reindex(best.index)


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_built_sets_nest_as_an_overlay_of_their_blocks_says(
    shared_data: Path, tmp_path: Path, name: str, fmt: str
) -> None:
    council_dir = shared_data / "councils" / name
    bset = lg.read_boundaries(_write_set(council_dir, tmp_path / "set", fmt))
    report = lg.validate(bset)
    issues = report.issues
    for key in ("neighbourhood", "locality"):
        geoms = np.asarray(bset[key].geometry.array, dtype=object)
        assert shapely.is_valid(geoms).all()
        mine = issues[issues["layer"] == key]
        assert not mine["rule"].isin(["invalid-geometry", "gap", "overlap", "empty-geometry"]).any()
    # blocks lie in the units built from them, units in the localities built from them
    for rule in ("lsoa->neighbourhood", "neighbourhood->locality"):
        assert (report.assignments[rule]["share"] > 1 - 1e-6).all(), rule
    lsoa = bset["lsoa"]
    unit_of = lsoa.set_index("code")["neighbourhood"]
    locality_of = bset["neighbourhood"].set_index("code")["locality"]
    wards = bset["ward"]
    for child, assignment in (
        ("neighbourhood", unit_of),
        ("locality", pd.Series(locality_of.reindex(unit_of).to_numpy(), index=unit_of.index)),
    ):
        ref = _reference_shares(lsoa, assignment, wards)
        table = report.assignments[f"{child}->ward"].set_index("child_code")["share"]
        assert np.allclose(table.reindex(ref.index).to_numpy(), ref.to_numpy(), rtol=0, atol=1e-6)
        expected = set(ref.index[ref < 1 - 0.02])
        found = issues[(issues["rule"] == "not-nested") & (issues["layer"] == child)]
        assert {codes[0] for codes in found["codes"]} == expected
        assert child != "neighbourhood" or expected  # the check means something


@pytest.mark.parametrize("blocks", ["lsoa", "oa"])
@pytest.mark.parametrize("tol", [1.0, 0.01])
def test_gaps_and_overlaps_of_built_layers_are_the_plain_ones(council, blocks, tol) -> None:
    # built units are cleaned unions of their blocks: neither vertex-exact nor
    # off by micrometres everywhere; the snapped checks must still give what
    # one union_all and every pairwise intersection give
    from localitygeo.geometry import snapped

    from .test_coverage_fast import reference_gaps, reference_overlaps

    bset = lg.BoundarySet.from_layers(
        {blocks: council[blocks], "msoa": council["msoa"]}
    ).with_blocks("msoa", blocks)
    for layer in (bset["msoa"], council[blocks]):
        gaps = lg.find_gaps(layer, tolerance_m2=tol)
        np.testing.assert_allclose(
            gaps["area_m2"].to_numpy(), reference_gaps(layer, tol), rtol=1e-9, atol=1e-6
        )
        found = lg.find_overlaps(layer, tolerance_m2=tol)
        got = {(a, b): s for a, b, s in found[["code_a", "code_b", "area_m2"]].itertuples(False)}
        ref = {(a, b): s for a, b, s in reference_overlaps(layer, tol)}
        assert got.keys() == ref.keys()
        for key, s in ref.items():
            assert got[key] == pytest.approx(s, rel=1e-9)
    g = np.asarray(bset["msoa"].geometry.array, dtype=object)
    if council["name"] != "copeland":  # 5 of its 8 MSOAs are flagged: searched by tiles
        assert snapped.snap_layer(g).finds_gaps(1.0)  # the snapped path, not the fallback
