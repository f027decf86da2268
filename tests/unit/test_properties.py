"""Properties of the pure core, checked on generated inputs (Hypothesis)."""

from __future__ import annotations

from urllib.parse import unquote

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from raadata._dataset import partition_value
from raadata._frames import drop_exact_duplicates, unique_labels
from raadata._planning import Density, Task, Unit, WindowCursor, pack
from raadata._selectors import Selector, parse_selector
from raadata._timerange import TimeRange, format_instant, to_utc

settings.register_profile("raadata", max_examples=60, deadline=None)
settings.load_profile("raadata")

EPOCH = pd.Timestamp("2020-01-01", tz="UTC")
instants = st.integers(0, 10 * 365 * 86_400 * 10**6).map(
    lambda us: EPOCH + pd.Timedelta(microseconds=us))
aligns = st.sampled_from([pd.Timedelta(seconds=s) for s in (1, 60, 600, 3600, 86_400)])
uuids = st.uuids().map(str)


@given(start=instants, length_us=st.integers(1, 10 * 86_400 * 10**6), align=aligns,
       target=st.integers(10_000, 5_000_000), rate=st.floats(1e-3, 10.0),
       series=st.integers(1, 100))
def test_windows_tile_a_unit_on_the_grid(
    start: pd.Timestamp, length_us: int, align: pd.Timedelta, target: int, rate: float,
    series: int,
) -> None:
    end = start + pd.Timedelta(microseconds=length_us)
    unit = Unit(tuple(f"s{i}" for i in range(series)), start, end)
    cursor = WindowCursor(unit, 0, Density(assumed=rate), target, align)
    position, tasks = start, 0
    while (task := cursor.next_task()) is not None:
        assert task.start == position < task.end <= end  # no gap, no overlap, inside
        assert task.end == end or task.end == task.end.floor(align)  # cuts on the grid
        position, tasks = task.end, tasks + 1
        assert tasks <= (end - start) // align + 2  # every window is at least one grid step
    assert position == end
    assert cursor.done


@given(start=instants, steps=st.integers(1, 10_000), align=aligns,
       series=st.integers(1, 100), timed_out=st.booleans())
def test_split_halves_cover_the_task(
    start: pd.Timestamp, steps: int, align: pd.Timedelta, series: int, timed_out: bool
) -> None:
    start = start.floor(align)
    task = Task(tuple(f"s{i}" for i in range(series)), start, start + steps * align, 0, 1000)
    halves = task.split(align, timed_out)
    if halves is None:
        assert steps == 1
        assert series == 1
        return
    first, second = halves
    if first.uuids == second.uuids == task.uuids:  # cut in time, on the grid
        assert (first.start, first.end, second.end) == (task.start, second.start, task.end)
        assert first.start < first.end == first.end.floor(align) < second.end
    else:  # cut in series
        assert first.uuids + second.uuids == task.uuids
        assert (first.start, first.end) == (second.start, second.end) == (task.start, task.end)
    assert first.timeouts == second.timeouts == task.timeouts + int(timed_out)


@given(items=st.lists(st.text(min_size=1, max_size=4), max_size=500), size=st.integers(1, 120))
def test_pack_keeps_order_and_balances(items: list[str], size: int) -> None:
    batches = pack(items, size)
    assert [item for batch in batches for item in batch] == items
    assert len(batches) == -(-len(items) // size)
    lengths = [len(batch) for batch in batches]
    assert all(0 < n <= size for n in lengths)
    assert not lengths or max(lengths) - min(lengths) <= 1


level = st.text(st.characters(blacklist_characters="/*,\\", blacklist_categories=("Cs", "Cc")),
                min_size=1, max_size=12).filter(lambda t: t.strip() == t and t)


@given(vessel=st.from_regex(r"IMO[0-9]{7}", fullmatch=True), tag=level)
def test_selector_text_and_url_round_trip(vessel: str, tag: str) -> None:
    selector = parse_selector(f"raalabs/{vessel}/{tag}")
    assert parse_selector(str(selector)) == selector
    assert unquote(selector.url_path()) == selector.path
    assert "/" not in selector.url_path().split("/", 2)[2]


@given(ids=st.lists(uuids, min_size=1, max_size=5, unique=True))
def test_id_selectors_are_normalised(ids: list[str]) -> None:
    selector = Selector("id", ",".join(i.upper() for i in ids))
    assert selector.expression == ",".join(ids)
    assert parse_selector(selector.path) == selector


@given(rows=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b", "c"]),
                               st.sampled_from([0.0, 1.5, float("nan"), -2.0])), max_size=60))
def test_dropping_duplicates_agrees_with_pandas(rows: list[tuple[int, str, float]]) -> None:
    frame = pd.DataFrame(rows, columns=["timestamp", "id", "value"]).astype(
        {"timestamp": "int64", "id": "object", "value": "float64"})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    kept, dropped = drop_exact_duplicates(table)
    expected = frame.drop_duplicates(keep="first")  # pandas treats NaN as equal to NaN
    assert dropped == len(frame) - len(expected)
    pd.testing.assert_frame_equal(kept.to_pandas(), expected.reset_index(drop=True),
                                  check_dtype=False)


@given(at=instants)
def test_instants_format_and_parse_back(at: pd.Timestamp) -> None:
    assert to_utc(format_instant(at)) == at
    assert to_utc(at.tz_convert("Asia/Tokyo")) == at
    assert to_utc(at.value / 1e9 if at.microsecond == 0 else at) == at


@given(start=instants, length_us=st.integers(2, 10**12), cut=st.floats(0.0, 1.0))
def test_time_ranges_split_into_two_adjacent_halves(
    start: pd.Timestamp, length_us: int, cut: float
) -> None:
    whole = TimeRange(start, start + pd.Timedelta(microseconds=length_us))
    at = start + pd.Timedelta(microseconds=min(max(1, round(length_us * cut)), length_us - 1))
    left, right = whole.split(at)
    assert (left.start, left.end, right.end) == (whole.start, right.start, whole.end)
    assert left.duration + right.duration == whole.duration


@given(pairs=st.lists(st.tuples(uuids, st.sampled_from(["", "ME", "ME [x]", "Power"])),
                      max_size=12))
def test_labels_are_unique_and_kept_when_unshared(pairs: list[tuple[str, str]]) -> None:
    labels = unique_labels(pairs)
    assert len(set(labels.values())) == len(labels) == len({uuid for uuid, _ in pairs})
    first = {}
    for uuid, label in pairs:
        first.setdefault(uuid, label or uuid)
    for uuid, label in first.items():
        if list(first.values()).count(label) == 1:
            assert labels[uuid] == label


@given(value=st.text(min_size=1, max_size=20))
def test_partition_values_never_leave_their_folder(value: str) -> None:
    encoded = partition_value(value)
    assert "/" not in encoded
    assert "\\" not in encoded
    assert ":" not in encoded
    assert encoded not in (".", "..")
    assert all(c.isprintable() and not c.isspace() for c in encoded)
    assert unquote(encoded) == value

