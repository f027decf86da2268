"""Decoding Parquet, NDJSON and JSON bodies into Arrow tables (prism-api.md §6)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from raadata._decode import (
    JSON,
    MEASUREMENTS_SCHEMA,
    NDJSON,
    PARQUET,
    STATISTICS_SCHEMA,
    decode_measurements,
    decode_metadata,
    decode_statistics,
    wire_format,
)

U1 = "ba529839-8179-40e2-b3fb-5da01a8d76e8"
U2 = "0f0e0d0c-0b0a-4908-8706-050403020100"
T0 = "2025-01-01T00:00:10.000000Z"
T1 = "2025-01-01T00:00:11.500000Z"
US0 = 1_735_689_610_000_000  # T0 in Unix microseconds
US1 = US0 + 1_500_000

STRING, UTC_MICROS, FLOAT64 = MEASUREMENTS_SCHEMA.types


def rows_of(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows with timestamps as Unix microseconds and NaN as the string "nan" (comparable)."""
    columns = {name: table[name].to_pylist() for name in table.column_names}
    columns["timestamp"] = table["timestamp"].cast(pa.int64()).to_pylist()
    columns["value"] = ["nan" if math.isnan(v) else v for v in columns["value"]]
    return list(zip(*columns.values(), strict=True))


def assert_same(left: pa.Table, right: pa.Table) -> None:
    """Equal schemas and rows, NaN equal to NaN (``Table.equals`` says NaN != NaN)."""
    assert left.schema == right.schema
    assert rows_of(left) == rows_of(right)


def parquet(table: pa.Table, **options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def ndjson(objects: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(obj) + "\n" for obj in objects).encode()


def json_array(objects: list[dict[str, Any]]) -> bytes:
    return json.dumps(objects).encode()


MEASUREMENT_OBJECTS: list[dict[str, Any]] = [
    {"id": U1, "timestamp": T0, "value": 1.25},
    {"id": U1, "timestamp": T1, "value": None},
    {"id": U2, "timestamp": "2025-01-01T00:00:10Z", "value": float("nan")},
    {"id": U2, "timestamp": "2025-01-01T01:00:11.5+01:00", "value": 3},
]
MEASUREMENT_ROWS = [(U1, US0, 1.25), (U1, US1, "nan"), (U2, US0, "nan"), (U2, US1, 3.0)]


def arrow_measurements(
    id_type: pa.DataType = STRING,
    ts_type: pa.DataType = UTC_MICROS,
    value_type: pa.DataType = FLOAT64,
    values: list[Any] | None = None,
    **extra: list[Any],
) -> pa.Table:
    scale = {"s": 1e-6, "ms": 1e-3, "us": 1, "ns": 1e3}[ts_type.unit]
    stamps = [int(us * scale) for us in (US0, US1, US0, US1)]
    return pa.table(
        {
            "id": pa.array([U1, U1, U2, U2]).cast(id_type),
            "timestamp": pa.array(stamps, pa.int64()).cast(ts_type),
            "value": pa.array(values or [1.25, None, float("nan"), 3.0]).cast(value_type),
            **{name: pa.array(column) for name, column in extra.items()},
        }
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/vnd.apache.parquet", PARQUET),
        ("Application/VND.Apache.Parquet", PARQUET),
        ("application/parquet", PARQUET),
        ("application/x-ndjson", NDJSON),
        ("application/x-ndjson; charset=utf-8", NDJSON),
        ("application/jsonl", NDJSON),
        ("application/json", JSON),
        ("application/json;charset=UTF-8", JSON),
        ("  APPLICATION/JSON ; q=1", JSON),
    ],
)
def test_wire_format(header: str, expected: str) -> None:
    assert wire_format(header) == expected


