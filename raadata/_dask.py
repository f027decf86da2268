"""Fleet-years pulls as Dask DataFrames (``raadata.dask``): one task per time window.

The graph is built on the driver from metadata alone (no data is fetched): the selectors
are resolved once, the range is cut into windows on a calendar grid, and each partition is
one window of every selected series, fetched by a task. A task carries only what is not
secret (API URL, environment, API version, client id, profile name, series UUIDs, labels);
each worker process builds its own :class:`~raadata.Client` from its environment or profile
(cached per process), so no secret, token or Basic blob is in the graph. With a
``distributed`` cluster, a cluster-wide semaphore caps the pulls in flight.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Unpack

import pandas as pd

from raadata._client import Client
from raadata._dataset import UnitKey
from raadata._decode import MEASUREMENTS_SCHEMA, STATISTICS_SCHEMA
from raadata._delta import DeltaUnits
from raadata._export_types import ExportResult
from raadata._frames import long_frame, statistics_long_frame
from raadata._objectstore import open_store
from raadata._planning import Unit
from raadata._query import Query, QueryOptions, SelectorInput, parse_aggregations
from raadata._timerange import TimeInput, parse_duration
from raadata._units import UNIT_RUNNER, UnitJob, write_units

__all__ = ["export", "read_measurements", "read_statistics"]

TARGET_ROWS = 2_000_000
"""Rows aimed at per partition (about 100 MB as a long frame)."""

SEMAPHORE = "raadata-pulls"


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker makes its client: nothing secret (the secret comes from the worker's
    own environment or profile file)."""

    api_url: str
    environment: str
    api_version: str
    token_url: str
    client_id: str
    profile: str | None
    max_concurrency: int


_clients: dict[WorkerConfig, Client] = {}
_clients_lock = threading.Lock()


def worker_client(config: WorkerConfig) -> Client:
    """This process's client for ``config``, made once (its token is shared by its tasks)."""
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = Client.from_env(
                profile=config.profile, api_url=config.api_url, environment=config.environment,
                api_version=config.api_version, token_url=config.token_url,
                client_id=config.client_id, progress=False, max_workers=1,
            )
            _clients[config] = client
        return client


@dataclass(frozen=True)
class _Partition:
    """One task's work: every series over ``[start, end)``, and how to label them."""

    config: WorkerConfig
    kind: str
    uuids: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    uom: tuple[tuple[str, str], ...]
    start: pd.Timestamp
    end: pd.Timestamp
    aggregations: tuple[str, ...] = ()
    window: timedelta | None = None

    def __call__(self, _: object = None) -> pd.DataFrame:
        with _lease(self.config.max_concurrency):
            client = worker_client(self.config)
            selector = "id/" + ",".join(self.uuids)
            if self.kind == "measurements":
                frame = client.measurements(selector, self.start, self.end, shape="long",
                                            labels="uuid")
            else:
                frame = client.statistics(selector, self.start, self.end, shape="long",
                                          labels="uuid", aggregations=self.aggregations,
                                          window=self.window or "1h")
        return _shaped(frame, dict(self.labels), dict(self.uom))


class _lease:
    """A lease of the cluster-wide semaphore on a ``distributed`` worker; nothing elsewhere."""

    def __init__(self, max_leases: int) -> None:
        self.semaphore: Any = None
        try:
            from distributed import Semaphore, get_worker

            get_worker()
        except (ImportError, ValueError):
            return
        name = f"{SEMAPHORE}-{max_leases}"  # pulls with the same cap share one semaphore
        self.semaphore = Semaphore(max_leases=max_leases, name=name)  # type: ignore[no-untyped-call]

    def __enter__(self) -> None:
        if self.semaphore is not None:
            self.semaphore.acquire()

    def __exit__(self, *exc: object) -> None:
        if self.semaphore is not None:
            self.semaphore.release()


def _shaped(frame: pd.DataFrame, labels: dict[str, str], uom: dict[str, str]) -> pd.DataFrame:
    """A long frame labelled as the driver labels, indexed and sorted by time."""
    frame = frame.assign(series=frame["id"].map(labels).astype(frame["series"].dtype))
    order = ["timestamp", "series", *(["aggregation"] if "aggregation" in frame else [])]
    frame = frame.sort_values(order, kind="stable").set_index("timestamp")
    frame.attrs = {"units": uom}
    return frame


