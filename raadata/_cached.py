"""Pulls through the local interval cache: fetch exactly the gaps, serve the rest from disk.

:func:`cached_results` stands in for the engine's stream of results when a client has a
cache: per series it asks the cache for the parts of ``[start, end)`` not validly stored
(:meth:`~raadata._cache.SeriesCache.gaps`), fetches those with the one engine (series
with the same gaps share requests, in normal windows), stores each finished unit's rows
(empty stretches included, so they count as covered), and then yields one result per batch
of series over the whole range, read from the cache. The frames built from these are the
frames an uncached pull builds.

:class:`ClientCache` is ``client.cache``: information and maintenance by selectors and
times, as the rest of the client speaks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from raadata._cache import US, CacheInfo, SeriesCache
from raadata._decode import MEASUREMENTS_SCHEMA, STATISTICS_SCHEMA
from raadata._fetch import Result
from raadata._intervals import Interval
from raadata._planning import Pull, Task, Unit, pack
from raadata._timerange import TimeInput, format_duration, resolve_range

__all__ = ["ClientCache", "cache_kind", "cached_results", "open_cache"]

Engine = Callable[[Sequence[Unit]], Iterator[Result]]


def open_cache(
    cache: bool | str | os.PathLike[str] | None,
    env: Mapping[str, str],
    *,
    api_url: str,
    environment: str,
    api_version: str,
    settle: float = 2 * 86_400,
    recent_ttl: float = 300,
) -> SeriesCache | None:
    """The cache a client asked for: ``cache=True`` or a folder, else ``RAADATA_CACHE=1``
    (folder ``RAADATA_CACHE_DIR``, default the user cache folder); ``None`` when off.

    ``settle`` and ``recent_ttl`` in seconds: data newer than ``settle`` when fetched is
    provisional and fetched again once older than ``recent_ttl``.
    """
    if cache is None:
        cache = env.get("RAADATA_CACHE", "").strip().lower() in ("1", "true", "yes", "on")
    if not isinstance(cache, bool | str | os.PathLike):
        raise TypeError(f"cache must be a bool or a folder, not {type(cache).__name__}")
    if isinstance(cache, bool):
        if not cache:
            return None
        root = None
    else:
        root = Path(cache)
    if root is None and env.get("RAADATA_CACHE_DIR"):
        root = Path(env["RAADATA_CACHE_DIR"]).expanduser()
    if settle < 0 or recent_ttl < 0:
        raise ValueError("settle and recent_ttl must be >= 0 seconds")
    return SeriesCache.open(api_url, environment, api_version, root,
                            settle_us=round(settle * US), recent_ttl_us=round(recent_ttl * US))


def cache_kind(pull: Pull) -> str:
    """What the data is: ``"measurements"``, or statistics with their aggregations and
    window (``"statistics/avg,max/3600s"``)."""
    if pull.kind == "measurements":
        return "measurements"
    return f"statistics/{','.join(pull.aggregations)}/{format_duration(pull.align)}"


def _us(ts: pd.Timestamp) -> int:
    return int(ts.value // 1000)


def _ts(us: int) -> pd.Timestamp:
    return pd.Timestamp(us * 1000, tz="UTC")


def cached_results(
    cache: SeriesCache,
    pull: Pull,
    units: Sequence[Unit],
    engine: Engine,
    *,
    refresh: bool = False,
    now_us: int | None = None,
) -> Iterator[Result]:
    """One result per unit (a batch over the whole range), its rows from the cache after
    the gaps were fetched through ``engine`` and stored. ``refresh``: fetch everything.

    The results' ``id`` column is dictionary-encoded (the frames take either kind)."""
    kind = cache_kind(pull)
    now = time.time_ns() // 1000 if now_us is None else now_us
    schema = MEASUREMENTS_SCHEMA if pull.kind == "measurements" else STATISTICS_SCHEMA
    gap_units = _gap_units(cache, kind, units, refresh, now)
    if gap_units:
        pending: dict[int, list[pa.Table]] = {}
        for result in engine(gap_units):
            pending.setdefault(result.task.unit, []).append(result.table)
            if result.unit_done:
                done = gap_units[result.task.unit]
                tables = [t for t in pending.pop(result.task.unit) if t.num_rows]
                rows = pa.concat_tables(tables) if tables else schema.empty_table()
                cache.put(done.uuids, kind, _us(done.start), _us(done.end), rows, fetched_at=now)
    encoded = schema.set(schema.get_field_index("id"),
                         pa.field("id", pa.dictionary(pa.int32(), pa.string())))
    for index, unit in enumerate(units):
        table = cache.read(unit.uuids, kind, _us(unit.start), _us(unit.end))
        table = table.select(encoded.names).cast(encoded) if table.num_rows else (
            encoded.empty_table())
        yield Result(Task(unit.uuids, unit.start, unit.end, index, table.num_rows), table, True)


def _gap_units(
    cache: SeriesCache, kind: str, units: Sequence[Unit], refresh: bool, now: int
) -> list[Unit]:
    """Units over the gaps: series with the same gaps are fetched together."""
    by_gaps: dict[tuple[Interval, ...], list[str]] = {}
    for unit in units:
        whole = (_us(unit.start), _us(unit.end))
        for uuid in unit.uuids:
            gaps = [whole] if refresh else cache.gaps(uuid, kind, *whole, now)
            if gaps:
                by_gaps.setdefault(tuple(gaps), []).append(uuid)
    return [Unit(batch, _ts(g0), _ts(g1))
            for gaps, uuids in by_gaps.items() for batch in pack(uuids) for g0, g1 in gaps]


@dataclass
class ClientCache:
    """A client's cache (``client.cache``): what it holds, and keeping it in shape.

    ``resolve`` turns selectors into series UUIDs as the client does (through metadata,
    within the token's scopes).
    """

    store: SeriesCache
    resolve: Callable[[object], list[str]]

    @property
    def path(self) -> Path:
        """The folder of this client's namespace (API URL, environment, API version)."""
        return self.store.path

    def info(self) -> CacheInfo:
        """Bytes on disk, series and intervals stored, oldest start and newest end (µs)."""
        return self.store.info()

    def invalidate(
        self, selectors: object, start: TimeInput | None = None, end: TimeInput | None = None
    ) -> None:
        """Forget what is stored for the selectors' series in ``[start, end)`` (UTC; default
        all time), every kind: the next pull fetches it again."""
        lo = resolve_range(start, end, now=pd.Timestamp.now(tz="UTC")) if start or end else None
        uuids = self.resolve(selectors)
        if uuids:
            span = (_us(lo.start), _us(lo.end)) if lo else (-(2**62), 2**62)
            self.store.invalidate(uuids, *span)

    def clear(self) -> None:
        """Forget everything of this namespace and delete its files."""
        self.store.clear()

    def prune(self, max_bytes: int | None = None, older_than: float | None = None) -> int:
        """Delete files written more than ``older_than`` seconds ago, then the oldest until
        at most ``max_bytes`` remain, then orphans of crashed writes; bytes freed."""
        return self.store.prune(max_bytes=max_bytes, older_than_s=older_than)

    def __repr__(self) -> str:
        info = self.info()
        return (f"ClientCache({str(self.path)!r}, {info.bytes:,} bytes, {info.series} series, "
                f"{info.intervals} intervals)")
