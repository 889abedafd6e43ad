"""A fictional example city, generated deterministically.

"Eastmouth" is shaped like Plymouth's arrangement before its 2011 review:
about 800 small areas (output-area-like, with population and a
deprivation-like indicator), 20 wards, 43 neighbourhoods built from small
areas (several straddling ward boundaries) and 6 localities built from
neighbourhoods. Every name and code is invented.

Regenerate the committed copy with::

    localitygeo example boundaries/example-city
    # or: python -m localitygeo.io.example_files boundaries/example-city

The same seed writes byte-identical files.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["build_example_city"]

CRS = "EPSG:27700"
_CENTRE = (250_000.0, 60_000.0)
_N_WARDS, _N_LOCALITIES = 20, 6
_STRADDLES = 8
_WARD_NAMES = [
    "Ashcombe",
    "Brinmoor",
    "Calder Quay",
    "Dunholt",
    "Elmstead",
    "Fernleigh",
    "Gallowhill",
    "Harrowgate Cross",
    "Ivybridge Row",
    "Juniper Vale",
    "Kestrel Down",
    "Larkspur",
    "Millbrook",
    "Northwick",
    "Orchard Hey",
    "Pennycross Rise",
    "Quarry Bank",
    "Redcliffe",
    "Saltash Reach",
    "Thornbury",
]
_LOCALITY_NAMES = ["Waterfront", "North", "East", "West", "Moorside", "Central"]


def _outline() -> shapely.Polygon:
    """Return an irregular city outline with an estuary cut into its south side."""
    t = np.linspace(0, 2 * np.pi, 73)[:-1]
    r = 5200 + 700 * np.sin(3 * t) + 400 * np.cos(5 * t + 1.0)
    x, y = _CENTRE[0] + r * np.cos(t) * 1.15, _CENTRE[1] + r * np.sin(t)
    land = shapely.Polygon(np.column_stack([x, y]).round(1))
    estuary = shapely.Polygon(
        [
            (_CENTRE[0] - 600, _CENTRE[1] - 7000),
            (_CENTRE[0] + 500, _CENTRE[1] - 7000),
            (_CENTRE[0] + 250, _CENTRE[1] - 1800),
            (_CENTRE[0] - 150, _CENTRE[1] - 1500),
        ]
    )
    city = shapely.set_precision(land.difference(estuary), 0.1)
    assert isinstance(city, shapely.Polygon)
    return city


def _small_areas(rng: np.random.Generator, outline: shapely.Polygon) -> np.ndarray:
    xmin, ymin, xmax, ymax = outline.bounds
    step = 330.0
    gx, gy = np.meshgrid(np.arange(xmin, xmax, step), np.arange(ymin, ymax, step))
    pts = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-120, 120, (gx.size, 2))
    inside = shapely.contains_xy(outline, pts[:, 0], pts[:, 1])
    seeds = shapely.multipoints(pts[inside])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline.buffer(2000)))
    cells = shapely.set_precision(cells, 0.1)
    clipped = shapely.set_precision(shapely.intersection(cells, outline), 0.1)
    # Keep one polygon per cell (drop slivers clipping may cut off).
    parts, idx = shapely.get_parts(clipped, return_index=True)
    area = shapely.area(parts)
    frame = pd.DataFrame({"idx": idx, "area": area})
    keep = frame.sort_values(["idx", "area"], ascending=[True, False]).drop_duplicates("idx")
    polys = parts[keep.index.to_numpy()]
    polys = polys[shapely.area(polys) > 5000]
    order = np.lexsort(
        (
            shapely.get_x(shapely.centroid(polys)).round(1),
            -shapely.get_y(shapely.centroid(polys)).round(1),
        )
    )
    return polys[order]


def _nearest_seed(points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    d = ((points[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1)


def _spread_seeds(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return k well-spread seeds: farthest-point sampling from a random start."""
    chosen = [int(rng.integers(len(points)))]
    dist = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(k - 1):
        nxt = int(dist.argmax())
        chosen.append(nxt)
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(axis=1))
    return points[chosen]


def _adjacency(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tree = shapely.STRtree(polys)
    a, b = tree.query(polys, predicate="intersects")
    keep = a != b
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(polys[a], polys[b]))
    return a[shared > 1], b[shared > 1]


