"""The fetch engine: run a pull's requests concurrently and yield Arrow tables as they finish.

One generator, :func:`run`, serves every consumer (frames, ``iter_frames``, export). It
hands windows from :class:`~raadata._planning.WindowCursor` objects to a thread pool,
splits a request whose response is too large, lowers its concurrency after a 429 and
raises it again as requests succeed, and negotiates the wire format (Parquet, then NDJSON,
then JSON) once per client.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import requests
from tqdm.auto import tqdm

from raadata._checks import check_rows
from raadata._decode import JSON, NDJSON, PARQUET, decode_measurements, decode_statistics
from raadata._errors import ApiError, ResponseFormatError, ResponseTooLargeError, TransportError
from raadata._frames import drop_exact_duplicates
from raadata._http import Transport
from raadata._planning import Pull, Task, Unit, cursors
from raadata._report import PullReport
from raadata._retry import RetryEvent, RetryPolicy, call_with_retries
from raadata._timerange import format_instant

__all__ = [
    "ConcurrencyLimit",
    "Result",
    "Route",
    "WireFormats",
    "fetch_task",
    "rows_per_uuid",
    "run",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """One finished request: its task, its rows, and whether its unit is now complete."""

    task: Task
    table: pa.Table
    unit_done: bool


class WireFormats:
    """The formats to ask for, best first; a format the server refuses is dropped for good."""

    def __init__(self, preferred: Sequence[str] = (PARQUET, NDJSON, JSON)) -> None:
        self._formats = list(preferred)
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        """The content type to put in ``Accept`` now."""
        with self._lock:
            return self._formats[0]

    def refuse(self, content_type: str) -> bool:
        """A format was refused: drop it. ``True`` when there is something else to ask for
        (also when another thread has already moved on), ``False`` for the last one."""
        with self._lock:
            if content_type not in self._formats:
                return True  # another request was refused first and moved on: try again
            if len(self._formats) > 1:
                self._formats.remove(content_type)
                return True
            return False


class Route:
    """How this client asks for many series: ``POST /{kind}/query`` until the server shows
    it has none (404/405), then ``GET /{kind}/id/{uuid,uuid,...}`` for good."""

    def __init__(self) -> None:
        self.post = True

    def give_up_post(self) -> None:
        """The server has no ``POST /{kind}/query``."""
        self.post = False


class ConcurrencyLimit:
    """Additive-increase, multiplicative-decrease limit on requests in flight.

    A 429 halves the limit; each success after that adds one back, up to ``maximum``.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self._value = maximum
        self._successes = 0
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        """Requests allowed in flight now."""
        with self._lock:
            return self._value

    def rate_limited(self) -> None:
        """The server said 429: back off."""
        with self._lock:
            self._value = max(1, self._value // 2)
            self._successes = 0

    def succeeded(self) -> None:
        """A request went through: creep back up."""
        with self._lock:
            self._successes += 1
            if self._successes >= self._value and self._value < self.maximum:
                self._value += 1
                self._successes = 0


FORMAT_RETRY = RetryPolicy(max_attempts=3, backoff_initial=0.5, backoff_max=5.0)
"""Retries of a response whose body cannot be read (truncated, malformed)."""
MAX_TIMEOUT_SPLITS = 2
"""A request that timed out is split into smaller ones at most this many times."""
MAX_URL = 6000
"""Characters at most in the URL of a ``GET /{kind}/id/...`` request."""
_FORMAT_NAMES = {PARQUET: "parquet", NDJSON: "ndjson", JSON: "json"}


def fetch_task(
    transport: Transport,
    pull: Pull,
    task: Task,
    formats: WireFormats,
    report: PullReport,
    limit: ConcurrencyLimit,
    route: Route | None = None,
    aliases: Mapping[str, str] | None = None,
) -> pa.Table:
    """One request decoded into Arrow and checked against the task (see :mod:`_checks`).

    Negotiates the format (Parquet, then NDJSON, then JSON), asks with ``POST /query`` or,
    on a server without it, ``GET /id/...``, and retries a body that cannot be read.
    """
    route = route or Route()

    def on_retry(event: RetryEvent) -> None:
        report.add_retry(event.status)
        if event.status == 429:
            limit.rate_limited()

    def attempt() -> pa.Table:
        tables = [_decoded(response, pull) for response in
                  _responses(transport, pull, task, formats, route, report, on_retry)]
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        table, duplicates = drop_exact_duplicates(table)
        checked = check_rows(table, task.uuids, task.start, task.end, aliases)
        report.add_checked(duplicates, checked)
        return checked.table

    table = call_with_retries(attempt, FORMAT_RETRY, what=f"{pull.kind} request",
                              sleep=time.sleep, on_retry=on_retry)
    limit.succeeded()
    return table


def _responses(
    transport: Transport,
    pull: Pull,
    task: Task,
    formats: WireFormats,
    route: Route,
    report: PullReport,
    on_retry: Callable[[RetryEvent], None],
) -> list[requests.Response]:
    """The task's response(s), in a format the server gives: any 400/406/415 to a request
    for a non-JSON format falls back to the next one, whatever the message says."""
    while True:
        accept = formats.current
        params = {"from": format_instant(task.start), "to": format_instant(task.end),
                  **pull.params, "format": _FORMAT_NAMES[accept]}
        try:
            responses = _send(transport, pull, task, params, accept, route, on_retry)
        except ApiError as error:
            refused = error.status in (400, 406, 415) and accept != JSON
            if refused and not isinstance(error, ResponseTooLargeError) and formats.refuse(accept):
                continue
            raise
        endpoint = "POST query" if route.post else "GET id"
        for response in responses:
            report.add_response(len(response.content),
                                response.headers.get("Content-Type", accept), endpoint)
        return responses


def _send(
    transport: Transport,
    pull: Pull,
    task: Task,
    params: Mapping[str, str],
    accept: str,
    route: Route,
    on_retry: Callable[[RetryEvent], None],
) -> list[requests.Response]:
    if route.post:
        try:
            return [transport.request("POST", f"{pull.kind}/query", params=params,
                                      json=[f"id/{uuid}" for uuid in task.uuids], accept=accept,
                                      split_on_too_large=True, on_retry=on_retry)]
        except ApiError as error:
            if error.status not in (404, 405):
                raise
            log.warning("%s answered %s to POST /%s/query: asking with GET /%s/id/... from "
                        "now on", transport.base_url, error.status, pull.kind, pull.kind)
            route.give_up_post()
    return [transport.request("GET", f"{pull.kind}/id/{','.join(chunk)}", params=params,
                              accept=accept, split_on_too_large=True, on_retry=on_retry)
            for chunk in _url_chunks(task.uuids, MAX_URL - len(transport.base_url) - 200)]


def _url_chunks(uuids: Sequence[str], room: int) -> list[list[str]]:
    """UUIDs in runs whose comma-joined length fits ``room`` characters (one at least)."""
    chunks: list[list[str]] = [[]]
    used = 0
    for uuid in uuids:
        if chunks[-1] and used + len(uuid) + 1 > room:
            chunks.append([])
            used = 0
        chunks[-1].append(uuid)
        used += len(uuid) + 1
    return chunks


def _decoded(response: requests.Response, pull: Pull) -> pa.Table:
    """The body as Arrow; a body that cannot be read is a :class:`ResponseFormatError`."""
    content_type = response.headers.get("Content-Type", "")
    decode = decode_measurements if pull.kind == "measurements" else decode_statistics
    try:
        return decode(response.content, content_type)
    except ValueError as error:
        raise ResponseFormatError(
            str(error), status=response.status_code, method=response.request.method,
            url=response.url, request_id=response.headers.get("x-request-id"),
        ) from None


def _progress(enabled: bool | None, total: float, kind: str) -> tqdm[Any]:
    """A bar over the share of (series x time) covered, with points and requests so far.

    ``enabled=None`` means on when a person is watching (a terminal or a notebook).
    """
    if enabled is None:
        enabled = sys.stderr.isatty() or "ipykernel" in sys.modules
    return tqdm(
        total=round(total),
        disable=not enabled,
        desc=f"raadata {kind}",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
        delay=0.5,
        leave=False,
    )


def run(
    transport: Transport,
    pull: Pull,
    units: Sequence[Unit],
    *,
    formats: WireFormats,
    report: PullReport,
    max_workers: int,
    progress: bool | None = None,
    route: Route | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Iterator[Result]:
    """Fetch every unit; yield one :class:`Result` per finished request, in completion order.

    Closing the generator early (or an error, or Ctrl-C) cancels what has not started and
    does not wait for requests in flight. Errors other than "too large" propagate at once;
    a request that timed out is split at most :data:`MAX_TIMEOUT_SPLITS` times. ``route``
    and ``formats`` hold what the client learned of the server; ``aliases`` maps other names
    of the series to their UUIDs (see :func:`raadata._checks.check_rows`).
    """
    route = route or Route()
    started = time.perf_counter()
    walkers = cursors(units, pull)
    pending = [0] * len(units)  # tasks handed out (queued or in flight) and not finished
    retry_queue: list[Task] = []
    limit = ConcurrencyLimit(max_workers)
    in_flight: dict[Future[pa.Table], Task] = {}
    next_cursor = 0
    bar = _progress(
        progress, sum((u.end - u.start).total_seconds() * len(u.uuids) for u in units), pull.kind
    )

    def next_task() -> Task | None:
        nonlocal next_cursor
        if retry_queue:
            return retry_queue.pop()
        while next_cursor < len(walkers):
            task = walkers[next_cursor].next_task()
            if task is not None:
                pending[task.unit] += 1
                return task
            next_cursor += 1
        return None

    pool = ThreadPoolExecutor(max_workers, thread_name_prefix="raadata-fetch")
    try:
        while True:
            while len(in_flight) < limit.value and (task := next_task()) is not None:
                future = pool.submit(fetch_task, transport, pull, task, formats, report, limit,
                                     route, aliases)
                in_flight[future] = task
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task = in_flight.pop(future)
                try:
                    table = future.result()
                except ResponseTooLargeError as error:
                    timed_out = error.status is None  # no answer in time, not a refusal
                    if timed_out and task.timeouts >= MAX_TIMEOUT_SPLITS:
                        raise _gave_up_waiting(task, error) from error
                    halves = task.split(pull.align, timed_out)
                    if halves is None:
                        raise
                    walkers[task.unit].density.shrink()
                    report.splits += 1
                    pending[task.unit] += 1
                    retry_queue.extend(halves)
                    continue
                pending[task.unit] -= 1
                report.points += table.num_rows
                walkers[task.unit].density.observe(table.num_rows, task.seconds)
                bar.set_postfix_str(
                    f"{report.points:,} points, {report.requests} requests", refresh=False
                )
                bar.update(round(task.seconds * len(task.uuids)))
                unit_done = walkers[task.unit].done and pending[task.unit] == 0
                yield Result(task, table, unit_done)
    finally:  # on an error or Ctrl-C, do not wait for requests still in flight
        pool.shutdown(wait=not in_flight, cancel_futures=True)
        bar.close()
        report.elapsed += time.perf_counter() - started


def _gave_up_waiting(task: Task, error: ResponseTooLargeError) -> TransportError:
    return TransportError(
        f"{error.method} {error.url}: {error.message} - {task.timeouts + 1} times, splitting "
        f"the request each time ({len(task.uuids)} series, {task.start} to {task.end} now). "
        "The server may be down or slow: try again later, or raise the read timeout "
        "(RAADATA_TIMEOUT / timeout=) or lower target_points"
    )


def rows_per_uuid(tables: Sequence[pa.Table]) -> dict[str, int]:
    """Row counts per series UUID over some tables."""
    counts: dict[str, int] = {}
    for table in tables:
        if table.num_rows == 0:
            continue
        for item in pc.value_counts(table.column("id")).to_pylist():
            counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return counts
