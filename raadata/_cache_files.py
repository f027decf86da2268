"""Data files of the interval cache: durable sorted Parquet writes and zero-copy reads.

A file holds long-form rows (``timestamp`` UTC us, ``id``, ``value`` [, ``aggregation``])
sorted by id then time, with each id's row range [a, b) in the schema metadata so a read
slices without scanning.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from raadata._intervals import Interval

__all__ = ["read_slices", "write_durably"]

_BLOCKS_KEY = b"raadata.cache.blocks"


def write_durably(table: pa.Table, directory: Path) -> str:
    """Write ``table`` (sorted by id then time) under a fresh unique name; return the name.

    Temp file, fsync, rename, fsync of the directory: once this returns the file is durable.
    """
    blocks = json.dumps(_blocks(table)).encode()
    table = table.replace_schema_metadata({_BLOCKS_KEY: blocks})
    name = f"{uuid.uuid4().hex}.parquet"
    tmp = directory / f".tmp-{name}"
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / name)
    _fsync_dir(directory)
    return name


def _blocks(table: pa.Table) -> dict[str, tuple[int, int]]:
    """Row range [a, b) of each id in ``table`` (sorted by id)."""
    n = table.num_rows
    ids = table["id"].combine_chunks()
    change = pc.not_equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
    bounds = [0, *(np.flatnonzero(change) + 1).tolist(), n]
    return {ids[a].as_py(): (a, b) for a, b in itertools.pairwise(bounds)}


def read_slices(
    table: pa.Table, pieces: list[tuple[str, Interval]]
) -> Iterator[tuple[str, int, pa.Table]]:
    """Zero-copy slices of ``table`` (sorted by id then time) for each (id, [s, e))."""
    if table.num_rows == 0:
        return
    meta = (table.schema.metadata or {}).get(_BLOCKS_KEY)
    blocks = {k: tuple(v) for k, v in json.loads(meta).items()} if meta else _blocks(table)
    table = table.replace_schema_metadata(None)
    ts = pc.cast(table["timestamp"], pa.int64()).combine_chunks().to_numpy()
    for u, (s, e) in pieces:
        if u not in blocks:
            continue
        a, b = blocks[u]
        i0, i1 = (a + np.searchsorted(ts[a:b], [s, e], side="left")).tolist()
        if i1 > i0:
            yield u, s, table.slice(i0, i1 - i0)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
