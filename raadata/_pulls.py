"""From a validated query to frames: resolve series, plan units, run the engine, shape.

:class:`Puller` holds what a client's data calls share (transport, metadata cache, wire
formats, defaults) and turns a :class:`~raadata._query.Query` plus a
:class:`~raadata._planning.Pull` into a :class:`Started` pull whose results
:func:`raadata._fetch.run` yields. The shaping into pandas lives in :mod:`raadata._frames`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from raadata._cache import SeriesCache
from raadata._cached import cached_results
from raadata._decode import MEASUREMENTS_SCHEMA, STATISTICS_SCHEMA
from raadata._display import html_table
from raadata._fetch import Result, Route, WireFormats, rows_per_uuid, run
from raadata._frames import (
    long_frame,
    metadata_frame,
    statistics_long_frame,
    unique_labels,
)
from raadata._http import Transport
from raadata._memory import give_back_arrow
from raadata._planning import Pull, Task, Unit, cursors, pack
from raadata._query import Query
from raadata._report import PullReport
from raadata._resolve import (
    LabelKind,
    MetadataCache,
    OnDenied,
    SeriesInfo,
    fetch_metadata,
    resolve,
)
from raadata._selectors import Selector
from raadata._timerange import TimeRange
from raadata._wide import WideBuilder

__all__ = ["Plan", "Puller", "Started", "domain_aliases"]


@dataclass(frozen=True)
class Plan:
    """A dry run: the series a pull would read and the requests it would start with.

    Windows after the first responses adapt to the density observed, so ``requests`` is
    the plan under the assumption of ``assumed_hz`` points per second per series (an upper
    bound for the sandbox fleet); ``estimated_points`` follows the same assumption.
    """

    series: list[SeriesInfo]
    time_range: TimeRange
    requests: list[Task]
    assumed_hz: float
    estimated_points: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "estimated_points", sum(task.estimated_points for task in self.requests)
        )

    def __repr__(self) -> str:
        return (f"Plan({len(self.series)} series, {self.time_range}, "
                f"{len(self.requests)} requests, ~{self.estimated_points:,} points)")

    def _repr_html_(self) -> str:
        vessels = sorted({info.vessel or "?" for info in self.series})
        return html_table("raadata plan (dry run: no data fetched)", [
            ("series", f"{len(self.series)} on {len(vessels)} vessels ({', '.join(vessels[:8])}"
                       f"{', ...' if len(vessels) > 8 else ''})"),
            ("time range (UTC)", str(self.time_range)),
            ("requests", f"{len(self.requests):,}"),
            ("estimated points", f"{self.estimated_points:,} (at {self.assumed_hz:g} Hz)"),
        ])

    def __str__(self) -> str:
        return (
            f"{len(self.series)} series, {self.time_range.start} to {self.time_range.end}: "
            f"{len(self.requests)} requests, {self.estimated_points:,} points if every series "
            f"were sampled at {self.assumed_hz:g} Hz (sparser series need fewer: windows grow "
            "with the density the first responses show)"
        )


@dataclass
class Started:
    """A pull under way: its series, work units, fresh report, labels and units of measure.

    ``labels`` maps UUID -> column label; ``uom`` maps label -> unit of measure.
    """

    query: Query
    pull: Pull
    series: list[SeriesInfo]
    units: list[Unit]
    report: PullReport
    labels: dict[str, str]
    uom: dict[str, str]


class Puller:
    """Runs pulls for one client: transport, metadata cache, wire formats and defaults."""

    def __init__(
        self,
        transport: Transport,
        max_workers: int,
        progress: bool | None,
        cache: SeriesCache | None = None,
    ) -> None:
        self.transport = transport
        self.cache = cache
        self.max_workers = max_workers
        self.progress = progress
        self.metadata = MetadataCache()
        self.formats = WireFormats()
        self.route = Route()

    def series(
        self, selectors: Sequence[Selector], on_denied: OnDenied = "raise"
    ) -> list[SeriesInfo]:
        """The readable series the selectors name (resolved through metadata, cached)."""
        return resolve(self.transport, selectors, self.metadata, max_workers=self.max_workers,
                       on_denied=on_denied)

    def start(self, query: Query, pull: Pull) -> Started:
        """Resolve the query's series and cut them into units (batches over the range)."""
        series = self.series(query.selectors, query.on_denied)
        fleet = len({info.vessel for info in series}) > 1
        labels = unique_labels([(info.uuid, _label(info, query.labels, fleet)) for info in series])
        uom = {labels[info.uuid]: info.uom for info in series if info.uom}
        units = [
            Unit(batch, query.time_range.start, query.time_range.end)
            for batch in pack([info.uuid for info in series])
        ]
        report = PullReport(kind=pull.kind, series=len(series))
        return Started(query, pull, series, units, report, labels, uom)

    def run(self, started: Started, units: Sequence[Unit] | None = None) -> Iterator[Result]:
        """Fetch ``units`` (default: all of the pull's); one result per finished request.

        With a cache, the pull's own units come from it: only the gaps are fetched, and
        there is one result per batch of series over the whole range.
        """
        if self.cache is not None and units is None:
            return self._through_cache(started, self.cache)
        query = started.query
        return run(
            self.transport,
            started.pull,
            started.units if units is None else units,
            formats=self.formats,
            report=started.report,
            max_workers=query.max_workers or self.max_workers,
            progress=self.progress if query.progress is None else query.progress,
            route=self.route,
            aliases=domain_aliases(started.series),
        )

    def _through_cache(self, started: Started, cache: SeriesCache) -> Iterator[Result]:
        served = 0
        for result in cached_results(cache, started.pull, started.units,
                                     lambda gaps: self.run(started, gaps),
                                     refresh=started.query.refresh):
            served += result.table.num_rows
            yield result
        started.report.cached = max(0, served - started.report.points)

    def table(self, started: Started) -> pa.Table:
        """Every row of the pull in one Arrow table; counts rows per series in the report."""
        tables = [result.table for result in self.run(started)]
        started.report.rows_per_series = rows_by_label(tables, started.labels)
        empty = MEASUREMENTS_SCHEMA if started.pull.kind == "measurements" else STATISTICS_SCHEMA
        return pa.concat_tables(tables) if tables else empty.empty_table()

    def long(self, started: Started, categorical: bool = False) -> pd.DataFrame:
        """The pull as a long frame (measurements or statistics)."""
        shape = long_frame if started.pull.kind == "measurements" else statistics_long_frame
        # the one-table list is emptied by the shaping, which frees the rows as it copies them
        frame = shape([self.table(started)], started.labels, started.uom, categorical=categorical)
        give_back_arrow()
        return frame

    def wide(self, started: Started) -> pd.DataFrame:
        """Measurements as a wide frame, shaped request by request while others are in flight."""
        builder = WideBuilder(started.labels)
        for result in self.run(started):
            builder.add(result.task.uuids, result.task.start, result.table)
        started.report.rows_per_series = {
            started.labels[uuid]: rows for uuid, rows in builder.rows.items()
        }
        give_back_arrow()  # before the frame is made: what the pull held is free
        return builder.frame(started.uom)

    def frames(self, started: Started, categorical: bool = False) -> Iterator[pd.DataFrame]:
        """One long frame per finished request, in completion order."""
        counts = started.report.rows_per_series
        for result in self.run(started):
            for label, rows in rows_by_label([result.table], started.labels).items():
                counts[label] = counts.get(label, 0) + rows
            yield long_frame(result.table, started.labels, started.uom, categorical=categorical)

    def metadata_table(self, selectors: Sequence[Selector], verbose: bool) -> pd.DataFrame:
        """One row per series the selectors name (see :meth:`raadata.Client.metadata`)."""
        frames = [metadata_frame(fetch_metadata(self.transport, s, self.metadata,
                                                verbose=verbose), s.domain)
                  for s in selectors]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def plan(self, query: Query, pull: Pull) -> Plan:
        """The series and first requests of a pull, assuming the pull's density; no data."""
        started = self.start(query, pull)
        tasks = []
        for cursor in cursors(started.units, pull):
            while (task := cursor.next_task()) is not None:
                tasks.append(task)
        return Plan(started.series, query.time_range, tasks, pull.points_per_series_second)


def _label(info: SeriesInfo, kind: LabelKind, fleet: bool) -> str:
    """The column label; metadata names carry the vessel's name when several vessels show."""
    label = info.label(kind)
    if kind == "name" and fleet and info.name:
        vessel = info.metadata.get("vesselName") or info.vessel
        if vessel:
            return f"{vessel} / {label}"
    return label


def domain_aliases(series: Sequence[SeriesInfo]) -> dict[str, str]:
    """Domain id -> UUID, for the domain ids that name one series only."""
    owners = Counter(info.domain_id for info in series)
    return {info.domain_id: info.uuid for info in series
            if owners[info.domain_id] == 1 and info.domain_id != info.uuid}


def rows_by_label(tables: Sequence[pa.Table], labels: Mapping[str, str]) -> dict[str, int]:
    """Row counts per column label over some tables."""
    return {labels.get(uuid, uuid): rows for uuid, rows in rows_per_uuid(tables).items()}
