"""Decoding response bodies (Parquet, NDJSON, JSON) into Arrow tables (prism-api.md §6).

Measurements and statistics decode to fixed schemas whatever the wire format: ``id`` is the
series UUID, ``timestamp`` is a tz-aware UTC instant in microseconds, ``value`` is float64
with null and NaN both as NaN. Metadata decodes to ``(domain id, fields)`` pairs that keep
repeated keys. Everything here is pure; a malformed body raises ``ValueError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

__all__ = [
    "JSON",
    "MEASUREMENTS_SCHEMA",
    "NDJSON",
    "PARQUET",
    "STATISTICS_SCHEMA",
    "decode_measurements",
    "decode_metadata",
    "decode_statistics",
    "wire_format",
]

TIMESTAMP = pa.timestamp("us", tz="UTC")
ID = pa.dictionary(pa.int32(), pa.string())
"""Decoded tables hold ``id`` dictionary-encoded: a request's few series UUIDs once, and a
4-byte code per row (not a 36-character string per row)."""
MEASUREMENTS_SCHEMA = pa.schema(
    [("id", ID), ("timestamp", TIMESTAMP), ("value", pa.float64())]
)
STATISTICS_SCHEMA = pa.schema(
    [
        ("id", ID),
        ("aggregation", pa.string()),
        ("timestamp", TIMESTAMP),
        ("value", pa.float64()),
    ]
)

PARQUET = "application/vnd.apache.parquet"
NDJSON = "application/x-ndjson"
JSON = "application/json"

_MEDIA_TYPES = {
    PARQUET: PARQUET,
    "application/parquet": PARQUET,
    "application/x-parquet": PARQUET,
    NDJSON: NDJSON,
    "application/ndjson": NDJSON,
    "application/jsonl": NDJSON,
    "application/x-jsonlines": NDJSON,
    JSON: JSON,
    "text/json": JSON,
}
_FORMAT_NAMES = {PARQUET: "Parquet", NDJSON: "NDJSON", JSON: "JSON"}
_DECODE_ERRORS = (
    pa.ArrowException,
    json.JSONDecodeError,
    UnicodeDecodeError,
    KeyError,
    TypeError,
    ValueError,
)

_JsonRows = Callable[[Any], pa.Table]


def wire_format(content_type: str) -> str:
    """Normalise a ``Content-Type`` header to ``PARQUET``, ``NDJSON`` or ``JSON``.

    Parameters (``; charset=utf-8``) and case are ignored. Raises ``ValueError`` otherwise.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        return _MEDIA_TYPES[media_type]
    except KeyError:
        raise ValueError(
            f"unsupported Content-Type {content_type!r}; expected one of {PARQUET}, "
            f"{NDJSON} or {JSON}"
        ) from None


def _json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


def _is_blank(body: bytes) -> bool:
    return not body or body.isspace()


def is_text(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))


