"""Export to a Parquet dataset: streamed, partitioned, atomic and resumable.

Layout (hive-style, long form)::

    OUT/_raadata.json                         what the dataset holds (the sidecar)
    OUT/_manifest.jsonl                       one line per finished unit of work
    OUT/vessel=IMO1000001/date=2025-01-01/part-<unit>-<window>.parquet

The work is cut into units of one vessel's series over one UTC day. Each finished request
is written at once to its own file (under a temporary name, then renamed), so memory does
not grow with the export. A unit is recorded in the manifest when all its files exist; a
re-run skips recorded units and first removes files of units that were not finished, so
an interrupted export resumes to exactly the rows of an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from raadata._display import html_table
from raadata._errors import ExportConflictError
from raadata._fetch import WireFormats, rows_per_uuid, run
from raadata._http import Transport
from raadata._planning import Pull, Unit, day_units, pack
from raadata._report import PullReport
from raadata._resolve import SeriesInfo
from raadata._timerange import TimeRange, format_instant
from raadata._version import __version__

SIDECAR = "_raadata.json"
MANIFEST = "_manifest.jsonl"
PARTITION_KEYS = ("vessel", "date")
TMP_SUFFIX = ".tmp"


@dataclass
class ExportResult:
    """What an export did: where, how many files and rows, units written and skipped."""

    path: Path
    files: int = 0
    rows: int = 0
    units_written: int = 0
    units_skipped: int = 0
    report: PullReport = field(default_factory=PullReport)

    def __str__(self) -> str:
        return (
            f"{self.path}: {self.rows:,} rows in {self.files} new files; "
            f"{self.units_written} units written, {self.units_skipped} already done"
        )

    def __repr__(self) -> str:
        return (f"ExportResult({str(self.path)!r}, rows={self.rows:,}, files={self.files}, "
                f"units_written={self.units_written}, units_skipped={self.units_skipped})")

    def _repr_html_(self) -> str:
        return html_table(f"raadata export to {self.path}", [
            ("rows written", f"{self.rows:,}"),
            ("new files", self.files),
            ("units written / already done", f"{self.units_written} / {self.units_skipped}"),
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
        }


def check_partition_by(partition_by: Iterable[str]) -> tuple[str, ...]:
    """Validated partition keys, a subset of ``("vessel", "date")`` in that order."""
    keys = (partition_by,) if isinstance(partition_by, str) else tuple(partition_by)
    unknown = [key for key in keys if key not in PARTITION_KEYS]
    if unknown:
        raise ValueError(f"partition_by accepts {PARTITION_KEYS}, got {unknown}")
    return tuple(key for key in PARTITION_KEYS if key in keys)


def unit_id(key: str) -> str:
    """A short, file-name-safe, stable id for a unit key."""
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def partition_dir(root: Path, partition_by: Sequence[str], vessel: str, day: str) -> Path:
    """The hive-style directory of one vessel-day."""
    values = {"vessel": vessel, "date": day}
    return root.joinpath(*(f"{key}={values[key]}" for key in partition_by))


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write Parquet under a temporary name, fsync, then rename: readers never see half a file."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    pq.write_table(table, tmp, compression="zstd", row_group_size=1_000_000)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_json_atomic(data: Mapping[str, Any], path: Path) -> None:
    """Write JSON under a temporary name, then rename."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_manifest(path: Path) -> set[str]:
    """Keys of finished units; a torn last line (from a crash) is ignored."""
    done = set()
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                done.add(json.loads(line)["unit"])
            except (ValueError, KeyError, TypeError):
                continue
    return done


