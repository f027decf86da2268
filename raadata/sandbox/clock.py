"""Instants as integer microseconds since the Unix epoch (UTC), and their text forms.

The sandbox keeps every instant as an ``int`` of microseconds since 1970-01-01T00:00:00Z:
exact, cheap to compare and the unit of the data (``timestamp[us, UTC]``). Naive datetimes
and ISO strings without an offset mean UTC.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

import numpy as np

Instant: TypeAlias = datetime | np.datetime64 | str
"""Anything that names an instant: a datetime (naive = UTC), a numpy datetime64, ISO 8601."""

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def wall_clock_us() -> int:
    """The machine's current time, in microseconds since the epoch."""
    return time.time_ns() // 1000


def parse_iso(text: str) -> int:
    """An ISO 8601 instant (``2025-01-01T00:00:00.000000Z``, an offset, or a date) → µs.

    Raises ValueError for anything else. A missing offset means UTC.
    """
    text = text.strip()
    if not text or not text[0].isdigit():
        raise ValueError(f"not an ISO 8601 instant: {text!r}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from None
    return from_datetime(value)


def from_datetime(value: datetime) -> int:
    """A datetime (naive = UTC) → µs since the epoch."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // timedelta(microseconds=1)


def to_us(value: Instant | int) -> int:
    """Any instant (an ``int`` is taken as µs already) → µs since the epoch."""
    if isinstance(value, bool):
        raise TypeError("an instant cannot be a bool")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, datetime):
        return from_datetime(value)
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError("an instant cannot be NaT")
        return int(value.astype("datetime64[us]").astype(np.int64))
    if isinstance(value, str):
        return parse_iso(value)
    raise TypeError(f"not an instant: {value!r}")


def to_datetime(us: int) -> datetime:
    """µs since the epoch → an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


def format_us(us: int) -> str:
    """µs since the epoch → ``2025-01-01T00:00:10.000000Z`` (the API's timestamp form)."""
    return to_datetime(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
