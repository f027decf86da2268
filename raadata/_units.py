"""Writing an export's units: each unit's rows streamed into one Parquet file (or buffered
for one Delta transaction) as its requests finish, then committed with its marker.

:data:`UNIT_RUNNER` lets another runner (``raadata.dask.export``) take the units still to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

import pyarrow as pa

from raadata._dataset import Marker, UnitKey, marker_path
from raadata._delta import DeltaUnits
from raadata._export_types import ExportResult
from raadata._fetch import Route, WireFormats, rows_per_uuid, run
from raadata._http import Transport
from raadata._parts import PartWriter, file_metadata, labelled, series_json
from raadata._planning import Pull, Unit
from raadata._pulls import domain_aliases
from raadata._report import PullReport
from raadata._resolve import SeriesInfo
from raadata._store import Store

__all__ = ["UNIT_RUNNER", "Runner", "UnitJob", "write_units"]


@dataclass(frozen=True)
class UnitJob:
    """What writing any unit of an export needs besides its key: picklable, no credentials
    (it travels to Dask workers)."""

    pull: Pull
    series: tuple[SeriesInfo, ...]
    names: Mapping[str, str]
    partition_by: tuple[str, ...]
    format: str


Runner = Callable[[Sequence[tuple[UnitKey, Unit]], UnitJob, ExportResult], None]
UNIT_RUNNER: ContextVar[Runner | None] = ContextVar("raadata_unit_runner", default=None)
"""Who writes the units still to do (default: this process, through :func:`write_units`);
set by ``raadata.dask.export`` to run them as tasks on a cluster."""


def write_units(
    transport: Transport,
    pull: Pull,
    store: Store,
    todo: Sequence[tuple[UnitKey, Unit]],
    series: Sequence[SeriesInfo],
    names: Mapping[str, str],
    partition_by: Sequence[str],
    result: ExportResult,
    *,
    formats: WireFormats,
    max_workers: int,
    progress: bool | None,
    route: Route | None,
    delta: DeltaUnits | None,
) -> None:
    """Run the units; commit each one (file or Delta transaction, then marker) as its last
    request finishes."""
    info = {s.uuid: s for s in series}
    result.report = PullReport(kind=pull.kind, series=len(series))
    writers: dict[int, PartWriter] = {}
    buffered: dict[int, list[pa.Table]] = {}  # Delta: a unit's rows until it is done
    description = {"series": [series_json(s, names) for s in series]}
    try:
        for finished in run(transport, pull, [unit for _, unit in todo], formats=formats,
                            report=result.report, max_workers=max_workers, progress=progress,
                            route=route, aliases=domain_aliases(series)):
            key, unit = todo[finished.task.unit]
            table = finished.table
            if table.num_rows and delta is not None:
                buffered.setdefault(finished.task.unit, []).append(labelled(table, names))
            elif table.num_rows:
                writer = writers.get(finished.task.unit)
                if writer is None:
                    path = key.part_path(partition_by)
                    writer = writers[finished.task.unit] = PartWriter(
                        store.create(path), path, file_metadata(unit.uuids, info, names))
                writer.add(labelled(table, names))
            if table.num_rows:
                for uuid, rows in rows_per_uuid([table]).items():
                    counts = result.report.rows_per_series
                    counts[names[uuid]] = counts.get(names[uuid], 0) + rows
            if finished.unit_done:
                writer = writers.pop(finished.task.unit, None)
                files = (writer.commit(),) if writer else ()
                tables = buffered.pop(finished.task.unit, [])
                if delta is not None and tables:
                    result.rows += delta.commit(key, pa.concat_tables(tables), description)
                    result.files += 1
                marker = Marker(key.text, files)
                store.write_bytes(marker_path(key), json.dumps(marker.as_json()).encode())
                result.files += len(files)
                result.rows += sum(part.rows for part in files)
                result.units_written += 1
    finally:
        for writer in writers.values():  # an error or Ctrl-C: nothing half-written stays
            writer.pending.abort()
