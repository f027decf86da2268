"""An export's own files and the commit protocol that makes it resumable and verifiable.

Layout (hive-style, long form; readers skip names that start with ``_`` or ``.``)::

    OUT/_raadata.json                           the sidecar: spec, series, batches, complete
    OUT/_raadata/units/<unit id>.json           one commit marker per finished unit
    OUT/vessel=IMO1000001/date=2025-01-01/part-<unit id>.parquet
    OUT/.raadata.lock, OUT/.raadata.writer      the writer's lock and who holds it

A unit is one batch of one vessel's series over one UTC day. Its rows go to one file under
its final name, written whole (see :mod:`raadata._store`); the unit is committed by its
marker, written after the file is durable, which records the file's size, row count and
SHA-256. A re-run skips committed units after checking size and row count, runs damaged
ones again, and never touches a file that is not named by this layout.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq

from raadata._errors import ExportConflictError
from raadata._store import LOCK, WRITER, Store

__all__ = [
    "LAYOUT",
    "SIDECAR",
    "UNITS",
    "Marker",
    "PartFile",
    "UnitKey",
    "batch_id",
    "check_damage",
    "is_ours",
    "marker_path",
    "partition_value",
    "read_markers",
    "read_sidecar",
    "stored_batches",
]

LAYOUT = 2
"""Version of this layout, stored in the sidecar (raadata 0.1 wrote layout 1)."""

SIDECAR = "_raadata.json"
UNITS = "_raadata/units/"
_OLD_MANIFEST = "_manifest.jsonl"  # layout 1
_PART_RE = re.compile(r"part-[0-9a-f]{12,16}(-\d+-[0-9a-f]{12})?\.parquet"  # raadata's
                      r"|part-\d{5}-[0-9a-f-]{36}-c\d{3}(\.[a-z0-9]+)?\.parquet")  # delta-rs's
_DELTA_LOG = "_delta_log/"
_PARTITION_RE = re.compile(r"(vessel|date)=[^/]+")
_VESSEL_RE = re.compile(r"IMO\d{1,12}")


def partition_value(value: str) -> str:
    """``value`` as a safe hive partition folder value, read back unchanged by pyarrow,
    pandas, DuckDB and Polars.

    IMO numbers (``IMO`` + digits) are kept as they are; anything else is percent-encoded
    (``%`` included), so that no value holds a path separator, ``..``, a drive letter or a
    control character on any system.
    """
    if not value:
        raise ValueError("a partition value cannot be empty")
    if _VESSEL_RE.fullmatch(value):
        return value
    return quote(value, safe="-_").replace(".", "%2E")


def batch_id(uuids: Iterable[str]) -> str:
    """A 12-hex-digit id of a set of series (order does not matter)."""
    return hashlib.sha256(",".join(sorted(uuids)).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class UnitKey:
    """One vessel's batch of series (by :func:`batch_id`) over one UTC day (ISO date)."""

    vessel: str
    batch: str
    day: str

    @property
    def text(self) -> str:
        """``<vessel>/<batch>/<day>``, as stored in its marker."""
        return f"{self.vessel}/{self.batch}/{self.day}"

    @property
    def id(self) -> str:
        """A 16-hex-digit id, stable across runs: the part file's and the marker's name."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def part_path(self, partition_by: Sequence[str]) -> str:
        """The unit's Parquet file, relative to the dataset root."""
        values = {"vessel": partition_value(self.vessel), "date": self.day}
        folders = [f"{key}={values[key]}" for key in partition_by]
        return "/".join([*folders, f"part-{self.id}.parquet"])


@dataclass(frozen=True)
class PartFile:
    """A committed file: where, how many bytes and rows, and its SHA-256 (hex)."""

    path: str
    bytes: int
    rows: int
    sha256: str


@dataclass(frozen=True)
class Marker:
    """A committed unit and its files (none when the unit had no points)."""

    unit: str
    files: tuple[PartFile, ...]

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "files": [vars(part) for part in self.files]}


def marker_path(key: UnitKey) -> str:
    return f"{UNITS}{key.id}.json"


def read_sidecar(store: Store) -> dict[str, Any] | None:
    """The sidecar, or ``None`` if there is none; an unreadable one is a conflict."""
    raw = store.read_bytes(SIDECAR)
    if raw is None:
        return None
    try:
        sidecar = json.loads(raw)
        if not isinstance(sidecar, dict) or not isinstance(sidecar.get("spec"), dict):
            raise ValueError("no export spec in it")
    except ValueError as exc:
        raise ExportConflictError(
            f"{store.url}/{SIDECAR} cannot be read ({exc}), so raadata cannot tell what this "
            "folder holds and will not write into it or delete anything. Restore the file "
            f"from a backup, or export into a new folder (then delete this one yourself)"
        ) from None
    return sidecar


def read_markers(store: Store, paths: Iterable[str]) -> dict[str, Marker]:
    """Committed units by key text; unreadable markers are skipped (their unit runs again)."""
    markers = {}
    for path in paths:
        if not (path.startswith(UNITS) and path.endswith(".json")):
            continue
        try:
            data = json.loads(store.read_bytes(path) or b"")
            files = tuple(PartFile(str(f["path"]), int(f["bytes"]), int(f["rows"]),
                                   str(f["sha256"])) for f in data["files"])
            markers[str(data["unit"])] = Marker(str(data["unit"]), files)
        except (ValueError, KeyError, TypeError):
            continue
    return markers


def check_damage(store: Store, marker: Marker, *, checksums: bool) -> str | None:
    """What is wrong with a committed unit's files, or ``None``.

    Always checks that every file exists with its recorded size and row count (the Parquet
    footer); with ``checksums``, also reads every byte against the recorded SHA-256.
    """
    for part in marker.files:
        size = store.size(part.path)
        if size is None:
            return f"{part.path} is missing"
        if size != part.bytes:
            return f"{part.path} has {size} bytes, not {part.bytes}"
        try:
            with store.open(part.path) as handle:
                rows = pq.ParquetFile(handle).metadata.num_rows
                if checksums:
                    handle.seek(0)
                    digest = hashlib.sha256()
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)
                    if digest.hexdigest() != part.sha256:
                        return f"{part.path} was altered (SHA-256 differs)"
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            return f"{part.path} cannot be read ({exc})"
        if rows != part.rows:
            return f"{part.path} has {rows} rows, not {part.rows}"
    return None


def is_ours(path: str) -> bool:
    """True for the files this layout (or layout 1) names; any other file is the user's."""
    if path in (SIDECAR, LOCK, WRITER, _OLD_MANIFEST) or path.startswith((UNITS, _DELTA_LOG)):
        return True
    *folders, name = path.split("/")
    return bool(_PART_RE.fullmatch(name)) and all(_PARTITION_RE.fullmatch(f) for f in folders)


def stored_batches(sidecar: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """(vessel, series UUIDs) of the batches a previous run planned."""
    try:
        return [(str(b["vessel"]), tuple(str(u) for u in b["ids"]))
                for b in sidecar.get("batches", [])]
    except (KeyError, TypeError):
        return []
