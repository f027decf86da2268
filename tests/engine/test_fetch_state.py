"""The fetch engine's small pieces of shared state: concurrency limit and wire formats."""

from __future__ import annotations

import pytest

from raadata._decode import JSON, NDJSON, PARQUET
from raadata._fetch import ConcurrencyLimit, WireFormats


def test_rate_limits_halve_concurrency_and_successes_restore_it() -> None:
    limit = ConcurrencyLimit(8)
    limit.rate_limited()
    assert limit.value == 4
    limit.rate_limited()
    assert limit.value == 2
    history = []
    for _ in range(30):
        limit.succeeded()
        history.append(limit.value)
    assert history[0] == 2
    assert history == sorted(history)  # only ever creeps up
    assert history[-1] == 8  # and back to the maximum, never past it


def test_limit_never_drops_below_one() -> None:
    limit = ConcurrencyLimit(1)
    limit.rate_limited()
    assert limit.value == 1


@pytest.mark.parametrize(
    ("refused", "then"),
    [([PARQUET], NDJSON), ([PARQUET, NDJSON], JSON), ([NDJSON], PARQUET)],
)
def test_refused_formats_fall_back_in_order(refused: list[str], then: str) -> None:
    formats = WireFormats()
    for content_type in refused:
        assert formats.refuse(content_type)
    assert formats.current == then


def test_the_last_format_is_never_dropped() -> None:
    formats = WireFormats([JSON])
    assert not formats.refuse(JSON)
    assert formats.current == JSON
