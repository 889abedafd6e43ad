"""Checking that a layer's coordinates are finite and fit the CRS they are labelled with.

A file's CRS is only a label. Coordinates that are NaN or infinite make GEOS
fail; a vertex at 1e300 makes any grid or overlay run out of memory; and a
wrong label (longitude and latitude swapped, British National Grid metres
labelled WGS84, degrees labelled BNG) gives results that look plausible and
are wrong. :func:`check_coordinates` finds all of these from one pass over
the features (vectorised: GEOS areas and bounds, and the coordinates only
of features whose area is not finite) and says which features, or what the
likely fix is. A CRS's area of use comes from :mod:`~localitygeo.io.crs_area`.

Rules
-----
Always (a file cannot be right otherwise):

- every coordinate is finite;
- in a geographic CRS longitudes lie in [-180, 360] and latitudes in
  [-90, 90]; in a projected CRS no coordinate is further than 10^8 m from
  the origin (two and a half times round the Earth).

Unless the CRS check is turned off (``check_crs=False`` in
:func:`~localitygeo.read_layer`, ``check_crs = false`` for a layer in
``boundaries.toml``), for data whose CRS label is right but unusual:

- the features lie within the CRS's area of use (pyproj's ``area_of_use``),
  widened by its own size on every side;
- data in a geographic CRS do not look like Great Britain with latitude and
  longitude swapped;
- data in a projected CRS do not look like longitude/latitude degrees.

When every feature breaks a rule the CRS label is wrong and the error says
what the coordinates look like; when only some do, those features are
named.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np
import shapely

from localitygeo.errors import CRSError, GeometryError, format_codes
from localitygeo.io.crs_area import GEOGRAPHIC, area_box, area_name, degrees_box, widen

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

__all__ = [
    "Problem",
    "check_coordinates",
    "coordinate_problem",
    "feature_bounds",
    "raise_problem",
]

# Longitude/latitude box of Great Britain (as crs._GB_BOUNDS) and its British
# National Grid extent in metres, generously.
_GB_LONLAT = (-8.8, 49.7, 2.1, 61.0)
_GB_METRES = (-110_000.0, -20_000.0, 700_000.0, 1_260_000.0)
_PROJECTED_LIMIT_M = 1e8
_EPS = 1e-9


@dataclass(frozen=True)
class Problem:
    """Why coordinates do not fit a CRS.

    Attributes
    ----------
    message : str
        What is wrong and the likely fix.
    rows : numpy.ndarray
        Positions of the offending features; every feature when the CRS
        label itself is wrong.
    label : bool
        True when the whole layer is affected (the CRS label is wrong),
        False when some features are.
    """

    message: str
    rows: np.ndarray
    label: bool


def check_coordinates(
    gdf: gpd.GeoDataFrame,
    path: str | PathLike[str] | None = None,
    layer: str | None = None,
    *,
    check_crs: bool = True,
    working: bool = False,
) -> None:
    """Raise unless every coordinate of ``gdf`` is finite and fits its CRS.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS.
    path, layer : optional
        The file (or manifest) and layer named in messages.
    check_crs : bool, default True
        Also check that the coordinates fit the CRS's area of use and do not
        look like another CRS (see the module's rules); turn off for data
        whose CRS label is known to be right.
    working : bool, default False
        ``gdf`` was reprojected to a boundary set's working CRS: any problem
        means that CRS is wrong for where the data are (one ``CRSError``).

    Raises
    ------
    GeometryError
        Some features have non-finite or absurd coordinates (named).
    CRSError
        The coordinates as a whole contradict the CRS (with the likely fix),
        or, with ``working``, lie outside the working CRS's area.
    """
    try:
        bounds = feature_bounds(gdf, path, layer)
        problem = coordinate_problem(bounds, gdf.crs, check_crs=check_crs)
    except GeometryError:
        if not working:
            raise
        problem = Problem("not finite", np.zeros(0, dtype=int), True)
    if working and problem is not None:
        name = gdf.crs.to_string()
        raise CRSError(
            f"reprojected to the working CRS {name}, the layer lies outside the area where "
            f"{name} is used ({area_name(gdf.crs)}); set the manifest's crs to a CRS for "
            "where the data are, or leave it out to let localitygeo choose one",
            path=path,
            layer=layer,
        )
    raise_problem(problem, gdf, path, layer)


def raise_problem(
    problem: Problem | None,
    gdf: gpd.GeoDataFrame,
    path: str | PathLike[str] | None = None,
    layer: str | None = None,
) -> None:
    """Raise ``problem`` (from :func:`coordinate_problem`) for ``gdf``, if there is one.

    Raises
    ------
    CRSError
        The problem concerns the CRS label (every feature).
    GeometryError
        It concerns some features, named by code.
    """
    if problem is None:
        return
    if problem.label:
        raise CRSError(problem.message, path=path, layer=layer)
    _raise_features(gdf, problem.rows, problem.message, path, layer)


def feature_bounds(
    gdf: gpd.GeoDataFrame,
    path: str | PathLike[str] | None = None,
    layer: str | None = None,
) -> np.ndarray:
    """Return each feature's (xmin, ymin, xmax, ymax), raising if a coordinate is not finite.

    Null and empty geometries have NaN bounds.

    Raises
    ------
    GeometryError
        Coordinates are NaN or infinite (the features are named).
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    bounds = np.asarray(shapely.bounds(geoms), dtype=float)
    # a polygon's area is finite only if all its coordinates are (each enters
    # the shoelace sum): no copy of them. Other features' coordinates are read.
    with np.errstate(invalid="ignore"):  # NaN areas are what is looked for
        sure = np.isin(shapely.get_type_id(geoms), (3, 6)) & np.isfinite(shapely.area(geoms))
    rest = np.flatnonzero(~sure)
    if len(rest):
        coords, index = shapely.get_coordinates(geoms[rest], return_index=True)
        bad = ~np.isfinite(coords).all(axis=1)
        if bad.any():
            rows = rest[np.unique(index[bad])]
            _raise_features(gdf, rows, "have NaN or infinite coordinates", path, layer)
    return bounds


def _raise_features(
    gdf: gpd.GeoDataFrame,
    rows: np.ndarray,
    problem: str,
    path: str | PathLike[str] | None,
    layer: str | None,
) -> None:
    codes = (
        gdf["code"].to_numpy(dtype=object)[rows] if "code" in gdf.columns else [None] * len(rows)
    )
    bad = [
        str(c) if c is not None and c == c else f"row {r}" for c, r in zip(codes, rows, strict=True)
    ]
    raise GeometryError(
        f"{len(bad)} feature(s) {problem}: {format_codes(bad)}",
        path=path,
        layer=layer,
        code=bad[0],
    )


def coordinate_problem(
    bounds: np.ndarray, crs: CRS | None, *, check_crs: bool = True
) -> Problem | None:
    """Return why features with ``bounds`` do not fit ``crs``, or None when they do.

    Parameters
    ----------
    bounds : numpy.ndarray
        (N, 4) feature bounds (NaN rows for null or empty geometries, which
        are ignored).
    crs : pyproj.CRS or None
        The CRS the coordinates are labelled with (None: nothing to check).
    check_crs : bool, default True
        Apply the area-of-use and look-alike rules, not only the hard limits.

    Returns
    -------
    Problem or None
        The first rule broken.
    """
    present = ~np.isnan(bounds[:, 0])
    if crs is None or not present.any():
        return None
    name = crs.to_string()
    box = _hard_box(crs)
    outside = present & ~_inside(bounds, box)
    if outside.any():
        if outside.sum() == present.sum():
            return Problem(_mislabelled(bounds[present], crs), np.flatnonzero(outside), True)
        return Problem(_absurd(bounds[outside], name), np.flatnonzero(outside), False)
    if not check_crs:
        return None
    total = np.array(
        [
            bounds[present, 0].min(),
            bounds[present, 1].min(),
            bounds[present, 2].max(),
            bounds[present, 3].max(),
        ]
    )
    if crs.is_geographic and _within(total, _swap(_GB_LONLAT)) and not _within(total, _GB_LONLAT):
        return Problem(
            f"the coordinates look like latitude, longitude (swapped) in Great Britain, but "
            f"{name} has longitude first (x) and latitude second (y); swap them in the file, "
            "or set check_crs = false for the layer if the data really lie at "
            f"longitude {total[0]:.1f}..{total[2]:.1f}, latitude {total[1]:.1f}..{total[3]:.1f}",
            np.flatnonzero(present),
            True,
        )
    use = area_box(crs.to_wkt())
    if crs.is_projected and _within(total, (-180.0, -90.0, 180.0, 90.0)) and use is not None:
        degrees = degrees_box(crs.to_wkt())
        if degrees is not None and _within(total, widen(degrees)):
            return Problem(
                f"the coordinates look like longitude/latitude degrees (x {total[0]:.4g}.."
                f"{total[2]:.4g}, y {total[1]:.4g}..{total[3]:.4g}), not the metres of "
                f'{name}; declare the file\'s CRS as OGC:CRS84 (crs_in = "OGC:CRS84")',
                np.flatnonzero(present),
                True,
            )
    if use is None:
        return None
    outside = present & ~_inside(bounds, use)
    if not outside.any():
        return None
    if outside.sum() == present.sum():
        return Problem(
            f"the coordinates (x {total[0]:.6g}..{total[2]:.6g}, y {total[1]:.6g}.."
            f"{total[3]:.6g}) lie far outside the area where {name} is used "
            f"({area_name(crs)}); is the CRS right? Give the file's real CRS "
            "with crs_in (manifest) "
            "or assume_crs= (read_layer), "
            "or set check_crs = false for the layer",
            np.flatnonzero(outside),
            True,
        )
    return Problem(_far(bounds[outside], name, use), np.flatnonzero(outside), False)


def _inside(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    w, s, e, n = box
    return (
        (bounds[:, 0] >= w - _EPS)
        & (bounds[:, 1] >= s - _EPS)
        & (bounds[:, 2] <= e + _EPS)
        & (bounds[:, 3] <= n + _EPS)
    )


def _within(total: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    return bool(_inside(total.reshape(1, 4), box)[0])


def _swap(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    w, s, e, n = box
    return (s, w, n, e)


def _hard_box(crs: CRS) -> tuple[float, float, float, float]:
    if crs.is_geographic:
        return GEOGRAPHIC
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    limit = _PROJECTED_LIMIT_M / (factor or 1.0)
    return (-limit, -limit, limit, limit)


def _worst(bounds: np.ndarray) -> float:
    lo = np.minimum(bounds[:, 0], bounds[:, 1]).min()
    hi = np.maximum(bounds[:, 2], bounds[:, 3]).max()
    return float(hi if abs(hi) >= abs(lo) else lo)


def _absurd(bounds: np.ndarray, name: str) -> str:
    return (
        f"have absurd coordinates (a coordinate of {_worst(bounds):.6g}, beyond any place "
        f"on Earth in {name}); fix or remove them"
    )


def _far(bounds: np.ndarray, name: str, box: tuple[float, float, float, float]) -> str:
    worst = _worst(bounds)
    return (
        f"have coordinates far outside the area where {name} is used (a coordinate "
        f"of {worst:.6g}, against x {box[0]:.6g}..{box[2]:.6g}, y {box[1]:.6g}..{box[3]:.6g}); "
        "fix or remove them"
    )


def _mislabelled(bounds: np.ndarray, crs: CRS) -> str:
    name = crs.to_string()
    total = np.array(
        [bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()]
    )
    seen = f"x {total[0]:.6g}..{total[2]:.6g}, y {total[1]:.6g}..{total[3]:.6g}"
    if crs.is_geographic:
        if _within(total, _GB_METRES) and np.abs(total).max() > 1000:
            return (
                f"the coordinates ({seen}) look like British National Grid metres, not the "
                f"degrees of {name}; declare the file's CRS as EPSG:27700 "
                '(crs_in = "EPSG:27700"; a GeoJSON file without a crs member means WGS84)'
            )
        if _within(total, (-90.0, -180.0, 90.0, 180.0)):
            return (
                f"the coordinates ({seen}) look like latitude, longitude (swapped): {name} has "
                "longitude first (x) and latitude second (y); swap them in the file"
            )
        return (
            f"the coordinates ({seen}) are not degrees, as {name} says; they look projected: "
            "give the file's real CRS with crs_in (manifest) or assume_crs= (read_layer)"
        )
    return (
        f"the coordinates ({seen}) are far too large for {name}; is the CRS right? "
        "Give the file's real CRS with crs_in (manifest) or assume_crs= (read_layer)"
    )
