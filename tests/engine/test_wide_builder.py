"""WideBuilder gives the same frame as shaping the whole table at once, however it is cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from raadata._decode import MEASUREMENTS_SCHEMA
from raadata._wide import WideBuilder

T0 = pd.Timestamp("2025-01-01", tz="UTC")
UUIDS = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(5)]
LABELS = {uuid: f"IMO100000{i % 3}/tag {i}" for i, uuid in enumerate(UUIDS)}


def points(uuids: list[str], start: int, end: int, step: int) -> pa.Table:
    """Every ``step`` seconds in [start, end) for each series, ordered by series then time."""
    seconds = np.arange(start, end, step)
    ids = np.repeat(uuids, len(seconds))
    stamps = np.tile(seconds, len(uuids)) * 1_000_000 + T0.value // 1000
    values = np.arange(len(ids), dtype=float)
    values[::7] = np.nan
    return pa.table(
        {"id": pa.array(ids, pa.string()).dictionary_encode(),
         "timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")), "value": values},
        schema=MEASUREMENTS_SCHEMA,
    )


def wide_from_table(table: pa.Table, labels: dict[str, str]) -> pd.DataFrame:
    """The reference: pandas' own pivot of the whole table (first of conflicting values)."""
    long = table.to_pandas()
    long["series"] = long["id"].astype(str).map(labels)
    long = long.drop_duplicates(["series", "timestamp"], keep="first")
    wide = long.pivot(index="timestamp", columns="series", values="value").sort_index()
    wide.index = wide.index.as_unit("us")
    wide.attrs["units"] = {}
    return wide


def at(second: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=second)


@pytest.mark.parametrize("windows", [[(0, 600)], [(0, 100), (100, 350), (350, 600)]])
def test_one_batch_in_windows(windows: list[tuple[int, int]]) -> None:
    builder = WideBuilder(LABELS)
    tables = [points(UUIDS, lo, hi, 3) for lo, hi in windows]
    for (lo, _), table in reversed(list(zip(windows, tables, strict=True))):  # any order
        builder.add(tuple(UUIDS), at(lo), table)
    expected = wide_from_table(pa.concat_tables(tables), LABELS)
    pd.testing.assert_frame_equal(builder.frame(), expected)
    per_series = sum(t.num_rows for t in tables) // len(UUIDS)
    assert builder.rows == {uuid: per_series for uuid in UUIDS}


def test_batches_with_different_grids_are_joined_on_time() -> None:
    first, second = tuple(UUIDS[:2]), tuple(UUIDS[2:])
    tables = [points(list(first), 0, 300, 2), points(list(second), 0, 300, 5)]
    builder = WideBuilder(LABELS)
    builder.add(first, T0, tables[0])
    builder.add(second, T0, tables[1])
    pd.testing.assert_frame_equal(
        builder.frame(), wide_from_table(pa.concat_tables(tables), LABELS)
    )


def test_a_request_split_by_series_overlaps_in_time() -> None:
    whole, halves = tuple(UUIDS), (UUIDS[:2], UUIDS[2:])
    tables = [
        points(UUIDS, 0, 100, 1),
        points(halves[0], 100, 200, 1),
        points(halves[1], 100, 200, 1),
    ]
    builder = WideBuilder(LABELS)
    builder.add(whole, T0, tables[0])
    builder.add(whole, at(100), tables[1])  # both halves belong to the unit's series set
    builder.add(whole, at(100), tables[2])
    pd.testing.assert_frame_equal(
        builder.frame(), wide_from_table(pa.concat_tables(tables), LABELS)
    )


def test_empty_builder_gives_an_empty_frame() -> None:
    frame = WideBuilder(LABELS).frame({"x": "kW"})
    assert frame.shape == (0, 0)
    assert frame.index.name == "timestamp"
    assert frame.attrs["units"] == {"x": "kW"}


def test_the_heap_is_trimmed_as_stacked_blocks_are_freed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While a grid fills, freed blocks are given back every so many bytes."""
    import raadata._wide

    trims = []
    monkeypatch.setattr(raadata._wide, "_TRIM_EVERY", 100_000)
    monkeypatch.setattr(raadata._wide, "trim_heap", lambda: trims.append(1))
    windows = [(0, 4_000), (4_000, 9_000), (9_000, 9_500)]
    tables = [points(UUIDS, lo, hi, 1) for lo, hi in windows]
    builder = WideBuilder(LABELS)
    for (lo, _), table in zip(windows, tables, strict=True):
        builder.add(tuple(UUIDS), at(lo), table)
    frame = builder.frame()
    pd.testing.assert_frame_equal(frame, wide_from_table(pa.concat_tables(tables), LABELS))
    assert len(trims) == 2  # 160 kB and 200 kB blocks; the 20 kB one stays under the bar


def test_the_heap_is_trimmed_through_glibc_where_there_is_one() -> None:
    import platform

    from raadata._memory import _malloc_trim, trim_heap

    assert _malloc_trim() is not None or platform.libc_ver()[0] != "glibc"
    trim_heap()  # harmless at any time
