"""The page's compact text for integer arcs, and reading it back.

Arcs are quantised integer coordinates, delta-encoded and written as
variable-length base-64 digits (:func:`encode_ints`); :func:`decode` turns a
page's arcs and one layer's rings back into shapely polygons, as the page's
JavaScript decoder does, so tests can check what a browser will draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

__all__ = ["DIGITS", "decode", "decode_ints", "encode_ints"]


#: The 64 characters of the integer text: the first 32 end a number, the others continue it.
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


_DIGIT_CODES = np.frombuffer(DIGITS.encode("ascii"), dtype=np.uint8)


_VALUE_OF = {c: i for i, c in enumerate(DIGITS)}


def encode_ints(values: Any) -> str:
    """Return integers as text: zigzag-signed, five bits a character, low bits first.

    Parameters
    ----------
    values : array-like of int
        Integers of magnitude below 2**62.

    Returns
    -------
    str
        Characters of :data:`DIGITS` only.
    """
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size == 0:
        return ""
    z = np.where(v >= 0, v.astype(np.uint64) << np.uint64(1), ((-v - 1).astype(np.uint64) << 1) + 1)
    bits = np.zeros(z.shape, dtype=np.int64)
    rest = z.copy()
    while rest.any():
        bits += rest > 0
        rest >>= np.uint64(5)
    chunks = np.maximum(bits, 1)
    total = int(chunks.sum())
    starts = np.concatenate([[0], np.cumsum(chunks)[:-1]])
    owner = np.repeat(np.arange(z.size), chunks)
    position = np.arange(total) - starts[owner]
    digit = (z[owner] >> (np.uint64(5) * position.astype(np.uint64))) & np.uint64(31)
    more = position < chunks[owner] - 1
    codes = _DIGIT_CODES[digit.astype(np.int64) + 32 * more]
    return codes.tobytes().decode("ascii")


def decode_ints(text: str) -> list[int]:
    """Return the integers written by :func:`encode_ints`.

    Raises
    ------
    ValueError
        A character outside :data:`DIGITS`, or text ending inside a number.
    """
    out: list[int] = []
    value = shift = 0
    for ch in text:
        d = _VALUE_OF[ch] if ch in _VALUE_OF else -1
        if d < 0:
            raise ValueError(f"not an encoded integer character: {ch!r}")
        value += (d & 31) << shift
        if d < 32:
            out.append(value >> 1 if value % 2 == 0 else -((value + 1) >> 1))
            value = shift = 0
        else:
            shift += 5
    if shift:
        raise ValueError("encoded integers end inside a number")
    return out


def _arc_points(arcs: list[np.ndarray], transform: tuple[float, ...]) -> list[np.ndarray]:
    x0, y0, kx, ky = transform
    return [np.column_stack([x0 + a[:, 0] * kx, y0 + a[:, 1] * ky]) for a in arcs]


def _lines(points: list[np.ndarray]) -> np.ndarray:
    """Return arcs' points as an array of linestrings (vectorised)."""
    if not points:
        return np.zeros(0, dtype=object)
    owner = np.repeat(np.arange(len(points)), [len(p) for p in points])
    return np.asarray(shapely.linestrings(np.vstack(points), indices=owner), dtype=object)


def _ring(refs: list[int], points: list[np.ndarray]) -> np.ndarray:
    parts = [points[r] if r >= 0 else points[-1 - r][::-1] for r in refs]
    return np.vstack([parts[0], *(p[1:] for p in parts[1:])])


def decode(page_arcs: dict[str, Any], layer: dict[str, Any]) -> list[Any]:
    """Return a layer of the page as shapely geometries in longitude/latitude.

    Parameters
    ----------
    page_arcs : dict
        The map's ``arcs`` (from :meth:`Topology.page_arcs`).
    layer : dict
        A layer with ``shapes`` (units: a list of (multi)polygons) or
        ``lines`` (an outline: one multilinestring).

    Returns
    -------
    list of shapely.Geometry
    """
    ints = decode_ints(page_arcs["arcs"])
    arcs: list[np.ndarray] = []
    i = 0
    while i < len(ints):
        n = ints[i]
        a = np.cumsum(np.asarray(ints[i + 1 : i + 1 + 2 * n], dtype=np.int64).reshape(n, 2), 0)
        arcs.append(a)
        i += 1 + 2 * n
    points = _arc_points(arcs, tuple(page_arcs["transform"]))
    if "lines" in layer:
        ids = np.cumsum(decode_ints(layer["lines"])[1:])
        return [shapely.multilinestrings(_lines([points[j] for j in ids]))]
    vals = decode_ints(layer["shapes"])
    at = 0

    def take() -> int:
        nonlocal at
        at += 1
        return vals[at - 1]

    units = []
    while at < len(vals):
        polygons = []
        for _ in range(take()):
            rings = [_ring([take() for _ in range(take())], points) for _ in range(take())]
            polygons.append(shapely.Polygon(rings[0], rings[1:]))
        units.append(polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons))
    return units
