"""Shaping decoded Arrow tables into pandas frames (long, wide, metadata).

Long frames are the lossless form: one row per point, ``timestamp`` (``datetime64[us, UTC]``,
the instant of a raw point or the start of a statistics window), ``series`` (the label),
``id`` (the series UUID), ``value`` (float64; missing values are NaN), sorted by series then
time. Wide frames are for notebooks: a UTC ``DatetimeIndex`` named ``timestamp`` and one
float64 column per series. Units travel in ``attrs["units"]`` (label -> unit of measure).
Everything here is pure and vectorised (no per-row Python).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raadata._decode import is_text

__all__ = [
    "drop_exact_duplicates",
    "in_requested_order",
    "long_frame",
    "metadata_frame",
    "statistics_long_frame",
    "statistics_wide_frame",
    "unique_labels",
]

_MEASUREMENT_COLUMNS = ["timestamp", "series", "id", "value"]
_STATISTICS_COLUMNS = ["timestamp", "series", "id", "aggregation", "value"]
_METADATA_OWN_COLUMNS = ("series", "domain")


def _codes(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text -> int32 codes (cheap to compare and hash): a dictionary column's indices (its
    chunks share one dictionary), or codes in order of first appearance."""
    if pa.types.is_dictionary(column.type):
        return pa.chunked_array([chunk.indices for chunk in column.chunks],
                                column.type.index_type)
    if is_text(column.type):
        return pc.index_in(column, value_set=pc.unique(column))
    return column


def _is_label(arrow_type: pa.DataType) -> bool:
    return is_text(arrow_type) or pa.types.is_dictionary(arrow_type)


def _in_api_order(table: pa.Table) -> bool:
    """Whether rows come grouped by their text columns (``id``, ``aggregation``) and strictly
    increasing in ``timestamp`` within each group, as the API sends them: then no two rows
    are equal. Compares neighbours only, so no text is hashed.
    """
    texts = [_codes(table[name]) if pa.types.is_dictionary(table[name].type) else table[name]
             for name in table.column_names if _is_label(table[name].type)]
    if "timestamp" not in table.column_names or not texts:
        return False
    rows = table.num_rows
    same = np.ones(rows - 1, dtype=bool)
    for column in texts:
        equal = pc.equal(column.slice(1), column.slice(0, rows - 1))
        same &= np.asarray(equal.combine_chunks(), dtype=bool)
    starts = np.concatenate([[0], np.flatnonzero(~same) + 1])
    groups = list(zip(*(column.take(starts).to_pylist() for column in texts), strict=True))
    if len(set(groups)) != len(groups):  # a group comes back later: not grouped
        return False
    stamps = table["timestamp"].cast(pa.int64()).to_numpy()
    return bool(np.all(~same | (np.diff(stamps) > 0)))


def drop_exact_duplicates(table: pa.Table) -> tuple[pa.Table, int]:
    """Drop rows identical in every column (NaN equals NaN), keeping the first of each.

    Returns the table (remaining rows in their original order) and how many were dropped.
    Fast when rows are grouped by series and increase in time (the API's order).
    """
    rows = table.num_rows
    table = table.unify_dictionaries()  # one dictionary per column: codes are comparable
    if rows < 2 or _in_api_order(table):
        return table, 0
    keys = {name: _codes(table[name]) for name in table.column_names}
    row = "_row_" + "_".join(keys)  # never clashes with a data column
    numbered = pa.table({**keys, row: pa.array(np.arange(rows, dtype=np.int64))})
    grouped = numbered.group_by(list(keys), use_threads=False).aggregate([(row, "min")])
    dropped = rows - grouped.num_rows
    if dropped == 0:
        return table, 0
    keep = np.sort(grouped[f"{row}_min"].to_numpy())
    return table.take(pa.array(keep)), dropped


