"""One unit's Parquet file: long-form rows, written request by request as they arrive,
hashed as written, with the series' names and units in the schema metadata."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from raadata._dataset import PartFile
from raadata._frames import id_codes
from raadata._resolve import SeriesInfo
from raadata._store import PendingFile

__all__ = ["PartWriter", "file_metadata", "labelled", "series_json"]

_ROW_GROUP = 1_000_000
_ENCODINGS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": ["series", "id", "aggregation"],  # a few distinct texts, many rows
    "column_encoding": {"timestamp": "DELTA_BINARY_PACKED"},  # rising, evenly spaced
}
"""How parts are written: a day of 1 Hz series is ~2.9x smaller than with the defaults
(values stay plain: dictionaries or byte-stream-split made them bigger)."""


def labelled(table: pa.Table, names: Mapping[str, str]) -> pa.Table:
    """Long form for files: timestamp, series (label), id (UUID), [aggregation], value.

    A missing reading is a null in the file (not NaN), so that SQL and dataframe aggregates
    over the files skip it as they skip any missing value.
    """
    uuids = pa.array(list(names), pa.string())
    labels = pa.array(list(names.values()), pa.string())
    codes = pa.array(id_codes(table.column("id"), uuids))  # only the dictionaries hashed
    columns = {"timestamp": table.column("timestamp"), "series": labels.take(codes),
               "id": uuids.take(codes)}  # plain text in files, whatever reads them
    if "aggregation" in table.column_names:
        columns["aggregation"] = table.column("aggregation")
    columns["value"] = nan_as_null(table.column("value"))
    return pa.table(columns)


def nan_as_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` with every NaN a null (the same column when there is none)."""
    nan = pc.is_nan(values)
    if not pc.any(nan).as_py():
        return values
    return pc.if_else(nan, pa.scalar(None, values.type), values)


class PartWriter:
    """One unit's Parquet file, written request by request, hashed as it goes."""

    def __init__(self, pending: PendingFile, path: str, metadata: Mapping[bytes, bytes]) -> None:
        self.pending, self.path, self.metadata = pending, path, metadata
        self.writer: pq.ParquetWriter | None = None
        self.sha = hashlib.sha256()
        self.size = self.rows = 0
        self.closed = False  # pyarrow asks its sink

    def write(self, data: bytes | memoryview) -> int:  # the sink pyarrow writes to
        self.sha.update(data)
        self.size += len(data)
        return self.pending.write(bytes(data))

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def add(self, table: pa.Table) -> None:
        if self.writer is None:
            schema = table.schema.with_metadata(self.metadata)
            self.writer = pq.ParquetWriter(self, schema, **_ENCODINGS)
        elif not table.schema.equals(self.writer.schema):
            table = table.cast(self.writer.schema)
        self.writer.write_table(table, row_group_size=_ROW_GROUP)
        self.rows += table.num_rows

    def commit(self) -> PartFile:
        assert self.writer is not None
        self.writer.close()
        self.pending.commit()
        return PartFile(self.path, self.size, self.rows, self.sha.hexdigest())


def file_metadata(
    uuids: Iterable[str], info: Mapping[str, SeriesInfo], names: Mapping[str, str]
) -> dict[bytes, bytes]:
    """Series names and units of measure of a file's series, in its Parquet schema."""
    return {b"raadata": json.dumps({"series": [series_json(info[u], names) for u in uuids]},
                                   sort_keys=True).encode()}


def series_json(info: SeriesInfo, names: Mapping[str, str]) -> dict[str, Any]:
    return {"series": names[info.uuid], "id": info.uuid, "vessel": info.vessel,
            "name": info.name, "uom": info.uom}
