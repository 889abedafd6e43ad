"""Reading boundary layers from the files councils really have.

:func:`read_layer` reads GeoJSON, GeoPackage (with a choice of layer),
Shapefile (also zipped) and GeoParquet through pyogrio (default) or fiona,
and returns a GeoDataFrame with canonical ``code`` and ``name`` columns in
front of the source attributes. Files are recognised by their content, not
only their name, and a layer's coordinates are checked against its CRS
(:mod:`localitygeo.io.coordinates`). Every failure raises a
:class:`~localitygeo.errors.LocalityGeoError` naming the file, layer and
feature.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from localitygeo.deprecation import renamed
from localitygeo.errors import (
    ColumnError,
    CRSError,
    GeometryError,
    InputError,
    format_codes,
    warn,
)
from localitygeo.geometry.crs import parse_crs
from localitygeo.io.coordinates import coordinate_problem, feature_bounds, raise_problem
from localitygeo.io.file_types import describe, not_utf8, sniff, special
from localitygeo.io.geoparquet import PARQUET_SUFFIXES, read_parquet
from localitygeo.io.read_errors import (
    _FORMATS,
    _JSON_SUFFIXES,
    POLYGON_TYPES,
    _check_geometry_types,
    _check_layer_exists,
    _describe_read_error,
    _what,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["POLYGON_TYPES", "read_layer"]


Engine = Literal["pyogrio", "fiona"]


@renamed(crs="assume_crs")
def read_layer(
    path: str | Path,
    code: str,
    *,
    name: str | None = None,
    layer: str | int | None = None,
    engine: Engine = "pyogrio",
    assume_crs: Any = None,
    strict: bool = True,
    label: str | None = None,
    check_crs: bool = True,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon boundary layer.

    Parameters
    ----------
    path : str or pathlib.Path
        GeoJSON, GeoPackage, Shapefile (``.shp`` or a ``.zip`` holding one),
        GeoParquet, or anything else GDAL reads.
    code : str
        Column holding each feature's unique code (e.g. ``"WD13CD"``).
    name : str, optional
        Column holding the feature's name.
    layer : str or int, optional
        Layer to read from a multi-layer file such as a GeoPackage.
    engine : {"pyogrio", "fiona"}, default "pyogrio"
        Which GDAL binding reads the file (ignored for GeoParquet).
    assume_crs : optional
        CRS to assume when the file declares none. When the file declares one
        this must agree with it, unless the declared CRS contradicts the
        coordinates and this one fits them (a GeoJSON file of British
        National Grid metres without a ``crs`` member, which GeoJSON reads
        as WGS84): then this one is used, with a
        :class:`~localitygeo.LocalityGeoWarning` (a note, in
        :func:`~localitygeo.read_boundaries`).
    strict : bool, default True
        Raise on null or empty geometries, missing codes and duplicate codes.
        With ``strict=False`` they are kept so that
        :func:`localitygeo.validate` can report them.
    label : str, optional
        Name of the layer used in messages (defaults to ``layer`` or the
        file's stem).
    check_crs : bool, default True
        Check that the coordinates fit the CRS: that they lie in its area of
        use and do not look like another CRS (lat/lon swapped, metres
        labelled degrees, degrees labelled metres). Turn it off only for data
        whose CRS is known to be right. Coordinates that are NaN, infinite or
        beyond any place on Earth are errors whatever this says.
    columns : sequence of str, optional
        Source attributes to keep besides ``code`` and ``name`` (default:
        all). A GeoParquet file is then read for those columns only, which
        is faster for a wide national file; other formats are read whole.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code`` (str), ``name`` (str or missing), the source attributes and
        ``geometry``, in the file's CRS. Source columns called ``code`` or
        ``name`` that are not the ones chosen are kept as ``source_code`` and
        ``source_name``.

    Raises
    ------
    InputError
        The file is missing, a folder, empty, binary, not UTF-8 (GeoJSON), a
        container that holds no layer (a ZIP without a Shapefile, a
        workbook), a table without geometry, truncated or nested too deeply,
        or holds no features, or the layer does not exist.
    ColumnError
        ``code`` or ``name`` is not a column (the message lists those that
        exist).
    CRSError
        The file has no CRS and none was given, ``assume_crs`` is not a CRS or
        contradicts the file's, or the coordinates contradict the CRS (the
        message gives the likely fix).
    GeometryError
        Features are not polygons, have NaN, infinite or absurd coordinates
        or (with ``check_crs``) lie far outside the CRS's area of use, or
        (when ``strict``) have null or empty geometry.
    """
    p = Path(path)
    where = label or (str(layer) if layer is not None else p.stem)
    gdf, kind = _read_raw(p, layer, engine, where, _wanted(code, name, columns))
    return _checked(gdf, kind, p, where, code, name, columns, assume_crs, check_crs, strict)