def _meta(kind: str, labels: dict[str, str], uom: dict[str, str]) -> pd.DataFrame:
    """The partitions' empty frame, made by the same code as the data's (no request)."""
    if kind == "measurements":
        empty = long_frame(MEASUREMENTS_SCHEMA.empty_table(), labels, uom)
    else:
        empty = statistics_long_frame(STATISTICS_SCHEMA.empty_table(), labels, uom)
    return _shaped(empty, labels, uom)


def _windows(start: pd.Timestamp, end: pd.Timestamp, freq: pd.Timedelta) -> list[pd.Timestamp]:
    """Cuts of ``[start, end)`` on the epoch-aligned grid of ``freq`` (UTC), ends included."""
    inner = pd.date_range(start.floor(freq) + freq, end, freq=freq, inclusive="left")
    return [start, *[t for t in inner if start < t < end], end]


def _auto_freq(series: int, hz: float) -> pd.Timedelta:
    """A window holding about :data:`TARGET_ROWS` rows of ``series`` at ``hz`` each."""
    seconds = TARGET_ROWS / max(series * hz, 1e-9)
    for step in ("1h", "6h", "1D", "7D", "28D"):
        if pd.Timedelta(step).total_seconds() >= seconds:
            return max(pd.Timedelta("1h"), pd.Timedelta(step) / (2 if step != "1h" else 1))
    return pd.Timedelta("28D")


def _read(
    kind: str,
    selectors: SelectorInput,
    start: TimeInput | None,
    end: TimeInput | None,
    *,
    partition_freq: str | timedelta | None,
    profile: str | None,
    client: Client | None,
    max_concurrency: int,
    aggregations: tuple[str, ...] = (),
    window: timedelta | None = None,
    options: QueryOptions,
) -> Any:
    import dask.dataframe as dd

    query = Query.build(selectors, start, end, options)
    driver = client or Client.from_env(profile=profile, progress=False)
    series = driver.series(list(query.selectors))
    labels = {info.uuid: info.label(query.labels) for info in series}
    uom = {labels[info.uuid]: info.uom for info in series if info.uom}
    freq = (parse_duration(partition_freq, name="partition_freq") if partition_freq is not None
            else _auto_freq(len(series), 1.0))  # 1 Hz per series: the densest sandbox rate
    cuts = _windows(query.time_range.start, query.time_range.end, freq)
    settings = driver.settings
    config = WorkerConfig(settings.api_url, settings.environment, settings.api_version,
                          settings.token_url, settings.client_id, profile, max_concurrency)
    uuids = tuple(info.uuid for info in series)
    parts = [_Partition(config, kind, uuids, tuple(labels.items()), tuple(uom.items()), lo, hi,
                        aggregations, window)
             for lo, hi in itertools.pairwise(cuts)]
    divisions = [*cuts[:-1], cuts[-1] - pd.Timedelta(microseconds=1)]
    if client is None:
        driver.close()
    else:  # tasks run in this process (threads, sync scheduler) reuse the caller's client
        with _clients_lock:
            _clients.setdefault(config, client)
    return dd.from_map(  # type: ignore[no-untyped-call]
        _call, parts, meta=_meta(kind, labels, uom), divisions=divisions,
        enforce_metadata=False, label=f"raadata-{kind}",
    )


def _call(partition: _Partition) -> pd.DataFrame:
    return partition()


def read_measurements(
    selectors: SelectorInput,
    start: TimeInput | None = None,
    end: TimeInput | None = None,
    *,
    partition_freq: str | timedelta | None = None,
    profile: str | None = None,
    client: Client | None = None,
    max_concurrency: int = 8,
    **options: Unpack[QueryOptions],
) -> Any:
    """Raw points over ``[start, end)`` (UTC) as a lazy ``dask.dataframe.DataFrame``.

    Long form indexed by ``timestamp`` (UTC) with columns ``series``, ``id``, ``value``;
    known divisions: partition *i* is every series over the *i*-th window of
    ``partition_freq`` (default: about two million rows), so ``.loc[t0:t1]`` reads only the
    windows it needs. Rows within a partition are ordered by time, then series. Building it
    resolves the selectors through metadata (``client``, or one from the environment or
    ``profile``) and fetches no data; each worker makes its own client from its environment
    or ``profile``. ``max_concurrency``: pulls in flight over the whole cluster.
    """
    return _read("measurements", selectors, start, end, partition_freq=partition_freq,
                 profile=profile, client=client, max_concurrency=max_concurrency,
                 options=options)


