"""Time ranges: user time input -> a half-open UTC range ``[start, end)`` (prism-api.md §5).

All instants are timezone-aware UTC ``pd.Timestamp`` with microsecond resolution (the API's).
Naive input means UTC. Durations follow the API grammar ``<integer><unit>``. Everything here
is pure: "now" is always passed in.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

__all__ = [
    "TimeInput",
    "TimeRange",
    "format_duration",
    "format_instant",
    "parse_duration",
    "resolve_range",
    "to_utc",
]

TimeInput = str | datetime | date | pd.Timestamp | np.datetime64 | int | float

_ACCEPTED_TIMES = (
    "an ISO 8601 string such as '2025-01-01', '2025-01-01T12:00:00Z' or "
    "'2025-01-01 12:00:00+01:00', a datetime/date/pd.Timestamp/np.datetime64, "
    "or Unix seconds (int/float); naive times mean UTC"
)
_ACCEPTED_DURATIONS = (
    "'<integer><unit>' with unit s|sec|second(s), m|min|minute(s), h|hour(s), d|day(s), "
    "w|week(s) (e.g. '15min', '6hours', '1 day'), or a timedelta"
)
_SECOND = pd.Timedelta(seconds=1)
_MICROSECOND = pd.Timedelta(microseconds=1)
_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)
_MAX_EPOCH_SECONDS = 1e11  # about the year 5138: larger values are milliseconds or worse


def _bad_time(name: str, value: object, why: str = "") -> ValueError:
    detail = f" ({why})" if why else ""
    return ValueError(f"cannot read {name}={value!r} as a time{detail}; use {_ACCEPTED_TIMES}")


def _from_epoch(value: int | float, name: str) -> pd.Timestamp:
    """Unix seconds -> UTC instant (ints exactly, floats to the nearest microsecond)."""
    if not math.isfinite(value):
        raise _bad_time(name, value, "not a finite number")
    if abs(value) > _MAX_EPOCH_SECONDS:
        raise _bad_time(name, value, "Unix seconds out of range; milliseconds? divide by 1000")
    micros = value * 1_000_000 if isinstance(value, int) else round(value * 1_000_000)
    return pd.Timestamp(micros, unit="us", tz="UTC")


def to_utc(value: TimeInput, *, name: str = "time") -> pd.Timestamp:
    """Return ``value`` as a tz-aware UTC ``pd.Timestamp`` (microsecond resolution).

    Naive input means UTC; aware input is converted to UTC; int/float are Unix seconds;
    a ``date`` is midnight UTC. Sub-microsecond parts are truncated. ``bool`` raises
    ``TypeError``; unreadable input raises ``ValueError`` naming ``name``.
    """
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a time, not a bool")
    if isinstance(value, int | np.integer):
        return _from_epoch(int(value), name)
    if isinstance(value, float | np.floating):
        return _from_epoch(float(value), name)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in {"now", "today", "yesterday", "tomorrow"}:
            raise _bad_time(name, value, "relative words depend on the clock; use since=/last=")
        if not text:
            raise _bad_time(name, value, "empty string")
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime | np.datetime64):  # pd.Timestamp is a datetime
        raise TypeError(f"{name} must be a time, not {type(value).__name__}; use {_ACCEPTED_TIMES}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' parsing warnings become our ValueError
            stamp = pd.Timestamp(value)
    except (ValueError, OverflowError) as error:
        raise _bad_time(name, value, str(error)) from None
    if pd.isna(stamp):
        raise _bad_time(name, value, "not a time (NaT)")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.floor("us").as_unit("us")


def _duration_from_text(text: str, name: str) -> pd.Timedelta:
    match = _DURATION.fullmatch(text)
    if match is not None:
        number, unit = match.groups()
        if unit == "M":
            raise ValueError(
                f"ambiguous unit 'M' in {name}={text!r}: write 'min' for minutes "
                "(months are not durations: use year=/month=)"
            )
        seconds = _UNIT_SECONDS.get(unit.lower())
        if seconds is None:
            raise ValueError(f"unknown unit {unit!r} in {name}={text!r}; use {_ACCEPTED_DURATIONS}")
        return pd.Timedelta(float(number) * seconds, unit="s")
    try:  # tolerate pandas/ISO forms such as "1 days 02:00:00" or "PT1H30M"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.Timedelta(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f"cannot read {name}={text!r} as a duration; use {_ACCEPTED_DURATIONS}"
        ) from None
    if pd.isna(parsed):
        raise ValueError(f"cannot read {name}={text!r} as a duration; use {_ACCEPTED_DURATIONS}")
    return parsed


def parse_duration(
    value: str | timedelta | pd.Timedelta, *, name: str = "duration"
) -> pd.Timedelta:
    """Return a positive ``pd.Timedelta`` from ``"<integer><unit>"`` text or a timedelta.

    Units: s|sec|second(s), m|min|minute(s), h|hour(s), d|day(s), w|week(s); a space
    before the unit is fine ("1 day"). Months and years are not durations (use
    ``year=``/``month=``). Raises ``ValueError`` for unreadable or non-positive input.
    """
    if isinstance(value, str):
        duration = _duration_from_text(value, name)
    elif isinstance(value, timedelta | np.timedelta64):
        duration = pd.Timedelta(value)
    else:
        raise TypeError(
            f"{name} must be a str or timedelta, not {type(value).__name__}; "
            f"use {_ACCEPTED_DURATIONS}"
        )
    if pd.isna(duration) or duration <= pd.Timedelta(0):
        raise ValueError(f"{name} must be positive, got {value!r}")
    return duration.as_unit("us") if duration >= _MICROSECOND else duration


def format_duration(td: pd.Timedelta | timedelta) -> str:
    """Format a duration as whole seconds for the API's ``window=``/``since=``: ``"3600s"``.

    Raises ``ValueError`` for non-positive or sub-second durations.
    """
    td = pd.Timedelta(td)
    seconds, remainder = divmod(td, _SECOND)
    if td <= pd.Timedelta(0) or remainder != pd.Timedelta(0):
        raise ValueError(f"the API takes a positive whole number of seconds, got {td}")
    return f"{seconds}s"


def format_instant(ts: pd.Timestamp | datetime) -> str:
    """Format an instant for the API's ``from=``/``to=``: ``"2025-01-01T00:00:00.000000Z"``.

    Naive input means UTC; sub-microsecond parts are truncated.
    """
    ts = to_utc(ts, name="instant")
    return (
        f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}T"
        f"{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}.{ts.microsecond:06d}Z"
    )


@dataclass(frozen=True)
class TimeRange:
    """A half-open range ``[start, end)`` of tz-aware UTC instants with ``start < end``.

    The constructor converts its arguments with :func:`to_utc` (naive means UTC).
    """

    start: pd.Timestamp
    end: pd.Timestamp

    def __post_init__(self) -> None:
        start = to_utc(self.start, name="start")
        end = to_utc(self.end, name="end")
        if end <= start:
            raise ValueError(
                f"end ({format_instant(end)}) must be after start ({format_instant(start)}): "
                "ranges are half-open [start, end), so end is excluded"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def duration(self) -> pd.Timedelta:
        """``end - start``."""
        return self.end - self.start

    def split(self, at: pd.Timestamp) -> tuple[TimeRange, TimeRange]:
        """``[start, at)`` and ``[at, end)``; ``at`` must lie strictly inside the range."""
        at = to_utc(at, name="at")
        if not self.start < at < self.end:
            raise ValueError(f"cannot split {self} at {format_instant(at)}: not strictly inside")
        return TimeRange(self.start, at), TimeRange(at, self.end)

    def __str__(self) -> str:
        return f"[{format_instant(self.start)}, {format_instant(self.end)})"


def _calendar_range(year: int | None, month: int | None, day: int | None) -> TimeRange:
    """The UTC calendar year, month or day named by ``year``/``month``/``day``."""
    if year is None:
        missing = "month=" if month is not None else "day="
        raise ValueError(f"{missing} needs year= (e.g. year=2025, month=1)")
    if day is not None and month is None:
        raise ValueError("day= needs month= (e.g. year=2025, month=1, day=31)")
    for label, number in (("year", year), ("month", month), ("day", day)):
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int | np.integer)
        ):
            raise TypeError(f"{label}= must be an int, not {type(number).__name__}")
    try:
        start = pd.Timestamp(year=int(year), month=int(month or 1), day=int(day or 1), tz="UTC")
    except (ValueError, OverflowError) as error:
        raise ValueError(
            f"no such calendar period year={year} month={month} day={day}: {error}"
        ) from None
    if day is not None:
        step = pd.DateOffset(days=1)
    elif month is not None:
        step = pd.DateOffset(months=1)
    else:
        step = pd.DateOffset(years=1)
    return TimeRange(start, start + step)


def resolve_range(
    start: TimeInput | None = None,
    end: TimeInput | None = None,
    *,
    since: str | timedelta | pd.Timedelta | None = None,
    last: str | timedelta | pd.Timedelta | None = None,
    year: int | None = None,
    month: int | None = None,
    day: int | None = None,
    now: pd.Timestamp,
) -> TimeRange:
    """Resolve one family of time arguments to a half-open UTC range ``[start, end)``.

    - ``start`` + ``end``: ``[start, end)``; ``start`` alone runs to ``now``;
    - ``since=d``: ``[now - d, now)``;
    - ``last=d``: the ``d`` before the end of the last full UTC day (midnight today, UTC);
    - ``year`` / ``year+month`` / ``year+month+day``: that calendar period in UTC;
    - nothing: the last hour ``[now - 1h, now)``.

    Families cannot be mixed; ``end`` alone is refused. Naive input means UTC.
    """
    now = to_utc(now, name="now")
    families = {
        "start=/end=": start is not None or end is not None,
        "since=": since is not None,
        "last=": last is not None,
        "year=/month=/day=": year is not None or month is not None or day is not None,
    }
    given = [family for family, present in families.items() if present]
    if len(given) > 1:
        raise ValueError(
            "choose the time range one way only, not "
            f"{', '.join(given[:-1])} and {given[-1]} together"
        )
    if start is not None and end is None:
        begin = to_utc(start, name="start")
        if begin >= now:
            raise ValueError(
                f"start ({format_instant(begin)}) must be before now ({format_instant(now)}) "
                "when end= is not given: ranges are half-open [start, end)"
            )
        return TimeRange(begin, now)
    if end is not None:
        if start is not None:
            return TimeRange(to_utc(start, name="start"), to_utc(end, name="end"))
        raise ValueError("end= needs start= too (or use since=/last= for a range back from now)")
    if since is not None:
        return TimeRange(now - parse_duration(since, name="since"), now)
    if last is not None:
        midnight = now.floor("D")
        return TimeRange(midnight - parse_duration(last, name="last"), midnight)
    if families["year=/month=/day="]:
        return _calendar_range(year, month, day)
    return TimeRange(now - pd.Timedelta(hours=1), now)
