"""GeoParquet layers: read whole, or read to be reprojected without building geometries twice.

:func:`read_decoded` takes :func:`~localitygeo.io.layers.read_layer`'s
arguments. For a GeoParquet file of Polygons and MultiPolygons in WKB it
reads the table, checks the layer as ``read_layer`` does (columns, codes,
coordinates against the CRS), and returns a :class:`DecodedLayer`: the
attributes, and the geometries still as coordinate arrays
(:func:`~localitygeo.io.wkb_decode.decode_polygons`). Its
:meth:`DecodedLayer.placed` builds the geometries once, in the CRS they are
measured in. The frame it returns equals ``to_crs(read_layer(...), crs)``:
the same columns, values and coordinates, bit for bit. Anything else, and
any file with something to report, is read by ``read_layer`` itself, so
every message stays the one it gives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from localitygeo.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS

    from localitygeo.geometry.polygon_arrays import PolygonArrays

__all__ = ["PARQUET_SUFFIXES", "DecodedLayer", "parquet_columns", "read_decoded", "read_parquet"]

PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}


def parquet_columns(p: Path, wanted: list[str] | None) -> list[str] | None:
    """Return the columns of GeoParquet file ``p`` to read: ``wanted`` and its geometry.

    None (read everything) when all are wanted, when a wanted column is not
    in the file (reading it whole gives the message that lists the columns)
    or when the file's schema cannot be read (reading it gives the error).
    """
    if wanted is None:
        return None
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(p)
        meta = json.loads((schema.metadata or {}).get(b"geo", b"{}"))
    except Exception:
        return None
    geometry = [str(c) for c in meta.get("columns", {})] if isinstance(meta, dict) else []
    if not geometry or any(c not in schema.names for c in wanted):
        return None
    return list(dict.fromkeys([*wanted, *geometry]))


def read_parquet(p: Path, wanted: list[str] | None, where: str) -> gpd.GeoDataFrame:
    """Read GeoParquet file ``p`` with geopandas (only ``wanted`` attributes, if given)."""
    import geopandas as gpd
    from shapely.errors import ShapelyError

    from localitygeo.io.read_errors import _first_line

    try:
        return gpd.read_parquet(p, columns=parquet_columns(p, wanted))
    except (ValueError, OSError, TypeError, ShapelyError) as exc:  # GEOS: WKB it cannot parse
        raise InputError(
            f"not a readable GeoParquet file ({_first_line(exc)})", path=p, layer=where
        ) from exc


@dataclass(frozen=True)
class DecodedLayer:
    """A layer read and checked whose geometries are still coordinate arrays.

    Attributes
    ----------
    frame : pandas.DataFrame
        The columns :func:`~localitygeo.io.layers.read_layer` gives, with
        ``geometry`` holding only its place.
    arrays : PolygonArrays
        The features' coordinates, in ``crs``.
    crs : pyproj.CRS
        The CRS the file declares (checked against the coordinates).
    """

    frame: pd.DataFrame
    arrays: PolygonArrays
    crs: CRS

    def total_bounds(self) -> np.ndarray:
        """Return the layer's (xmin, ymin, xmax, ymax), as ``total_bounds`` would."""
        b = self.arrays.bounds()
        return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])

    def working_crs(self) -> CRS:
        """Return :func:`~localitygeo.geometry.crs.working_crs` of the layer."""
        from localitygeo.geometry.crs import gb_grid_for, working_crs

        return gb_grid_for(self.crs, self.total_bounds()) or working_crs(self.as_read())

    def as_read(self) -> gpd.GeoDataFrame:
        """Return the layer as ``read_layer`` returns it, in its own CRS."""
        return self._framed(self.arrays.geometries(), self.crs)

    def placed(self, crs: CRS, *, threads: int | None = None) -> gpd.GeoDataFrame:
        """Return the layer in ``crs``: ``to_crs(read_layer(...), crs)``, bit for bit.

        A layer already in ``crs`` keeps its own CRS object, as it would not
        be reprojected.
        """
        from localitygeo.geometry.projection import reproject_arrays

        if self.crs.equals(crs):
            return self.as_read()
        return self._framed(reproject_arrays(self.arrays, self.crs, crs, threads=threads), crs)

    def _framed(self, geoms: np.ndarray, crs: CRS) -> gpd.GeoDataFrame:
        import geopandas as gpd

        out = self.frame.copy(deep=False)
        out["geometry"] = gpd.GeoSeries(geoms, index=out.index, crs=crs)
        return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def read_decoded(
    path: str | Path,
    code: str,
    *,
    name: str | None = None,
    layer: str | int | None = None,
    engine: str = "pyogrio",
    assume_crs: Any = None,
    strict: bool = True,
    label: str | None = None,
    check_crs: bool = True,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame | DecodedLayer:
    """Read a layer to be reprojected: a :class:`DecodedLayer` where it can, else ``read_layer``'s.

    Parameters are those of :func:`~localitygeo.io.layers.read_layer`, and
    so are the errors.
    """
    from localitygeo.io.layers import read_layer

    p = Path(path)
    where = label or (str(layer) if layer is not None else p.stem)
    found = _decoded(p, code, name, where, assume_crs, strict, check_crs, columns)
    if found is not None:
        return found
    return read_layer(
        p,
        code,
        name=name,
        layer=layer,
        engine=engine,  # type: ignore[arg-type]
        assume_crs=assume_crs,
        strict=strict,
        label=label,
        check_crs=check_crs,
        columns=columns,
    )


def _decoded(
    p: Path,
    code: str,
    name: str | None,
    where: str,
    assume_crs: Any,
    strict: bool,
    check_crs: bool,
    columns: Sequence[str] | None,
) -> DecodedLayer | None:
    """Return the layer of GeoParquet file ``p`` decoded, or None to read it the ordinary way."""
    import pyarrow.parquet as pq

    from localitygeo.errors import LocalityGeoError
    from localitygeo.geometry.crs import parse_crs
    from localitygeo.io.coordinates import coordinate_problem
    from localitygeo.io.file_types import sniff
    from localitygeo.io.layers import _wanted, check_codes, tidy_columns
    from localitygeo.io.wkb_decode import decode_polygons

    if p.suffix.lower() not in PARQUET_SUFFIXES or not p.is_file() or sniff(p) != "parquet":
        return None
    try:
        schema = pq.read_schema(p)
        meta = json.loads(schema.metadata[b"geo"])
        geom = meta["primary_column"]
        about = meta["columns"][geom]
        if list(meta["columns"]) != [geom] or about.get("encoding") != "WKB":
            return None
        if "covering" in about or (geom != "geometry" and "geometry" in schema.names):
            return None
        table = pq.read_table(p, columns=parquet_columns(p, _wanted(code, name, columns)))
        declared = _declared_crs(about)
        given = None if assume_crs is None else parse_crs(assume_crs, "the CRS given")
    except (LocalityGeoError, Exception):
        return None  # the ordinary read says what is wrong
    if geom not in table.column_names or table.num_rows == 0:
        return None
    arrays = decode_polygons(table.column(geom))
    crs = declared if declared is not None else given
    if arrays is None or crs is None:
        return None
    if declared is not None and given is not None and not given.equals(declared):
        return None
    if coordinate_problem(arrays.bounds(), crs, check_crs=check_crs) is not None:
        return None
    order = list(table.slice(0, 0).to_pandas().columns)  # where geopandas puts the geometry
    frame = table.drop_columns([geom]).to_pandas()
    frame.insert(order.index(geom), geom, None)
    # the errors left are those read_layer would give next: its checks before are passed
    frame = tidy_columns(frame, code, name, columns, p, where, geom)
    if strict:
        check_codes(frame, p, where)
    return DecodedLayer(frame, arrays, crs)


def _declared_crs(about: dict[str, Any]) -> CRS | None:
    """Return the CRS a GeoParquet geometry column declares, as geopandas reads it.

    No ``crs`` key means OGC:CRS84 (the GeoParquet rule); ``null`` means
    none. Ids of datum ensemble members are left out of PROJJSON, as
    geopandas leaves them out (older PROJ databases do not know them).
    """
    from pyproj import CRS

    if "crs" not in about:
        return CRS.from_user_input("OGC:CRS84")
    crs = about["crs"]
    if crs is None:
        return None
    if isinstance(crs, dict):
        crs = _without_member_ids(crs)
    return CRS.from_user_input(crs)


def _without_member_ids(value: Any, key: str = "") -> Any:
    """Return PROJJSON ``value`` without the ``id`` of each datum ensemble member (a copy)."""
    if isinstance(value, dict):
        return {k: _without_member_ids(v, k) for k, v in value.items()}
    if key == "members" and isinstance(value, list):
        return [
            {k: v for k, v in m.items() if k != "id"} if isinstance(m, dict) else m for m in value
        ]
    return value