def unique_labels(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Map each UUID to a column label that no other UUID has.

    ``pairs`` is ``(uuid, label)``; the first label of a repeated UUID wins, an empty label
    becomes the UUID. Different UUIDs sharing a label get ``"label [uuid[:8]]"``, or
    ``"label [uuid]"`` if that still collides; a label no other UUID shares is kept as is.
    """
    first: dict[str, str] = {}
    for uuid, label in pairs:
        first.setdefault(uuid, label or uuid)
    owners = Counter(first.values())
    names = {
        uuid: label if owners[label] == 1 else f"{label} [{uuid[:8]}]"
        for uuid, label in first.items()
    }
    taken = Counter(names.values())
    return {
        uuid: f"{first[uuid]} [{uuid}]" if taken[name] > 1 and owners[first[uuid]] > 1 else name
        for uuid, name in names.items()
    }


def _labelled_frame(
    tables: list[pa.Table],
    labels: Mapping[str, str],
    uom: Mapping[str, str] | None,
    columns: Sequence[str],
    then_by: Sequence[str] = (),
    categorical: bool = False,
) -> pd.DataFrame:
    """Label each row's UUID as ``series``; order by series, ``then_by``, time; to pandas.

    Text columns are handled as codes into their distinct values (in order of first
    appearance): rows are ordered on integer keys, and the strings are made once, for the
    output (or never, with ``categorical``: then the text columns are pandas
    ``Categorical``). Rows that come in runs (one key, rising times: the API's order) are
    ordered run by run; only rows that do not are sorted. ``tables`` holds one table and is
    emptied: once its rows are copied in order, its memory is free for the strings.
    """
    table = tables.pop()
    timestamp_type = table.schema.field("timestamp").type
    keys = ["id", *then_by]
    distinct = [_distinct(table[name]) for name in keys]
    chunks = _key_chunks(table, keys, distinct)
    dictionaries = {name: _first_seen(chunks, at, values)
                    for at, (name, values) in enumerate(zip(keys, distinct, strict=True))}
    uuids = dictionaries["id"].to_pylist()
    series = pa.array([labels.get(uuid, uuid) for uuid in uuids], pa.string())
    rank = _numpy(_dense_rank(series)).astype(np.int64)
    for name in then_by:
        rank = (rank[:, None] * len(dictionaries[name])
                + _numpy(_dense_rank(dictionaries[name]))[None, :]).ravel()
    stamps, values, ordered = _in_key_order(chunks, rank, [len(d) for d in distinct])
    del table, chunks  # the caller holds no other reference (see Puller.long)
    codes = dict(zip(keys, ordered, strict=True))
    arrays = {
        "timestamp": pa.array(stamps, pa.int64()).cast(timestamp_type),
        "value": pa.array(values, pa.float64()),
    }
    dictionaries["series"] = series
    codes["series"] = codes["id"]
    for name, dictionary in dictionaries.items():
        indices = pa.array(codes[name])
        arrays[name] = (pa.DictionaryArray.from_arrays(indices, dictionary) if categorical
                        else dictionary.cast(pa.large_string()).take(indices))  # pandas' own type
    shaped = pa.table({name: arrays.pop(name) for name in columns})
    # each column's Arrow memory is freed as it is converted; no block consolidation copy
    frame: pd.DataFrame = shaped.to_pandas(self_destruct=True, split_blocks=True)
    del shaped
    frame.attrs["units"] = {labels.get(key, key): unit for key, unit in (uom or {}).items()}
    return frame


class _Chunk:
    """One chunk of a table as numpy: µs stamps, values, and per key column the codes of its
    rows (positions in the column's distinct values)."""

    def __init__(self, stamps: np.ndarray[Any, Any], values: np.ndarray[Any, Any],
                 codes: list[np.ndarray[Any, Any]]) -> None:
        self.stamps, self.values, self.codes = stamps, values, codes
        self.starts, self.ends = runs(codes, stamps)


def runs(
    codes: Sequence[np.ndarray[Any, Any]], stamps: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Starts and ends of the runs of rows: stretches with the same ``codes`` and strictly
    rising ``stamps`` (the API sends each series of a request as one run)."""
    if not len(stamps):
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    change = stamps[1:] <= stamps[:-1]
    for column in codes:
        change |= column[1:] != column[:-1]
    breaks = np.flatnonzero(change) + 1
    return np.r_[0, breaks], np.r_[breaks, len(stamps)]


def _key_chunks(
    table: pa.Table, keys: Sequence[str], distinct: Sequence[pa.Array]
) -> list[_Chunk]:
    """The table chunk by chunk; codes are positions in each key column's ``distinct``."""
    chunks = []
    for batch in table.to_batches():
        codes = []
        for name, values in zip(keys, distinct, strict=True):
            codes.append(_positions(batch.column(name), values))
        stamps = _numpy(batch.column("timestamp").view(pa.int64()))
        chunks.append(_Chunk(stamps, _numpy(batch.column("value")), codes))
    return chunks


def _distinct(column: pa.ChunkedArray) -> pa.Array:
    """A text column's distinct values (hashing only the dictionaries of a dictionary column)."""
    if pa.types.is_dictionary(column.type):
        return pc.unique(pa.concat_arrays([chunk.dictionary for chunk in column.chunks]
                                          or [pa.array([], pa.string())]))
    return pc.unique(column)


def _first_seen(chunks: Sequence[_Chunk], at: int, values: pa.Array) -> pa.Array:
    """``values`` reordered by first appearance in the rows; the chunks' codes follow."""
    firsts = np.concatenate([chunk.codes[at][chunk.starts] for chunk in chunks] or
                            [np.zeros(0, np.int32)])
    seen = pd.unique(firsts)
    remap = np.zeros(len(values), np.int32)
    remap[seen] = np.arange(len(seen), dtype=np.int32)
    for chunk in chunks:
        chunk.codes[at] = remap[chunk.codes[at]]
    return values.take(pa.array(seen, pa.int32()))


def _in_key_order(
    chunks: Sequence[_Chunk], rank: np.ndarray[Any, np.dtype[np.int64]], sizes: Sequence[int]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[np.ndarray[Any, Any]]]:
    """Stamps, values and codes of every row, ordered by (``rank`` of the key, time), stably.

    ``rank`` ranks the key codes (combined in row-major order of ``sizes``). Runs are moved
    whole when no two runs of one key overlap in time; otherwise rows are sorted.
    """
    rows = sum(len(chunk.stamps) for chunk in chunks)
    parts = [(chunk, start, end) for chunk in chunks
             for start, end in zip(chunk.starts.tolist(), chunk.ends.tolist(), strict=True)]

    def key(codes: Sequence[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
        combined = np.zeros(len(codes[0]), np.int64)
        for column, size in zip(codes, sizes, strict=True):
            combined = combined * size + column
        return rank[combined]

    if parts and len(parts) <= rows // 16 + 64:
        firsts = [np.array([c.codes[at][s] for c, s, _ in parts], np.int32)
                  for at in range(len(sizes))]
        run_keys = key(firsts)
        low = np.array([c.stamps[s] for c, s, _ in parts])
        high = np.array([c.stamps[e - 1] for c, _, e in parts])
        order = np.lexsort((low, run_keys))
        same = run_keys[order[1:]] == run_keys[order[:-1]]
        if not np.any(same & (low[order[1:]] <= high[order[:-1]])):
            runs = [parts[at] for at in order]
            stamps = np.concatenate([chunk.stamps[start:end] for chunk, start, end in runs])
            values = np.concatenate([chunk.values[start:end] for chunk, start, end in runs])
            lengths = np.array([end - start for _, start, end in runs])
            return stamps, values, [np.repeat(first[order], lengths) for first in firsts]
    stamps = np.concatenate([chunk.stamps for chunk in chunks] or [np.zeros(0, np.int64)])
    values = np.concatenate([chunk.values for chunk in chunks] or [np.zeros(0)])
    all_codes = [np.concatenate([chunk.codes[at] for chunk in chunks] or [np.zeros(0, np.int32)])
                 for at in range(len(sizes))]
    order = np.lexsort((stamps, key(all_codes))) if rows else np.zeros(0, np.intp)
    return stamps[order], values[order], [column[order] for column in all_codes]


def id_codes(column: pa.ChunkedArray, value_set: pa.Array) -> np.ndarray[Any, np.dtype[np.int32]]:
    """Each row's position in ``value_set`` (-1 if absent); for a dictionary-encoded column,
    only its dictionaries are looked up."""
    parts = [_positions(chunk, value_set) for chunk in column.chunks]
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def _positions(array: pa.Array, value_set: pa.Array) -> np.ndarray[Any, np.dtype[np.int32]]:
    """:func:`id_codes` of one array: a dictionary array's dictionary is looked up, not
    its rows."""
    if not pa.types.is_dictionary(array.type):
        return np.asarray(_numpy(pc.index_in(array, value_set=value_set).fill_null(-1)),
                          np.int32)
    lookup = pc.index_in(array.dictionary, value_set=value_set).fill_null(-1)
    codes: np.ndarray[Any, np.dtype[np.int32]] = np.asarray(_numpy(lookup), np.int32)[
        _numpy(array.indices)]
    return codes


def _numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    values: np.ndarray[Any, Any] = array.to_numpy(zero_copy_only=False)
    return values


def _dense_rank(values: pa.Array) -> pa.Array:
    return pc.rank(values, sort_keys="ascending", tiebreaker="dense")


def long_frame(
    table: pa.Table | list[pa.Table],
    labels: Mapping[str, str],
    uom: Mapping[str, str] | None = None,
    *,
    categorical: bool = False,
) -> pd.DataFrame:
    """Measurements table -> long frame: ``timestamp``, ``series``, ``id``, ``value``.

    ``labels`` maps UUID -> label (a UUID missing from it is its own label). ``uom`` maps
    UUID or label -> unit of measure; ``attrs["units"]`` holds it by label. Sorted by series
    then time, with a ``RangeIndex``. ``categorical``: ``series`` and ``id`` as pandas
    ``Categorical`` (a fraction of the memory of strings). A one-table list is emptied, so
    that the table's memory is freed while the frame is made.
    """
    tables = table if isinstance(table, list) else [table]
    return _labelled_frame(tables, labels, uom, _MEASUREMENT_COLUMNS, categorical=categorical)


def statistics_long_frame(
    table: pa.Table | list[pa.Table],
    labels: Mapping[str, str],
    uom: Mapping[str, str] | None = None,
    *,
    categorical: bool = False,
) -> pd.DataFrame:
    """Statistics table -> long frame: ``timestamp`` (window start), ``series``, ``id``,
    ``aggregation``, ``value``; sorted by series, aggregation, time. Labels, ``uom`` and
    ``categorical`` as in :func:`long_frame`.
    """
    tables = table if isinstance(table, list) else [table]
    return _labelled_frame(tables, labels, uom, _STATISTICS_COLUMNS, then_by=["aggregation"],
                           categorical=categorical)


def _pivot(long: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Time-indexed float64 frame with one column per distinct ``columns`` value(s).

    When a (timestamp, column) pair repeats with different values, the first row wins.
    """
    try:
        wide = long.pivot(index="timestamp", columns=columns, values="value")
    except ValueError:  # repeated (timestamp, series[, aggregation]) with different values
        unique = long.drop_duplicates(["timestamp", *columns], keep="first")
        wide = unique.pivot(index="timestamp", columns=columns, values="value")
    wide = wide.sort_index().astype("float64")
    wide.index.name = "timestamp"
    wide.attrs = copy.deepcopy(long.attrs)
    return wide


def statistics_wide_frame(long: pd.DataFrame, *, keep_levels: bool = False) -> pd.DataFrame:
    """Long statistics frame -> wide, one float64 column per (series, aggregation).

    Column names are single-level when unambiguous (unless ``keep_levels``): the series
    label when there is one aggregation, else the aggregation when there is one series;
    otherwise a two-level ``MultiIndex`` named ``("series", "aggregation")``. The index is
    the window start (UTC).
    """
    wide = _pivot(long, ["series", "aggregation"])
    if keep_levels:
        return wide
    if long["aggregation"].nunique() <= 1:
        wide.columns = wide.columns.get_level_values("series")
    elif long["series"].nunique() == 1:
        wide.columns = wide.columns.get_level_values("aggregation")
    return wide


def metadata_frame(entries: Sequence[tuple[str, dict[str, Any]]], domain: str) -> pd.DataFrame:
    """Metadata ``(domain id, fields)`` pairs -> one row per entry (repeated ids kept).

    Columns: ``series`` (the id in ``domain``), ``domain``, then the fields in first-seen
    order, with ``mapsTo`` flattened to ``mapsTo.<domain>``. A field named ``series`` or
    ``domain`` becomes ``metadata.series``/``metadata.domain``. ``RangeIndex``.
    """
    rows = [{"series": key, "domain": domain, **_flatten(fields)} for key, fields in entries]
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype="str") for name in _METADATA_OWN_COLUMNS})
    return pd.DataFrame(rows)


def _flatten(fields: Mapping[str, Any]) -> dict[str, Any]:
    """One entry's fields as columns, nested objects (``mapsTo``) as ``key.sub`` in place
    (``pd.json_normalize`` would move them to the end)."""
    row: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _METADATA_OWN_COLUMNS:
            name = f"metadata.{name}"
        if isinstance(value, Mapping):
            row.update({f"{name}.{sub}": inner for sub, inner in value.items()})
        else:
            row[name] = value
    return row


def in_requested_order(frame: pd.DataFrame, aggregations: tuple[str, ...]) -> pd.DataFrame:
    """Aggregation columns in the order the caller asked for them."""
    order = list(aggregations)
    if frame.columns.nlevels == 2:
        return frame.reindex(columns=order, level=1)
    if set(frame.columns) <= set(order):
        return frame[[name for name in order if name in frame.columns]]
    return frame
