"""Validity checked once in a job is not checked again, and is always right.

The memo (``localitygeo.geometry.validity``) knows geometries by identity:
these tests count the calls of the checking function, reorder and subset
the arrays asked about, and check that validate's nesting rules reuse what
its layer rules checked.
"""

from __future__ import annotations

import numpy as np
import shapely

from localitygeo.geometry import validity
from localitygeo.geometry.validity import ValidityMemo, known_validity, remembering


def _layer() -> np.ndarray:
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(2, 8)]
    return np.array([bowtie, *boxes, shapely.Polygon([(9, 0), (10, 1), (10, 0), (9, 1)])])


def _counting():
    calls: list[int] = []

    def check(x: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        return shapely.is_valid(x)

    return check, calls


def test_known_objects_are_not_checked_again_in_any_order():
    g = _layer()
    memo = ValidityMemo()
    check, calls = _counting()
    first = known_validity(g, check, memo)
    np.testing.assert_array_equal(first, shapely.is_valid(g))
    order = np.random.default_rng(0).permutation(len(g))
    again = known_validity(g[order][2:], check, memo)
    np.testing.assert_array_equal(again, shapely.is_valid(g[order][2:]))
    assert calls == [len(g)]


def test_only_new_objects_are_checked():
    g = _layer()
    memo = ValidityMemo()
    check, calls = _counting()
    known_validity(g[:4], check, memo)
    # equal geometries that are other objects are checked: identity, not equality
    fresh = shapely.from_wkb(shapely.to_wkb(g[4:]))
    got = known_validity(np.concatenate([g[:4], fresh]), check, memo)
    np.testing.assert_array_equal(got, shapely.is_valid(g))
    assert calls == [4, len(g) - 4]


def test_nothing_is_remembered_outside_a_block():
    g = _layer()
    check, calls = _counting()
    assert validity.current() is None
    with remembering() as memo:
        assert validity.current() is memo
        with remembering() as inner:
            assert inner is memo  # nested blocks share the memo
        known_validity(g, check, validity.current())
        known_validity(g, check, validity.current())
    assert validity.current() is None
    known_validity(g, check, validity.current())
    assert calls == [len(g), len(g)]


def test_validate_checks_each_feature_once(monkeypatch):
    from pathlib import Path

    from localitygeo import read_boundaries, validate

    bset = read_boundaries(Path(__file__).resolve().parents[1] / "boundaries" / "example-city")
    checked: list[int] = []
    plain = shapely.is_valid

    def spy(x, *args, **kwargs):
        x = np.asarray(x, dtype=object)
        checked.extend(map(id, x.reshape(-1)))
        return plain(x, *args, **kwargs)

    monkeypatch.setattr(shapely, "is_valid", spy)
    validate(bset)
    monkeypatch.setattr(shapely, "is_valid", plain)
    features = {id(g) for k in bset.layers for g in bset.layers[k].geometry.array}
    counts: dict[int, int] = {}
    for i in checked:
        if i in features:
            counts[i] = counts.get(i, 0) + 1
    assert len(counts) == len(features)  # every feature checked ...
    assert max(counts.values()) == 1  # ... once, though the nesting rules measure them again


def test_expected_checks_are_waited_for_and_not_done_again():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    g = _layer()
    memo = ValidityMemo()
    check, calls = _counting()
    release = threading.Event()

    def slow() -> np.ndarray:
        release.wait(5)
        return shapely.is_valid(g)

    with ThreadPoolExecutor(1) as pool:
        memo.expect(g, pool.submit(slow))
        threading.Timer(0.2, release.set).start()
        got = known_validity(g[::-1], check, memo)  # waits for the background check
    np.testing.assert_array_equal(got, shapely.is_valid(g[::-1]))
    assert calls == []  # nothing checked twice
    assert not got[0] and not got[-1]  # the bow-ties stay invalid


def test_a_failed_background_check_is_done_again():
    from concurrent.futures import Future

    g = _layer()
    memo = ValidityMemo()
    failed: Future[np.ndarray] = Future()
    failed.set_exception(RuntimeError("the worker died"))
    memo.expect(g, failed)
    check, calls = _counting()
    got = known_validity(g, check, memo)
    np.testing.assert_array_equal(got, shapely.is_valid(g))
    assert calls == [len(g)]
