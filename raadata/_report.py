"""The pull report: what one call fetched and what it took, readable after the call."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from raadata._checks import Checked
from raadata._display import html_table


@dataclass
class PullReport:
    """Counters of one pull (``Client.last_report``; ``DataFrame.attrs["report"]`` holds
    :meth:`as_dict`, so frames still serialise to Parquet and JSON).

    ``elapsed`` is wall-clock seconds; ``bytes`` counts response bodies as received;
    ``points`` were fetched, ``cached`` served from the local cache without a request.
    """

    kind: str = "measurements"
    series: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    splits: int = 0
    duplicates: int = 0
    outside_window: int = 0
    unrequested: int = 0
    renamed: int = 0
    points: int = 0
    cached: int = 0
    bytes: int = 0
    elapsed: float = 0.0
    rows_per_series: dict[str, int] = field(default_factory=dict)
    wire_formats: Counter[str] = field(default_factory=Counter)
    endpoints: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_retry(self, status: int | None) -> None:
        """Count one retry (called from worker threads)."""
        with self._lock:
            self.retries += 1
            if status == 429:
                self.rate_limited += 1

    def add_response(self, size: int, content_type: str, endpoint: str = "POST query") -> None:
        """Count one response: ``size`` bytes of ``content_type`` from ``endpoint`` (called
        from worker threads)."""
        with self._lock:
            self.requests += 1
            self.bytes += size
            self.wire_formats[content_type.split(";")[0].strip()] += 1
            self.endpoints[endpoint] += 1

    def add_checked(self, duplicates: int, checked: Checked) -> None:
        """Count the rows a response's check dropped or renamed (called from worker threads)."""
        with self._lock:
            self.duplicates += duplicates
            self.outside_window += checked.outside
            self.unrequested += checked.unrequested
            self.renamed += checked.renamed

    @property
    def points_per_second(self) -> float:
        """Points delivered per wall-clock second."""
        return self.points / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        """The counters as plain JSON-able values (what ``DataFrame.attrs`` carries)."""
        return {
            "kind": self.kind,
            "series": self.series,
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "splits": self.splits,
            "duplicates": self.duplicates,
            "outside_window": self.outside_window,
            "unrequested": self.unrequested,
            "renamed": self.renamed,
            "points": self.points,
            "cached": self.cached,
            "bytes": self.bytes,
            "elapsed": round(self.elapsed, 6),
            "rows_per_series": dict(self.rows_per_series),
            "wire_formats": dict(self.wire_formats),
            "endpoints": dict(self.endpoints),
        }

    def summary(self) -> str:
        """A few lines for people: totals first, then rows per series."""
        lines = [
            f"{self.kind}: {self.points:,} points from {self.series} series in "
            f"{self.elapsed:.2f} s ({self.points_per_second:,.0f} points/s)",
            f"requests {self.requests}, retries {self.retries} (429: {self.rate_limited}), "
            f"splits {self.splits}, duplicates dropped {self.duplicates}, "
            f"{self.bytes / 1e6:,.1f} MB as {dict(self.wire_formats) or '-'}",
        ]
        if self.outside_window or self.unrequested or self.renamed:
            lines.append(
                f"rows dropped: {self.outside_window} outside the requested window, "
                f"{self.unrequested} of series not asked for; {self.renamed} ids mapped to UUIDs"
            )
        if self.cached:
            lines.append(f"from the local cache: {self.cached:,} points (not fetched again)")
        if set(self.endpoints) - {"POST query"}:
            lines.append(f"endpoints: {dict(self.endpoints)}")
        lines += [f"  {name}: {rows:,}" for name, rows in sorted(self.rows_per_series.items())]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"PullReport({self.kind}: {self.points:,} points, {self.series} series, "
                f"{self.requests} requests, {self.retries} retries, {self.elapsed:.2f} s)")

    def _repr_html_(self) -> str:
        rows: list[tuple[str, object]] = [
            ("points", f"{self.points:,} from {self.series} series"),
            ("elapsed", f"{self.elapsed:.2f} s ({self.points_per_second:,.0f} points/s)"),
            ("requests", f"{self.requests} ({dict(self.wire_formats) or '-'})"),
            ("retries", f"{self.retries} (429: {self.rate_limited})"),
            ("splits", self.splits),
            ("duplicates dropped", self.duplicates),
            ("received", f"{self.bytes / 1e6:,.1f} MB"),
            ("from the local cache", f"{self.cached:,} points"),
        ]
        rows += [(f"  {name}", f"{count:,}") for name, count in
                 sorted(self.rows_per_series.items())[:20]]
        return html_table(f"raadata {self.kind} pull", rows)

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