@pytest.mark.parametrize("header", ["", "text/html", "text/csv", "application/octet-stream"])
def test_wire_format_rejects(header: str) -> None:
    with pytest.raises(ValueError, match="unsupported Content-Type") as caught:
        wire_format(header)
    assert all(kind in str(caught.value) for kind in (PARQUET, NDJSON, JSON))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (parquet(arrow_measurements()), PARQUET),
        (parquet(arrow_measurements(), row_group_size=1), PARQUET),  # several chunks
        (parquet(arrow_measurements(ts_type=pa.timestamp("ns", tz="UTC"))), PARQUET),
        (parquet(arrow_measurements(ts_type=pa.timestamp("ms"))), PARQUET),  # naive = UTC
        (parquet(arrow_measurements(ts_type=pa.timestamp("us", tz="Europe/Oslo"))), PARQUET),
        (parquet(arrow_measurements(id_type=pa.large_string())), PARQUET),
        (
            parquet(
                pa.table(
                    {
                        "id": [o["id"] for o in MEASUREMENT_OBJECTS],
                        "timestamp": pa.array(
                            [o["timestamp"] for o in MEASUREMENT_OBJECTS], pa.large_string()
                        ),
                        "value": [o["value"] for o in MEASUREMENT_OBJECTS],
                    }
                )
            ),
            PARQUET,
        ),  # timestamps as text
        (parquet(arrow_measurements(id_type=pa.dictionary(pa.int32(), pa.string()))), PARQUET),
        (parquet(arrow_measurements(value_type=pa.float32())), PARQUET),
        (
            parquet(arrow_measurements(x=[1, 2, 3, 4])),
            PARQUET,
        ),  # extra columns are dropped
        (ndjson(MEASUREMENT_OBJECTS), NDJSON),
        (ndjson(MEASUREMENT_OBJECTS).rstrip(b"\n"), NDJSON),
        (ndjson(MEASUREMENT_OBJECTS).replace(b"\n", b"\r\n"), NDJSON),
        (ndjson([{**o, "extra": "x"} for o in MEASUREMENT_OBJECTS]), NDJSON),
        (json_array(MEASUREMENT_OBJECTS), JSON),
        (json.dumps(MEASUREMENT_OBJECTS, indent=2).encode(), JSON),
        (
            json_array(
                [{k: v for k, v in o.items() if v is not None} for o in MEASUREMENT_OBJECTS]
            ),
            JSON,
        ),  # a missing value is a missing value
    ],
)
def test_decode_measurements(body: bytes, content_type: str) -> None:
    table = decode_measurements(body, content_type)
    assert table.schema == MEASUREMENTS_SCHEMA
    assert rows_of(table) == MEASUREMENT_ROWS


def test_decode_measurements_int_values_and_parquet_round_trip() -> None:
    ints = arrow_measurements(value_type=pa.int64(), values=[1, 2, 3, None])
    table = decode_measurements(parquet(ints), PARQUET)
    assert table["value"].to_pylist()[:3] == [1.0, 2.0, 3.0]
    assert math.isnan(table["value"][3].as_py())
    again = decode_measurements(parquet(table), PARQUET)  # decode(encode(x)) == x
    assert_same(again, table)


@pytest.mark.parametrize(
    ("ndjson_text", "expected"),
    [
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10Z", "value": NaN}', "nan"),
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10Z", "value": Infinity}', math.inf),
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10Z", "value": -Infinity}', -math.inf),
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10Z", "value": null}', "nan"),
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10Z"}', "nan"),
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10", "value": 1e3}', 1000.0),
        ('{"id": "a", "timestamp": "2025-01-01T00:00:10.000000999Z", "value": 2}', 2.0),
    ],
)
@pytest.mark.parametrize("content_type", [NDJSON, JSON])
def test_special_values(ndjson_text: str, expected: Any, content_type: str) -> None:
    body = ndjson_text.encode() if content_type == NDJSON else f"[{ndjson_text}]".encode()
    assert rows_of(decode_measurements(body, content_type)) == [("a", US0, expected)]


@pytest.mark.parametrize(
    ("body", "content_type"), [(b"", NDJSON), (b"  \n", NDJSON), (b"[]", JSON)]
)
def test_empty_bodies(body: bytes, content_type: str) -> None:
    assert decode_measurements(body, content_type).equals(MEASUREMENTS_SCHEMA.empty_table())
    assert decode_statistics(body, content_type).equals(STATISTICS_SCHEMA.empty_table())


