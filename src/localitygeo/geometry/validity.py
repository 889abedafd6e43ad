"""Validity already checked, remembered for the rest of one job.

``validate`` checks every layer's validity for its geometry rules, and its
nesting rules measure the same layers again, which checks validity again
(``shapely.is_valid`` of England's four layers: about 1 CPU s). Inside
:func:`remembering`, validity checked once is known by the geometry objects
themselves (shapely geometries are immutable): :func:`known_validity`
returns it for any array holding the same objects, in any order or subset.
A check under way in another thread can be announced with
:meth:`ValidityMemo.expect`: asking then waits for it instead of checking
again (how ``lookup`` checks each layer while the next is read). Outside
it, nothing is remembered.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextvars import ContextVar

import numpy as np
import pandas as pd

__all__ = ["ValidityMemo", "current", "known_validity", "remembering"]


class ValidityMemo:
    """Validity of geometry objects, by the objects' identity (kept alive here)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._geoms: list[np.ndarray] = []  # holds the objects: their ids stay theirs
        self._valid: list[np.ndarray] = []
        self._index: tuple[pd.Index, np.ndarray] | None = None
        self._pending: list[tuple[np.ndarray, Future[np.ndarray]]] = []

    def expect(self, geoms: np.ndarray, validity: Future[np.ndarray]) -> None:
        """Remember the validity of ``geoms`` that ``validity`` (a check under way) will give.

        A :meth:`lookup` waits for every check it has been told to expect, so
        that a layer checked in the background is not checked twice.
        """
        with self._lock:
            self._pending.append((np.asarray(geoms, dtype=object).copy(), validity))

    def add(self, geoms: np.ndarray, valid: np.ndarray) -> None:
        """Remember ``valid[i]`` as the validity of the object ``geoms[i]``."""
        with self._lock:
            self._geoms.append(np.asarray(geoms, dtype=object).copy())
            self._valid.append(np.asarray(valid, dtype=bool).copy())
            self._index = None

    def lookup(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (known, valid) for each of ``geoms``: whether it is known, and if so valid."""
        with self._lock:
            pending, self._pending = self._pending, []
        for expected, validity in pending:  # outside the lock: the checks may take a while
            try:
                valid = validity.result()
            except Exception:  # unknown then: whoever asks checks again
                continue
            self.add(expected, valid)
        with self._lock:
            if self._index is None:
                if not self._geoms:
                    none = np.zeros(len(geoms), dtype=bool)
                    return none, none.copy()
                ids = np.concatenate([_ids(g) for g in self._geoms])
                index = pd.Index(ids)
                keep = ~index.duplicated(keep="last")
                self._index = (index[keep], np.concatenate(self._valid)[keep])
            index, valid = self._index
        at = index.get_indexer(_ids(geoms))
        known = at >= 0
        out = np.zeros(len(geoms), dtype=bool)
        out[known] = valid[at[known]]
        return known, out


def _ids(geoms: np.ndarray) -> np.ndarray:
    return np.fromiter(map(id, geoms), dtype=np.int64, count=len(geoms))


_CURRENT: ContextVar[ValidityMemo | None] = ContextVar("localitygeo_validity", default=None)


def current() -> ValidityMemo | None:
    """Return the memo of the enclosing :func:`remembering` block, if any (this thread's)."""
    return _CURRENT.get()


@contextlib.contextmanager
def remembering() -> Iterator[ValidityMemo]:
    """Remember validity checked within the block (a new memo, or the enclosing one)."""
    memo = _CURRENT.get()
    if memo is not None:
        yield memo
        return
    memo = ValidityMemo()
    token = _CURRENT.set(memo)
    try:
        yield memo
    finally:
        _CURRENT.reset(token)


def known_validity(
    geoms: np.ndarray,
    check: Callable[[np.ndarray], np.ndarray],
    memo: ValidityMemo | None,
) -> np.ndarray:
    """Return ``shapely.is_valid`` of ``geoms``, checking only what ``memo`` does not know.

    ``check`` is the function that checks an array (``shapely.is_valid``, or
    it spread over threads); what it finds is remembered in ``memo``.
    """
    if memo is None:
        return np.asarray(check(geoms), dtype=bool)
    known, valid = memo.lookup(geoms)
    todo = np.flatnonzero(~known)
    if len(todo):
        found = np.asarray(check(geoms[todo]), dtype=bool)
        valid[todo] = found
        memo.add(geoms[todo], found)
    return valid