def _connected(members: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether small areas ``members`` form one connected piece."""
    mset = set(members.tolist())
    if not mset:
        return False
    nbrs: dict[int, list[int]] = {}
    for u, v in zip(a.tolist(), b.tolist(), strict=True):
        if u in mset and v in mset:
            nbrs.setdefault(u, []).append(v)
    start = min(mset)
    seen, todo = {start}, [start]
    while todo:
        for v in nbrs.get(todo.pop(), []):
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return len(seen) == len(mset)


def build_example_city(seed: int = 2011) -> dict[str, gpd.GeoDataFrame]:
    """Build the example city's layers in memory.

    Parameters
    ----------
    seed : int, default 2011
        Seed of the random generator; the same seed gives the same city.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``small_area``, ``ward``, ``neighbourhood`` and ``locality`` layers in
        EPSG:27700. Small areas carry ``population``, ``imd_score``,
        ``imd_rank`` and the codes of their ``neighbourhood`` and ``ward``;
        neighbourhoods carry their ``locality``.
    """
    rng = np.random.default_rng(seed)
    outline = _outline()
    polys = _small_areas(rng, outline)
    n = len(polys)
    cent = np.column_stack(
        [shapely.get_x(shapely.centroid(polys)), shapely.get_y(shapely.centroid(polys))]
    )
    a, b = _adjacency(polys)

    ward = _nearest_seed(cent, _spread_seeds(cent, _N_WARDS, rng))
    # Two or three neighbourhoods per ward (17 x 2 + 3 x 3 = 43), nested in wards.
    nbhd = np.zeros(n, dtype=int)
    next_id = 0
    for w in range(_N_WARDS):
        members = np.flatnonzero(ward == w)
        k = 3 if w < 3 else 2
        local = _nearest_seed(cent[members], _spread_seeds(cent[members], k, rng))
        nbhd[members] = next_id + local
        next_id += k
    # Straddles: neighbourhoods drawn before the ward review take in small areas
    # across a ward boundary.
    moved = 0
    for u, v in zip(*_shuffle_pairs(a, b, rng), strict=True):
        if moved >= _STRADDLES:
            break
        if ward[u] == ward[v]:
            continue
        donor, taker = nbhd[v], nbhd[u]
        if len(set(ward[nbhd == taker])) > 1:
            continue  # one straddle per neighbourhood
        grab = np.flatnonzero((nbhd == donor) & (((cent - cent[v]) ** 2).sum(axis=1) < 500**2))
        rest = np.setdiff1d(np.flatnonzero(nbhd == donor), grab)
        trial = np.concatenate([np.flatnonzero(nbhd == taker), grab])
        if len(rest) < 4 or not _connected(rest, a, b) or not _connected(trial, a, b):
            continue
        nbhd[grab] = taker
        moved += 1

    nb_cent = np.array([cent[nbhd == k].mean(axis=0) for k in range(next_id)])
    locality = _nearest_seed(nb_cent, _spread_seeds(nb_cent, _N_LOCALITIES, rng))

    dock = np.array([_CENTRE[0], _CENTRE[1] - 1800])
    dist = np.sqrt(((cent - dock) ** 2).sum(axis=1))
    score = np.round(55 * np.exp(-dist / 2500) + 6 + rng.gamma(2.0, 3.0, n), 2)
    rank = (32844 * (1 - pd.Series(score).rank(pct=True)) * 0.9 + 300).round().astype(int)
    population = rng.integers(110, 390, n)

    sa_codes = np.array([f"EXA{i + 1:04d}" for i in range(n)])
    ward_codes = np.array([f"EXW{i + 1:02d}" for i in range(_N_WARDS)])
    nb_codes = np.array([f"EXN{i + 1:02d}" for i in range(next_id)])
    loc_codes = np.array([f"EXL{i + 1}" for i in range(_N_LOCALITIES)])
    small = gpd.GeoDataFrame(
        {
            "code": sa_codes,
            "population": population,
            "imd_score": score,
            "imd_rank": rank.to_numpy(),
            "neighbourhood": nb_codes[nbhd],
            "ward": ward_codes[ward],
        },
        geometry=polys,
        crs=CRS,
    )
    return {
        "small_area": small,
        "ward": _dissolve(polys, ward, ward_codes, np.array(_WARD_NAMES)),
        "neighbourhood": _dissolve(
            polys,
            nbhd,
            nb_codes,
            np.array([f"{_WARD_NAMES[w % _N_WARDS]} {s}" for w, s in _nb_suffixes(ward, nbhd)]),
            locality=loc_codes[locality],
        ),
        "locality": _dissolve(polys, locality[nbhd], loc_codes, np.array(_LOCALITY_NAMES)),
    }


def _shuffle_pairs(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple:
    order = rng.permutation(len(a))
    return a[order], b[order]


def _nb_suffixes(ward: np.ndarray, nbhd: np.ndarray) -> list[tuple[int, str]]:
    """Name each neighbourhood after the ward most of it started in."""
    out = []
    counts: dict[int, int] = {}
    for k in range(nbhd.max() + 1):
        w = int(np.bincount(ward[nbhd == k]).argmax())
        counts[w] = counts.get(w, 0) + 1
        out.append((w, ["North", "South", "Green"][counts[w] - 1]))
    return out


def _dissolve(
    polys: np.ndarray, group: np.ndarray, codes: np.ndarray, names: np.ndarray, **extra: object
) -> gpd.GeoDataFrame:
    geoms = [
        shapely.set_precision(shapely.coverage_union_all(polys[group == k]), 0.1)
        for k in range(len(codes))
    ]
    return gpd.GeoDataFrame({"code": codes, "name": names, **extra}, geometry=geoms, crs=CRS)
