"""Half-open interval arithmetic on int64 microseconds since the epoch (UTC).

An interval is a pair ``(start, end)`` meaning ``[start, end)``; ``start < end`` for a
non-empty interval. A *normal* interval list is sorted, with no empty, overlapping or
touching members. All functions are pure and return normal lists.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Interval", "intersect", "merge_requests", "normalise", "subtract"]

Interval = tuple[int, int]


def normalise(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of ``intervals``: sorted, empty ones dropped, overlapping/touching ones merged."""
    out: list[Interval] = []
    for start, end in sorted(iv for iv in intervals if iv[0] < iv[1]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(request: Iterable[Interval], covered: Iterable[Interval]) -> list[Interval]:
    """The parts of ``request`` not in ``covered`` (the gaps to fetch)."""
    cov = normalise(covered)
    out: list[Interval] = []
    for start, end in normalise(request):
        cur = start
        for c0, c1 in cov:
            if c1 <= cur:
                continue
            if c0 >= end:
                break
            if c0 > cur:
                out.append((cur, c0))
            cur = max(cur, c1)
            if cur >= end:
                break
        if cur < end:
            out.append((cur, end))
    return out


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The parts present in both ``a`` and ``b``."""
    na, nb = normalise(a), normalise(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(na) and j < len(nb):
        lo, hi = max(na[i][0], nb[j][0]), min(na[i][1], nb[j][1])
        if lo < hi:
            out.append((lo, hi))
        if na[i][1] < nb[j][1]:
            i += 1
        else:
            j += 1
    return out


def merge_requests(gaps: Iterable[Interval], min_length: int, max_gap: int = 0) -> list[Interval]:
    """Merge ``gaps`` into fewer requests that still cover every gap.

    Neighbouring gaps are joined when the hole between them is at most ``max_gap`` us
    (re-fetching a little cached data is cheaper than another request), or when the
    request so far is shorter than ``min_length`` us and the hole is at most
    ``min_length``. The result covers a superset of ``gaps`` and never spans a hole longer
    than ``max(max_gap, min_length)``.
    """
    if min_length < 0 or max_gap < 0:
        raise ValueError("min_length and max_gap must be >= 0 microseconds")
    out: list[Interval] = []
    for start, end in normalise(gaps):
        if out:
            prev_start, prev_end = out[-1]
            hole = start - prev_end
            short = prev_end - prev_start < min_length
            if hole <= max_gap or (short and hole <= min_length):
                out[-1] = (prev_start, end)
                continue
        out.append((start, end))
    return out
