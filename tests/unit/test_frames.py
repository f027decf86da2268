"""Arrow tables -> pandas frames: duplicates, labels, long/wide shapes, metadata."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from raadata._decode import MEASUREMENTS_SCHEMA, STATISTICS_SCHEMA
from raadata._frames import (
    drop_exact_duplicates,
    long_frame,
    metadata_frame,
    statistics_long_frame,
    statistics_wide_frame,
    unique_labels,
)
from raadata._wide import WideBuilder

NAN = float("nan")
U1 = "aaaaaaaa-0000-4000-8000-000000000001"
U2 = "bbbbbbbb-0000-4000-8000-000000000002"
U3 = "cccccccc-0000-4000-8000-000000000003"
S = 1_000_000  # one second in microseconds


def ts(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def measurements(rows: Sequence[tuple[str, float, float]]) -> pa.Table:
    """(uuid, Unix seconds, value) rows -> a decoded measurements table."""
    ids, seconds, values = zip(*rows, strict=True) if rows else ((), (), ())
    stamps = [round(s * S) for s in seconds]
    return pa.table(
        [
            pa.array(ids, pa.string()),
            pa.array(stamps, pa.int64()).cast(MEASUREMENTS_SCHEMA.field(1).type),
            pa.array(values, pa.float64()),
        ],
        schema=MEASUREMENTS_SCHEMA,
    )


def statistics(rows: Sequence[tuple[str, str, float, float]]) -> pa.Table:
    """(uuid, aggregation, Unix seconds, value) rows -> a decoded statistics table."""
    ids, aggs, seconds, values = zip(*rows, strict=True) if rows else ((), (), (), ())
    return pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "aggregation": pa.array(aggs, pa.string()),
            "timestamp": pa.array([round(s * S) for s in seconds], pa.int64()).cast(
                STATISTICS_SCHEMA.field("timestamp").type
            ),
            "value": pa.array(values, pa.float64()),
        },
        schema=STATISTICS_SCHEMA,
    )


def plain(rows: Sequence[Mapping[Any, Any]]) -> list[dict[Any, Any]]:
    """Rows with NaN replaced by the string "nan", so lists of rows compare equal."""
    return [
        {k: "nan" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in rows
    ]


# -- drop_exact_duplicates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "kept", "dropped"),
    [
        ([], [], 0),
        ([(U1, 1, 1.0)], [0], 0),
        ([(U1, 1, 1.0), (U1, 2, 2.0), (U2, 1, 1.0)], [0, 1, 2], 0),  # the API's order
        ([(U2, 1, 1.0), (U1, 1, 1.0), (U1, 0, 5.0)], [0, 1, 2], 0),  # unordered, distinct
        ([(U1, 1, 1.0), (U1, 1, 1.0), (U1, 2, 2.0)], [0, 2], 1),
        ([(U1, 1, 1.0), (U1, 2, 2.0), (U1, 1, 1.0), (U1, 1, 1.0)], [0, 1], 2),
        ([(U1, 1, 1.0), (U1, 1, 2.0)], [0, 1], 0),  # same instant, other value: kept
        ([(U1, 1, 1.0), (U2, 1, 1.0)], [0, 1], 0),  # other series: kept
        ([(U1, 1, NAN), (U1, 1, NAN)], [0], 1),  # NaN equals NaN here
        ([(U1, 1, NAN), (U1, 1, 0.0)], [0, 1], 0),
        ([(U2, 5, 1.0), (U1, 1, 1.0), (U2, 5, 1.0), (U1, 1, 1.0)], [0, 1], 2),  # order kept
    ],
)
def test_drop_exact_duplicates(
    rows: list[tuple[str, float, float]], kept: list[int], dropped: int
) -> None:
    table = measurements(rows)
    result, count = drop_exact_duplicates(table)
    assert count == dropped
    assert result.schema == MEASUREMENTS_SCHEMA
    assert plain(result.to_pylist()) == plain(table.take(pa.array(kept, pa.int64())).to_pylist())


def test_drop_exact_duplicates_across_chunks_and_statistics() -> None:
    table = measurements([(U1, 1, 1.0), (U1, 2, 2.0)])
    result, count = drop_exact_duplicates(pa.concat_tables([table, table, table]))
    assert (count, result.num_rows) == (4, 2)
    stats = statistics([(U1, "avg", 0, 1.0), (U1, "max", 0, 1.0), (U1, "avg", 0, 1.0)])
    result, count = drop_exact_duplicates(stats)
    assert count == 1
    assert result["aggregation"].to_pylist() == ["avg", "max"]


# -- unique_labels ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        ([(U1, "IMO1/a"), (U2, "IMO1/b")], {U1: "IMO1/a", U2: "IMO1/b"}),
        (
            [(U1, "IMO1/a"), (U2, "IMO1/a"), (U3, "IMO1/c")],
            {U1: "IMO1/a [aaaaaaaa]", U2: "IMO1/a [bbbbbbbb]", U3: "IMO1/c"},
        ),
        ([(U1, "IMO1/a"), (U1, "IMO1/a")], {U1: "IMO1/a"}),  # the same series twice
        ([(U1, "first"), (U1, "second")], {U1: "first"}),
        ([(U1, "")], {U1: U1}),
        (
            [("abcdefgh-1", "x"), ("abcdefgh-2", "x")],  # the short form still collides
            {"abcdefgh-1": "x [abcdefgh-1]", "abcdefgh-2": "x [abcdefgh-2]"},
        ),
        (
            [(U1, "x"), (U2, "x"), (U3, "x [aaaaaaaa]")],  # a disambiguated name is taken
            {U1: f"x [{U1}]", U2: "x [bbbbbbbb]", U3: "x [aaaaaaaa]"},
        ),
    ],
)
def test_unique_labels(pairs: list[tuple[str, str]], expected: dict[str, str]) -> None:
    labels = unique_labels(pairs)
    assert labels == expected
    assert len(set(labels.values())) == len(labels)


# -- long and wide frames -----------------------------------------------------------------

LONG_DTYPES = {
    "timestamp": "datetime64[us, UTC]",
    "series": "str",
    "id": "str",
    "value": "float64",
}


@pytest.mark.parametrize(
    ("rows", "labels", "expected"),
    [
        ([], {}, []),
        (
            [(U2, 2, 2.0), (U1, 1, NAN), (U2, 1, 1.0), (U1, 0, 0.5)],
            {U1: "IMO1/b", U2: "IMO1/a"},
            [
                ("IMO1/a", U2, 1, 1.0),
                ("IMO1/a", U2, 2, 2.0),
                ("IMO1/b", U1, 0, 0.5),
                ("IMO1/b", U1, 1, NAN),
            ],
        ),
        (
            [(U1, 1, 1.0), (U2, 1, 2.0)],
            {U1: "z"},  # U2 has no label: it is its own label
            [(U2, U2, 1, 2.0), ("z", U1, 1, 1.0)],
        ),
    ],
)
def test_long_frame(
    rows: list[tuple[str, float, float]],
    labels: dict[str, str],
    expected: list[tuple[str, str, float, float]],
) -> None:
    frame = long_frame(measurements(rows), labels)
    assert list(frame.columns) == list(LONG_DTYPES)
    assert {c: str(t) for c, t in frame.dtypes.items()} == LONG_DTYPES
    assert isinstance(frame.index, pd.RangeIndex)
    want = [
        {"timestamp": ts(s), "series": series, "id": uuid, "value": v}
        for series, uuid, s, v in expected
    ]
    assert plain(frame.to_dict("records")) == plain(want)


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (None, {}),
        ({U1: "kW", U2: "rpm"}, {"IMO1/a": "kW", "IMO1/b": "rpm"}),  # by UUID
        ({"IMO1/a": "kW"}, {"IMO1/a": "kW"}),  # by label
        ({U3: "bar"}, {U3: "bar"}),  # unlabelled UUID
    ],
)
def test_units_in_attrs(units: dict[str, str] | None, expected: dict[str, str]) -> None:
    frame = long_frame(measurements([(U1, 0, 1.0)]), {U1: "IMO1/a", U2: "IMO1/b"}, units)
    assert frame.attrs["units"] == expected
    assert wide_frame(frame).attrs["units"] == expected


def wide_frame(long: pd.DataFrame) -> pd.DataFrame:
    """The wide frame WideBuilder makes of a long frame's rows, added as one request."""
    labels = dict(zip(long["id"], long["series"], strict=True))
    table = pa.Table.from_pandas(long[["id", "timestamp", "value"]], MEASUREMENTS_SCHEMA,
                                 preserve_index=False)
    builder = WideBuilder(labels)
    builder.add(tuple(labels), pd.Timestamp(0, tz="UTC"), table)
    return builder.frame(dict(long.attrs.get("units", {})))


