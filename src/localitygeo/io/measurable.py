"""Layers read into one projected CRS, each step beside the next (``lookup``, manifests).

Reading, reprojecting and checking validity are the floor of a national job,
and one after the other they leave a core idle most of the time. Here a
layer's reprojection starts in a worker thread as soon as it is read, while
the next layer is read; and inside
:func:`localitygeo.geometry.validity.remembering`, each reprojected layer's
validity is checked in a worker too, and remembered, so that measuring
(which needs it) finds it known instead of checking again. pyarrow, GEOS and
PROJ release the GIL, so these steps run on two cores.

The frames are those that :func:`~localitygeo.io.layers.read_layer` followed
by :func:`localitygeo.geometry.projection.to_crs` give, whatever the
threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

    from localitygeo.geometry.validity import ValidityMemo
    from localitygeo.io.geoparquet import DecodedLayer

__all__ = ["read_beside", "read_measurable"]


def read_measurable(
    layers: Mapping[str, Mapping[str, Any]],
    *,
    crs: Any = None,
    threads: int | None = None,
) -> tuple[dict[str, gpd.GeoDataFrame], CRS]:
    """Read layers and reproject them to one projected CRS, overlapping the steps.

    Parameters
    ----------
    layers : mapping of str to mapping
        Each layer's name (for the profile) and the keyword arguments of
        :func:`~localitygeo.io.layers.read_layer` that read it (``path``,
        ``code`` and any others). Layers are read in this order.
    crs : CRS-like, optional
        The CRS to measure in. Without it, the first layer's data choose it
        (:func:`localitygeo.geometry.crs.working_crs`).
    threads : int, optional
        Threads for each reprojection (default: the number of CPUs, at most 4).

    Returns
    -------
    (frames, crs) : tuple
        The layers by name, in the order of ``layers``, each in ``crs``, and
        that CRS. A layer already in it is returned as read.

    Raises
    ------
    LocalityGeoError
        What :func:`~localitygeo.io.layers.read_layer` raises for the first
        layer that fails, or :func:`~localitygeo.geometry.crs.parse_crs` for
        ``crs`` (also a CRSError when ``crs`` is not projected).

    Notes
    -----
    Inside :func:`~localitygeo.geometry.validity.remembering`, the validity
    of every reprojected layer is still being checked in the background
    when this returns; the memo waits for it when asked.
    """
    from localitygeo.geometry.crs import parse_crs
    from localitygeo.io.geoparquet import read_decoded

    target = None if crs is None else parse_crs(crs, projected=True)

    def read(name: str) -> gpd.GeoDataFrame | DecodedLayer:
        return read_decoded(**layers[name])

    frames, target, _ = read_beside(list(layers), read, target, threads=threads)
    return frames, target


def read_beside(
    order: Sequence[str],
    read: Callable[[str], gpd.GeoDataFrame | DecodedLayer],
    crs: CRS | None,
    *,
    threads: int | None = None,
    check: Callable[[str, gpd.GeoDataFrame], None] | None = None,
    on_read_error: Callable[[], None] | None = None,
) -> tuple[dict[str, gpd.GeoDataFrame], CRS, dict[str, CRS]]:
    """Read layers in ``order``, each reprojected to ``crs`` in a worker while the next is read.

    What :func:`read_measurable` and :func:`~localitygeo.io.manifest.read_boundaries`
    share. ``read(name)`` reads one layer (a GeoDataFrame, or a
    :class:`~localitygeo.io.geoparquet.DecodedLayer` whose geometries are
    built once, in ``crs``, in the worker); without ``crs`` the first layer's
    data choose it. ``check(name, frame)`` is called on each reprojected
    layer, in its worker. If a read fails, the reprojections not yet started
    are cancelled and ``on_read_error()`` is called (to raise another error
    instead) before the error is raised again. Inside
    :func:`~localitygeo.geometry.validity.remembering`, each layer's validity
    is checked in the background, as :func:`read_measurable` says.

    Returns
    -------
    (frames, crs, moved) : tuple
        The layers by name, in ``order``, each in ``crs``; that CRS; and the
        CRS each reprojected layer was read in, by name.
    """
    from localitygeo.geometry.crs import working_crs
    from localitygeo.geometry.validity import current
    from localitygeo.io.geoparquet import DecodedLayer
    from localitygeo.profiling import stage

    target = crs
    memo = current()  # the caller's: worker threads have no context of their own
    pool = ThreadPoolExecutor(max_workers=2)
    read_in: dict[str, CRS] = {}
    jobs: dict[str, Future[gpd.GeoDataFrame]] = {}
    try:
        try:
            for name in order:
                with stage(f"read {name}"):
                    gdf = read(name)
                if target is None:
                    decoded = isinstance(gdf, DecodedLayer)
                    target = gdf.working_crs() if decoded else working_crs(gdf)
                read_in[name] = gdf.crs
                jobs[name] = pool.submit(_moved, name, gdf, target, threads, memo, pool, check)
        except BaseException:
            for job in jobs.values():
                job.cancel()
            if on_read_error is not None:
                on_read_error()
            raise
        with stage("reproject"):
            frames = {name: job.result() for name, job in jobs.items()}
    finally:
        pool.shutdown(wait=False)  # validity checks under way go on
    assert target is not None  # order is not empty, or crs was given
    moved = {k: c for k, c in read_in.items() if c is None or not c.equals(target)}
    return frames, target, moved


def _moved(
    name: str,
    gdf: gpd.GeoDataFrame | DecodedLayer,
    target: CRS,
    threads: int | None,
    memo: ValidityMemo | None,
    pool: ThreadPoolExecutor,
    check: Callable[[str, gpd.GeoDataFrame], None] | None,
) -> gpd.GeoDataFrame:
    """Reproject one layer (in a worker); have its validity checked next, if remembered."""
    from localitygeo.geometry.projection import to_crs
    from localitygeo.io.geoparquet import DecodedLayer
    from localitygeo.profiling import stage

    if isinstance(gdf, DecodedLayer):
        with stage(f"reproject {name}"):
            out = gdf.placed(target, threads=threads)
        if check is not None and not gdf.crs.equals(target):
            check(name, out)
    elif gdf.crs is not None and gdf.crs.equals(target):
        out = gdf
    else:
        with stage(f"reproject {name}"):
            out = to_crs(gdf, target, threads=threads)
        if check is not None:
            check(name, out)
    if memo is not None:
        geoms = np.asarray(out.geometry.array, dtype=object)
        memo.expect(geoms, pool.submit(_validity, name, geoms))
    return out


def _validity(name: str, geoms: np.ndarray) -> np.ndarray:
    import shapely

    from localitygeo.profiling import stage

    with stage(f"validity {name}"):
        return np.asarray(shapely.is_valid(geoms), dtype=bool)
