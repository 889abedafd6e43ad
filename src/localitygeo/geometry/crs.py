"""Choosing and checking the projected CRS that areas are measured in.

localitygeo measures areas and distances only in a projected CRS and never
reprojects without being asked: functions that measure raise
:class:`~localitygeo.errors.CRSError` for geographic input, and the places
that do reproject (a boundary set's declared ``crs``, an explicit ``crs=``
argument) record that they did.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np

from localitygeo.deprecation import renamed
from localitygeo.errors import CRSError, DataError

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

__all__ = [
    "BRITISH_NATIONAL_GRID",
    "PASS_CRS",
    "REPROJECT_FIRST",
    "ensure_projected",
    "measure_in",
    "parse_crs",
    "same_crs",
    "working_crs",
]

#: What to do about a layer in the wrong CRS, said by functions that take ``crs=``.
PASS_CRS = (
    "pass crs= to measure in a projected CRS (e.g. crs='EPSG:27700'), or reproject "
    "first with .to_crs(localitygeo.working_crs(layer))"
)
#: The same, said by functions that take projected layers only.
REPROJECT_FIRST = "reproject first with .to_crs(localitygeo.working_crs(layer))"

#: EPSG code of the British National Grid, the working CRS for Great Britain.
BRITISH_NATIONAL_GRID = "EPSG:27700"

# Longitude/latitude box of Great Britain (mainland and islands, generous).
_GB_BOUNDS = (-8.8, 49.7, 2.1, 61.0)


def parse_crs(
    value: Any,
    what: str = "crs",
    *,
    path: str | PathLike[str] | None = None,
    layer: str | None = None,
    projected: bool = False,
) -> CRS:
    """Return ``value`` as a :class:`pyproj.CRS`, or raise naming where it came from.

    Parameters
    ----------
    value : str, int or pyproj.CRS
        Anything :meth:`pyproj.CRS.from_user_input` takes (``"EPSG:27700"``,
        ``27700``, a WKT or PROJ string, a CRS).
    what : str, default "crs"
        How to name the value in the message (``"crs_in"``, ``"--crs"``).
    path, layer : optional
        The file and layer named in the message.
    projected : bool, default False
        Refuse a CRS that is not projected (degrees, or a geocentric CRS,
        cannot measure area): for a CRS to measure in.

    Returns
    -------
    pyproj.CRS
        The CRS.

    Raises
    ------
    CRSError
        pyproj does not know the CRS (``"EPSG:999999"``, ``"banana"``), the
        value is not of a kind that names one, or ``projected`` is asked for
        and the CRS is not projected.
    """
    from pyproj import CRS

    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    crs = value if isinstance(value, CRS) else _parsed(value, what, shown, path, layer)
    if projected and not crs.is_projected:
        kind = "geographic (in degrees)" if crs.is_geographic else "not projected"
        name = crs.to_string() if isinstance(value, CRS) else shown
        raise CRSError(
            f"{what} {name} is {kind}; areas are measured only in a projected CRS, "
            'such as "EPSG:27700"',
            path=path,
            layer=layer,
        )
    return crs


def _parsed(
    value: Any, what: str, shown: str, path: str | PathLike[str] | None, layer: str | None
) -> CRS:
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError

    if value is None or isinstance(value, bool) or value == "":
        raise CRSError(
            f'{what} must be a CRS such as "EPSG:27700", not {shown}', path=path, layer=layer
        )
    try:
        return CRS.from_user_input(value)
    except (ProjCRSError, TypeError, ValueError) as exc:
        reason = str(exc).rsplit("proj_create: ", 1)[-1].split(":")[0].strip(" )")
        raise CRSError(
            f'{what} {shown} is not a CRS pyproj knows ({reason}); give one such as "EPSG:27700"',
            path=path,
            layer=layer,
        ) from None


@renamed(gdf="layer")
def working_crs(layer: gpd.GeoDataFrame) -> CRS:
    """Return a projected CRS suitable for measuring ``layer``.

    The British National Grid (EPSG:27700) when the data lie within Great
    Britain, otherwise the UTM zone estimated from the data's centre.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Data with a CRS.

    Returns
    -------
    pyproj.CRS
        A projected CRS. ``layer`` itself is not changed.

    Raises
    ------
    CRSError
        If ``layer`` has no CRS.
    """
    from pyproj import CRS

    if layer.crs is None:
        raise CRSError("the data have no CRS; set one before choosing a working CRS")
    if len(layer) == 0:
        raise CRSError("cannot choose a working CRS for an empty layer")
    grid = gb_grid_for(layer.crs, layer.geometry.total_bounds)
    if grid is not None:
        return grid
    if not layer.crs.equals(CRS("OGC:CRS84")):
        lon_lat = layer.geometry.to_crs("OGC:CRS84").total_bounds
        if _in_gb(lon_lat):
            return CRS(BRITISH_NATIONAL_GRID)
    utm = layer.estimate_utm_crs()
    return CRS(utm)


def gb_grid_for(crs: CRS, bounds: np.ndarray) -> CRS | None:
    """Return the British National Grid if data of box ``bounds`` in ``crs`` lie in GB, else None.

    None also when the box alone cannot say (its corners do not transform):
    then :func:`working_crs` reprojects the data to see.
    """
    from pyproj import CRS

    if crs.equals(CRS("OGC:CRS84")):
        box: Any = bounds
    else:
        # the data's box in lon/lat holds the data: within Great Britain, so are
        # they (reprojecting every coordinate, only to be sure, cost 0.75 s for
        # England's output areas)
        box = _to_lon_lat_box(crs, bounds)
    return CRS(BRITISH_NATIONAL_GRID) if box is not None and _in_gb(box) else None


def _in_gb(lon_lat: Any) -> bool:
    gb_w, gb_s, gb_e, gb_n = _GB_BOUNDS
    west, south, east, north = (float(v) for v in lon_lat)
    return west >= gb_w and south >= gb_s and east <= gb_e and north <= gb_n


def _to_lon_lat_box(crs: CRS, bounds: np.ndarray) -> tuple[float, ...] | None:
    """Return a lon/lat box holding the box ``bounds`` in ``crs`` (its edges densified)."""
    from pyproj import Transformer
    from pyproj.exceptions import ProjError

    try:
        t = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)
        x0, y0, x1, y1 = (float(v) for v in bounds)
        box = t.transform_bounds(x0, y0, x1, y1, densify_pts=101)
    except (ProjError, ValueError):  # pyproj cannot: reproject the data instead
        return None
    return tuple(float(v) for v in box) if np.isfinite(box).all() else None


def ensure_projected(gdf: gpd.GeoDataFrame, what: str = "layer", *, fix: str | None = None) -> None:
    """Raise unless ``gdf`` is in a projected CRS.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The data to check.
    what : str, default "layer"
        How to name the data in the message.
    fix : str, optional
        What the caller can do, for the message. The default suits the
        functions that take ``crs=`` (they reproject when given one).

    Raises
    ------
    CRSError
        If the CRS is missing or geographic (degrees cannot measure area).
    """
    fix = PASS_CRS if fix is None else fix
    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS; areas cannot be measured", layer=None)
    if not gdf.crs.is_projected:
        raise CRSError(
            f"{what} is in geographic CRS {gdf.crs.to_string()}; areas are measured only in "
            f"a projected CRS: {fix}"
        )


def measure_in(
    crs: object,
    *frames: gpd.GeoDataFrame | None,
    threads: int | None = None,
    table: object = None,
) -> list[gpd.GeoDataFrame | None]:
    """Return ``frames`` reprojected to ``crs`` (new frames), or as they are when ``crs`` is None.

    What every measuring function's ``crs=`` does: reproject on request,
    never silently.

    Parameters
    ----------
    crs : CRS-like or None
        Anything :func:`parse_crs` reads.
    *frames : geopandas.GeoDataFrame or None
        The layers to measure; None passes through.
    threads : int, optional
        Threads for reprojecting.
    table : OverlapTable, optional
        The caller's already measured table, if any: a table is measured in
        one CRS, so it cannot come with ``crs``.

    Returns
    -------
    list
        The frames, in order.

    Raises
    ------
    DataError
        Both ``crs`` and ``table`` are given.
    CRSError
        ``crs`` is not a CRS, or not a projected one.
    """
    if crs is None:
        return list(frames)
    if table is not None:
        raise DataError("pass crs= or table=, not both: a table is measured in one CRS")
    from localitygeo.geometry.projection import to_crs
    from localitygeo.profiling import stage

    target = parse_crs(crs, projected=True)
    with stage("reproject"):
        return [None if f is None else to_crs(f, target, threads=threads) for f in frames]


def same_crs(
    a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, what: tuple[str, str], *, fix: str | None = None
) -> None:
    """Raise unless ``a`` and ``b`` share one CRS.

    Parameters
    ----------
    a, b : geopandas.GeoDataFrame
        The data to compare.
    what : tuple of str
        Names of ``a`` and ``b`` for the message.

    fix : str, optional
        What the caller can do, for the message (default: :data:`PASS_CRS`).

    Raises
    ------
    CRSError
        If the CRSs differ.
    """
    if a.crs is None or b.crs is None or not a.crs.equals(b.crs):
        sa = a.crs.to_string() if a.crs is not None else "none"
        sb = b.crs.to_string() if b.crs is not None else "none"
        raise CRSError(
            f"{what[0]} ({sa}) and {what[1]} ({sb}) are in different CRSs: "
            f"{PASS_CRS if fix is None else fix}"
        )
