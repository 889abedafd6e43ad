"""Sorting and set operations on arrays of integer keys (pair ids, cell ids)."""

from __future__ import annotations

import numpy as np

from localitygeo.geometry.engine.types import Array

__all__ = [
    "member",
    "morton",
    "next_in_group",
    "stable_argsort",
    "unique",
    "unique_inverse",
    "without",
]


def unique(key: Array) -> Array:
    """Sorted unique values (sort-based; numpy's hash-based unique is slower here)."""
    k = np.sort(key)
    keep = np.ones(len(k), bool)
    keep[1:] = k[1:] != k[:-1]
    return k[keep]


def unique_inverse(key: Array) -> tuple[Array, Array]:
    """Sorted unique values of non-negative int64 keys and the index of each key."""
    o = stable_argsort(key)
    k = key[o]
    new = np.ones(len(k), bool)
    new[1:] = k[1:] != k[:-1]
    inv = np.empty(len(k), np.int64)
    inv[o] = np.cumsum(new) - 1
    return k[new], inv


def stable_argsort(key: Array) -> Array:
    """Stable argsort of non-negative int64 keys (packs key and position: fast)."""
    n = len(key)
    shift = max(n - 1, 1).bit_length()
    if n and int(key.max()) < (1 << (62 - shift)):
        packed = np.sort((key << shift) | np.arange(n))
        return packed & ((1 << shift) - 1)
    return np.argsort(key, kind="stable")


def member(key: Array, sorted_set: Array) -> Array:
    """Tell whether each key is in ``sorted_set`` (sorted)."""
    if len(sorted_set) == 0:
        return np.zeros(len(key), bool)
    at = np.minimum(np.searchsorted(sorted_set, key), len(sorted_set) - 1)
    return sorted_set[at] == key


def without(key: Array, exclude: Array, *arrays: Array) -> tuple[Array, ...]:
    """Drop the rows whose key is in ``exclude`` (sorted)."""
    keep = np.flatnonzero(~member(key, exclude))
    return tuple(a[keep] for a in arrays)


def morton(bounds: Array) -> Array:
    """Z-order code of box centres, to cut a layer into compact chunks."""
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2

    def spread(v: Array) -> Array:
        lo, hi = v.min(), v.max()
        q = ((v - lo) / max(hi - lo, 1e-300) * 65535).astype(np.uint64)
        q = (q | (q << np.uint64(8))) & np.uint64(0x00FF00FF)
        q = (q | (q << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        q = (q | (q << np.uint64(2))) & np.uint64(0x33333333)
        return (q | (q << np.uint64(1))) & np.uint64(0x55555555)

    return spread(cx) | (spread(cy) << np.uint64(1))


def next_in_group(grp: Array) -> Array:
    """Index of the next element of the same group, cyclically (grp sorted)."""
    n = len(grp)
    nxt = np.arange(1, n + 1)
    if n == 0:
        return nxt
    last = np.ones(n, bool)
    last[:-1] = grp[1:] != grp[:-1]
    first = np.ones(n, bool)
    first[1:] = last[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    nxt[last] = start[last]
    return nxt
