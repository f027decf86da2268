"""The data a request returns, as Arrow tables: raw measurements and windowed statistics.

Made with numpy (the fleet's grid and values) and Arrow compute, without per-row Python.
Ranges are half-open ``[start, end)`` in µs, already cut at the server's "now".

Measurements: columns ``id`` (dictionary of UUIDs), ``timestamp`` (``timestamp[us, UTC]``),
``value`` (float64, null where the fleet's value is NaN); rows by series (in the order
given), then time.

Statistics: windows aligned to the Unix epoch (a window starts at a multiple of its length),
``timestamp`` = the window start, computed from the points of the range inside it (a window
cut by the range or by "now" uses the points there are); windows without points are left out.
Nulls are skipped: ``count`` counts non-null values, ``stddev`` is the sample standard
deviation (ddof=1), ``first``/``last`` are the first/last non-null values; a window whose
values are all null has count 0 and null elsewhere. Columns ``id``, ``aggregation``,
``timestamp``, ``value``; rows by series, then aggregation (in the order asked), then time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raadata.sandbox.fleet import Fleet, SeriesSpec

TIMESTAMP = pa.timestamp("us", tz="UTC")
CHUNK_POINTS = 2_000_000
"""Statistics read a series in time chunks of about this many points (bounds memory)."""

_ARROW_AGG: dict[str, tuple[str, pc.FunctionOptions | None]] = {
    "avg": ("mean", None),
    "min": ("min", None),
    "max": ("max", None),
    "count": ("count", pc.CountOptions(mode="only_valid")),
    "sum": ("sum", None),
    "stddev": ("stddev", pc.VarianceOptions(ddof=1)),
    "first": ("first", None),
    "last": ("last", None),
}


def _floats(values: np.ndarray) -> pa.Array:
    """float64 numpy → Arrow, NaN → null."""
    return pa.array(values, type=pa.float64(), from_pandas=True)


def _ids(specs: Sequence[SeriesSpec], counts: Sequence[int]) -> pa.DictionaryArray:
    codes = np.repeat(np.arange(len(specs), dtype=np.int32), counts)
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array([s.uuid for s in specs]))


def points(fleet: Fleet, specs: Sequence[SeriesSpec], start: int, end: int) -> int:
    """How many raw points ``specs`` have in ``[start, end)`` (cheap: nothing is made)."""
    return sum(fleet.count(s.uuid, start, end) for s in specs)


def measurements(fleet: Fleet, specs: Sequence[SeriesSpec], start: int, end: int) -> pa.Table:
    """The raw points of ``specs`` in ``[start, end)`` (µs)."""
    ticks = [fleet.ticks_us(s.uuid, start, end) for s in specs]
    values = [fleet.values(s.uuid, t) for s, t in zip(specs, ticks, strict=True)]
    all_ticks = np.concatenate(ticks) if ticks else np.empty(0, np.int64)
    all_values = np.concatenate(values) if values else np.empty(0, np.float64)
    return pa.table({
        "id": _ids(specs, [len(t) for t in ticks]),
        "timestamp": pa.array(all_ticks, type=pa.int64()).cast(TIMESTAMP),
        "value": _floats(all_values),
    })


def statistics_rows(fleet: Fleet, specs: Sequence[SeriesSpec], start: int, end: int,
                    window: int, n_aggregations: int) -> int:
    """An upper bound of the rows ``statistics`` returns, without computing them.

    Per series: min(points, windows that meet the range) x aggregations.
    """
    if end <= start:
        return 0
    windows = -(-end // window) - start // window
    return n_aggregations * sum(min(fleet.count(s.uuid, start, end), windows) for s in specs)


def _chunks(spec: SeriesSpec, start: int, end: int, window: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut at window boundaries into pieces of about CHUNK_POINTS points."""
    per_chunk = max(1, CHUNK_POINTS * spec.interval_s * 1_000_000 // window) * window
    edges = [start]
    edge = (start // per_chunk + 1) * per_chunk
    while edge < end:
        edges.append(edge)
        edge += per_chunk
    edges.append(end)
    return list(itertools.pairwise(edges))


def _series_statistics(fleet: Fleet, spec: SeriesSpec, start: int, end: int, window: int,
                       aggregations: Sequence[str]) -> tuple[np.ndarray, list[pa.Array]]:
    """Window starts (µs) and one value array per aggregation, for one series."""
    names = [_ARROW_AGG[a][0] for a in aggregations]
    wanted = [("v", *_ARROW_AGG[a]) for a in aggregations]
    starts: list[np.ndarray] = []
    columns: list[list[pa.Array]] = [[] for _ in aggregations]
    for lo, hi in _chunks(spec, start, end, window):
        ticks = fleet.ticks_us(spec.uuid, lo, hi)
        if len(ticks) == 0:
            continue
        table = pa.table({"w": ticks // window * window,
                          "v": _floats(fleet.values(spec.uuid, ticks))})
        grouped = table.group_by("w", use_threads=False).aggregate(wanted)
        starts.append(grouped["w"].to_numpy())
        for i, name in enumerate(names):
            columns[i].append(grouped[f"v_{name}"].combine_chunks().cast(pa.float64()))
    if not starts:
        return np.empty(0, np.int64), [pa.array([], pa.float64()) for _ in aggregations]
    return np.concatenate(starts), [pa.concat_arrays(c) for c in columns]


def statistics(fleet: Fleet, specs: Sequence[SeriesSpec], start: int, end: int, window: int,
               aggregations: Sequence[str]) -> pa.Table:
    """Windowed statistics of ``specs`` over ``[start, end)`` (µs; window length in µs)."""
    id_codes: list[np.ndarray] = [np.empty(0, np.int32)]
    agg_codes: list[np.ndarray] = [np.empty(0, np.int32)]
    stamps: list[np.ndarray] = [np.empty(0, np.int64)]
    values: list[pa.Array] = [pa.array([], pa.float64())]
    for sid, spec in enumerate(specs):
        windows, per_agg = _series_statistics(fleet, spec, start, end, window, aggregations)
        for aid, column in enumerate(per_agg):
            id_codes.append(np.full(len(windows), sid, np.int32))
            agg_codes.append(np.full(len(windows), aid, np.int32))
            stamps.append(windows)
            values.append(column)
    return pa.table({
        "id": pa.DictionaryArray.from_arrays(np.concatenate(id_codes),
                                             pa.array([s.uuid for s in specs], pa.string())),
        "aggregation": pa.DictionaryArray.from_arrays(np.concatenate(agg_codes),
                                                      pa.array(list(aggregations), pa.string())),
        "timestamp": pa.array(np.concatenate(stamps), pa.int64()).cast(TIMESTAMP),
        "value": pa.concat_arrays(values),
    })


def with_domain_ids(fleet: Fleet, table: pa.Table, domain: str) -> pa.Table:
    """``table`` with its ``id`` column naming each series in ``domain``, not by UUID."""
    ids = table["id"].combine_chunks()
    if not pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_encode()
    names = pa.array([fleet.get(u).ids.get(domain, u) for u in ids.dictionary.to_pylist()],
                     pa.string())
    column = pa.DictionaryArray.from_arrays(ids.indices, names)
    return table.set_column(table.schema.get_field_index("id"), "id", column)