def _parse_instants(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """ISO 8601 strings (``Z``/offset or naive = UTC, any fraction) -> UTC microseconds."""
    try:
        return texts.cast(TIMESTAMP)
    except pa.ArrowInvalid:  # naive strings or nanoseconds: the slower, more tolerant parser
        parsed = pd.to_datetime(texts.to_pandas(), utc=True, format="ISO8601")
        return pa.array(parsed.dt.floor("us"), type=TIMESTAMP)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast ``table``'s columns to ``schema`` (extra columns dropped, ``id`` as :data:`ID`,
    one dictionary for the whole table); null values -> NaN."""
    columns = []
    for field in schema:
        if field.name not in table.column_names:
            raise ValueError(f"no {field.name!r} column (columns: {table.column_names})")
        column = table[field.name]
        if field.type == ID:
            if not pa.types.is_dictionary(column.type):
                column = pc.dictionary_encode(column.cast(pa.string()))
            column = column.cast(ID)
        elif field.type == TIMESTAMP and is_text(column.type):
            column = _parse_instants(column)
        elif column.type != field.type:
            options = pc.CastOptions(field.type, allow_time_truncate=True)
            column = pc.cast(column, options=options)
        if field.name == "value":
            if column.null_count:
                column = column.fill_null(float("nan"))
        elif column.null_count:
            raise ValueError(f"{column.null_count} rows without {field.name!r}")
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema).unify_dictionaries()


def _read_ndjson(body: bytes, schema: pa.Schema) -> pa.Table:
    """NDJSON -> table; if the fast timestamp parser refuses, read them as text instead."""
    try:
        return _read_ndjson_as(body, schema)
    except pa.ArrowInvalid:
        position = schema.get_field_index("timestamp")
        return _read_ndjson_as(body, schema.set(position, pa.field("timestamp", pa.string())))


def _read_ndjson_as(body: bytes, schema: pa.Schema) -> pa.Table:
    schema = schema.set(schema.get_field_index("id"), pa.field("id", pa.string()))
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    return pa_json.read_json(pa.BufferReader(body), parse_options=options)


def _decode(
    body: bytes, content_type: str, schema: pa.Schema, json_table: _JsonRows, what: str
) -> pa.Table:
    """Decode ``body`` in the format of ``content_type`` to ``schema``."""
    wire = wire_format(content_type)
    if _is_blank(body):
        if wire == NDJSON:  # zero lines: no rows (a JSON or Parquet body is never blank)
            return schema.empty_table()
        raise ValueError(f"blank {what} body where {_FORMAT_NAMES[wire]} ({wire}) was expected")
    try:
        if wire == PARQUET:
            table = pq.read_table(pa.BufferReader(body), read_dictionary=["id"])
        elif wire == NDJSON:
            table = _read_ndjson(body, schema)
            if "aggregation" in schema.names and table["id"].null_count == table.num_rows:
                # statistics in the documented object shape, one object per line
                table = json_table([json.loads(line) for line in body.splitlines()
                                    if line.strip()])
        else:
            rows = json.loads(body)
            if not isinstance(rows, list):
                raise ValueError(f"expected a JSON array, got a JSON {_json_kind(rows)}")
            table = json_table(rows) if rows else schema.empty_table()
        return _conform(table, schema)
    except _DECODE_ERRORS as error:
        raise ValueError(
            f"cannot decode {what} body as {_FORMAT_NAMES[wire]} ({wire}, {len(body)} bytes): "
            f"{type(error).__name__}: {error}"
        ) from error


def _measurements_from_json(rows: list[Any]) -> pa.Table:
    """JSON array of ``{"id", "timestamp", "value"}`` objects -> columns."""
    return pa.table(
        {
            "id": pa.array([row["id"] for row in rows], pa.string()),
            "timestamp": pa.array([row["timestamp"] for row in rows], pa.string()),
            "value": pa.array([row.get("value") for row in rows], pa.float64()),
        }
    )


def _statistics_from_json(rows: list[Any]) -> pa.Table:
    """JSON objects ``{"<uuid>:<aggregation>": value, ..., "timestamp": ...}`` -> long columns.

    Several keys per object are fine; long objects (``id``, ``aggregation``, ``value``)
    are accepted too.
    """
    keys: list[str] = []
    stamps: list[Any] = []
    values: list[Any] = []
    for row in rows:
        stamp = row["timestamp"]
        if "id" in row and "aggregation" in row:
            keys.append(f"{row['id']}:{row['aggregation']}")
            stamps.append(stamp)
            values.append(row.get("value"))
            continue
        for key, value in row.items():
            if key != "timestamp":
                keys.append(key)
                stamps.append(stamp)
                values.append(value)
    encoded = pa.array(keys, pa.string()).dictionary_encode()
    split = [key.partition(":") for key in encoded.dictionary.to_pylist()]
    for key, colon, aggregation in split:
        if not (colon and key and aggregation):
            raise ValueError(f"statistics key {key + colon + aggregation!r} is not '<id>:<agg>'")
    return pa.table(
        {
            "id": pa.array([key for key, _, _ in split], pa.string()).take(encoded.indices),
            "aggregation": pa.array([agg for _, _, agg in split], pa.string()).take(
                encoded.indices
            ),
            "timestamp": pa.array(stamps, pa.string()),
            "value": pa.array(values, pa.float64()),
        }
    )


def decode_measurements(body: bytes, content_type: str) -> pa.Table:
    """Decode a measurements body to exactly ``MEASUREMENTS_SCHEMA`` (rows in body order)."""
    return _decode(body, content_type, MEASUREMENTS_SCHEMA, _measurements_from_json, "measurements")


def decode_statistics(body: bytes, content_type: str) -> pa.Table:
    """Decode a statistics body to exactly ``STATISTICS_SCHEMA`` (long: one row per value).

    ``timestamp`` is the window start. JSON objects are keyed ``"<uuid>:<aggregation>"``.
    """
    return _decode(body, content_type, STATISTICS_SCHEMA, _statistics_from_json, "statistics")


def decode_metadata(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Decode a metadata JSON object to ``(domain id, fields)`` pairs in body order.

    A key repeated at the top level (several series sharing one domain id) is kept: each
    occurrence is its own pair. An empty body gives ``[]``.
    """
    if _is_blank(body):
        return []
    outermost: list[tuple[str, Any]] = []

    def keep_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Objects close inside-out, so the last call is the top-level object.
        outermost[:] = pairs
        return dict(pairs)

    try:
        top = json.loads(body, object_pairs_hook=keep_pairs)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot decode metadata body as JSON ({JSON}): {error}") from error
    if not isinstance(top, dict):
        raise ValueError(f"expected a metadata JSON object, got a JSON {_json_kind(top)}")
    for key, fields in outermost:
        if not isinstance(fields, dict):
            raise ValueError(f"metadata for {key!r} is not a JSON object: {fields!r}")
    return list(outermost)