def test_wide_frame() -> None:
    table = measurements([(U1, 0, 1.0), (U1, 2, NAN), (U2, 1, 5.0), (U2, 2, 6.0), (U3, 0, 7.0)])
    long = long_frame(table, {U1: "b", U2: "a", U3: "c"}, {U1: "kW"})
    wide = wide_frame(long)
    assert isinstance(wide.index, pd.DatetimeIndex)
    assert wide.index.name == "timestamp"
    assert str(wide.index.dtype) == "datetime64[us, UTC]"
    assert wide.index.is_monotonic_increasing
    assert wide.columns.name == "series"
    assert list(wide.columns) == ["a", "b", "c"]
    assert (wide.dtypes == "float64").all()
    expected = pd.DataFrame(
        {"a": [NAN, 5.0, 6.0], "b": [1.0, NAN, NAN], "c": [7.0, NAN, NAN]},
        index=pd.DatetimeIndex([ts(0), ts(1), ts(2)], name="timestamp").as_unit("us"),
    )
    pd.testing.assert_frame_equal(wide, expected, check_names=False)
    assert wide.attrs["units"] == {"b": "kW"}
    assert long.attrs["units"] == {"b": "kW"}  # the long frame is untouched


def test_wide_frame_keeps_first_of_conflicting_values() -> None:
    long = long_frame(measurements([(U1, 0, 1.0), (U1, 0, 2.0), (U1, 1, 3.0)]), {U1: "a"})
    wide = wide_frame(long)
    assert wide["a"].tolist() == [1.0, 3.0]