def _checked(
    gdf: pd.DataFrame,
    kind: str,
    p: Path,
    where: str,
    code: str,
    name: str | None,
    columns: Sequence[str] | None,
    assume_crs: Any,
    check_crs: bool,
    strict: bool,
) -> gpd.GeoDataFrame:
    """Check and tidy a layer as read by :func:`_read_raw`, as :func:`read_layer` does."""
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        what = "" if kind == "text" else f" ({_what(p, kind)})"
        raise InputError(
            f"holds a table without geometry{what}, not a boundary layer; give a {_FORMATS} "
            "file (an indicator table is read with read_indicators, or --data)",
            path=p,
            layer=where,
        )
    if len(gdf) == 0:
        raise InputError("the layer holds no features", path=p, layer=where)
    gdf = tidy_columns(gdf, code, name, columns, p, where, gdf.geometry.name)
    _check_geometry_types(gdf, p, where)
    gdf = _set_crs(gdf, assume_crs, p, where, check_crs)
    if strict:
        check_strict(gdf, p, where)
    return gdf


def tidy_columns(
    gdf: pd.DataFrame,
    code: str,
    name: str | None,
    columns: Sequence[str] | None,
    p: Path,
    where: str,
    geom_col: str,
) -> Any:
    """Return a layer as read with :func:`read_layer`'s columns: code, name, ``columns``, geometry.

    ``gdf`` is the layer as the file gave it; its geometry column ``geom_col``
    may be a placeholder in a plain DataFrame (see :func:`_canonical_columns`).
    """
    gdf = _canonical_columns(gdf, code, name, p, where, geom_col)
    if columns is not None:
        keep = [
            "code",
            "name",
            *(c for c in columns if c in gdf.columns and c not in ("code", "name")),
        ]
        gdf = gdf[[*dict.fromkeys(keep), "geometry"]]
    return gdf


def check_strict(gdf: gpd.GeoDataFrame, path: str | Path | None, layer: str | None) -> None:
    """Raise if a layer has missing or duplicate codes or null/empty geometry.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a ``code`` column.
    path : str or pathlib.Path, optional
        File named in the message.
    layer : str, optional
        Layer named in the message.

    Raises
    ------
    InputError
        Codes are missing or repeated.
    GeometryError
        Geometries are null or empty.
    """
    check_codes(gdf, path, layer)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        codes = list(gdf.loc[empty.to_numpy(), "code"])
        raise GeometryError(
            f"{len(codes)} feature(s) have null or empty geometry: {format_codes(codes)}",
            path=path,
            layer=layer,
            code=str(codes[0]),
        )


