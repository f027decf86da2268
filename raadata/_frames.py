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
    table: pa.Table,
    labels: Mapping[str, str],
    uom: Mapping[str, str] | None,
    columns: Sequence[str],
    then_by: Sequence[str] = (),
    categorical: bool = False,
) -> pd.DataFrame:
    """Label each row's UUID as ``series``; order by series, ``then_by``, time; to pandas.

    Text columns are handled as codes into their distinct values: rows are ordered on
    integer keys, and the strings are made once, for the output (or never, with
    ``categorical``: then the text columns are pandas ``Categorical``).
    """
    codes, dictionaries = {}, {}
    for name in ("id", *then_by):
        dictionaries[name], codes[name] = _dictionary_and_codes(table[name])
    uuids = dictionaries["id"].to_pylist()
    dictionaries["series"] = pa.array([labels.get(uuid, uuid) for uuid in uuids], pa.string())
    codes["series"] = codes["id"]
    key = _numpy(_dense_rank(dictionaries["series"])).astype(np.int64)[codes["id"]]
    for name in then_by:
        key = key * len(dictionaries[name]) + _numpy(_dense_rank(dictionaries[name]))[codes[name]]
    stamps = table["timestamp"].cast(pa.int64()).to_numpy()
    order = _order_of_runs(key, stamps)
    if order is None:  # not runs of rising time: sort (rare: servers send series in order)
        order = np.lexsort((stamps, key))
    arrays = {
        "timestamp": pa.array(stamps[order], pa.int64()).cast(table.schema.field("timestamp").type),
        "value": pa.array(table["value"].to_numpy()[order], pa.float64()),
    }
    for name, dictionary in dictionaries.items():
        indices = pa.array(codes[name][order].astype(np.int32))
        arrays[name] = (pa.DictionaryArray.from_arrays(indices, dictionary) if categorical
                        else dictionary.take(indices))
    shaped = pa.table({name: arrays.pop(name) for name in columns})
    # each column's Arrow memory is freed as it is converted; no block consolidation copy
    frame: pd.DataFrame = shaped.to_pandas(self_destruct=True, split_blocks=True)
    del shaped
    frame.attrs["units"] = {labels.get(key, key): unit for key, unit in (uom or {}).items()}
    return frame


def _dictionary_and_codes(
    column: pa.ChunkedArray,
) -> tuple[pa.Array, np.ndarray[Any, np.dtype[np.int32]]]:
    """The distinct values of a text column in order of first appearance, and each row's
    position among them. A dictionary-encoded column is read through its indices, without
    hashing a string per row."""
    if not pa.types.is_dictionary(column.type):
        unique = pc.unique(column)
        return unique, _numpy(pc.index_in(column, value_set=unique))
    values = pc.unique(pa.concat_arrays([chunk.dictionary for chunk in column.chunks]))
    codes = id_codes(column, values)
    runs = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else codes
    seen = pd.unique(codes[runs])  # first appearance, over runs only
    remap = np.zeros(len(values), np.int32)
    remap[seen] = np.arange(len(seen), dtype=np.int32)
    return values.take(pa.array(seen)), remap[codes]


def id_codes(column: pa.ChunkedArray, value_set: pa.Array) -> np.ndarray[Any, np.dtype[np.int32]]:
    """Each row's position in ``value_set`` (-1 if absent); for a dictionary-encoded column,
    only its dictionaries are looked up."""
    if not pa.types.is_dictionary(column.type):
        found = pc.index_in(column, value_set=value_set).fill_null(-1)
        return np.asarray(found.to_numpy(zero_copy_only=False), np.int32)
    parts = []
    for chunk in column.chunks:
        lookup = pc.index_in(chunk.dictionary, value_set=value_set).fill_null(-1)
        table = np.asarray(lookup.to_numpy(zero_copy_only=False), np.int32)
        parts.append(table[chunk.indices.to_numpy(zero_copy_only=False)])
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def _numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    values: np.ndarray[Any, Any] = array.to_numpy(zero_copy_only=False)
    return values


def _dense_rank(values: pa.Array) -> pa.Array:
    return pc.rank(values, sort_keys="ascending", tiebreaker="dense")


def _order_of_runs(
    key: np.ndarray[Any, np.dtype[np.int64]], stamps: np.ndarray[Any, np.dtype[np.int64]]
) -> np.ndarray[Any, np.dtype[np.intp]] | None:
    """Row order by (key, time) from the runs the rows already come in, without a sort.

    A run is a stretch of one key with strictly rising times (the API sends each series of
    a request in time order). Runs are ordered by (key, first time); ``None`` when two runs
    of one key overlap in time, so that only a real sort can order them.
    """
    if len(key) < 2:
        return np.arange(len(key))
    breaks = np.flatnonzero((key[1:] != key[:-1]) | (stamps[1:] <= stamps[:-1])) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(key)]])
    runs = np.lexsort((stamps[starts], key[starts]))
    starts, ends = starts[runs], ends[runs]
    same_key = key[starts[1:]] == key[starts[:-1]]
    if np.any(same_key & (stamps[starts[1:]] <= stamps[ends[:-1] - 1])):
        return None
    lengths = ends - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    order: np.ndarray[Any, np.dtype[np.intp]] = (np.arange(len(key)) + offsets).astype(np.intp)
    return order


def long_frame(
    table: pa.Table,
    labels: Mapping[str, str],
    uom: Mapping[str, str] | None = None,
    *,
    categorical: bool = False,
) -> pd.DataFrame:
    """Measurements table -> long frame: ``timestamp``, ``series``, ``id``, ``value``.

    ``labels`` maps UUID -> label (a UUID missing from it is its own label). ``uom`` maps
    UUID or label -> unit of measure; ``attrs["units"]`` holds it by label. Sorted by series
    then time, with a ``RangeIndex``. ``categorical``: ``series`` and ``id`` as pandas
    ``Categorical`` (a fraction of the memory of strings).
    """
    return _labelled_frame(table, labels, uom, _MEASUREMENT_COLUMNS, categorical=categorical)


def statistics_long_frame(
    table: pa.Table,
    labels: Mapping[str, str],
    uom: Mapping[str, str] | None = None,
    *,
    categorical: bool = False,
) -> pd.DataFrame:
    """Statistics table -> long frame: ``timestamp`` (window start), ``series``, ``id``,
    ``aggregation``, ``value``; sorted by series, aggregation, time. Labels, ``uom`` and
    ``categorical`` as in :func:`long_frame`.
    """
    return _labelled_frame(table, labels, uom, _STATISTICS_COLUMNS, then_by=["aggregation"],
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
