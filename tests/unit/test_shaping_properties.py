"""Wide and long frames agree with pandas' own pivot and sort, however the rows come
(Hypothesis): regular or irregular instants, the API's order or any order, repeated
(series, instant) pairs, several requests and batches."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from raadata._decode import MEASUREMENTS_SCHEMA
from raadata._frames import long_frame
from raadata._wide import WideBuilder

settings.register_profile("raadata", max_examples=60, deadline=None)
settings.load_profile("raadata")

T0 = pd.Timestamp("2025-01-01", tz="UTC").value // 1000  # µs
UUIDS = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(6)]
LABELS = {uuid: f"tag {5 - i}" for i, uuid in enumerate(UUIDS)}  # not the UUIDs' order


@st.composite
def requests(draw: st.DrawFn) -> list[tuple[tuple[str, ...], int, pa.Table]]:
    """Requests as the engine yields them: (batch, window start µs, rows). Batches are
    disjoint; one batch's windows follow each other in time."""
    # a lattice of 1 s or 1 min; jittered (a lattice of 1 µs, or none: sorted and searched)
    step, jitter = draw(st.sampled_from([(1_000_000, 0), (60_000_000, 0), (7, 3),
                                         (1_000_003, 5_000)]))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    batches, taken = [], 0
    for size in sizes:
        if taken + size <= len(UUIDS):
            batches.append(tuple(UUIDS[taken:taken + size]))
            taken += size
    out = []
    for batch in batches:
        edges = sorted(draw(st.sets(st.integers(1, 39), max_size=3)) | {0, 40})
        for low, high in pairwise(edges):
            rows = []
            for uuid in batch:
                slots = draw(st.lists(st.integers(low, high - 1), max_size=8))
                if draw(st.booleans()):  # the API's order: one run of rising times
                    slots = sorted(set(slots))
                rows += [(uuid, T0 + slot * step + slot * slot % (jitter + 1),
                          draw(st.sampled_from([1.0, -2.5, float("nan")]))) for slot in slots]
            if draw(st.booleans()):
                rows = draw(st.permutations(rows))
            ids, stamps, values = zip(*rows, strict=True) if rows else ((), (), ())
            table = pa.table({"id": pa.array(ids, pa.string()).dictionary_encode(),
                              "timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
                              "value": pa.array(values, pa.float64())},
                             schema=MEASUREMENTS_SCHEMA)
            out.append((batch, T0 + low * step, table))
    return draw(st.permutations(out))  # requests finish in any order


def _all_rows(done: list[tuple[tuple[str, ...], int, pa.Table]]) -> pd.DataFrame:
    """Every row, windows in time order (the order in which the first of a pair wins)."""
    tables = [table for _, _, table in sorted(done, key=lambda request: request[1])]
    long = pa.concat_tables(tables).to_pandas()
    long["id"] = long["id"].astype(str)
    long["series"] = long["id"].map(LABELS)
    return long


@given(done=requests())
def test_wide_frames_agree_with_a_pandas_pivot(
        done: list[tuple[tuple[str, ...], int, pa.Table]]) -> None:
    builder = WideBuilder(LABELS)
    for batch, start, table in done:
        builder.add(batch, pd.Timestamp(start * 1000, tz="UTC"), table)
    wide = builder.frame({"tag 0": "kW"})
    rows = _all_rows(done).drop_duplicates(["series", "timestamp"], keep="first")
    expected = rows.pivot(index="timestamp", columns="series", values="value").sort_index()
    expected.index = expected.index.as_unit("us")
    expected.columns = expected.columns.astype("str")
    seen = sorted({LABELS[uuid] for batch, _, _ in done for uuid in batch})
    expected = expected.reindex(columns=pd.Index(seen, dtype="str", name="series"))
    expected.attrs["units"] = {"tag 0": "kW"}
    pd.testing.assert_frame_equal(wide, expected.astype("float64"))


@given(done=requests(), categorical=st.booleans())
def test_long_frames_agree_with_a_pandas_sort(
        done: list[tuple[tuple[str, ...], int, pa.Table]], categorical: bool) -> None:
    table = pa.concat_tables([table for _, _, table in done]).unify_dictionaries()
    long = long_frame(table, LABELS, categorical=categorical)
    rows = table.to_pandas()
    rows["id"] = rows["id"].astype("str")
    rows["series"] = rows["id"].map(LABELS).astype("str")
    expected = rows.sort_values(["series", "timestamp"], kind="stable", ignore_index=True)
    expected = expected[["timestamp", "series", "id", "value"]]
    if categorical:
        long = long.astype({"series": "str", "id": "str"})
    expected.attrs["units"] = {}
    pd.testing.assert_frame_equal(long, expected)
