"""A CRS's area of use, in longitude/latitude and in the CRS's own coordinates.

What :mod:`localitygeo.io.coordinates` compares a layer's coordinates with:
pyproj's ``area_of_use``, transformed into the CRS and widened by its own
size on every side (the coordinates of a layer with a right but unusual
label may lie somewhat outside it). Cached by the CRS's WKT.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pyproj import CRS

__all__ = ["GEOGRAPHIC", "area_box", "area_name", "degrees_box", "widen"]

# longitudes (up to 360, as some files have) and latitudes
GEOGRAPHIC = (-180.0, -90.0, 360.0, 90.0)


def widen(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Return ``box`` widened by its larger side on every side."""
    w, s, e, n = box
    pad = max(e - w, n - s)
    return (w - pad, s - pad, e + pad, n + pad)


@lru_cache(maxsize=64)
def area_box(wkt: str) -> tuple[float, float, float, float] | None:
    """Return the CRS's area of use in its own coordinates, widened by its size, or None."""
    from pyproj import CRS, Transformer

    crs = CRS.from_wkt(wkt)
    degrees = degrees_box(wkt)
    if degrees is None:
        return None
    if crs.is_geographic:
        w, s, e, n = degrees
    else:
        try:
            t = Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
            w, s, e, n = t.transform_bounds(*degrees, densify_pts=21)
        except Exception:  # pragma: no cover - pyproj cannot transform its own area
            return None
    if not np.isfinite([w, s, e, n]).all() or e <= w or n <= s:
        return None
    box = widen((w, s, e, n))
    if crs.is_geographic:
        gw, gs, ge, gn = GEOGRAPHIC
        box = (max(box[0], gw), max(box[1], gs), min(box[2], ge), min(box[3], gn))
    return box


@lru_cache(maxsize=64)
def degrees_box(wkt: str) -> tuple[float, float, float, float] | None:
    """Return the CRS's area of use in longitude/latitude, or None if it has none."""
    from pyproj import CRS

    area = CRS.from_wkt(wkt).area_of_use
    if area is None:
        return None
    w, s, e, n = area.bounds
    if e < w:  # crosses the antimeridian
        w, e = -180.0, 180.0
    return (float(w), float(s), float(e), float(n))


def area_name(crs: CRS) -> str:
    """Return the name of the CRS's area of use, for messages (at most 60 characters)."""
    area = crs.area_of_use
    text = area.name if area is not None else "its area of use"
    return text if len(text) <= 60 else text[:57] + "..."
