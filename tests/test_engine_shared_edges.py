"""The area engine on layers that share edges exactly: exact shares, no rational arithmetic.

A layer built from another's blocks repeats their edges vertex for vertex, so
most candidate edge pairs have a vertex exactly on the other edge's line. Those
orientations are exactly zero and need no rationals; the engine used to
compute them with ``Fraction`` (1.2 s instead of 0.09 s for Plymouth's OAs
against LSOAs rebuilt from them).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localitygeo as lg
from localitygeo.geometry.engine import crossings, intersection_areas
from localitygeo.model.blocks import build_from_blocks

from .helpers import BNG


class Rationals:
    """Count the orientations the engine settles with exact rationals."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        exact = crossings._exact_signs

        def counted(*points: np.ndarray) -> np.ndarray:
            self.count += len(points[0])
            return exact(*points)

        monkeypatch.setattr(crossings, "_exact_signs", counted)


def triangles(n: int, jitter: float, seed: int) -> list[shapely.Polygon]:
    """A vertex-exact coverage of triangles: an n x n grid of jittered points, cells halved."""
    rng = np.random.default_rng(seed)
    pts = np.stack(np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij"), -1) * 100.0
    pts = pts + rng.uniform(-jitter, jitter, pts.shape) + (400000.0, 200000.0)
    out = []
    for i in range(n):
        for j in range(n):
            a, b, c, d = pts[i, j], pts[i + 1, j], pts[i + 1, j + 1], pts[i, j + 1]
            if (i + j) % 2:  # alternate the diagonals: no two are collinear
                out += [shapely.Polygon([a, b, c]), shapely.Polygon([a, c, d])]
            else:
                out += [shapely.Polygon([a, b, d]), shapely.Polygon([b, c, d])]
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 6),
    jitter=st.floats(1.0, 30.0),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_units_built_from_triangles_share_their_edges_cheaply(n, jitter, seed, data) -> None:
    tri = triangles(n, jitter, seed)
    labels = data.draw(st.lists(st.integers(0, 3), min_size=len(tri), max_size=len(tri)))
    blocks = gpd.GeoDataFrame(
        {"code": [f"T{i}" for i in range(len(tri))], "unit": [f"U{x}" for x in labels]},
        geometry=tri,
        crs=BNG,
    )
    units = build_from_blocks(
        blocks, "unit", pd.DataFrame({"code": sorted(set(blocks["unit"]))}), layer="unit"
    )
    a = np.asarray(blocks.geometry.array, dtype=object)
    b = np.asarray(units.geometry.array, dtype=object)
    with pytest.MonkeyPatch.context() as m:
        rationals = Rationals(m)
        i, j, area = intersection_areas(a, b, threads=1)
    assert rationals.count == 0
    expected = shapely.area(shapely.intersection(a[i], b[j]))
    assert np.abs(area - expected).max() <= 1e-9 * shapely.area(a[i]).max()
    # each triangle lies wholly in its unit and in no other
    got = pd.Series(area, index=pd.MultiIndex.from_arrays([i, j]))
    mine = units["code"].to_numpy()[j] == blocks["unit"].to_numpy()[i]
    assert np.allclose(got[mine].to_numpy(), shapely.area(a[i[mine]]), rtol=1e-12)
    assert np.abs(got[~mine].to_numpy()).max(initial=0) <= 1e-6


@pytest.mark.realdata
def test_plymouth_blocks_against_units_rebuilt_from_them(
    plymouth: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LSOAs rebuilt from OAs share the OAs' edges exactly; MSOAs rebuilt from
    # the LSOA file's own (cleaned: they are not vertex-exact) share most
    lsoa = lg.read_layer(plymouth / "lsoa_2011.geojson", "LSOA11CD", name="LSOA11NM").to_crs(BNG)
    oa = lg.read_layer(plymouth / "oa_2011.geojson", "OA11CD").to_crs(BNG)
    msoa = lg.read_layer(plymouth / "msoa_2011.geojson", "MSOA11CD", name="MSOA11NM").to_crs(BNG)
    lsoa["msoa"] = msoa.set_index("name")["code"].reindex(lsoa["name"].str[:-1]).to_numpy()
    by_oa = lg.BoundarySet.from_layers({"oa": oa, "lsoa": lsoa}).with_blocks("lsoa", "oa")
    by_lsoa = lg.BoundarySet.from_layers({"lsoa": lsoa, "msoa": msoa}).with_blocks("msoa", "lsoa")
    rationals = Rationals(monkeypatch)
    for bset, child, parent in ((by_oa, "oa", "lsoa"), (by_lsoa, "lsoa", "msoa")):
        c, p = bset[child], bset[parent]
        fit = lg.best_fit(c, p).set_index("child_code")
        # reference: a GEOS overlay of the repaired geometries, largest piece per child
        cg = shapely.make_valid(np.asarray(c.geometry.array, dtype=object))
        pg = np.asarray(p.geometry.array, dtype=object)
        ci, pj = shapely.STRtree(pg).query(cg, predicate="intersects")
        share = shapely.area(shapely.intersection(cg[ci], pg[pj])) / shapely.area(cg[ci])
        best = pd.Series(share).groupby(ci).max()
        codes = c["code"].to_numpy()[best.index]
        assert np.abs(fit.loc[codes, "share"].to_numpy() - best.to_numpy()).max() <= 1e-9
    assert rationals.count == 0
