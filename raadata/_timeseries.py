"""The time-series methods of :class:`raadata.Client`: measurements, statistics, metadata.

Every call validates its arguments first (a ``ValueError``/``TypeError`` before any
request), resolves selectors to readable series through metadata, plans requests
(:mod:`raadata._planning`), runs them (:mod:`raadata._fetch`) and shapes frames
(:mod:`raadata._frames`). Time arguments: naive means UTC; ranges are half-open
``[start, end)``; ``since``/``last`` are durations such as ``"6hours"`` or ``"1day"``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import pandas as pd
import pyarrow as pa

from raadata._decode import MEASUREMENTS_SCHEMA, STATISTICS_SCHEMA
from raadata._export import (
    PARTITION_KEYS,
    ExportResult,
    ExportSpec,
    check_partition_by,
    export_dataset,
)
from raadata._fetch import Pull, Result, WireFormats, rows_per_uuid, run
from raadata._frames import (
    WideBuilder,
    long_frame,
    metadata_frame,
    statistics_long_frame,
    statistics_wide_frame,
    unique_labels,
)
from raadata._http import Transport
from raadata._planning import ASSUMED_HZ, Density, Task, Unit, WindowCursor, pack
from raadata._report import PullReport
from raadata._resolve import (
    LABEL_KINDS,
    LabelKind,
    MetadataCache,
    SeriesInfo,
    fetch_metadata,
    resolve,
)
from raadata._selectors import Selector, parse_selectors
from raadata._timerange import (
    TimeInput,
    TimeRange,
    format_duration,
    format_instant,
    parse_duration,
    resolve_range,
)

Shape = Literal["wide", "long"]
SelectorInput = str | Selector | Iterable[str | Selector]
AGGREGATIONS = ("avg", "min", "max", "count", "sum", "stddev", "first", "last")
DEFAULT_TARGET_POINTS = 500_000
"""Points aimed at per response: large enough to amortise a round trip, well under limits."""


class TimeArgs(TypedDict, total=False):
    """Other ways to give the time range (one family at a time, all UTC)."""

    since: str | timedelta
    last: str | timedelta
    year: int
    month: int
    day: int


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

    def __str__(self) -> str:
        return (
            f"{len(self.series)} series, {self.time_range.start} to {self.time_range.end}: "
            f"{len(self.requests)} requests, {self.estimated_points:,} points if every series "
            f"were sampled at {self.assumed_hz:g} Hz (sparser series need fewer: windows grow "
            "with the density the first responses show)"
        )


def _check_workers(max_workers: int | None) -> None:
    if max_workers is not None and (
        isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
    ):
        raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _parse_aggregations(aggregations: str | Iterable[str]) -> tuple[str, ...]:
    names = aggregations.split(",") if isinstance(aggregations, str) else list(aggregations)
    cleaned = tuple(dict.fromkeys(name.strip().lower() for name in names if name.strip()))
    if not cleaned:
        raise ValueError(f"give at least one aggregation, e.g. 'avg' (one of {AGGREGATIONS})")
    unknown = [name for name in cleaned if name not in AGGREGATIONS]
    if unknown:
        raise ValueError(f"unknown aggregation {unknown}: choose from {', '.join(AGGREGATIONS)}")
    return cleaned


class TimeSeriesAPI:
    """Mixin holding the data methods; the client provides transport and settings."""

    transport: Transport
    max_workers: int
    progress: bool | None
    last_report: PullReport | None
    _metadata_cache: MetadataCache
    _wire_formats: WireFormats

    def _init_timeseries(self) -> None:
        self.last_report = None
        self._metadata_cache = MetadataCache()
        self._wire_formats = WireFormats()

    # -- inputs ---------------------------------------------------------------------------

    def _range(self, start: TimeInput | None, end: TimeInput | None, when: TimeArgs) -> TimeRange:
        return resolve_range(start, end, now=pd.Timestamp.now(tz="UTC"), **when)

    def _units(self, series: Sequence[SeriesInfo], time_range: TimeRange) -> list[Unit]:
        uuids = [info.uuid for info in series]
        return [Unit(batch, time_range.start, time_range.end) for batch in pack(uuids)]

    def _start(
        self, pull: Pull, parsed: Sequence[Selector], time_range: TimeRange, labels: LabelKind
    ) -> tuple[list[Unit], PullReport, dict[str, str], dict[str, str]]:
        """Resolve series; a fresh report; labels and units by UUID/label."""
        series = resolve(self.transport, parsed, self._metadata_cache, max_workers=self.max_workers)
        report = PullReport(kind=pull.kind, series=len(series))
        self.last_report = report
        names = unique_labels([(info.uuid, info.label(labels)) for info in series])
        units = {names[info.uuid]: info.uom for info in series if info.uom}
        return self._units(series, time_range), report, names, units

    def _run(
        self,
        pull: Pull,
        units: Sequence[Unit],
        report: PullReport,
        max_workers: int | None,
        progress: bool | None,
    ) -> Iterator[Result]:
        return run(
            self.transport,
            pull,
            units,
            formats=self._wire_formats,
            report=report,
            max_workers=max_workers or self.max_workers,
            progress=self.progress if progress is None else progress,
        )

    def _collect(
        self,
        pull: Pull,
        parsed: Sequence[Selector],
        time_range: TimeRange,
        labels: LabelKind,
        max_workers: int | None,
        progress: bool | None,
    ) -> tuple[pa.Table, dict[str, str], dict[str, str], PullReport]:
        """Every table of a pull concatenated, with labels, units by label, and the report."""
        work, report, names, units = self._start(pull, parsed, time_range, labels)
        tables = [r.table for r in self._run(pull, work, report, max_workers, progress)]
        report.rows_per_series = _rows_by_label(tables, names)
        empty = MEASUREMENTS_SCHEMA if pull.kind == "measurements" else STATISTICS_SCHEMA
        table = pa.concat_tables(tables) if tables else empty.empty_table()
        return table, names, units, report

    # -- public ---------------------------------------------------------------------------

    def series(self, selectors: SelectorInput, *, domain: str | None = None) -> list[SeriesInfo]:
        """The readable series the selectors name (resolved through metadata, cached)."""
        parsed = parse_selectors(selectors, domain)
        return resolve(self.transport, parsed, self._metadata_cache, max_workers=self.max_workers)

    def measurements(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        domain: str | None = None,
        shape: Shape = "wide",
        labels: LabelKind = "domain",
        max_workers: int | None = None,
        progress: bool | None = None,
        target_points: int = DEFAULT_TARGET_POINTS,
        **when: Unpack[TimeArgs],
    ) -> pd.DataFrame:
        """Raw points of every readable series the selectors name, over ``[start, end)``.

        ``shape="wide"``: a UTC ``DatetimeIndex`` named ``timestamp`` and one float64 column
        per series. ``shape="long"``: columns ``timestamp``, ``series``, ``id`` (UUID),
        ``value``. Column labels are the ids in the queried domain (``labels="domain"``),
        the UUIDs (``"uuid"``) or the metadata names (``"name"``). Units are in
        ``df.attrs["units"]``; the pull report is ``client.last_report`` (and, as a
        plain dict, ``df.attrs["report"]``).
        """
        _check_choice("shape", shape, ("wide", "long"))
        _check_choice("labels", labels, LABEL_KINDS)
        _check_workers(max_workers)
        parsed = parse_selectors(selectors, domain)
        time_range = self._range(start, end, when)
        pull = measurements_pull(target_points)
        if shape == "long":
            table, names, units, report = self._collect(
                pull, parsed, time_range, labels, max_workers, progress
            )
            frame = long_frame(table, names, units)
        else:  # shaped request by request, while the next ones are in flight
            work, report, names, units = self._start(pull, parsed, time_range, labels)
            builder = WideBuilder(names)
            for result in self._run(pull, work, report, max_workers, progress):
                builder.add(result.task.uuids, result.task.start, result.table)
            report.rows_per_series = {names[uuid]: rows for uuid, rows in builder.rows.items()}
            frame = builder.frame(units)
        frame.attrs["report"] = report.as_dict()
        return frame

    def statistics(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        aggregations: str | Iterable[str] = "avg",
        window: str | timedelta = "1m",
        domain: str | None = None,
        shape: Shape = "wide",
        labels: LabelKind = "domain",
        max_workers: int | None = None,
        progress: bool | None = None,
        target_points: int = DEFAULT_TARGET_POINTS,
        **when: Unpack[TimeArgs],
    ) -> pd.DataFrame:
        """Aggregates per epoch-aligned UTC window (``window``, default one minute).

        Each row's timestamp is its window's start; empty windows are left out. Wide: one
        column per (series, aggregation), a single level when one of the two is unique.
        Long: ``timestamp``, ``series``, ``id``, ``aggregation``, ``value``.
        """
        _check_choice("shape", shape, ("wide", "long"))
        _check_choice("labels", labels, LABEL_KINDS)
        _check_workers(max_workers)
        pull = statistics_pull(aggregations, window, target_points)
        parsed = parse_selectors(selectors, domain)
        time_range = self._range(start, end, when)
        table, names, units, report = self._collect(
            pull, parsed, time_range, labels, max_workers, progress
        )
        frame = statistics_long_frame(table, names, units)
        if shape == "wide":
            frame = _in_requested_order(statistics_wide_frame(frame), pull.params["aggregation"])
        frame.attrs["report"] = report.as_dict()
        return frame

    def metadata(
        self, selectors: SelectorInput, *, domain: str | None = None, verbose: bool = False
    ) -> pd.DataFrame:
        """One row per series (a domain id shared by two series gives two rows).

        Columns: ``series`` (the id in the queried domain), ``domain``, the metadata
        fields (``name``, ``uom``, ``timeSeriesId``, ...) and ``mapsTo.<domain>``.
        """
        parsed = parse_selectors(selectors, domain)
        frames = [
            metadata_frame(
                fetch_metadata(self.transport, s, self._metadata_cache, verbose=verbose), s.domain
            )
            for s in parsed
        ]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def iter_frames(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        domain: str | None = None,
        labels: LabelKind = "domain",
        max_workers: int | None = None,
        progress: bool | None = None,
        target_points: int = DEFAULT_TARGET_POINTS,
        **when: Unpack[TimeArgs],
    ) -> Iterator[pd.DataFrame]:
        """Long frames of raw points, one per finished request, in completion order.

        For pulls bigger than memory: each frame holds one request's rows (some series
        over one window), sorted by series then time.
        """
        _check_choice("labels", labels, LABEL_KINDS)
        _check_workers(max_workers)
        parsed = parse_selectors(selectors, domain)
        time_range = self._range(start, end, when)
        pull = measurements_pull(target_points)
        return self._iter_frames(parsed, time_range, pull, labels, max_workers, progress)

    def _iter_frames(
        self,
        parsed: list[Selector],
        time_range: TimeRange,
        pull: Pull,
        labels: LabelKind,
        max_workers: int | None,
        progress: bool | None,
    ) -> Iterator[pd.DataFrame]:
        work, report, names, units = self._start(pull, parsed, time_range, labels)
        for result in self._run(pull, work, report, max_workers, progress):
            for label, rows in _rows_by_label([result.table], names).items():
                report.rows_per_series[label] = report.rows_per_series.get(label, 0) + rows
            yield long_frame(result.table, names, units)

    def export(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        path: str | os.PathLike[str] = "raadata-export",
        *,
        statistics: bool = False,
        aggregations: str | Iterable[str] = "avg",
        window: str | timedelta = "1m",
        domain: str | None = None,
        partition_by: Iterable[str] = PARTITION_KEYS,
        labels: LabelKind = "domain",
        overwrite: bool = False,
        max_workers: int | None = None,
        progress: bool | None = None,
        target_points: int = DEFAULT_TARGET_POINTS,
        **when: Unpack[TimeArgs],
    ) -> ExportResult:
        """Write raw points (or, with ``statistics=True``, aggregates) to a Parquet dataset.

        The dataset at ``path`` is long form (``timestamp`` UTC microseconds, ``series``,
        ``id``, [``aggregation``], ``value``), partitioned hive-style by vessel and UTC day.
        Files appear atomically as requests finish; re-running the same call resumes an
        interrupted export; other arguments into the same directory are refused unless
        ``overwrite=True``. A ``since``/``last`` range moves with the clock, so resume
        such an export with the start and end recorded in its ``_raadata.json``.
        """
        _check_choice("labels", labels, LABEL_KINDS)
        _check_workers(max_workers)
        keys = check_partition_by(partition_by)
        parsed = parse_selectors(selectors, domain)
        time_range = self._range(start, end, when)
        pull = (
            statistics_pull(aggregations, window, target_points)
            if statistics
            else measurements_pull(target_points)
        )
        spec = ExportSpec(
            kind=pull.kind,
            selectors=tuple(s.path for s in parsed),
            start=format_instant(time_range.start),
            end=format_instant(time_range.end),
            params=pull.params,
            partition_by=keys,
            labels=labels,
            api_version=self.transport.settings.api_version,
        )
        series = resolve(self.transport, parsed, self._metadata_cache, max_workers=self.max_workers)
        names = unique_labels([(info.uuid, info.label(labels)) for info in series])
        result = export_dataset(
            self.transport,
            pull,
            series,
            time_range,
            Path(path),
            spec,
            names,
            formats=self._wire_formats,
            max_workers=max_workers or self.max_workers,
            progress=self.progress if progress is None else progress,
            overwrite=overwrite,
        )
        self.last_report = result.report
        return result

    def plan(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        domain: str | None = None,
        target_points: int = DEFAULT_TARGET_POINTS,
        **when: Unpack[TimeArgs],
    ) -> Plan:
        """A dry run of :meth:`measurements`: series and requests, no data fetched."""
        parsed = parse_selectors(selectors, domain)
        time_range = self._range(start, end, when)
        pull = measurements_pull(target_points)
        series = resolve(self.transport, parsed, self._metadata_cache, max_workers=self.max_workers)
        tasks = []
        for index, unit in enumerate(self._units(series, time_range)):
            density = Density(assumed=pull.points_per_series_second * len(unit.uuids))
            cursor = WindowCursor(unit, index, density, pull.target_points, pull.align)
            while (task := cursor.next_task()) is not None:
                tasks.append(task)
        return Plan(series, time_range, tasks, pull.points_per_series_second)


def measurements_pull(target_points: int) -> Pull:
    """A raw-points pull: windows on whole seconds, 1 Hz per series assumed at first."""
    return Pull("measurements", {}, pd.Timedelta(seconds=1), ASSUMED_HZ, _positive(target_points))


def statistics_pull(
    aggregations: str | Iterable[str], window: str | timedelta, target_points: int
) -> Pull:
    """An aggregate pull: windows on the aggregation grid, its row rate known exactly."""
    aggs = _parse_aggregations(aggregations)
    step = parse_duration(window, name="window")
    params = {"aggregation": ",".join(aggs), "window": format_duration(step)}
    return Pull(
        "statistics", params, step, len(aggs) / step.total_seconds(), _positive(target_points)
    )


def _in_requested_order(frame: pd.DataFrame, aggregations: str) -> pd.DataFrame:
    """Aggregation columns in the order the caller asked for them."""
    order = aggregations.split(",")
    if frame.columns.nlevels == 2:
        return frame.reindex(columns=order, level=1)
    if set(frame.columns) <= set(order):
        return frame[[name for name in order if name in frame.columns]]
    return frame


def _positive(target_points: int) -> int:
    if isinstance(target_points, bool) or not isinstance(target_points, int) or target_points < 1:
        raise ValueError(f"target_points must be a positive integer, got {target_points!r}")
    return target_points


def _rows_by_label(tables: Sequence[pa.Table], names: dict[str, str]) -> dict[str, int]:
    return {names.get(uuid, uuid): rows for uuid, rows in rows_per_uuid(tables).items()}


_default_clients: dict[tuple[tuple[str, str], ...], TimeSeriesAPI] = {}
_default_lock = threading.Lock()


def default_client() -> TimeSeriesAPI:
    """``Client.from_env()``, kept while the ``RAADATA_*`` environment stays the same.

    Reusing it keeps the token and the metadata cache across calls in a notebook.
    """
    from raadata._client import Client

    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("RAADATA_")))
    with _default_lock:
        if key not in _default_clients:
            _default_clients.clear()
            client: TimeSeriesAPI = Client.from_env()
            _default_clients[key] = client
        return _default_clients[key]


def get_series(
    selectors: SelectorInput,
    start: TimeInput | None = None,
    end: TimeInput | None = None,
    *,
    client: TimeSeriesAPI | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Raw points of the selected series over ``[start, end)`` (UTC) as a DataFrame.

    Wide by default (UTC ``DatetimeIndex`` named ``timestamp``, one column per series);
    ``shape="long"`` for ``timestamp, series, id, value``. Takes every option of
    :meth:`Client.measurements`. Uses ``client`` or ``Client.from_env()``.
    """
    return (client or default_client()).measurements(selectors, start, end, **options)
