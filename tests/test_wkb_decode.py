"""WKB decoded into coordinate arrays gives what ``shapely.from_wkb`` gives, or nothing.

:func:`localitygeo.io.wkb_decode.decode_polygons` must decode exactly what it
decodes (the same coordinates, rings, parts and types as GEOS, bit for bit)
and refuse (None) everything else, including hostile bytes, without raising,
reading out of bounds or looping.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localitygeo.io.wkb_decode import decode_polygons


def _column(geoms, *, large=False, chunks=1):
    wkb = [None if g is None else shapely.to_wkb(g) for g in geoms]
    kind = pa.large_binary() if large else pa.binary()
    if chunks == 1:
        return pa.array(wkb, type=kind)
    cut = np.array_split(np.arange(len(wkb)), chunks)
    return pa.chunked_array([pa.array([wkb[i] for i in c], type=kind) for c in cut], type=kind)


def _same(decoded, geoms):
    got = decoded.geometries()
    want = np.asarray(geoms, dtype=object)
    assert len(got) == len(want)
    assert shapely.equals_identical(got, want).all()
    assert np.array_equal(shapely.get_type_id(got), shapely.get_type_id(want))
    assert np.array_equal(
        shapely.get_coordinates(got).view(np.uint64), shapely.get_coordinates(want).view(np.uint64)
    )
    assert np.array_equal(decoded.bounds(), shapely.bounds(want))


@st.composite
def polygon(draw):
    """A star-shaped shell around a random centre, maybe with a hole (valid or not)."""
    cx = draw(st.floats(-180, 180, allow_nan=False))
    cy = draw(st.floats(-90, 90, allow_nan=False))
    n = draw(st.integers(3, 9))
    radii = draw(st.lists(st.floats(0.01, 2.0), min_size=n, max_size=n))
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    shell = np.column_stack([cx + np.cos(angles) * radii, cy + np.sin(angles) * radii])
    holes = []
    if draw(st.booleans()):
        r = min(radii) / 4
        # a hole inside, or (an invalid polygon) off to one side: bounds come from the shell
        dx = draw(st.sampled_from([0.0, 5.0]))
        holes.append([(cx + dx + r, cy), (cx + dx, cy + r), (cx + dx - r, cy), (cx + dx, cy - r)])
    return shapely.Polygon(shell, holes)


features = st.lists(
    st.one_of(
        polygon(),
        st.lists(polygon(), min_size=1, max_size=4).map(shapely.MultiPolygon),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(features, st.booleans(), st.integers(1, 3))
def test_decoded_polygons_are_from_wkb_bit_for_bit(geoms, large, chunks):
    chunks = min(chunks, len(geoms))
    decoded = decode_polygons(_column(geoms, large=large, chunks=chunks))
    assert decoded is not None
    _same(decoded, geoms)


@settings(max_examples=60, deadline=None)
@given(features, st.data())
def test_rows_cut_anywhere_give_those_features(geoms, data):
    decoded = decode_polygons(_column(geoms))
    assert decoded is not None
    lo = data.draw(st.integers(0, len(geoms) - 1))
    hi = data.draw(st.integers(lo + 1, len(geoms)))
    _same(decoded.rows(lo, hi), geoms[lo:hi])


def test_a_sliced_column_is_decoded_from_its_own_offset():
    geoms = [shapely.box(i, 0, i + 1, 1) for i in range(6)]
    column = _column(geoms).slice(2, 3)
    decoded = decode_polygons(column)
    assert decoded is not None
    _same(decoded, geoms[2:5])


def test_real_national_wkb_is_decoded_as_geos_decodes_it(shared_data: Path):
    # Copeland's real output areas and LSOAs, as the national file stores them
    for name in ("oa_2011.parquet", "lsoa_2011.parquet"):
        table = pq.read_table(
            shared_data / "england" / name, filters=[("LAD_CD", "==", "E07000029")]
        )
        column = table.column("geometry")
        decoded = decode_polygons(column)
        assert decoded is not None
        _same(decoded, shapely.from_wkb(np.asarray(column.to_pylist(), dtype=object)))


def _polygon_bytes(rings, *, kind=3, order=1):
    fmt = "<" if order == 1 else ">"
    out = struct.pack(f"{fmt}BII", order, kind, len(rings))
    for ring in rings:
        out += struct.pack(f"{fmt}I", len(ring))
        for x, y in ring:
            out += struct.pack(f"{fmt}dd", x, y)
    return out


_SQUARE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]

REFUSED = {
    "a null": None,
    "a point": shapely.to_wkb(shapely.Point(1, 2)),
    "a line": shapely.to_wkb(shapely.LineString([(0, 0), (1, 1)])),
    "a collection": shapely.to_wkb(shapely.GeometryCollection([shapely.box(0, 0, 1, 1)])),
    "a polygon with Z": shapely.to_wkb(shapely.Polygon([(*p, 5.0) for p in _SQUARE])),
    "a polygon with Z, EWKB": shapely.to_wkb(
        shapely.Polygon([(*p, 5.0) for p in _SQUARE]), flavor="extended"
    ),
    "a polygon with an SRID": shapely.to_wkb(
        shapely.set_srid(shapely.box(0, 0, 1, 1), 27700), include_srid=True
    ),
    "big-endian": shapely.to_wkb(shapely.box(0, 0, 1, 1), byte_order=0),
    "an empty polygon": shapely.to_wkb(shapely.Polygon()),
    "an empty multipolygon": shapely.to_wkb(shapely.MultiPolygon()),
    "a NaN coordinate": _polygon_bytes([[(0.0, 0.0), (np.nan, 0.0), (1.0, 1.0), (0.0, 0.0)]]),
    "an infinite coordinate": _polygon_bytes([[(0.0, 0.0), (np.inf, 0.0), (1, 1), (0.0, 0.0)]]),
    "a ring of three points": _polygon_bytes([[(0.0, 0.0), (1.0, 0.0), (0.0, 0.0)]]),
    "a ring not closed": _polygon_bytes([[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]]),
    "bytes left over": _polygon_bytes([_SQUARE]) + b"\x00",
    "truncated": _polygon_bytes([_SQUARE])[:-3],
    "a ring count far beyond the bytes": _polygon_bytes([_SQUARE])[:5]
    + struct.pack("<I", 2**32 - 1)
    + _polygon_bytes([_SQUARE])[9:],
    "a point count far beyond the bytes": _polygon_bytes([_SQUARE])[:9]
    + struct.pack("<I", 2**31)
    + _polygon_bytes([_SQUARE])[13:],
    "a part count far beyond the bytes": struct.pack("<BII", 1, 6, 2**32 - 1)
    + _polygon_bytes([_SQUARE]),
    "a multipolygon holding a line": struct.pack("<BII", 1, 6, 1)
    + shapely.to_wkb(shapely.LineString([(0, 0), (1, 1), (2, 2), (0, 0), (0, 0)])),
    "a multipolygon with a big-endian part": struct.pack("<BII", 1, 6, 1)
    + _polygon_bytes([_SQUARE], order=0),
    "nothing": b"",
}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_what_it_cannot_decode_exactly_is_refused(what):
    good = shapely.to_wkb(shapely.box(5, 5, 6, 6))
    for rows in ([REFUSED[what]], [good, REFUSED[what], good]):
        assert decode_polygons(pa.array(rows, type=pa.binary())) is None


def test_a_column_that_is_not_binary_is_refused():
    assert decode_polygons(pa.array(["POLYGON ((0 0, 1 0, 1 1, 0 0))"])) is None


@settings(max_examples=300, deadline=None)
@given(features, st.data())
def test_hostile_bytes_are_refused_or_decoded_as_geos_decodes_them(geoms, data):
    """Corrupt one to eight bytes anywhere: never an exception, never a different answer."""
    blob = bytearray(shapely.to_wkb(geoms[0]))
    for _ in range(data.draw(st.integers(1, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    decoded = decode_polygons(pa.array([bytes(blob)], type=pa.binary()))
    if decoded is None:
        return
    # what it decoded, GEOS decodes to the same
    _same(decoded, [shapely.from_wkb(bytes(blob))])