def test_wide_frame_empty() -> None:
    wide = wide_frame(long_frame(MEASUREMENTS_SCHEMA.empty_table(), {}))
    assert wide.shape == (0, 0)
    assert wide.index.name == "timestamp"
    assert str(wide.index.dtype) == "datetime64[us, UTC]"
    assert wide.columns.name == "series"


def test_long_frame_of_chunked_table_with_many_series() -> None:
    n = 1000
    uuids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(5)]
    chunks = [measurements([(u, s, float(s)) for s in np.arange(n, dtype=float)]) for u in uuids]
    table = pa.concat_tables(reversed(chunks))
    frame = long_frame(table, {u: f"IMO1/s{i}" for i, u in enumerate(uuids)})
    assert len(frame) == 5 * n
    assert frame["series"].is_monotonic_increasing
    assert all(g["timestamp"].is_monotonic_increasing for _, g in frame.groupby("series"))
    assert wide_frame(frame).shape == (n, 5)


# -- statistics frames --------------------------------------------------------------------

STAT_ROWS: list[tuple[str, str, float, float]] = [
    (U1, "max", 60, 9.0),
    (U1, "avg", 0, 1.0),
    (U1, "max", 0, 2.0),
    (U2, "avg", 0, 3.0),
    (U1, "avg", 60, NAN),
]


def test_statistics_long_frame() -> None:
    frame = statistics_long_frame(statistics(STAT_ROWS), {U1: "a", U2: "b"}, {U2: "kW"})
    assert list(frame.columns) == ["timestamp", "series", "id", "aggregation", "value"]
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert str(frame["value"].dtype) == "float64"
    assert isinstance(frame.index, pd.RangeIndex)
    got = list(zip(frame["series"], frame["aggregation"], frame["timestamp"], strict=True))
    assert got == [
        ("a", "avg", ts(0)),
        ("a", "avg", ts(60)),
        ("a", "max", ts(0)),
        ("a", "max", ts(60)),
        ("b", "avg", ts(0)),
    ]
    assert frame.attrs["units"] == {"b": "kW"}


@pytest.mark.parametrize(
    ("rows", "columns", "names"),
    [
        ([r for r in STAT_ROWS if r[1] == "avg"], ["a", "b"], ["series"]),  # one aggregation
        ([r for r in STAT_ROWS if r[0] == U1], ["avg", "max"], ["aggregation"]),  # one series
        ([(U1, "min", 0, 1.0)], ["a"], ["series"]),  # one of each: the series label
        (
            STAT_ROWS,
            [("a", "avg"), ("a", "max"), ("b", "avg")],
            ["series", "aggregation"],
        ),
        ([], [], ["series"]),
    ],
)
def test_statistics_wide_frame(
    rows: list[tuple[str, str, float, float]], columns: list[Any], names: list[str]
) -> None:
    long = statistics_long_frame(statistics(rows), {U1: "a", U2: "b"}, {U1: "kW"})
    wide = statistics_wide_frame(long)
    assert list(wide.columns) == columns
    assert list(wide.columns.names) == names
    assert wide.index.name == "timestamp"
    assert str(wide.index.dtype) == "datetime64[us, UTC]"
    assert all(str(t) == "float64" for t in wide.dtypes)
    assert wide.attrs["units"] == {"a": "kW"}


def test_statistics_wide_frame_values() -> None:
    wide = statistics_wide_frame(statistics_long_frame(statistics(STAT_ROWS), {U1: "a"}))
    assert wide.loc[ts(0), ("a", "max")] == 2.0
    assert np.isnan(wide[("a", "avg")].loc[ts(60)])
    assert np.isnan(wide[(U2, "avg")].loc[ts(60)])  # b had no window at 60 s


