"""The fetch engine: run a pull's requests concurrently and yield Arrow tables as they finish.

One generator, :func:`run`, serves every consumer (frames, ``iter_frames``, export). It
hands windows from :class:`~raadata._planning.WindowCursor` objects to a thread pool,
splits a request whose response is too large, lowers its concurrency after a 429 and
raises it again as requests succeed, and negotiates the wire format (Parquet, then NDJSON,
then JSON) once per client.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from raadata._decode import JSON, NDJSON, PARQUET, decode_measurements, decode_statistics
from raadata._errors import BadRequestError, NotAcceptableError, ResponseTooLargeError
from raadata._frames import drop_exact_duplicates
from raadata._http import Transport
from raadata._planning import Pull, Task, Unit, cursors
from raadata._report import PullReport
from raadata._retry import RetryEvent
from raadata._timerange import format_instant

__all__ = ["ConcurrencyLimit", "Result", "WireFormats", "fetch_task", "rows_per_uuid", "run"]


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
        """Drop a refused format; ``False`` when there is nothing left to fall back to."""
        with self._lock:
            if content_type in self._formats and len(self._formats) > 1:
                self._formats.remove(content_type)
                return True
            return False


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


def fetch_task(
    transport: Transport,
    pull: Pull,
    task: Task,
    formats: WireFormats,
    report: PullReport,
    limit: ConcurrencyLimit,
) -> pa.Table:
    """One request (POST ``/{kind}/query``) decoded into Arrow; negotiates the format."""
    body = [f"id/{uuid}" for uuid in task.uuids]
    params = {"from": format_instant(task.start), "to": format_instant(task.end), **pull.params}

    def on_retry(event: RetryEvent) -> None:
        report.add_retry(event.status)
        if event.status == 429:
            limit.rate_limited()

    while True:
        accept = formats.current
        try:
            response = transport.request(
                "POST",
                f"{pull.kind}/query",
                params=params,
                json=body,
                accept=accept,
                split_on_too_large=True,
                on_retry=on_retry,
            )
        except (NotAcceptableError, BadRequestError) as error:
            refused = isinstance(error, NotAcceptableError) or "format" in error.message.lower()
            if refused and formats.refuse(accept):
                continue
            raise
        content_type = response.headers.get("Content-Type", accept)
        decode = decode_measurements if pull.kind == "measurements" else decode_statistics
        table, duplicates = drop_exact_duplicates(decode(response.content, content_type))
        report.add_response(len(response.content), content_type, duplicates)
        limit.succeeded()
        return table


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
) -> Iterator[Result]:
    """Fetch every unit; yield one :class:`Result` per finished request, in completion order.

    Closing the generator early (or an error, or Ctrl-C) cancels what has not started and
    does not wait for requests in flight. Errors other than "too large" propagate at once.
    """
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
                future = pool.submit(fetch_task, transport, pull, task, formats, report, limit)
                in_flight[future] = task
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                task = in_flight.pop(future)
                try:
                    table = future.result()
                except ResponseTooLargeError:
                    halves = task.split(pull.align)
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


def rows_per_uuid(tables: Sequence[pa.Table]) -> dict[str, int]:
    """Row counts per series UUID over some tables."""
    counts: dict[str, int] = {}
    for table in tables:
        if table.num_rows == 0:
            continue
        for item in pc.value_counts(table.column("id")).to_pylist():
            counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return counts
