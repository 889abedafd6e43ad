"""Why a layer could not be read, in words that name the file and the layer (internal).

Each check raises :class:`~localitygeo.errors.InputError` (or a subclass) with
the file, the layer inside it and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from localitygeo.errors import (
    GeometryError,
    InputError,
    format_codes,
)
from localitygeo.io.file_types import describe, zip_members

if TYPE_CHECKING:
    import geopandas as gpd

#: Geometry types a boundary layer may hold.
POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})

_FORMATS = "GeoJSON, GeoPackage, Shapefile or GeoParquet"

_JSON_SUFFIXES = {".geojson", ".json"}

__all__ = ["POLYGON_TYPES"]


def _check_layer_exists(p: Path, layer: str | int, where: str, kind: str) -> None:
    import pyogrio

    try:
        names = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
    except Exception as exc:
        raise InputError(_describe_read_error(p, exc, kind), path=p, layer=where) from exc
    if isinstance(layer, int):
        if not 0 <= layer < len(names):
            raise InputError(
                f"layer index {layer} out of range; the file has {len(names)} layer(s): "
                f"{', '.join(names)}",
                path=p,
            )
    elif layer not in names:
        raise InputError(
            f"no layer named '{layer}'; the file has: {', '.join(names)}", path=p, layer=where
        )


def _what(p: Path, kind: str) -> str:
    """Return what the file is, for messages: ``a ZIP archive holding a.csv, b.txt``."""
    if kind == "zip":
        members = zip_members(p)
        return f"a ZIP archive holding {format_codes(members) if members else 'nothing readable'}"
    return describe(kind)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _describe_read_error(p: Path, exc: Exception, kind: str) -> str:
    """Say why GDAL could not read ``p``, from what the file really is."""
    text = _first_line(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8"
    if "Too many nested" in text:
        return "is JSON nested too deeply to read (arrays or objects within each other)"
    if kind == "zip" and not any(m.lower().endswith(".shp") for m in zip_members(p)):
        return f"is {_what(p, kind)}, no Shapefile"
    if kind not in ("text", "zip", "sqlite", "shapefile", "folder"):
        return f"is {describe(kind)}, not a boundary layer that GDAL reads ({_FORMATS})"
    if kind == "text" and p.suffix.lower() in _JSON_SUFFIXES:
        try:
            with p.open(encoding="utf-8") as fh:
                json.load(fh)
        except json.JSONDecodeError as jexc:
            return f"not valid GeoJSON (truncated or corrupt: {jexc})"
        except RecursionError:
            return "is JSON nested too deeply to read (arrays or objects within each other)"
        except (OSError, UnicodeDecodeError):
            pass
    if "not recognized as" in text:
        return f"not a geographic file that GDAL can read ({_FORMATS})"
    return f"could not be read ({text})"


def _check_geometry_types(gdf: gpd.GeoDataFrame, p: Path, where: str) -> None:
    types = gdf.geometry.geom_type
    bad = types.notna() & ~types.isin(list(POLYGON_TYPES)) & ~gdf.geometry.is_empty
    if bad.any():
        kinds = sorted(set(types[bad]))
        codes = list(gdf.loc[bad.to_numpy(), "code"])
        raise GeometryError(
            f"{int(bad.sum())} feature(s) are {'/'.join(kinds)}, not polygons: "
            f"{format_codes(codes)}",
            path=p,
            layer=where,
            code=str(codes[0]) if codes else None,
        )
