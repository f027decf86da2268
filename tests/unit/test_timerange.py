"""Time input, durations, formatting and range resolution (prism-api.md §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from raadata._timerange import (
    TimeRange,
    format_duration,
    format_instant,
    parse_duration,
    resolve_range,
    to_utc,
)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


NOW = utc("2025-03-15 13:45:30.5")
MIDNIGHT = utc("2025-03-15")
OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-01", "2025-01-01 00:00"),
        ("2025-01-01T12:30:00", "2025-01-01 12:30"),  # naive means UTC
        ("2025-01-01 12:30:00Z", "2025-01-01 12:30"),
        ("2025-01-01T12:30:00.000000Z", "2025-01-01 12:30"),
        ("2025-01-01T13:30:00+01:00", "2025-01-01 12:30"),
        ("  2025-01-01T12:30:00.123456Z ", "2025-01-01 12:30:00.123456"),
        ("2025-01-01T12:30:00.123456789Z", "2025-01-01 12:30:00.123456"),  # truncated to µs
        (datetime(2025, 1, 1, 12, 30), "2025-01-01 12:30"),
        (datetime(2025, 1, 1, 12, 30, tzinfo=UTC), "2025-01-01 12:30"),
        (datetime(2025, 7, 1, 14, 30, tzinfo=OSLO), "2025-07-01 12:30"),  # summer time
        (datetime(2025, 1, 1, 7, 30, tzinfo=timezone(timedelta(hours=-5))), "2025-01-01 12:30"),
        (date(2025, 1, 1), "2025-01-01 00:00"),
        (pd.Timestamp("2025-01-01 12:30"), "2025-01-01 12:30"),
        (pd.Timestamp("2025-01-01 13:30", tz="Europe/Oslo"), "2025-01-01 12:30"),
        (np.datetime64("2025-01-01T12:30"), "2025-01-01 12:30"),
        (np.datetime64("2025-01-01"), "2025-01-01 00:00"),
        (1735734600, "2025-01-01 12:30"),  # Unix seconds
        (1735734600.25, "2025-01-01 12:30:00.25"),
        (np.int64(1735734600), "2025-01-01 12:30"),
        (np.float64(0.000001), "1970-01-01 00:00:00.000001"),
        (0, "1970-01-01 00:00"),
        (-86400, "1969-12-31 00:00"),
    ],
)
def test_to_utc(value: Any, expected: str) -> None:
    result = to_utc(value)
    assert result == utc(expected)
    assert str(result.tz) == "UTC"
    assert result.unit == "us"


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (True, TypeError, ["start", "bool"]),
        (np.bool_(False), TypeError, ["bool"]),
        ("yesterday-ish", ValueError, ["start='yesterday-ish'", "ISO 8601", "Unix seconds"]),
        ("2025-13-01", ValueError, ["start='2025-13-01'", "ISO 8601"]),
        ("", ValueError, ["start=''", "empty"]),
        ("now", ValueError, ["start='now'", "since=/last="]),
        ("today", ValueError, ["relative"]),
        ("NaT", ValueError, ["NaT"]),
        (np.datetime64("NaT"), ValueError, ["NaT"]),
        (float("nan"), ValueError, ["finite"]),
        (float("inf"), ValueError, ["finite"]),
        (1735734600000, ValueError, ["milliseconds"]),
        ([2025, 1, 1], TypeError, ["start", "list"]),
        (None, TypeError, ["NoneType"]),
        (timedelta(hours=1), TypeError, ["timedelta"]),
    ],
)
def test_to_utc_errors(value: Any, error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as caught:
        to_utc(value, name="start")
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1s", pd.Timedelta(seconds=1)),
        ("30sec", pd.Timedelta(seconds=30)),
        ("1second", pd.Timedelta(seconds=1)),
        ("10seconds", pd.Timedelta(seconds=10)),
        ("1m", pd.Timedelta(minutes=1)),
        ("15min", pd.Timedelta(minutes=15)),
        ("1minute", pd.Timedelta(minutes=1)),
        ("5minutes", pd.Timedelta(minutes=5)),
        ("1h", pd.Timedelta(hours=1)),
        ("1hour", pd.Timedelta(hours=1)),
        ("6hours", pd.Timedelta(hours=6)),
        ("1d", pd.Timedelta(days=1)),
        ("1day", pd.Timedelta(days=1)),
        ("1 day", pd.Timedelta(days=1)),
        ("7days", pd.Timedelta(days=7)),
        ("2w", pd.Timedelta(weeks=2)),
        ("1week", pd.Timedelta(weeks=1)),
        ("3weeks", pd.Timedelta(weeks=3)),
        (" 2 H ", pd.Timedelta(hours=2)),
        ("1MIN", pd.Timedelta(minutes=1)),
        ("1.5h", pd.Timedelta(minutes=90)),
        ("PT1H30M", pd.Timedelta(minutes=90)),  # ISO 8601, via pandas
        ("1 days 02:00:00", pd.Timedelta(hours=26)),
        (timedelta(minutes=5), pd.Timedelta(minutes=5)),
        (pd.Timedelta("250ms"), pd.Timedelta(milliseconds=250)),
        (np.timedelta64(3, "s"), pd.Timedelta(seconds=3)),
    ],
)
def test_parse_duration(value: Any, expected: pd.Timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        ("0s", ValueError, ["window", "positive"]),
        (timedelta(0), ValueError, ["positive"]),
        (-pd.Timedelta("1h"), ValueError, ["positive"]),
        ("1month", ValueError, ["unknown unit 'month'", "window='1month'", "w|week(s)"]),
        ("1y", ValueError, ["unknown unit 'y'"]),
        ("1M", ValueError, ["ambiguous unit 'M'", "'min'"]),
        ("soon", ValueError, ["window='soon'", "<integer><unit>"]),
        ("", ValueError, ["window=''"]),
        ("h", ValueError, ["duration"]),
        (60, TypeError, ["window", "int", "timedelta"]),
        (True, TypeError, ["bool"]),
        (None, TypeError, ["NoneType"]),
    ],
)
def test_parse_duration_errors(value: Any, error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as caught:
        parse_duration(value, name="window")
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (pd.Timedelta(minutes=1), "60s"),
        (pd.Timedelta(hours=1), "3600s"),
        (pd.Timedelta(days=1), "86400s"),
        (timedelta(seconds=1), "1s"),
        (parse_duration("2w"), "1209600s"),
    ],
)
def test_format_duration(value: pd.Timedelta, expected: str) -> None:
    assert format_duration(value) == expected
    assert parse_duration(expected) == pd.Timedelta(value)  # round trip


@pytest.mark.parametrize(
    "value", [pd.Timedelta(milliseconds=1500), pd.Timedelta(0), pd.Timedelta(seconds=-60)]
)
def test_format_duration_rejects(value: pd.Timedelta) -> None:
    with pytest.raises(ValueError, match="positive whole number of seconds"):
        format_duration(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (utc("2025-01-01"), "2025-01-01T00:00:00.000000Z"),
        (utc("2025-01-01 00:00:10.5"), "2025-01-01T00:00:10.500000Z"),
        (pd.Timestamp("2025-01-01 01:00", tz="Europe/Oslo"), "2025-01-01T00:00:00.000000Z"),
        (pd.Timestamp("2025-01-01 00:00:00.000001999"), "2025-01-01T00:00:00.000001Z"),
        (datetime(999, 1, 2, 3, 4, 5, 6), "0999-01-02T03:04:05.000006Z"),
    ],
)
def test_format_instant(value: pd.Timestamp, expected: str) -> None:
    assert format_instant(value) == expected
    assert to_utc(expected) == to_utc(value)  # round trip


def test_time_range_basics() -> None:
    rng = TimeRange(utc("2025-01-01"), utc("2025-01-02"))
    assert rng.duration == pd.Timedelta(days=1)
    assert str(rng) == "[2025-01-01T00:00:00.000000Z, 2025-01-02T00:00:00.000000Z)"
    left, right = rng.split(utc("2025-01-01 06:00"))
    assert (left.start, left.end) == (rng.start, utc("2025-01-01 06:00"))
    assert (right.start, right.end) == (utc("2025-01-01 06:00"), rng.end)
    assert left.duration + right.duration == rng.duration
    with pytest.raises(AttributeError):
        rng.start = utc("2024-01-01")  # type: ignore[misc]
    assert rng == TimeRange(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-02"))  # naive=UTC
    assert hash(rng) == hash(TimeRange(utc("2025-01-01"), utc("2025-01-02")))


@pytest.mark.parametrize("at", ["2025-01-01", "2025-01-02", "2024-12-31", "2025-01-03"])
def test_time_range_split_outside(at: str) -> None:
    rng = TimeRange(utc("2025-01-01"), utc("2025-01-02"))
    with pytest.raises(ValueError, match="not strictly inside"):
        rng.split(utc(at))


@pytest.mark.parametrize(("start", "end"), [("2025-01-02", "2025-01-01"), ("2025-01-01",) * 2])
def test_time_range_empty_or_reversed(start: str, end: str) -> None:
    with pytest.raises(ValueError, match="half-open") as caught:
        TimeRange(utc(start), utc(end))
    assert f"{start}T00:00:00.000000Z" in str(caught.value)
    assert f"{end}T00:00:00.000000Z" in str(caught.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "start", "end"),
    [
        (("2025-01-01", "2025-01-02"), {}, "2025-01-01", "2025-01-02"),
        ((datetime(2025, 1, 1, 1, tzinfo=OSLO), 1735776000), {}, "2025-01-01", "2025-01-02"),
        (("2025-03-15",), {}, "2025-03-15", NOW),  # start only: runs to now
        ((), {"start": "2025-03-01"}, "2025-03-01", NOW),
        ((), {}, NOW - pd.Timedelta(hours=1), NOW),  # nothing: the last hour
        ((), {"since": "1day"}, NOW - pd.Timedelta(days=1), NOW),
        ((), {"since": timedelta(minutes=90)}, NOW - pd.Timedelta(minutes=90), NOW),
        ((), {"last": "1day"}, "2025-03-14", MIDNIGHT),  # the last full UTC day
        ((), {"last": "7days"}, "2025-03-08", MIDNIGHT),
        ((), {"last": "6hours"}, "2025-03-14 18:00", MIDNIGHT),
        ((), {"year": 2024}, "2024-01-01", "2025-01-01"),
        ((), {"year": 2024, "month": 2}, "2024-02-01", "2024-03-01"),
        ((), {"year": 2024, "month": 12}, "2024-12-01", "2025-01-01"),
        ((), {"year": 2024, "month": 2, "day": 29}, "2024-02-29", "2024-03-01"),
        ((), {"year": 2024, "month": 12, "day": 31}, "2024-12-31", "2025-01-01"),
        ((), {"year": np.int64(2024), "month": np.int32(3)}, "2024-03-01", "2024-04-01"),
    ],
)
def test_resolve_range(args: tuple[Any, ...], kwargs: dict[str, Any], start: Any, end: Any) -> None:
    rng = resolve_range(*args, now=NOW, **kwargs)
    assert (rng.start, rng.end) == (to_utc(start), to_utc(end))


def test_resolve_range_naive_now_means_utc() -> None:
    rng = resolve_range(now=pd.Timestamp("2025-03-15 12:00"))
    assert rng.end == utc("2025-03-15 12:00")


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"end": "2025-01-01"}, ValueError, ["end=", "start="]),
        (
            {"start": "2025-01-02", "end": "2025-01-01"},
            ValueError,
            ["2025-01-02T00:00:00.000000Z", "2025-01-01T00:00:00.000000Z", "half-open"],
        ),
        ({"start": "2025-01-01", "end": "2025-01-01"}, ValueError, ["half-open"]),
        ({"start": "2025-03-16"}, ValueError, ["now", "half-open", "2025-03-16T00"]),
        ({"start": "2025-01-01", "since": "1d"}, ValueError, ["start=/end=", "since="]),
        ({"end": "2025-01-01", "last": "1d"}, ValueError, ["start=/end=", "last="]),
        ({"since": "1d", "last": "1d"}, ValueError, ["since=", "last="]),
        ({"since": "1d", "year": 2024}, ValueError, ["since=", "year=/month=/day="]),
        ({"start": "2025-01-01", "month": 1}, ValueError, ["start=/end=", "year=/month=/day="]),
        (
            {"start": "2025-01-01", "since": "1d", "last": "1d"},
            ValueError,
            ["start=/end=, since= and last="],
        ),
        ({"month": 3}, ValueError, ["month= needs year="]),
        ({"day": 3}, ValueError, ["day= needs year="]),
        ({"year": 2025, "day": 3}, ValueError, ["day= needs month="]),
        ({"year": 2025, "month": 13}, ValueError, ["no such calendar period", "month=13"]),
        ({"year": 2025, "month": 2, "day": 29}, ValueError, ["no such calendar period"]),
        ({"year": "2025"}, TypeError, ["year=", "int", "str"]),
        ({"year": 2025, "month": 1.0}, TypeError, ["month=", "float"]),
        ({"year": True}, TypeError, ["year=", "bool"]),
        ({"since": "0s"}, ValueError, ["since", "positive"]),
        ({"last": "1 fortnight"}, ValueError, ["last='1 fortnight'"]),
        ({"start": "garbage"}, ValueError, ["start='garbage'"]),
        ({"start": "2025-01-01", "end": "garbage"}, ValueError, ["end='garbage'"]),
    ],
)
def test_resolve_range_errors(
    kwargs: dict[str, Any], error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as caught:
        resolve_range(now=NOW, **kwargs)
    for word in words:
        assert word in str(caught.value)
