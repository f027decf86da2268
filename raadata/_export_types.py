"""What an export is asked (:class:`ExportSpec`, stored in the sidecar) and what it did
(:class:`ExportResult`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from raadata._display import html_table
from raadata._report import PullReport

__all__ = ["PARTITION_KEYS", "ExportResult", "ExportSpec", "Format", "SeriesChange",
           "check_partition_by"]

PARTITION_KEYS = ("vessel", "date")
SeriesChange = Literal["fetch", "refuse"]
Format = Literal["parquet", "delta"]


@dataclass
class ExportResult:
    """What an export (or a verification) did and found.

    ``units_repaired``: committed units found damaged (missing, truncated or altered files)
    and written again; ``series_added``/``series_removed``: labels that appeared or vanished
    since the last run (their days were fetched again); ``kept``: files in the folder that
    raadata did not write and left alone; ``damaged`` (``verify_only``): what is wrong.
    """

    path: str
    files: int = 0
    rows: int = 0
    units_written: int = 0
    units_skipped: int = 0
    units_repaired: int = 0
    series_added: tuple[str, ...] = ()
    series_removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    damaged: tuple[str, ...] = ()
    complete: bool = False
    report: PullReport = field(default_factory=PullReport)

    def __str__(self) -> str:
        lines = [
            f"{self.path}: {self.rows:,} rows in {self.files} new files; "
            f"{self.units_written} units written, {self.units_skipped} already done"
            + (f", {self.units_repaired} repaired" if self.units_repaired else "")
        ]
        if self.series_added or self.series_removed:
            lines.append(f"series since the last run: +{len(self.series_added)} "
                         f"-{len(self.series_removed)} (their days fetched again)")
        if self.kept:
            lines.append(f"{len(self.kept)} files raadata did not write were left alone, "
                         f"e.g. {self.kept[0]}")
        lines.extend(f"damaged: {problem}" for problem in self.damaged)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"ExportResult({self.path!r}, rows={self.rows:,}, files={self.files}, "
                f"units_written={self.units_written}, units_skipped={self.units_skipped}, "
                f"units_repaired={self.units_repaired}, complete={self.complete})")

    def _repr_html_(self) -> str:
        return html_table(f"raadata export to {self.path}", [
            ("rows written", f"{self.rows:,}"),
            ("new files", self.files),
            ("units written / already done / repaired",
             f"{self.units_written} / {self.units_skipped} / {self.units_repaired}"),
            ("complete", self.complete),
            ("pull", self.report.summary().splitlines()[0]),
        ])


@dataclass(frozen=True)
class ExportSpec:
    """Everything that decides an export's content; a resume must match it exactly."""

    kind: str
    selectors: tuple[str, ...]
    start: str
    end: str
    params: Mapping[str, str]
    partition_by: tuple[str, ...]
    labels: str
    api_version: str
    format: str = "parquet"

    def as_json(self) -> dict[str, Any]:
        """The spec as stored in the sidecar."""
        return {
            "kind": self.kind,
            "selectors": list(self.selectors),
            "start": self.start,
            "end": self.end,
            "params": dict(self.params),
            "partition_by": list(self.partition_by),
            "labels": self.labels,
            "api_version": self.api_version,
            "format": self.format,
        }


def check_partition_by(partition_by: Iterable[str]) -> tuple[str, ...]:
    """Validated partition keys, a subset of ``("vessel", "date")`` in that order."""
    keys = (partition_by,) if isinstance(partition_by, str) else tuple(partition_by)
    unknown = [key for key in keys if key not in PARTITION_KEYS]
    if unknown:
        raise ValueError(f"partition_by accepts {PARTITION_KEYS}, got {unknown}")
    return tuple(key for key in PARTITION_KEYS if key in keys)
