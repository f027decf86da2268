"""raadata.Client: configuration, the HTTP transport, the caller's identity and the data calls.

Every data call validates its arguments into a :class:`~raadata._query.Query` first (a
``ValueError``/``TypeError`` before any request), resolves selectors to readable series
through metadata, plans requests and runs them (:mod:`raadata._pulls`) and shapes frames
(:mod:`raadata._frames`). Time arguments: naive means UTC; ranges are half-open
``[start, end)``; ``since``/``last`` are durations such as ``"6hours"`` or ``"1day"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any, NoReturn, Unpack

import pandas as pd

from raadata._cached import ClientCache, open_cache
from raadata._config import Secret, Settings, settings_from
from raadata._export import export_query
from raadata._export_types import (
    PARTITION_KEYS,
    ExportResult,
    Format,
    SeriesChange,
    check_partition_by,
)
from raadata._frames import (
    in_requested_order,
    statistics_wide_frame,
)
from raadata._http import Transport
from raadata._planning import Pull
from raadata._pulls import Plan, Puller, Started
from raadata._query import (
    Query,
    QueryOptions,
    SelectorInput,
    Shape,
    check_choice,
    measurements_pull,
    positive_int,
    statistics_pull,
)
from raadata._report import PullReport
from raadata._resolve import SeriesInfo
from raadata._selectors import parse_selectors
from raadata._timerange import TimeInput
from raadata._tokens import Identity
from raadata._views import ColumnStyle, View, complete_windows, latest_rows

__all__ = ["Client"]


class Client:
    """A connection to Prism for one client id.

    Arguments not given are filled from ``RAADATA_*`` environment variables and then from
    the profile file, when the client is created (never at import). ``timeout`` is seconds,
    or (connect, read) seconds. ``max_workers`` bounds concurrent requests; ``progress``
    shows progress bars (``None``: when a person is watching). Use it as a context manager
    or call :meth:`close`. ``deadline`` bounds one whole attempt of a request, body
    included (seconds; default three read timeouts). A client is thread-safe; it cannot be
    pickled (it holds credentials): create one per process, e.g. with :meth:`from_env`.
    """

    settings: Settings
    transport: Transport
    max_workers: int
    last_report: PullReport | None
    cache: ClientCache | None
    """The report of the latest pull (requests, retries, rows per series, elapsed)."""

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        *,
        environment: str | None = None,
        api_url: str | None = None,
        token_url: str | None = None,
        api_version: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        deadline: float | None = None,
        max_workers: int = 8,
        progress: bool | None = None,
        profile: str | None = None,
        cache: bool | str | os.PathLike[str] | None = None,
    ) -> None:
        settings = settings_from(
            os.environ, client_id=client_id, client_secret=client_secret,
            environment=environment, api_url=api_url, token_url=token_url,
            api_version=api_version, timeout=timeout, deadline=deadline, profile=profile,
        )
        self._setup(settings, max_workers, progress, cache, os.environ)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        profile: str | None = None,
        *,
        max_workers: int = 8,
        progress: bool | None = None,
        cache: bool | str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> Client:
        """A client configured from ``env`` (default ``os.environ``) and the profile file.

        ``overrides`` take the names of the arguments of :class:`Client` (``client_id``,
        ``client_secret``, ``environment``, ``api_url``, ``token_url``, ``api_version``,
        ``timeout``).
        """
        env = os.environ if env is None else env
        settings = settings_from(env, profile=profile, **overrides)
        client = cls.__new__(cls)
        client._setup(settings, max_workers, progress, cache, env)
        return client

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        max_workers: int = 8,
        progress: bool | None = None,
        cache: bool | str | os.PathLike[str] | None = False,
    ) -> Client:
        """A client for ready-made :class:`~raadata._config.Settings`."""
        client = cls.__new__(cls)
        client._setup(settings, max_workers, progress, cache, os.environ)
        return client

    def _setup(
        self,
        settings: Settings,
        max_workers: int,
        progress: bool | None,
        cache: bool | str | os.PathLike[str] | None,
        env: Mapping[str, str],
    ) -> None:
        positive_int("max_workers", max_workers)
        self.settings = settings
        self.max_workers = max_workers
        store = open_cache(cache, env, api_url=settings.api_url,
                           environment=settings.environment, api_version=settings.api_version)
        # two connections per worker: data requests plus metadata look-ups running beside them
        self.transport = Transport(settings, pool_size=max(16, 2 * max_workers))
        self.last_report = None
        self._puller = Puller(self.transport, max_workers, progress, store)
        self.cache = None if store is None else ClientCache(store, self._uuids)
        """The local cache (``cache=True``, a folder, or ``RAADATA_CACHE=1``), else None."""

    def _uuids(self, selectors: object) -> list[str]:
        return [info.uuid for info in self.series(selectors)]  # type: ignore[arg-type]

    @property
    def progress(self) -> bool | None:
        """Progress bars on long pulls: ``True``, ``False``, or ``None`` (when watched)."""
        return self._puller.progress

    @progress.setter
    def progress(self, value: bool | None) -> None:
        self._puller.progress = value

    # -- data -----------------------------------------------------------------------------

    def series(self, selectors: SelectorInput, *, domain: str | None = None) -> list[SeriesInfo]:
        """The readable series the selectors name (resolved through metadata, cached)."""
        return self._puller.series(parse_selectors(selectors, domain))

    def measurements(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        shape: Shape = "wide",
        window: str | timedelta | None = None,
        aggregations: str | Iterable[str] | None = None,
        complete: bool = False,
        columns: ColumnStyle = "flat",
        tz: str | None = None,
        categorical: bool = False,
        **options: Unpack[QueryOptions],
    ) -> pd.DataFrame:
        """Raw points of every readable series the selectors name, over ``[start, end)``.

        ``shape="wide"``: a UTC ``DatetimeIndex`` named ``timestamp`` and one float64 column
        per series. ``shape="long"``: columns ``timestamp``, ``series``, ``id`` (UUID),
        ``value``. Column labels are the ids in the queried domain (``labels="domain"``),
        the UUIDs (``"uuid"``) or the metadata names (``"name"``, with the vessel's name when
        several vessels show). ``columns="fleet"``: two column levels ``(vessel, tag)``.
        ``tz``: show instants in this IANA zone (input stays UTC). ``categorical``: long
        frames hold ``series`` and ``id`` as pandas ``Categorical`` (smaller). ``window`` or
        ``aggregations`` downsample on the server: the same as :meth:`statistics` (with
        ``complete``). Units are in ``df.attrs["units"]``, vessel names in
        ``df.attrs["vessels"]``; the pull report is ``client.last_report`` (as a plain dict,
        ``df.attrs["report"]``). Other options: :class:`~raadata.QueryOptions`.
        """
        if window is not None or aggregations is not None:
            return self.statistics(
                selectors, start, end, aggregations="avg" if aggregations is None else aggregations,
                window="1m" if window is None else window, shape=shape, complete=complete,
                columns=columns, tz=tz, categorical=categorical, **options,
            )
        view = View(shape, columns, tz, categorical)
        query = Query.build(selectors, start, end, options)
        started = self._start(query, measurements_pull(query.target_points))
        frame = (self._puller.long(started, view.categorical) if view.shape == "long"
                 else self._puller.wide(started))
        return view.present(frame, started)

    def statistics(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        aggregations: str | Iterable[str] = "avg",
        window: str | timedelta = "1m",
        shape: Shape = "wide",
        complete: bool = False,
        columns: ColumnStyle = "flat",
        tz: str | None = None,
        categorical: bool = False,
        **options: Unpack[QueryOptions],
    ) -> pd.DataFrame:
        """Aggregates per epoch-aligned UTC window (``window``, default one minute).

        Each row's timestamp is its window's start. Empty windows are left out, unless
        ``complete=True``: then every window starting in ``[start, end)`` is there for every
        series (``count`` 0, NaN for other aggregations), whatever the number of series.
        Wide: one column per (series, aggregation), a single level when one of the two is
        unique (``columns="fleet"``: ``(vessel, tag, aggregation)``). Long: ``timestamp``,
        ``series``, ``id``, ``aggregation``, ``value``. ``tz``, ``categorical`` as in
        :meth:`measurements`.
        """
        view = View(shape, columns, tz, categorical)
        query = Query.build(selectors, start, end, options)
        pull = statistics_pull(aggregations, window, query.target_points)
        started = self._start(query, pull)
        frame = self._puller.long(started, view.categorical and view.shape == "long")
        if complete:
            frame = complete_windows(frame, started.labels, pull.aggregations,
                                     query.time_range.start, query.time_range.end, pull.align)
        if view.shape == "wide":
            attrs = frame.attrs
            frame = statistics_wide_frame(frame, keep_levels=view.fleet)
            frame = in_requested_order(frame, pull.aggregations)
            frame.attrs = attrs
        return view.present(frame, started)

    def latest(
        self,
        selectors: SelectorInput,
        *,
        lookback: str | timedelta = "1day",
        tz: str | None = None,
        **options: Unpack[QueryOptions],
    ) -> pd.DataFrame:
        """The last reading of each series within ``lookback`` before now (UTC clock).

        One row per series (index ``series``): ``timestamp``, ``value``, ``unit``; missing
        readings (NaN) are skipped, and a series with no reading in the lookback is left out.
        """
        view = View(tz=tz)
        if any(key in options for key in ("since", "last", "year", "month", "day")):
            raise TypeError("latest() takes lookback=, not another time range")
        query = Query.build(selectors, None, None, {**options, "since": lookback})
        started = self._start(query, measurements_pull(query.target_points))
        return view.present(latest_rows(self._puller.long(started), started.uom), started)

    def metadata(
        self, selectors: SelectorInput, *, domain: str | None = None, verbose: bool = False
    ) -> pd.DataFrame:
        """One row per series (a domain id shared by two series gives two rows).

        Columns: ``series`` (the id in the queried domain), ``domain``, the metadata
        fields (``name``, ``uom``, ``timeSeriesId``, ...) and ``mapsTo.<domain>``.
        """
        return self._puller.metadata_table(parse_selectors(selectors, domain), verbose)

    def iter_frames(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        *,
        categorical: bool = False,
        **options: Unpack[QueryOptions],
    ) -> Iterator[pd.DataFrame]:
        """Long frames of raw points, one per finished request, in completion order.

        For pulls bigger than memory: each frame holds one request's rows (some series
        over one window), sorted by series then time. Arguments are checked at the call;
        series are resolved when iteration starts.
        """
        query = Query.build(selectors, start, end, options)
        pull = measurements_pull(query.target_points)

        def frames() -> Iterator[pd.DataFrame]:
            yield from self._puller.frames(self._start(query, pull), categorical)

        return frames()

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
        partition_by: Iterable[str] = PARTITION_KEYS,
        overwrite: bool = False,
        on_series_change: SeriesChange = "fetch",
        verify_only: bool = False,
        format: Format = "parquet",
        storage_options: Mapping[str, Any] | None = None,
        **options: Unpack[QueryOptions],
    ) -> ExportResult:
        """Write raw points (or, with ``statistics=True``, aggregates) to a Parquet dataset.

        The dataset at ``path`` is long form (``timestamp`` UTC microseconds, ``series``,
        ``id``, [``aggregation``], ``value``), partitioned hive-style by vessel and UTC day.
        Each unit (a batch of one vessel's series over one UTC day) appears as one file,
        whole, when its last request finishes. Re-running the same call resumes: finished
        units are checked (size, rows) and skipped, damaged ones written again. Series that
        appeared or vanished since the last run are fetched for the days already done
        (``on_series_change="fetch"``) or refused (``"refuse"``). Other arguments into the
        same folder are refused unless ``overwrite=True``, which deletes only the files
        raadata wrote; a folder holding anything else is never written to. One writer at a
        time: a second one gets :class:`~raadata.ExportConflictError` naming the first.
        ``verify_only=True`` fetches nothing and checks every finished file byte by byte
        (SHA-256): see ``result.damaged``. A ``since``/``last`` range moves with the clock,
        so resume such an export with the start and end recorded in its ``_raadata.json``.

        ``path`` may be an object store URL (``s3://bucket/prefix``, ``gs://``, ``az://``;
        extras ``raadata[s3]`` ...) with ``storage_options`` for fsspec (credentials come
        from the store's usual environment otherwise). ``format="delta"`` writes a Delta Lake
        table instead (extra ``raadata[delta]``), one transaction per unit.
        """
        keys = check_partition_by(partition_by)
        check_choice("format", format, ("parquet", "delta"))
        check_choice("on_series_change", on_series_change, ("fetch", "refuse"))
        query = Query.build(selectors, start, end, options)
        pull = (statistics_pull(aggregations, window, query.target_points) if statistics
                else measurements_pull(query.target_points))
        result = export_query(
            self._puller, query, pull, path, api_version=self.settings.api_version,
            partition_by=keys, format=format, storage_options=storage_options,
            overwrite=overwrite, on_series_change=on_series_change, verify_only=verify_only,
        )
        self.last_report = result.report
        return result

    def plan(
        self,
        selectors: SelectorInput,
        start: TimeInput | None = None,
        end: TimeInput | None = None,
        **options: Unpack[QueryOptions],
    ) -> Plan:
        """A dry run of :meth:`measurements`: series and requests, no data fetched."""
        query = Query.build(selectors, start, end, options)
        return self._puller.plan(query, measurements_pull(query.target_points))

    def _start(self, query: Query, pull: Pull) -> Started:
        started = self._puller.start(query, pull)
        self.last_report = started.report
        return started

    # -- identity and lifetime ------------------------------------------------------------

    def whoami(self) -> Identity:
        """Client id, scopes (from the token's claims) and token expiry; fetches a token
        if needed. Never shows the token itself."""
        return self.transport.tokens.info()

    def access_token(self) -> str:
        """The current bearer token text. It is a credential: do not print or log it."""
        return self.transport.tokens.token()

    def close(self) -> None:
        """Close pooled connections; the client should not be used afterwards."""
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.settings
        return (f"{type(self).__name__}(client_id={s.client_id!r}, "
                f"environment={s.environment!r}, api_url={s.api_url!r})")

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a raadata.Client holds credentials and open connections and cannot be pickled; "
            "create one in each process instead (e.g. raadata.Client.from_env())"
        )
