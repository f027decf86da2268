"""Table-driven tests of the pure planning functions."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from raadata._planning import Density, Task, Unit, WindowCursor, day_units, pack

T0 = pd.Timestamp("2025-01-01T00:00:00Z")
SECOND = pd.Timedelta(seconds=1)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(
    ("count", "size", "lengths"),
    [
        (0, 100, []),
        (1, 100, [1]),
        (100, 100, [100]),
        (101, 100, [51, 50]),
        (250, 100, [84, 83, 83]),
        (7, 3, [3, 2, 2]),
    ],
)
def test_pack_balances_batches(count: int, size: int, lengths: list[int]) -> None:
    uuids = [f"u{i}" for i in range(count)]
    batches = pack(uuids, size)
    assert [len(b) for b in batches] == lengths
    assert [u for batch in batches for u in batch] == uuids


def test_pack_rejects_size_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        pack(["a"], 0)


def walk(unit: Unit, density: Density, target: int, align: pd.Timedelta) -> list[Task]:
    cursor = WindowCursor(unit, 0, density, target, align)
    tasks = []
    while (task := cursor.next_task()) is not None:
        tasks.append(task)
    assert cursor.done
    return tasks


@pytest.mark.parametrize(
    ("start", "end", "series", "hz", "target", "align", "expected"),
    [
        # 1 series at 1 Hz, 3600 points per window -> hourly windows
        ("2025-01-01T00:00", "2025-01-01T03:00", 1, 1.0, 3600, "1s", 3),
        # 2 series at 1 Hz: half-hour windows
        ("2025-01-01T00:00", "2025-01-01T03:00", 2, 1.0, 3600, "1s", 6),
        # a window never shrinks below one grid step
        ("2025-01-01T00:00", "2025-01-01T00:00:05", 1, 1e6, 1, "1s", 5),
        # odd start and end are kept exactly; inner cuts on the grid
        ("2025-01-01T00:00:00.5", "2025-01-01T00:10:00.25", 1, 1.0, 120, "1min", 6),
        # a sparse batch fits in one window
        ("2025-01-01", "2025-02-01", 3, 1 / 60, 1_000_000, "1s", 1),
    ],
)
def test_cursor_covers_range_without_gaps_or_overlap(
    start: str, end: str, series: int, hz: float, target: int, align: str, expected: int
) -> None:
    unit = Unit(tuple(f"u{i}" for i in range(series)), ts(start), ts(end))
    tasks = walk(unit, Density(assumed=hz * series), target, pd.Timedelta(align))
    assert len(tasks) == expected
    assert tasks[0].start == unit.start
    assert tasks[-1].end == unit.end
    for before, after in itertools.pairwise(tasks):
        assert before.end == after.start
        assert after.start == after.start.floor(pd.Timedelta(align))


def test_cursor_adapts_to_observed_density() -> None:
    unit = Unit(("a",), T0, T0 + pd.Timedelta(days=10))
    density = Density(assumed=1.0)
    cursor = WindowCursor(unit, 0, density, 3600, SECOND)
    first = cursor.next_task()
    assert first is not None
    assert first.seconds == 3600
    density.observe(points=60, seconds=3600)  # one point a minute
    second = cursor.next_task()
    assert second is not None
    assert second.seconds == 3600 * 60
    assert second.estimated_points == 3600


def test_shrink_halves_future_windows() -> None:
    unit = Unit(("a",), T0, T0 + pd.Timedelta(days=1))
    density = Density(assumed=1.0)
    cursor = WindowCursor(unit, 0, density, 1000, SECOND)
    density.shrink()
    task = cursor.next_task()
    assert task is not None
    assert task.seconds == 500


@pytest.mark.parametrize(
    ("uuids", "start", "end", "align", "halves"),
    [
        (
            ("a",),
            "2025-01-01T00:00",
            "2025-01-01T02:00",
            "1s",
            [("00:00", "01:00"), ("01:00", "02:00")],
        ),
        (
            ("a",),
            "2025-01-01T00:00",
            "2025-01-01T00:03",
            "1min",
            [("00:00", "00:01"), ("00:01", "00:03")],
        ),
        (("a", "b", "c"), "2025-01-01T00:00", "2025-01-01T00:01", "1min", "series"),
        (("a",), "2025-01-01T00:00", "2025-01-01T00:00:01", "1s", None),
    ],
)
def test_task_split(
    uuids: tuple[str, ...], start: str, end: str, align: str, halves: object
) -> None:
    task = Task(uuids, ts(start), ts(end), 0, 100)
    parts = task.split(pd.Timedelta(align))
    if halves is None:
        assert parts is None
        return
    assert parts is not None
    first, second = parts
    if halves == "series":
        assert first.uuids + second.uuids == uuids
        assert (first.start, first.end) == (task.start, task.end)
        return
    assert isinstance(halves, list)
    day = "2025-01-01T"
    assert [(p.start, p.end) for p in parts] == [(ts(day + a), ts(day + b)) for a, b in halves]


def test_day_units_cut_on_utc_midnight() -> None:
    units = day_units(
        [(("a", "b"), "IMO1"), (("c",), "IMO2")], ts("2025-01-01T12:00"), ts("2025-01-03T06:00")
    )
    assert [(u.key, u.start, u.end) for u in units] == [
        ("IMO1/2025-01-01", ts("2025-01-01T12:00"), ts("2025-01-02")),
        ("IMO1/2025-01-02", ts("2025-01-02"), ts("2025-01-03")),
        ("IMO1/2025-01-03", ts("2025-01-03"), ts("2025-01-03T06:00")),
        ("IMO2/2025-01-01", ts("2025-01-01T12:00"), ts("2025-01-02")),
        ("IMO2/2025-01-02", ts("2025-01-02"), ts("2025-01-03")),
        ("IMO2/2025-01-03", ts("2025-01-03"), ts("2025-01-03T06:00")),
    ]
