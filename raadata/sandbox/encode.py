"""Arrow tables → response bodies: JSON, NDJSON and Parquet (prism-api.md §6).

No per-row Python: timestamps are formatted with numpy lookups, numbers by Arrow's
shortest round-trip float formatting, rows assembled by Arrow's string join. A body is a list
of buffers that the server writes one after the other (no copy into one big bytes object).

- Measurements, JSON: ``[{"id": …, "timestamp": "2025-01-01T00:00:10.000000Z", "value": 1.5},
  …]``; NDJSON: one such object per line; Parquet: ``id`` string, ``timestamp``
  timestamp[us, UTC], ``value`` float64. Missing values are ``null``.
- Statistics, JSON: ``[{"<uuid>:avg": 1.25, "timestamp": "…"}, …]``, one object per
  (series, aggregation, window); NDJSON/Parquet: long columns ``id``, ``aggregation``,
  ``timestamp``, ``value``.
- Metadata: a JSON object that may repeat a key (written pair by pair, not from a dict).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from raadata.sandbox.clock import US_PER_DAY, US_PER_S

Body: TypeAlias = list[bytes | memoryview]

JSON = "application/json"
NDJSON = "application/x-ndjson"
PARQUET = "application/vnd.apache.parquet"
FORMATS = {"json": JSON, "ndjson": NDJSON, "parquet": PARQUET}
"""The ``format`` parameter's values and their media types."""

_STR = pa.large_string()


def body_length(body: Body) -> int:
    """Bytes in a body."""
    return sum(memoryview(part).nbytes for part in body)


# -- text columns --------------------------------------------------------------------------


