"""Property-based tests of raadata._intervals against a brute-force set model."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raadata._intervals import Interval, intersect, merge_requests, normalise, subtract

ivs = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda t: (t[0], t[1])),
    max_size=8,
)


def points(intervals: list[Interval]) -> set[int]:
    return {p for s, e in intervals for p in range(s, e)}


def is_normal(intervals: list[Interval]) -> bool:
    return all(s < e for s, e in intervals) and all(
        a[1] < b[0] for a, b in itertools.pairwise(intervals)
    )


@given(ivs)
def test_normalise_is_union(a: list[Interval]) -> None:
    n = normalise(a)
    assert is_normal(n)
    assert points(n) == points(a)
    assert normalise(n) == n


@given(ivs, ivs)
def test_subtract_is_set_difference(a: list[Interval], b: list[Interval]) -> None:
    d = subtract(a, b)
    assert is_normal(d)
    assert points(d) == points(a) - points(b)


@given(ivs, ivs)
def test_intersect_is_set_intersection(a: list[Interval], b: list[Interval]) -> None:
    d = intersect(a, b)
    assert is_normal(d)
    assert points(d) == points(a) & points(b)


@given(ivs, st.integers(0, 10), st.integers(0, 10))
def test_merge_requests_covers_and_bounds_holes(
    a: list[Interval], min_length: int, max_gap: int
) -> None:
    merged = merge_requests(a, min_length, max_gap)
    assert is_normal(merged)
    assert points(a) <= points(merged)
    assert len(merged) <= len(normalise(a))
    # every extra point lies in a hole no longer than the larger threshold
    for hole in subtract(merged, a):
        assert hole[1] - hole[0] <= max(min_length, max_gap)
    # each merged request starts and ends on a gap boundary
    n = normalise(a)
    assert {s for s, _ in merged} <= {s for s, _ in n}
    assert {e for _, e in merged} <= {e for _, e in n}


def test_merge_requests_examples() -> None:
    assert merge_requests([(0, 1), (2, 3), (10, 20)], min_length=5) == [(0, 3), (10, 20)]
    assert merge_requests([(0, 10), (12, 20)], min_length=5) == [(0, 10), (12, 20)]
    assert merge_requests([(0, 10), (12, 20)], min_length=5, max_gap=2) == [(0, 20)]
    with pytest.raises(ValueError, match="min_length"):
        merge_requests([], -1)
