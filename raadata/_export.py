"""Export to a Parquet dataset: streamed, partitioned, verified and resumable.

The layout and the commit protocol are :mod:`raadata._dataset`'s; the destination is a
:class:`~raadata._store.Store`. This module plans the units (one batch of one vessel's
series over one UTC day), decides what a re-run may skip, and writes each unit's rows to
one Parquet file as its requests finish, so memory does not grow with the export.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from raadata._dataset import (
    LAYOUT,
    SIDECAR,
    Marker,
    UnitKey,
    batch_id,
    check_damage,
    is_ours,
    marker_path,
    read_markers,
    read_sidecar,
    stored_batches,
)
from raadata._delta import DeltaUnits
from raadata._errors import ExportConflictError
from raadata._export_types import ExportResult, ExportSpec, Format, SeriesChange
from raadata._fetch import Route, WireFormats
from raadata._frames import unique_labels
from raadata._http import Transport
from raadata._objectstore import open_store
from raadata._parts import series_json
from raadata._planning import Pull, Unit, day_units, pack
from raadata._pulls import Puller
from raadata._query import Query
from raadata._resolve import SeriesInfo
from raadata._store import LOCK, TMP_SUFFIX, WRITER, Store
from raadata._timerange import TimeRange, format_instant
from raadata._units import UNIT_RUNNER, UnitJob, write_units
from raadata._version import __version__

__all__ = ["export_dataset", "export_query", "plan_batches", "plan_units"]

log = logging.getLogger(__name__)

def export_query(
    puller: Puller,
    query: Query,
    pull: Pull,
    path: str | os.PathLike[str],
    *,
    api_version: str,
    partition_by: tuple[str, ...],
    format: Format,
    storage_options: Mapping[str, Any] | None,
    overwrite: bool,
    on_series_change: SeriesChange,
    verify_only: bool,
) -> ExportResult:
    """Export the series and range of ``query``, fetched by ``pull``, to ``path`` (a folder
    or an object store URL); see :meth:`raadata.Client.export`."""
    if overwrite and verify_only:
        raise ValueError("verify_only=True checks an export; it cannot overwrite it")
    spec = ExportSpec(
        kind=pull.kind,
        selectors=tuple(s.path for s in query.selectors),
        start=format_instant(query.time_range.start),
        end=format_instant(query.time_range.end),
        params=pull.params,
        partition_by=partition_by,
        labels=query.labels,
        api_version=api_version,
        format=format,
    )
    store = open_store(path, storage_options)
    delta = (DeltaUnits(store.url, storage_options or {}, partition_by) if format == "delta"
             else None)
    series = puller.series(query.selectors, query.on_denied)
    names = unique_labels([(info.uuid, info.label(query.labels)) for info in series])
    return export_dataset(
        puller.transport, pull, series, query.time_range, store, spec, names,
        formats=puller.formats,
        max_workers=query.max_workers or puller.max_workers,
        progress=puller.progress if query.progress is None else query.progress,
        overwrite=overwrite, on_series_change=on_series_change, verify_only=verify_only,
        route=puller.route, delta=delta,
    )


def plan_batches(
    series: Sequence[SeriesInfo], previous: Sequence[tuple[str, tuple[str, ...]]]
) -> list[tuple[str, tuple[str, ...]]]:
    """(vessel, UUIDs) batches of at most 100 series of one vessel.

    Batches of a previous run whose series are all still there are kept as they were, so
    that their finished days stay valid; the other series are packed anew.
    """
    by_vessel: dict[str, list[str]] = {}
    for info in series:
        by_vessel.setdefault(info.vessel or "unknown", []).append(info.uuid)
    kept = [(vessel, ids) for vessel, ids in previous
            if ids and set(ids) <= set(by_vessel.get(vessel, ()))]
    taken = {uuid for _, ids in kept for uuid in ids}
    fresh = [(vessel, batch) for vessel, uuids in sorted(by_vessel.items())
             for batch in pack([u for u in uuids if u not in taken])]
    return sorted(kept + fresh)


def plan_units(
    batches: Sequence[tuple[str, tuple[str, ...]]], time_range: TimeRange
) -> list[tuple[UnitKey, Unit]]:
    """One unit per batch and UTC day of ``[start, end)``, with its key."""
    units = day_units([(ids, f"{vessel}/{batch_id(ids)}") for vessel, ids in batches],
                      time_range.start, time_range.end)
    keyed = []
    for unit in units:
        vessel, batch, day = unit.key.rsplit("/", 2)  # a vessel id may hold "/" (encoded later)
        key = UnitKey(vessel, batch, day)
        keyed.append((key, Unit(unit.uuids, unit.start, unit.end, key.text)))
    return keyed


def export_dataset(
    transport: Transport,
    pull: Pull,
    series: Sequence[SeriesInfo],
    time_range: TimeRange,
    store: Store,
    spec: ExportSpec,
    names: Mapping[str, str],
    *,
    formats: WireFormats,
    max_workers: int,
    progress: bool | None,
    overwrite: bool = False,
    on_series_change: SeriesChange = "fetch",
    verify_only: bool = False,
    route: Route | None = None,
    delta: DeltaUnits | None = None,
) -> ExportResult:
    """Fetch and write every unit not yet committed intact; see :mod:`raadata._dataset`.

    Holds the destination's lock throughout. ``verify_only`` fetches no data: it checks
    every committed unit byte by byte, says which are damaged or missing, and un-commits
    the damaged ones (their markers go; files stay until a re-run writes them again).
    """
    _check_not_foreign(store)  # before the lock file is made in someone else's folder
    with store.lock():
        store.clear_temporary()
        result = ExportResult(store.url)
        previous = _prepare(store, spec, overwrite=overwrite, verify_only=verify_only,
                            result=result)
        if previous is not None:
            _compare_series(previous, series, names, on_series_change, result)
        batches = plan_batches(series, stored_batches(previous or {}))
        if verify_only and previous is not None:
            batches = stored_batches(previous)
        planned = plan_units(batches, time_range)
        paths = store.list()
        markers = read_markers(store, paths)
        if verify_only:
            return _verify(store, planned, markers, result)
        todo = _check_committed(store, planned, markers, result)
        _write_sidecar(store, spec, series, names, batches, complete=False)
        if delta is not None:
            todo = _already_in_the_log(store, delta, todo, result)
        runner = UNIT_RUNNER.get()
        if runner is not None:  # e.g. the units as tasks on a Dask cluster
            runner(todo, UnitJob(pull, tuple(series), dict(names), spec.partition_by,
                                 spec.format), result)
        else:
            write_units(transport, pull, store, todo, series, names, spec.partition_by,
                        result, formats=formats, max_workers=max_workers, progress=progress,
                        route=route, delta=delta)
        _write_sidecar(store, spec, series, names, batches, complete=True)
        result.complete = True
        return result


def _prepare(
    store: Store, spec: ExportSpec, *, overwrite: bool, verify_only: bool, result: ExportResult
) -> dict[str, Any] | None:
    """Check the destination; the previous run's sidecar to resume, or ``None`` to start.

    Never deletes or writes into a folder without a readable sidecar that holds anything
    but raadata's lock; with ``overwrite``, deletes only the files raadata wrote.
    """
    paths = store.list()
    foreign = tuple(path for path in paths if not is_ours(path))
    sidecar = read_sidecar(store)
    if sidecar is None:
        if verify_only:
            raise ExportConflictError(f"{store.url} holds no raadata export to verify")
        _check_not_foreign(store)
        return None
    stored = sidecar.get("spec")
    same = stored == spec.as_json() and sidecar.get("layout") == LAYOUT
    if verify_only:
        if not same:
            raise ExportConflictError(
                f"{store.url} holds an export with other arguments "
                f"({_difference(stored, spec, sidecar)}): verify it with its own arguments")
        return sidecar
    if same and not overwrite:
        result.kept = foreign
        return sidecar
    if not overwrite:
        raise ExportConflictError(
            f"{store.url} holds an export with other arguments "
            f"({_difference(stored, spec, sidecar)}); use another folder, repeat the original "
            "arguments to resume, or pass overwrite=True (--overwrite) to replace it (only "
            "the files raadata wrote are deleted)"
        )
    ours = [path for path in paths if is_ours(path) and path not in (LOCK, WRITER)]
    for path in sorted(ours, key=lambda p: p == SIDECAR):  # the sidecar last
        store.delete(path)
    store.prune_dirs(ours)
    result.kept = foreign
    if foreign:
        log.warning("%s: %d files raadata did not write were left in place, e.g. %s",
                    store.url, len(foreign), foreign[0])
    return None


def _check_not_foreign(store: Store) -> None:
    """Refuse a folder that holds anything but an export (or raadata's own leftovers)."""
    paths = [path for path in store.list() if path not in (LOCK, WRITER)
             and not path.endswith(TMP_SUFFIX)]
    if paths and read_sidecar(store) is None:
        raise ExportConflictError(
            f"{store.url} is not empty and holds no raadata export (no {SIDECAR}), e.g. "
            f"{paths[0]!r}: raadata writes only into a new or empty folder or one of its "
            "own exports, and never deletes files it did not write. Choose another folder"
        )


def _difference(stored: Any, spec: ExportSpec, sidecar: Mapping[str, Any]) -> str:
    if sidecar.get("layout") != LAYOUT:
        return f"written by raadata {sidecar.get('raadata_version', '0.1')} in an older layout"
    wanted = spec.as_json()
    changed = [key for key in wanted if stored.get(key) != wanted[key]]
    return "differs in " + ", ".join(changed)


def _compare_series(
    previous: Mapping[str, Any],
    series: Sequence[SeriesInfo],
    names: Mapping[str, str],
    on_series_change: SeriesChange,
    result: ExportResult,
) -> None:
    """Record (or refuse) series that appeared or vanished since the previous run."""
    before = {str(s.get("id")): str(s.get("series")) for s in previous.get("series", [])}
    now = {info.uuid for info in series}
    result.series_added = tuple(sorted(names[u] for u in now - before.keys()))
    result.series_removed = tuple(sorted(before[u] for u in before.keys() - now))
    if on_series_change == "refuse" and (result.series_added or result.series_removed):
        raise ExportConflictError(
            f"the series changed since this export started: added {list(result.series_added)}"
            f", gone {list(result.series_removed)}. Re-run with on_series_change='fetch' "
            "(--on-series-change fetch) to fetch them for the days already done, or export "
            "into a new folder"
        )


def _check_committed(
    store: Store,
    planned: Sequence[tuple[UnitKey, Unit]],
    markers: Mapping[str, Marker],
    result: ExportResult,
) -> list[tuple[UnitKey, Unit]]:
    """Units still to write; damaged committed units and units no longer planned (the
    series changed) lose their files and markers."""
    todo = []
    wanted = {key.text for key, _ in planned}
    for key, unit in planned:
        marker = markers.get(key.text)
        if marker is not None:
            problem = check_damage(store, marker, checksums=False)
            if problem is None:
                result.units_skipped += 1
                continue
            log.warning("%s: unit %s is damaged (%s): writing it again", store.url, key.text,
                        problem)
            result.units_repaired += 1
            _uncommit(store, key, marker)
        todo.append((key, unit))
    for text, marker in markers.items():
        if text not in wanted:
            _uncommit(store, UnitKey(*text.rsplit("/", 2)), marker)
    return todo


def _uncommit(store: Store, key: UnitKey, marker: Marker) -> None:
    """Delete a unit's marker first (so a crash leaves it uncommitted), then its files."""
    store.delete(marker_path(key))
    files = [part.path for part in marker.files if is_ours(part.path)]
    for path in files:
        store.delete(path)
    store.prune_dirs(files)


def _verify(
    store: Store,
    planned: Sequence[tuple[UnitKey, Unit]],
    markers: Mapping[str, Marker],
    result: ExportResult,
) -> ExportResult:
    damaged = []
    for key, _ in planned:
        marker = markers.get(key.text)
        problem = ("not written" if marker is None
                   else check_damage(store, marker, checksums=True))
        if problem is not None:
            damaged.append(f"{key.text}: {problem}")
            if marker is not None:
                store.delete(marker_path(key))  # the next run writes the unit again
        elif marker is not None:
            result.units_skipped += 1
            result.files += len(marker.files)
            result.rows += sum(part.rows for part in marker.files)
    result.damaged = tuple(damaged)
    result.complete = not damaged
    return result


def _already_in_the_log(
    store: Store, delta: DeltaUnits, todo: list[tuple[UnitKey, Unit]], result: ExportResult
) -> list[tuple[UnitKey, Unit]]:
    """Units a crash left committed to the Delta log but without a marker: marked now."""
    in_log = delta.committed([key for key, _ in todo])
    for key in in_log:
        store.write_bytes(marker_path(key), json.dumps(Marker(key.text, ()).as_json()).encode())
        result.units_skipped += 1
    return [(key, unit) for key, unit in todo if key not in in_log]


def _write_sidecar(
    store: Store,
    spec: ExportSpec,
    series: Sequence[SeriesInfo],
    names: Mapping[str, str],
    batches: Sequence[tuple[str, tuple[str, ...]]],
    *,
    complete: bool,
) -> None:
    sidecar = {
        "layout": LAYOUT,
        "spec": spec.as_json(),
        "complete": complete,
        "written_at": format_instant(pd.Timestamp(datetime.now(UTC))),
        "raadata_version": __version__,
        "series": [series_json(info, names) for info in series],
        "batches": [{"vessel": vessel, "ids": list(ids)} for vessel, ids in batches],
    }
    store.write_bytes(SIDECAR, (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode())