def read_statistics(
    selectors: SelectorInput,
    start: TimeInput | None = None,
    end: TimeInput | None = None,
    *,
    aggregations: str | Iterable[str] = "avg",
    window: str | timedelta = "1h",
    partition_freq: str | timedelta | None = None,
    profile: str | None = None,
    client: Client | None = None,
    max_concurrency: int = 8,
    **options: Unpack[QueryOptions],
) -> Any:
    """Aggregates per epoch-aligned UTC ``window`` as a lazy Dask DataFrame: as
    :func:`read_measurements`, with an ``aggregation`` column. Partition windows should be
    multiples of ``window`` so no aggregation window is cut (the default is)."""
    step = parse_duration(window, name="window")
    aggs = parse_aggregations(aggregations)
    if partition_freq is None:
        partition_freq = max(step * 24, pd.Timedelta("1D"))
    freq = parse_duration(partition_freq, name="partition_freq")
    if freq % step:
        raise ValueError(f"partition_freq ({freq}) must be a multiple of window ({step})")
    return _read("statistics", selectors, start, end, partition_freq=freq, profile=profile,
                 client=client, max_concurrency=max_concurrency, aggregations=aggs,
                 window=step.to_pytimedelta(), options=options)


@dataclass(frozen=True)
class _UnitTask:
    """One export unit, written and committed by a worker through the export's protocol."""

    config: WorkerConfig
    destination: str
    storage_options: tuple[tuple[str, Any], ...]
    job: UnitJob
    key: UnitKey
    unit: Unit


def _write_unit(task: _UnitTask) -> tuple[int, int]:
    """Files and rows the unit wrote (its marker is committed when this returns)."""
    with _lease(task.config.max_concurrency):
        client = worker_client(task.config)
        options = dict(task.storage_options)
        store = open_store(task.destination, options or None)
        delta = (DeltaUnits(store.url, options, task.job.partition_by)
                 if task.job.format == "delta" else None)
        result = ExportResult(store.url)
        write_units(client.transport, task.job.pull, store, [(task.key, task.unit)],
                    task.job.series, task.job.names, task.job.partition_by, result,
                    formats=client._puller.formats, max_workers=1, progress=False,
                    route=client._puller.route, delta=delta)
        return result.files, result.rows


def export(
    selectors: SelectorInput,
    start: TimeInput | None = None,
    end: TimeInput | None = None,
    destination: str = "raadata-export",
    *,
    profile: str | None = None,
    client: Client | None = None,
    max_concurrency: int = 8,
    storage_options: dict[str, Any] | None = None,
    **export_options: Any,
) -> ExportResult:
    """:meth:`Client.export` with its (vessel, day) units run as tasks on the current Dask
    scheduler (a ``distributed`` cluster when one is active).

    The driver checks the destination, holds its lock and writes the sidecar; each task
    fetches one unit with its worker's own client and commits it as a single-process export
    does, so a distributed export and a local one resume each other and give the same
    dataset. ``destination`` must be reachable from every worker (a shared folder or an
    object store); ``storage_options`` travel in the graph, so keep store credentials in
    the workers' environment.
    """
    from dask.base import compute
    from dask.delayed import delayed

    driver = client or Client.from_env(profile=profile, progress=False)
    settings = driver.settings
    config = WorkerConfig(settings.api_url, settings.environment, settings.api_version,
                          settings.token_url, settings.client_id, profile, max_concurrency)
    options = tuple(sorted((storage_options or {}).items()))

    def on_cluster(todo: Sequence[tuple[UnitKey, Unit]], job: UnitJob,
                   result: ExportResult) -> None:
        tasks = [delayed(_write_unit)(_UnitTask(config, destination, options, job, key, unit))
                 for key, unit in todo]
        for files, rows in compute(*tasks):  # type: ignore[no-untyped-call]
            result.files += files
            result.rows += rows
            result.units_written += 1

    if client is not None:
        with _clients_lock:
            _clients.setdefault(config, client)
    token = UNIT_RUNNER.set(on_cluster)
    try:
        return driver.export(selectors, start, end, destination,
                             storage_options=storage_options, **export_options)
    finally:
        UNIT_RUNNER.reset(token)
        if client is None:
            driver.close()