@cache
def _clock_digits() -> np.ndarray:
    """``"HH:MM:SS."`` for every second of a day, as a (86400, 9) uint8 table."""
    text = b"".join(b"%02d:%02d:%02d." % (s // 3600, s // 60 % 60, s % 60) for s in range(86400))
    return np.frombuffer(text, np.uint8).reshape(86400, 9)


@cache
def _three_digits() -> np.ndarray:
    return np.frombuffer(b"".join(b"%03d" % i for i in range(1000)), np.uint8).reshape(1000, 3)


def _fixed_width(rows: np.ndarray) -> pa.Array:
    """A (n, width) uint8 array → a large_string array of n strings of that width."""
    n, width = rows.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                            pa.py_buffer(np.ascontiguousarray(rows)))


def format_timestamps(us: np.ndarray) -> pa.Array:
    """int64 µs since the epoch (≥ 0) → ``2025-01-01T00:00:10.000000Z`` strings."""
    us = np.asarray(us, dtype=np.int64)
    out = np.empty((len(us), 27), np.uint8)
    if len(us):
        days, rem = np.divmod(us, US_PER_DAY)
        seconds, micro = np.divmod(rem, US_PER_S)
        first = int(days.min())
        dates = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
        date_text = np.char.add(np.datetime_as_string(dates), "T").astype("S11")
        out[:, 0:11] = date_text.view(np.uint8).reshape(-1, 11)[days - first]
        out[:, 11:20] = _clock_digits()[seconds]
        milli, micro = np.divmod(micro, 1000)
        out[:, 20:23] = _three_digits()[milli]
        out[:, 23:26] = _three_digits()[micro]
        out[:, 26] = ord("Z")
    return _fixed_width(out)


def format_numbers(values: pa.Array) -> pa.Array:
    """float64 → JSON numbers as text (shortest round-trip form), null → ``null``."""
    text = pc.cast(values, _STR)
    return pc.fill_null(text, pa.scalar("null", _STR)) if values.null_count else text


def _decoded(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A dictionary column → its values, as large strings."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.take(arr.dictionary.cast(_STR), arr.indices)


def _joined(pieces: Sequence[pa.Array | str], head: bytes, skip: int, tail: bytes) -> Body:
    """Concatenate every row of ``pieces``, drop ``skip`` leading bytes, add head and tail."""
    args = [p if isinstance(p, pa.Array) else pa.scalar(p, _STR) for p in pieces]
    rows = pc.binary_join_element_wise(*args, pa.scalar("", _STR))
    offsets = np.frombuffer(rows.buffers()[1], np.int64, len(rows) + 1, rows.offset * 8)
    data = rows.buffers()[2]
    return [head, memoryview(data)[int(offsets[0]) + skip:int(offsets[-1])], tail]


def _column(table: pa.Table, name: str) -> pa.Array:
    return table[name].combine_chunks()


# -- measurements ---------------------------------------------------------------------------


def measurements_body(table: pa.Table, fmt: str) -> Body:
    """Measurements (columns id, timestamp, value) in ``fmt``: json, ndjson or parquet."""
    if fmt == "parquet":
        return _parquet(table)
    if table.num_rows == 0:
        return [b"[]" if fmt == "json" else b""]
    sep = '},{"id":"' if fmt == "json" else '}\n{"id":"'
    pieces = [sep, _decoded(table["id"]), '","timestamp":"',
              format_timestamps(_column(table, "timestamp").cast(pa.int64()).to_numpy()),
              '","value":', format_numbers(_column(table, "value"))]
    if fmt == "json":
        return _joined(pieces, b'[{"id":"', len(sep), b"}]")
    return _joined(pieces, b'{"id":"', len(sep), b"}\n")


# -- statistics -----------------------------------------------------------------------------


def statistics_body(table: pa.Table, fmt: str, shape: str = "ours") -> Body:
    """Statistics (columns id, aggregation, timestamp, value) in ``fmt``.

    ``shape``: ``"ours"`` (NDJSON in long columns, JSON as ``"<uuid>:<agg>"`` objects),
    ``"object"`` (both as ``"<uuid>:<agg>"`` objects) or ``"long"`` (both in long columns).
    """
    if fmt == "parquet":
        return _parquet(table)
    if table.num_rows == 0:
        return [b"[]" if fmt == "json" else b""]
    stamps = format_timestamps(_column(table, "timestamp").cast(pa.int64()).to_numpy())
    numbers = format_numbers(_column(table, "value"))
    long = shape == "long" or (shape == "ours" and fmt == "ndjson")
    if long:
        sep = '},{"id":"' if fmt == "json" else '}\n{"id":"'
        pieces = [sep, _decoded(table["id"]), '","aggregation":"',
                  _decoded(table["aggregation"]), '","timestamp":"', stamps, '","value":',
                  numbers]
        if fmt == "json":
            return _joined(pieces, b'[{"id":"', len(sep), b"}]")
        return _joined(pieces, b'{"id":"', len(sep), b"}\n")
    ids, aggs = _column(table, "id"), _column(table, "aggregation")
    keys = pa.array([f"{i}:{a}" for i in ids.dictionary.to_pylist()
                     for a in aggs.dictionary.to_pylist()], _STR)
    codes = pc.add(pc.multiply(ids.indices.cast(pa.int64()), len(aggs.dictionary)),
                   aggs.indices.cast(pa.int64()))
    sep = '},{"' if fmt == "json" else '}\n{"'
    pieces = [sep, pc.take(keys, codes), '":', numbers, ',"timestamp":"', stamps, '"']
    if fmt == "json":
        return _joined(pieces, b'[{"', len(sep), b"}]")
    return _joined(pieces, b'{"', len(sep), b"}\n")


# -- parquet and metadata -------------------------------------------------------------------


def _parquet(table: pa.Table) -> Body:
    """A table → Parquet (snappy); dictionary columns are written as plain strings."""
    columns = [
        c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns
    ]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns, names=table.column_names), sink, compression="snappy")
    return [memoryview(sink.getvalue())]


def json_body(value: Any) -> Body:
    """Any JSON value, compact."""
    return [json.dumps(value, separators=(",", ":"), allow_nan=False).encode()]


def pairs_body(pairs: Sequence[tuple[str, Any]]) -> Body:
    """A JSON object written from key/value pairs, in order; a key may repeat."""
    items = (f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in pairs)
    return [("{" + ",".join(items) + "}").encode()]