@pytest.mark.parametrize(("body", "content_type"), [(b"", PARQUET), (b"", JSON), (b"\n", JSON)])
def test_a_blank_json_or_parquet_body_is_not_an_empty_answer(body: bytes,
                                                             content_type: str) -> None:
    # an empty JSON answer is "[]" and an empty Parquet answer still has a footer
    with pytest.raises(ValueError, match="blank"):
        decode_measurements(body, content_type)
    with pytest.raises(ValueError, match="blank"):
        decode_statistics(body, content_type)


def test_empty_parquet_file() -> None:
    body = parquet(MEASUREMENTS_SCHEMA.empty_table())
    assert decode_measurements(body, PARQUET).equals(MEASUREMENTS_SCHEMA.empty_table())


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"not parquet at all", PARQUET, ["measurements", "Parquet", PARQUET]),
        (b"{", NDJSON, ["NDJSON", NDJSON]),
        (b"[{", JSON, ["JSON", JSON]),
        (b'{"id": "a"}', JSON, ["expected a JSON array", "object"]),
        (b'[{"id": "a", "value": 1}]', JSON, ["'timestamp'"]),
        (b'["a"]', JSON, ["JSON"]),
        (b'[{"id": "a", "timestamp": "yesterday", "value": 1}]', JSON, ["yesterday"]),
        (b'[{"id": "a", "timestamp": "2025-01-01T00:00:00Z", "value": "x"}]', JSON, ["JSON"]),
        (b'{"id": 1, "timestamp": "2025-01-01T00:00:00Z", "value": 1}', NDJSON, ["NDJSON"]),
        (b'{"id": "a", "time": "2025-01-01T00:00:00Z", "value": 1}', NDJSON, ["'timestamp'"]),
        (b'{"timestamp": "2025-01-01T00:00:00Z", "value": 1}', NDJSON, ["without 'id'"]),
        (parquet(pa.table({"id": ["a"], "value": [1.0]})), PARQUET, ["no 'timestamp' column"]),
        (b"\xff\xfe[]", JSON, ["JSON"]),
    ],
)
def test_decode_measurements_errors(body: bytes, content_type: str, words: list[str]) -> None:
    with pytest.raises(ValueError, match="cannot decode") as caught:
        decode_measurements(body, content_type)
    for word in words:
        assert word in str(caught.value)


def test_decode_unknown_content_type() -> None:
    with pytest.raises(ValueError, match="unsupported Content-Type 'text/html'"):
        decode_measurements(b"<html>", "text/html")


STAT_ROWS = [
    (U1, "avg", US0, 1.0),
    (U1, "max", US0, 2.0),
    (U2, "avg", US0, "nan"),
    (U1, "avg", US1, 4.0),
]
STAT_LONG: list[dict[str, Any]] = [
    {"id": i, "aggregation": a, "timestamp": T0 if t == US0 else T1, "value": v}
    for i, a, t, v in [(i, a, t, None if v == "nan" else v) for i, a, t, v in STAT_ROWS]
]


