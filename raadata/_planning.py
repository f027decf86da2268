"""Planning: how a pull is cut into HTTP requests (pure, no I/O).

The API has no paging, so raadata pages for it. A pull is a list of *units* — a batch of
series (at most 100, the POST /query limit) over a half-open time range ``[start, end)``.
A :class:`WindowCursor` walks each unit in windows sized so that one response holds about
``target_points`` points, using the density (points per second of the whole batch)
observed in earlier responses of the same batch. A response that turns out too large is
split in two (:meth:`Task.split`) and the batch's windows shrink from then on.

All instants are tz-aware UTC ``pd.Timestamp``; all windows are half-open, so adjacent
windows neither overlap nor leave a gap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from raadata._timerange import format_duration

__all__ = [
    "ASSUMED_HZ",
    "MAX_SERIES_PER_REQUEST",
    "Density",
    "Kind",
    "Pull",
    "Task",
    "Unit",
    "WindowCursor",
    "cursors",
    "day_units",
    "pack",
]

Kind = Literal["measurements", "statistics"]

MAX_SERIES_PER_REQUEST = 100
"""The API's limit on selectors in one POST /query body."""

ASSUMED_HZ = 1.0
"""Points per second per series assumed before anything is observed (the densest sandbox rate)."""


@dataclass(frozen=True)
class Pull:
    """What to fetch: the kind, how to size windows, and the aggregations of statistics.

    ``align`` is the grid window ends sit on (1 s for measurements, the aggregation window
    for statistics); ``points_per_series_second`` the density assumed before any response.
    """

    kind: Kind
    align: pd.Timedelta
    points_per_series_second: float
    target_points: int
    aggregations: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, str]:
        """Query parameters besides the time range (``aggregation``, ``window``)."""
        if self.kind != "statistics":
            return {}
        return {"aggregation": ",".join(self.aggregations), "window": format_duration(self.align)}


@dataclass(frozen=True)
class Unit:
    """A batch of series (UUIDs) over ``[start, end)``; the export's unit of resumable work."""

    uuids: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    key: str = ""


@dataclass(frozen=True)
class Task:
    """One HTTP request of a pull: some series over one half-open window ``[start, end)``."""

    uuids: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    unit: int
    estimated_points: int
    timeouts: int = 0
    """Read timeouts that led to this task (it is a split of a task that timed out)."""

    @property
    def seconds(self) -> float:
        """Window length in seconds."""
        return float((self.end - self.start).total_seconds())

    def split(self, align: pd.Timedelta, timed_out: bool = False) -> tuple[Task, Task] | None:
        """Two tasks that together cover this one: halves in time, else halves of the series.

        Time cuts stay on the ``align`` grid (epoch-aligned). ``None`` when the task cannot
        be split further (one series over one grid step). ``timed_out``: the split answers
        a read timeout (counted in the halves' ``timeouts``).
        """
        mid = (self.start + (self.end - self.start) / 2).floor(align)
        half = self.estimated_points // 2
        timeouts = self.timeouts + int(timed_out)
        if self.start < mid < self.end:
            return (
                Task(self.uuids, self.start, mid, self.unit, half, timeouts),
                Task(self.uuids, mid, self.end, self.unit, half, timeouts),
            )
        if len(self.uuids) > 1:
            cut = len(self.uuids) // 2
            return (
                Task(self.uuids[:cut], self.start, self.end, self.unit, half, timeouts),
                Task(self.uuids[cut:], self.start, self.end, self.unit, half, timeouts),
            )
        return None


def pack(uuids: Sequence[str], size: int = MAX_SERIES_PER_REQUEST) -> list[tuple[str, ...]]:
    """Series cut into batches of at most ``size``, balanced in length, order kept."""
    if size < 1:
        raise ValueError(f"series per request must be at least 1, got {size}")
    if not uuids:
        return []
    count = -(-len(uuids) // size)
    base, extra = divmod(len(uuids), count)
    batches, at = [], 0
    for i in range(count):
        n = base + (1 if i < extra else 0)
        batches.append(tuple(uuids[at : at + n]))
        at += n
    return batches


def day_units(
    batches: Iterable[tuple[tuple[str, ...], str]], start: pd.Timestamp, end: pd.Timestamp
) -> list[Unit]:
    """One unit per (batch, UTC calendar day) within ``[start, end)``; key ``<batch key>/<day>``."""
    days = pd.date_range(start.floor("D"), end, freq="D", inclusive="left")
    units = []
    for uuids, batch_key in batches:
        for day in days:
            lo, hi = max(start, day), min(end, day + pd.Timedelta(days=1))
            if lo < hi:
                units.append(Unit(uuids, lo, hi, f"{batch_key}/{day.date().isoformat()}"))
    return units


@dataclass
class Density:
    """What one batch's responses have shown: points per second over the whole batch.

    Thread-safe: workers report observations while the planner sizes new windows.
    """

    assumed: float
    points: int = 0
    seconds: float = 0.0
    scale: float = 1.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def per_second(self) -> float:
        """Observed points per second, or the assumption before the first response."""
        with self._lock:
            if self.seconds <= 0:
                return self.assumed
            return max(self.points / self.seconds, 1e-9)

    def observe(self, points: int, seconds: float) -> None:
        """Add one response: ``points`` rows over a window of ``seconds``."""
        with self._lock:
            self.points += points
            self.seconds += seconds

    def shrink(self) -> None:
        """A response was too large: make this batch's future windows half as long."""
        with self._lock:
            self.scale /= 2


class WindowCursor:
    """Walks one unit from start to end, one window per :meth:`next_task`.

    A window aims at ``target_points`` given the batch's :class:`Density`; its ends sit on
    the ``align`` grid (1 s for measurements, the aggregation window for statistics) except
    where the unit itself starts or ends.
    """

    def __init__(
        self,
        unit: Unit,
        index: int,
        density: Density,
        target_points: int,
        align: pd.Timedelta,
    ) -> None:
        self.unit = unit
        self.index = index
        self.density = density
        self.target_points = target_points
        self.align = align
        self.position = unit.start

    @property
    def done(self) -> bool:
        """True once every window of the unit has been handed out."""
        return self.position >= self.unit.end

    def next_task(self) -> Task | None:
        """The next window, or ``None`` when the unit is covered."""
        if self.done:
            return None
        rate = self.density.per_second()
        seconds = self.target_points * self.density.scale / rate
        length = pd.Timedelta(seconds=min(seconds, 1e9))
        end = (self.position + length).floor(self.align)  # epoch-aligned grid (UTC)
        if end <= self.position:
            end = self.position.floor(self.align) + self.align
        end = min(end, self.unit.end)
        estimate = round(rate * (end - self.position).total_seconds())
        task = Task(self.unit.uuids, self.position, end, self.index, estimate)
        self.position = end
        return task


def cursors(units: Sequence[Unit], pull: Pull) -> list[WindowCursor]:
    """One cursor per unit; units of the same batch share one :class:`Density`."""
    densities: dict[tuple[str, ...], Density] = {}
    found = []
    for index, unit in enumerate(units):
        density = densities.setdefault(
            unit.uuids, Density(assumed=pull.points_per_series_second * len(unit.uuids))
        )
        found.append(WindowCursor(unit, index, density, pull.target_points, pull.align))
    return found