def append_manifest(path: Path, record: Mapping[str, Any]) -> None:
    """Append one unit's line and make it durable before going on."""
    with open(path, "a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def prepare_directory(root: Path, spec: ExportSpec, overwrite: bool) -> set[str]:
    """Create or check the output directory; the finished unit keys to skip.

    A directory holding another export (a different spec) is refused unless ``overwrite``.
    Leftover temporary files from a crash are removed.
    """
    sidecar = root / SIDECAR
    if root.exists() and any(root.iterdir()):
        if not sidecar.exists():
            if not overwrite:
                raise ExportConflictError(
                    f"{root} exists and is not a raadata export: choose an empty or new "
                    "directory, or pass overwrite=True (--overwrite) to replace it"
                )
            shutil.rmtree(root)
        else:
            stored = json.loads(sidecar.read_text()).get("spec")
            if stored != spec.as_json():
                if not overwrite:
                    raise ExportConflictError(
                        f"{root} holds an export with other arguments "
                        f"({_difference(stored, spec)}); use another directory, repeat the "
                        "original arguments to resume, or pass "
                        "overwrite=True (--overwrite) to start again"
                    )
                shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.rglob("*" + TMP_SUFFIX):
        leftover.unlink()
    return read_manifest(root / MANIFEST)


def _difference(stored: Any, spec: ExportSpec) -> str:
    wanted = spec.as_json()
    if not isinstance(stored, dict):
        return "unreadable sidecar"
    changed = [key for key in wanted if stored.get(key) != wanted[key]]
    return "differs in " + ", ".join(changed)


def remove_unfinished(root: Path, units: Sequence[Unit], done: set[str]) -> None:
    """Delete files of units that a crash left half-written (their rows are fetched again)."""
    unfinished = {unit_id(u.key) for u in units if u.key not in done}
    for part in root.rglob("part-*.parquet"):
        if part.name.split("-")[1] in unfinished:
            part.unlink()


def labelled(table: pa.Table, names: Mapping[str, str]) -> pa.Table:
    """Long form for files: timestamp, series (label), id (UUID), [aggregation], value."""
    uuids = pa.array(list(names), pa.string())
    labels = pa.array([names[u] for u in names], pa.string())
    series = pc.take(labels, pc.index_in(table.column("id"), value_set=uuids))
    columns = {"timestamp": table.column("timestamp"), "series": series, "id": table.column("id")}
    if "aggregation" in table.column_names:
        columns["aggregation"] = table.column("aggregation")
    columns["value"] = table.column("value")
    return pa.table(columns)


def vessel_units(series: Sequence[SeriesInfo], time_range: TimeRange) -> list[Unit]:
    """Units of at most 100 series of one vessel over one UTC day each.

    Keys read ``<vessel>/<batch>/<day>``, e.g. ``IMO1000001/0/2025-01-01``.
    """
    by_vessel: dict[str, list[str]] = {}
    for info in series:
        by_vessel.setdefault(info.vessel or "unknown", []).append(info.uuid)
    batches = [
        (batch, f"{vessel}/{index}")
        for vessel, uuids in sorted(by_vessel.items())
        for index, batch in enumerate(pack(uuids))
    ]
    return day_units(batches, time_range.start, time_range.end)


def export_dataset(
    transport: Transport,
    pull: Pull,
    series: Sequence[SeriesInfo],
    time_range: TimeRange,
    root: Path,
    spec: ExportSpec,
    names: Mapping[str, str],
    *,
    formats: WireFormats,
    max_workers: int,
    progress: bool | None,
    overwrite: bool = False,
) -> ExportResult:
    """Fetch and write every unfinished unit; see the module docstring for the layout."""
    done = prepare_directory(root, spec, overwrite)
    units = vessel_units(series, time_range)
    remove_unfinished(root, units, done)
    todo = [unit for unit in units if unit.key not in done]
    result = ExportResult(root, units_skipped=len(units) - len(todo))
    result.report = PullReport(kind=pull.kind, series=len(series))
    _write_sidecar(root, spec, series, names, complete=False)
    files_per_unit: dict[int, int] = {}
    for finished in run(
        transport,
        pull,
        todo,
        formats=formats,
        report=result.report,
        max_workers=max_workers,
        progress=progress,
    ):
        unit = todo[finished.task.unit]
        vessel, _batch, day = unit.key.split("/")  # see vessel_units
        directory = partition_dir(root, spec.partition_by, vessel, day)
        if finished.table.num_rows:
            directory.mkdir(parents=True, exist_ok=True)
            start = finished.task.start.value // 1000
            name = (
                f"part-{unit_id(unit.key)}-{start}-{unit_id(','.join(finished.task.uuids))}.parquet"
            )
            write_atomic(labelled(finished.table, names), directory / name)
            files_per_unit[finished.task.unit] = files_per_unit.get(finished.task.unit, 0) + 1
            result.files += 1
            result.rows += finished.table.num_rows
            for uuid, rows in rows_per_uuid([finished.table]).items():
                counts = result.report.rows_per_series
                counts[names[uuid]] = counts.get(names[uuid], 0) + rows
        if finished.unit_done:
            append_manifest(
                root / MANIFEST,
                {"unit": unit.key, "files": files_per_unit.pop(finished.task.unit, 0)},
            )
            result.units_written += 1
    _write_sidecar(root, spec, series, names, complete=True)
    return result


def _write_sidecar(
    root: Path,
    spec: ExportSpec,
    series: Sequence[SeriesInfo],
    names: Mapping[str, str],
    *,
    complete: bool,
) -> None:
    write_json_atomic(
        {
            "spec": spec.as_json(),
            "complete": complete,
            "written_at": format_instant(pd.Timestamp(datetime.now(UTC))),
            "raadata_version": __version__,
            "series": [
                {
                    "series": names[info.uuid],
                    "id": info.uuid,
                    "vessel": info.vessel,
                    "name": info.name,
                    "uom": info.uom,
                }
                for info in series
            ],
        },
        root / SIDECAR,
    )