def stat_parquet() -> bytes:
    return parquet(pa.Table.from_pylist(STAT_LONG))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            json_array(
                [
                    {f"{U1}:avg": 1, "timestamp": T0},
                    {f"{U1}:max": 2, "timestamp": T0},
                    {f"{U2}:avg": None, "timestamp": T0},
                    {f"{U1}:avg": 4, "timestamp": T1},
                ]
            ),
            JSON,
        ),  # one key per object (the documented shape)
        (
            json_array(
                [
                    {"timestamp": T0, f"{U1}:avg": 1, f"{U1}:max": 2, f"{U2}:avg": None},
                    {f"{U1}:avg": 4, "timestamp": T1},
                ]
            ),
            JSON,
        ),  # several keys per object
        (json_array(STAT_LONG), JSON),  # long objects are tolerated
        (
            b"["
            + json.dumps({f"{U1}:avg": 1, "timestamp": T0}).encode()
            + b","
            + json.dumps({f"{U1}:max": 2, "timestamp": T0}).encode()
            + b',{"'
            + U2.encode()
            + b':avg": NaN, "timestamp": "'
            + T0.encode()
            + b'"}'
            + b","
            + json.dumps({f"{U1}:avg": 4.0, "timestamp": T1}).encode()
            + b"]",
            JSON,
        ),
        (ndjson(STAT_LONG), NDJSON),
        (stat_parquet(), PARQUET),
    ],
)
def test_decode_statistics(body: bytes, content_type: str) -> None:
    table = decode_statistics(body, content_type)
    assert table.schema == STATISTICS_SCHEMA
    assert rows_of(table) == STAT_ROWS


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (json_array([{"avg": 1, "timestamp": T0}]), JSON, ["'avg'", "'<id>:<agg>'"]),
        (json_array([{f"{U1}:": 1, "timestamp": T0}]), JSON, ["'<id>:<agg>'"]),
        (json_array([{f"{U1}:avg": 1}]), JSON, ["'timestamp'"]),
        (ndjson([{"id": U1, "timestamp": T0, "value": 1}]), NDJSON, ["'aggregation'"]),
        (parquet(arrow_measurements()), PARQUET, ["no 'aggregation' column"]),
        (b"garbage", NDJSON, ["statistics", "NDJSON"]),
    ],
)
def test_decode_statistics_errors(body: bytes, content_type: str, words: list[str]) -> None:
    with pytest.raises(ValueError, match="cannot decode statistics body") as caught:
        decode_statistics(body, content_type)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", []),
        (b"{}", []),
        (
            b'{"IMO1/a": {"name": "A", "mapsTo": {"id": "u1"}}, "IMO1/b": {"name": "B"}}',
            [("IMO1/a", {"name": "A", "mapsTo": {"id": "u1"}}), ("IMO1/b", {"name": "B"})],
        ),
        (  # a repeated top-level key is kept, both entries in order
            b'{"IMO1/a": {"timeSeriesId": "u1"}, "IMO1/b": {}, "IMO1/a": {"timeSeriesId": "u2"}}',
            [
                ("IMO1/a", {"timeSeriesId": "u1"}),
                ("IMO1/b", {}),
                ("IMO1/a", {"timeSeriesId": "u2"}),
            ],
        ),
        (  # nested objects are plain dicts
            b'{"k": {"mapsTo": {"raalabs": "IMO1/x", "jsmea": "IMO1/j"}, "rangeHigh": 1.5}}',
            [("k", {"mapsTo": {"raalabs": "IMO1/x", "jsmea": "IMO1/j"}, "rangeHigh": 1.5})],
        ),
        ('{"IMO1/ø": {"name": "Ø"}}'.encode(), [("IMO1/ø", {"name": "Ø"})]),
    ],
)
def test_decode_metadata(body: bytes, expected: list[tuple[str, dict[str, Any]]]) -> None:
    assert decode_metadata(body) == expected


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{", ["cannot decode metadata", JSON]),
        (b"[]", ["expected a metadata JSON object", "array"]),
        (b'"x"', ["string"]),
        (b'{"k": 1}', ["'k'", "not a JSON object"]),
    ],
)
def test_decode_metadata_errors(body: bytes, words: list[str]) -> None:
    with pytest.raises(ValueError, match="metadata") as caught:
        decode_metadata(body)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("decode", "schema"),
    [(decode_measurements, MEASUREMENTS_SCHEMA), (decode_statistics, STATISTICS_SCHEMA)],
)
def test_ndjson_matches_parquet_round_trip(
    decode: Callable[[bytes, str], pa.Table], schema: pa.Schema
) -> None:
    rows = (
        MEASUREMENT_OBJECTS
        if schema == MEASUREMENTS_SCHEMA
        else [{**o, "aggregation": "avg"} for o in MEASUREMENT_OBJECTS]
    )
    from_ndjson = decode(ndjson(rows), NDJSON)
    assert_same(decode(parquet(from_ndjson), PARQUET), from_ndjson)
    assert_same(decode(json_array(rows), JSON), from_ndjson)