# -- metadata -----------------------------------------------------------------------------

ENTRIES: list[tuple[str, dict[str, Any]]] = [
    (
        "IMO1/ME ShaftPower",
        {
            "name": "ME ShaftPower",
            "uom": "kW",
            "timeSeriesId": U1,
            "mapsTo": {"id": U1, "jsmea": "IMO1/jsmea_mac/x"},
            "vesselImo": "1000001",
            "rangeHigh": 30000,
        },
    ),
    (
        "IMO1/ME ShaftPower",  # the same domain id, a second series: a second row
        {"name": "ME ShaftPower", "timeSeriesId": U2, "mapsTo": {"id": U2}, "source": "x"},
    ),
]


def test_metadata_frame() -> None:
    frame = metadata_frame(ENTRIES, "raalabs")
    assert list(frame.columns) == [
        "series",
        "domain",
        "name",
        "uom",
        "timeSeriesId",
        "mapsTo.id",
        "mapsTo.jsmea",
        "vesselImo",
        "rangeHigh",
        "source",
    ]
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["series"].tolist() == ["IMO1/ME ShaftPower"] * 2
    assert frame["domain"].tolist() == ["raalabs"] * 2
    assert frame["timeSeriesId"].tolist() == [U1, U2]
    assert frame["mapsTo.id"].tolist() == [U1, U2]
    assert frame["mapsTo.jsmea"].iloc[0] == "IMO1/jsmea_mac/x"
    assert pd.isna(frame["mapsTo.jsmea"].iloc[1])
    assert frame["vesselImo"].iloc[0] == "1000001"  # kept as text
    assert frame["rangeHigh"].iloc[0] == 30000


@pytest.mark.parametrize(
    ("entries", "columns"),
    [
        ([], ["series", "domain"]),
        ([("k", {})], ["series", "domain"]),
        (
            [("k", {"domain": "x", "series": "y"})],
            ["series", "domain", "metadata.domain", "metadata.series"],
        ),
        ([("k", {"mapsTo": {}})], ["series", "domain"]),
    ],
)
def test_metadata_frame_edges(
    entries: list[tuple[str, dict[str, Any]]], columns: list[str]
) -> None:
    frame = metadata_frame(entries, "jsmea")
    assert list(frame.columns) == columns
    assert len(frame) == len(entries)
    if entries:
        assert frame["domain"].tolist() == ["jsmea"] * len(entries)


@pytest.mark.parametrize(
    ("rows", "dropped"),
    [
        ([("a", 0, 1.0), ("a", 1, 1.0), ("b", 0, 1.0)], 0),  # the API's order: fast path
        ([("a", 0, 1.0), ("b", 0, 1.0), ("a", 0, 1.0)], 1),  # a group comes back later
        ([("a", 1, 1.0), ("a", 0, 1.0), ("a", 1, 1.0)], 1),  # time goes backwards
        ([("a", 0, 1.0), ("a", 0, 2.0)], 0),  # same instant, other value: not a duplicate
        ([("a", 0, float("nan")), ("a", 0, float("nan"))], 1),
    ],
)
def test_duplicates_found_whatever_the_order(
    rows: list[tuple[str, int, float]], dropped: int
) -> None:
    table = pa.table(
        {
            "id": [r[0] for r in rows],
            "timestamp": pa.array([r[1] for r in rows], pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "value": [r[2] for r in rows],
        }
    )
    kept, count = drop_exact_duplicates(table)
    assert count == dropped
    assert kept.num_rows == len(rows) - dropped


@pytest.mark.parametrize("seed", range(20))
def test_long_frame_orders_runs_as_a_sort_would(seed: int) -> None:
    """Requests arrive in any order, each grouped by series and rising in time; sometimes
    two windows of a series overlap (then only a sort can order them)."""
    rng = np.random.default_rng(seed)
    uuids = [U1, U2, U3]
    tables = []
    for window in rng.permutation(4):
        rows = [(u, int(window) * 10 + int(s), float(rng.integers(0, 5)))
                for u in rng.permutation(uuids) for s in sorted(rng.choice(12, 4, replace=False))]
        tables.append(measurements(rows))
    table = pa.concat_tables(tables)
    frame = long_frame(table, {U1: "b", U2: "a", U3: "c"})
    reference = table.to_pandas()
    reference["id"] = reference["id"].astype(str)  # decoded ids are dictionary-encoded
    reference["series"] = reference["id"].map({U1: "b", U2: "a", U3: "c"})
    reference = reference.sort_values(["series", "timestamp"], kind="stable")
    pd.testing.assert_frame_equal(
        frame, reference[["timestamp", "series", "id", "value"]].reset_index(drop=True),
        check_dtype=False,
    )
