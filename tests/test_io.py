"""read_layer on real files and every bad input a user can produce."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from localitygeo import read_layer
from localitygeo.errors import ColumnError, CRSError, GeometryError, InputError

from .helpers import grid_layer


@pytest.fixture
def grid_files(tmp_path: Path) -> dict[str, Path]:
    g = grid_layer(3, 2).rename(columns={"code": "WD13CD", "name": "WD13NM"})
    files = {
        "geojson": tmp_path / "g.geojson",
        "gpkg": tmp_path / "g.gpkg",
        "shp": tmp_path / "shp" / "g.shp",
        "parquet": tmp_path / "g.parquet",
    }
    g.to_file(files["geojson"], driver="GeoJSON")
    g.to_file(files["gpkg"], layer="wards", driver="GPKG")
    g.iloc[:2].to_file(files["gpkg"], layer="other", driver="GPKG")
    files["shp"].parent.mkdir()
    g.to_file(files["shp"])
    g.to_parquet(files["parquet"])
    zpath = tmp_path / "g.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in files["shp"].parent.iterdir():
            zf.write(part, part.name)
    files["zip"] = zpath
    return files


@pytest.mark.parametrize("kind", ["geojson", "gpkg", "shp", "parquet", "zip"])
@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
def test_reads_every_format_with_canonical_columns(grid_files, kind, engine):
    layer = "wards" if kind == "gpkg" else None
    g = read_layer(grid_files[kind], code="WD13CD", name="WD13NM", layer=layer, engine=engine)
    assert list(g.columns[:2]) == ["code", "name"]
    assert list(g["code"]) == [f"C{i:03d}" for i in range(6)]
    assert "WD13CD" in g.columns  # source attributes kept
    assert g.crs.to_epsg() == 27700
    assert g.geometry.area.round(6).eq(10000).all()


def test_gpkg_layer_choice(grid_files):
    g = read_layer(grid_files["gpkg"], code="WD13CD", layer="other")
    assert len(g) == 2


def test_unknown_gpkg_layer_lists_layers(grid_files):
    with pytest.raises(InputError, match=r"no layer named 'nope'.*wards.*other"):
        read_layer(grid_files["gpkg"], code="WD13CD", layer="nope")


def test_real_plymouth_wards(plymouth):
    g = read_layer(plymouth / "wards_2013.geojson", code="WD13CD", name="WD13NM")
    assert len(g) == 20
    assert g["code"].str.match(r"^E05\d{6}$").all()
    assert g.crs.equals("OGC:CRS84") or g.crs.to_epsg() == 4326
    assert "Budshead" in set(g["name"])


def test_source_column_called_code_is_kept(tmp_path):
    g = grid_layer(2, 1).assign(ref=["A", "B"])  # has a 'code' column already
    p = tmp_path / "x.geojson"
    g.to_file(p)
    out = read_layer(p, code="ref")
    assert list(out["code"]) == ["A", "B"]
    assert list(out["source_code"]) == ["C000", "C001"]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found") as exc:
        read_layer(tmp_path / "nope.geojson", code="c")
    assert "nope.geojson" in str(exc.value)


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_layer(tmp_path, code="c")


def test_not_a_geo_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    with pytest.raises(InputError, match=r"notes\.txt"):
        read_layer(p, code="c")


def test_truncated_geojson(grid_files, tmp_path):
    text = grid_files["geojson"].read_text()
    p = tmp_path / "cut.geojson"
    p.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_layer(p, code="WD13CD")


def test_empty_layer(tmp_path):
    p = tmp_path / "empty.geojson"
    p.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="no features"):
        read_layer(p, code="c")


def test_no_crs_is_an_error_unless_given(tmp_path):
    g = grid_layer(2, 1).set_crs(None, allow_override=True)
    p = tmp_path / "nocrs.gpkg"
    g.to_file(p, driver="GPKG")
    with pytest.raises(CRSError, match="declares no CRS"):
        read_layer(p, code="code")
    assert read_layer(p, code="code", assume_crs="EPSG:27700").crs.to_epsg() == 27700


def test_contradicting_crs(grid_files):
    with pytest.raises(CRSError, match="declares EPSG:27700"):
        read_layer(grid_files["gpkg"], code="WD13CD", layer="wards", assume_crs="EPSG:4326")


def test_missing_code_column_lists_columns(grid_files):
    with pytest.raises(ColumnError, match=r"no code column 'CODE'.*WD13CD, WD13NM"):
        read_layer(grid_files["geojson"], code="CODE")


def test_missing_name_column(grid_files):
    with pytest.raises(ColumnError, match="no name column 'NM'"):
        read_layer(grid_files["geojson"], code="WD13CD", name="NM")


def test_points_in_a_polygon_layer(tmp_path):
    g = gpd.GeoDataFrame(
        {"c": ["P1", "P2"]}, geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs=27700
    )
    p = tmp_path / "pts.geojson"
    g.to_file(p)
    with pytest.raises(GeometryError, match=r"Point, not polygons: P1, P2"):
        read_layer(p, code="c")


def test_null_and_empty_geometry(tmp_path):
    g = grid_layer(3, 1)
    g.loc[1, "geometry"] = None
    p = tmp_path / "null.gpkg"
    g.to_file(p, driver="GPKG")
    with pytest.raises(GeometryError, match=r"null or empty geometry: C001") as exc:
        read_layer(p, code="code")
    assert exc.value.code == "C001"
    kept = read_layer(p, code="code", strict=False)  # validate reports it instead
    assert len(kept) == 3


def test_duplicate_and_missing_codes(tmp_path):
    g = grid_layer(3, 1).assign(ref=["A", "A", None])
    p = tmp_path / "dup.gpkg"
    g.to_file(p, driver="GPKG")
    with pytest.raises(InputError, match="no code"):
        read_layer(p, code="ref")
    g2 = grid_layer(3, 1).assign(ref=["A", "A", "B"])
    g2.to_file(p, driver="GPKG")
    with pytest.raises(InputError, match="duplicate codes: A"):
        read_layer(p, code="ref")


def test_input_file_is_not_modified(grid_files):
    before = grid_files["geojson"].read_bytes()
    read_layer(grid_files["geojson"], code="WD13CD")
    assert grid_files["geojson"].read_bytes() == before
