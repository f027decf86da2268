"""Encoders: timestamp text, number text, and bodies that parse back to the same table."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from raadata.sandbox import data, encode
from raadata.sandbox.clock import format_us, to_us
from raadata.sandbox.fleet import default_fleet

FLEET = default_fleet()


def test_timestamps_match_the_standard_library() -> None:
    rng = np.random.default_rng(0)
    us = np.concatenate([
        rng.integers(0, to_us("2100-01-01T00:00:00Z"), 2000),
        [0, to_us("2024-02-29T23:59:59.999999Z"), to_us("2024-12-31T23:59:59Z"),
         to_us("2025-01-01T00:00:00.000001Z")],
    ]).astype(np.int64)
    assert encode.format_timestamps(us).to_pylist() == [format_us(int(u)) for u in us]
    assert encode.format_timestamps(np.empty(0, np.int64)).to_pylist() == []


def test_numbers_round_trip_and_nulls_become_null() -> None:
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(0, 1e6, 1000), rng.normal(0, 1e-6, 100),
                             [0.0, -0.0, 1e300, 5e-324, 0.1 + 0.2, 7417.0]])
    text = encode.format_numbers(pa.array(values)).to_pylist()
    assert [float(json.loads(t)) for t in text] == list(values)
    assert encode.format_numbers(pa.array([1.5, None])).to_pylist() == ["1.5", "null"]


def body_bytes(body: encode.Body) -> bytes:
    return b"".join(bytes(part) for part in body)


def test_measurement_bodies_agree_with_each_other() -> None:
    specs = FLEET.series[:3]
    table = data.measurements(FLEET, specs, to_us("2025-01-01T00:00:00Z"),
                              to_us("2025-01-01T02:00:00Z"))
    as_json = json.loads(body_bytes(encode.measurements_body(table, "json")))
    lines = body_bytes(encode.measurements_body(table, "ndjson")).decode().splitlines()
    parquet = pq.read_table(io.BytesIO(body_bytes(encode.measurements_body(table, "parquet"))))
    assert [json.loads(line) for line in lines] == as_json
    assert len(as_json) == table.num_rows == parquet.num_rows == 3 * 7200
    assert parquet["value"].to_pylist() == [row["value"] for row in as_json]
    assert encode.body_length(encode.measurements_body(table, "json")) == len(
        body_bytes(encode.measurements_body(table, "json")))


def test_a_body_made_from_a_sliced_table_is_still_right() -> None:
    specs = FLEET.series[:1]
    table = data.measurements(FLEET, specs, to_us("2025-01-01T00:00:00Z"),
                              to_us("2025-01-01T00:00:10Z")).slice(3, 4)
    rows = json.loads(body_bytes(encode.measurements_body(table, "json")))
    assert [r["timestamp"][17:19] for r in rows] == ["03", "04", "05", "06"]


def test_metadata_pairs_keep_repeated_keys() -> None:
    body = body_bytes(encode.pairs_body([("a", {"x": 1}), ("a", {"x": 2}), ("b/c d", None)]))
    assert body == b'{"a":{"x":1},"a":{"x":2},"b/c d":null}'
    assert json.loads(body, object_pairs_hook=list) == [
        ("a", [("x", 1)]), ("a", [("x", 2)]), ("b/c d", None)]