def check_codes(gdf: pd.DataFrame, path: str | Path | None, layer: str | None) -> None:
    """Raise if a layer's ``code`` column has missing or repeated codes (``check_strict``'s half).

    Raises
    ------
    InputError
        Codes are missing or repeated.
    """
    missing = gdf["code"].isna()
    if missing.any():
        rows = list(gdf.index[missing.to_numpy()][:5])
        raise InputError(
            f"{int(missing.sum())} feature(s) have no code (rows {rows})", path=path, layer=layer
        )
    dup = gdf["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(gdf.loc[dup.to_numpy(), "code"]))
        raise InputError(
            f"duplicate codes: {format_codes(codes)}", path=path, layer=layer, code=codes[0]
        )


def _wanted(code: str, name: str | None, columns: Sequence[str] | None) -> list[str] | None:
    """Return the attributes to read (None: all)."""
    if columns is None:
        return None
    return list(dict.fromkeys([code, *([name] if name else []), *columns]))


def _read_raw(
    p: Path,
    layer: str | int | None,
    engine: Engine,
    where: str,
    wanted: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, str]:
    """Return the file's layer as GeoPandas reads it, and what the file is (:func:`sniff`).

    ``wanted`` (attributes, None for all) limits what is read from a GeoParquet file.
    """
    import geopandas as gpd

    if engine not in ("pyogrio", "fiona"):
        raise InputError(f"unknown engine {engine!r}; use 'pyogrio' or 'fiona'", path=p)
    if not p.exists():
        raise InputError("file not found", path=p, layer=where)
    if p.is_dir() and p.suffix.lower() != ".gdb":
        raise InputError("is a folder, not a boundary file", path=p, layer=where)
    if other := special(p):
        raise InputError(f"is {other}, not a boundary file", path=p, layer=where)
    kind = sniff(p) if p.is_file() else "folder"
    if kind == "empty":
        raise InputError("the file is empty (0 bytes)", path=p, layer=where)
    if kind == "parquet" or p.suffix.lower() in PARQUET_SUFFIXES:
        if kind != "parquet":
            raise InputError(f"is {describe(kind)}, not a GeoParquet file", path=p, layer=where)
        return read_parquet(p, wanted, where), kind
    if p.suffix.lower() in _JSON_SUFFIXES and kind in ("text", "legacy-text"):
        # pyogrio refuses text that is not UTF-8, fiona reads it as missing
        # values: check the whole file for fiona, the head for both.
        bad = not_utf8(p) if kind == "legacy-text" or engine == "fiona" else None
        if bad:
            raise InputError(
                f"is not UTF-8 text ({bad}); GeoJSON is UTF-8: save it as UTF-8",
                path=p,
                layer=where,
            )
    if layer is not None:
        _check_layer_exists(p, layer, where, kind)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # a property holding numbers and text is read as text, checked where used
            warnings.filterwarnings("ignore", "Could not parse column", UserWarning)
            return gpd.read_file(p, layer=layer, engine=engine), kind
    except Exception as exc:
        raise InputError(_describe_read_error(p, exc, kind), path=p, layer=where) from exc


def _set_crs(
    gdf: gpd.GeoDataFrame, crs: Any, p: Path, where: str, check_crs: bool
) -> gpd.GeoDataFrame:
    """Return ``gdf`` in its declared or the given CRS, after checking its coordinates fit."""
    given = None if crs is None else parse_crs(crs, "the CRS given", path=p, layer=where)
    declared = gdf.crs
    if declared is None and given is None:
        raise CRSError(
            "the file declares no CRS; give one (assume_crs= in read_layer, or crs_in for the "
            "layer in boundaries.toml)",
            path=p,
            layer=where,
        )
    bounds = feature_bounds(gdf, p, where)
    if declared is None:
        raise_problem(coordinate_problem(bounds, given, check_crs=check_crs), gdf, p, where)
        return gdf.set_crs(given)
    problem = coordinate_problem(bounds, declared, check_crs=check_crs)
    if given is None or given.equals(declared):
        raise_problem(problem, gdf, p, where)
        return gdf
    if problem is None or not problem.label:
        raise CRSError(
            f"the file declares {declared.to_string()} but {given.to_string()} was given; "
            "remove one",
            path=p,
            layer=where,
        )
    if coordinate_problem(bounds, given, check_crs=check_crs) is not None:
        raise_problem(problem, gdf, p, where)
    warn(
        f"{p}: layer '{where}': the file declares {declared.to_string()}, but its coordinates "
        f"fit {given.to_string()}, which was given: read as {given.to_string()}",
        stacklevel=4,
    )
    return gdf.set_crs(given, allow_override=True)


def _canonical_columns(
    gdf: pd.DataFrame, code: str, name: str | None, p: Path, where: str, geom_col: str
) -> pd.DataFrame:
    """Return ``gdf`` with ``code`` and ``name`` in front and its geometry called ``geometry``.

    ``gdf`` may be a plain DataFrame whose column ``geom_col`` only holds the
    geometry's place (a layer still being decoded).
    """
    import geopandas as gpd

    attrs = [str(c) for c in gdf.columns if c != geom_col]
    for role, col in (("code", code), ("name", name)):
        if col is not None and col not in gdf.columns:
            have = (
                f"columns are: {', '.join(attrs)}"
                if attrs
                else "the features have no attributes at all (a bare GeoJSON geometry?): "
                f"give each feature a '{col}' property"
            )
            raise ColumnError(f"no {role} column '{col}'; {have}", path=p, layer=where)
    out = gdf.copy()
    codes = out[code].astype("string").str.strip()
    codes = codes.mask(codes == "")
    names = out[name].astype("string") if name is not None else None
    # A source column that is literally called code/name but is not the chosen
    # one is kept under another name; the chosen one becomes canonical.
    for canon in ("code", "name"):
        chosen = code if canon == "code" else name
        if canon in out.columns:
            if chosen == canon:
                out = out.drop(columns=canon)
            else:
                out = out.rename(columns={canon: f"source_{canon}"})
    out.insert(0, "code", codes.astype(object).where(codes.notna(), None))
    out.insert(
        1,
        "name",
        names.astype(object).where(names.notna(), None) if names is not None else None,
    )
    if geom_col != "geometry":
        if isinstance(out, gpd.GeoDataFrame):
            out = out.rename_geometry("geometry")
        else:
            out = out.rename(columns={geom_col: "geometry"})
    return out.reset_index(drop=True)
