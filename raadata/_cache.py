"""Local interval cache of series data: Parquet files plus a SQLite coverage index.

How the fetch engine calls it, per (series set, kind key) and request [start, end)::

    cache = SeriesCache.open(api_url, environment, api_version)   # or SeriesCache(path, ns)
    for uuid in uuids:
        for g0, g1 in merge_requests(cache.gaps(uuid, kind, start, end, now), window):
            table = fetch(uuid, g0, g1)                  # the engine's own request
            cache.put([uuid], kind, g0, g1, table, fetched_at=now)
    frame = cache.read(uuids, kind, start, end)         # cached + fresh rows, assembled

Order matters: ``gaps`` -> fetch -> ``put`` -> ``read``. ``put`` may cover several series
fetched by one request. Zero rows for a series still marks [g0, g1) covered.

Time semantics: every time is int64 microseconds since the epoch, UTC; every interval
is half-open [start, end). ``fetched_at`` and ``now`` are the same unit.

Recent edge: the part of a fetched interval newer than ``fetched_at - settle`` is
provisional; it counts as covered only while ``now - fetched_at < recent_ttl``. The rest is
kept until invalidated or pruned.

Durability: the Parquet file is written to a temp name, fsynced, renamed and its
directory fsynced before the index row is committed (SQLite, WAL). A crash between the two
leaves an orphan file that ``read`` never sees and ``prune`` removes. A database with an
unknown layout version is reset, never crashed on. Credentials are never stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from raadata._cache_files import read_slices, write_durably
from raadata._errors import CacheError
from raadata._intervals import Interval, normalise, subtract

__all__ = [
    "LAYOUT_VERSION", "CacheInfo", "SeriesCache", "default_cache_dir", "kind_key",
]

LAYOUT_VERSION = 1
US = 1_000_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, bytes INTEGER NOT NULL,
    created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS coverage (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, kind TEXT NOT NULL,
    start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, fetched_us INTEGER NOT NULL,
    file_id INTEGER REFERENCES files(id));
CREATE INDEX IF NOT EXISTS coverage_key ON coverage (uuid, kind, start_us);
"""


def default_cache_dir() -> Path:
    """The per-user cache directory (``platformdirs.user_cache_dir('raadata')``)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("raadata"))


def kind_key(aggregation: str | None = None, window: str | None = None) -> str:
    """``'measurements'``, or ``'statistics/<aggregation>/<window>'`` for statistics."""
    if aggregation is None and window is None:
        return "measurements"
    if not aggregation or not window:
        raise ValueError("statistics need both an aggregation and a window")
    return f"statistics/{aggregation}/{window}"


@dataclass(frozen=True)
class CacheInfo:
    """Size in bytes, series and intervals counted, oldest start / newest end (us, UTC)."""

    bytes: int
    series: int
    intervals: int
    oldest_us: int | None
    newest_us: int | None


def _grouped_by_series(table: pa.Table) -> pa.Table:
    """Rows grouped by ``id`` (the groups in any order), rising in time within each: what
    the block index of a data file needs. Sorts on integer codes, not on the strings."""
    if table.num_rows == 0:
        return table
    ids = table["id"]
    ids = ids.cast(pa.string()) if pa.types.is_dictionary(ids.type) else ids
    codes = pc.dictionary_encode(ids).combine_chunks().indices.to_numpy(zero_copy_only=False)
    stamps = pc.cast(table["timestamp"], pa.int64()).to_numpy()
    order = np.lexsort((stamps, codes))
    table = table.set_column(table.schema.get_field_index("id"), "id", ids)
    return table.take(pa.array(order))


def _check_range(start: int, end: int) -> None:
    if not isinstance(start, int) or not isinstance(end, int):
        raise TypeError("start and end must be int microseconds since the epoch (UTC)")
    if start >= end:
        raise ValueError(f"empty interval: start {start} must be < end {end}")


class SeriesCache:
    """An interval cache in ``root/<namespace hash>/`` (created 0700)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        namespace: str,
        *,
        settle_us: int = 2 * 86_400 * US,
        recent_ttl_us: int = 300 * US,
    ) -> None:
        if settle_us < 0 or recent_ttl_us < 0:
            raise ValueError("settle_us and recent_ttl_us must be >= 0")
        digest = hashlib.sha256(namespace.encode()).hexdigest()[:16]
        self.root = Path(root)
        self.path = self.root / digest
        self.data = self.path / "data"
        self.settle_us = settle_us
        self.recent_ttl_us = recent_ttl_us
        for d in (self.root, self.path, self.data):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(d, 0o700)
        self._db = self.path / "index.sqlite"
        with self._connect() as con:
            self._init(con, namespace)

    @classmethod
    def open(
        cls, api_url: str, environment: str, api_version: str,
        root: str | os.PathLike[str] | None = None, **kw: int,
    ) -> SeriesCache:
        """Cache for one API URL + environment + API version (any change starts afresh)."""
        ns = "\n".join([api_url.rstrip("/"), environment, api_version])
        return cls(default_cache_dir() if root is None else root, ns, **kw)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self._db, timeout=60, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            yield con
        finally:
            con.close()
        os.chmod(self._db, 0o600)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _init(self, con: sqlite3.Connection, namespace: str) -> None:
        con.execute("BEGIN IMMEDIATE")
        try:
            tables = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
            layout = None
            if "meta" in tables:
                row = con.execute("SELECT value FROM meta WHERE key='layout'").fetchone()
                layout = row[0] if row else None
            if tables and layout != str(LAYOUT_VERSION):
                # an older or unknown layout: ignore its contents (files become orphans)
                for name in tables:
                    con.execute(f'DROP TABLE IF EXISTS "{name}"')
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('layout', ?)", (str(LAYOUT_VERSION),))
            con.execute("INSERT OR REPLACE INTO meta VALUES ('namespace', ?)", (namespace,))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    # -- coverage ---------------------------------------------------------------------

    def _rows(
        self, con: sqlite3.Connection, uuid: str, kind: str, start: int, end: int
    ) -> list[tuple[int, int, int, int | None]]:
        return con.execute(
            "SELECT start_us, end_us, fetched_us, file_id FROM coverage WHERE uuid=? AND "
            "kind=? AND start_us<? AND end_us>? ORDER BY fetched_us DESC, id DESC",
            (uuid, kind, end, start),
        ).fetchall()

    def _valid(self, s: int, e: int, fetched: int, now: int) -> list[Interval]:
        if now - fetched < self.recent_ttl_us:
            return [(s, e)]
        return normalise([(s, min(e, fetched - self.settle_us))])

    def gaps(self, uuid: str, kind: str, start: int, end: int, now: int) -> list[Interval]:
        """Parts of [start, end) (us, UTC) not validly cached at ``now``: what to fetch."""
        _check_range(start, end)
        with self._connect() as con:
            rows = self._rows(con, uuid, kind, start, end)
        covered = [iv for s, e, f, _ in rows for iv in self._valid(s, e, f, now)]
        return subtract([(start, end)], covered)

    def put(
        self, uuids: Sequence[str], kind: str, start: int, end: int,
        table: pa.Table, fetched_at: int,
    ) -> None:
        """Store one fetch's rows for ``uuids`` over [start, end); zero rows mark it covered.

        ``table`` is long form with ``timestamp`` (UTC) and ``id`` columns; rows outside
        [start, end) or for other series are dropped.
        """
        _check_range(start, end)
        if isinstance(uuids, str) or not uuids:
            raise TypeError("uuids must be a non-empty sequence of series UUID strings")
        if "timestamp" not in table.column_names or "id" not in table.column_names:
            raise ValueError("table needs 'timestamp' and 'id' columns")
        ts_type = pa.timestamp("us", tz="UTC")
        table = table.set_column(
            table.column_names.index("timestamp"), "timestamp",
            pc.cast(table["timestamp"], ts_type),
        )
        ts = pc.cast(table["timestamp"], pa.int64())
        keep = pc.and_(
            pc.and_(pc.greater_equal(ts, start), pc.less(ts, end)),
            pc.is_in(table["id"], value_set=pa.array(list(uuids), pa.string())),
        )
        table = _grouped_by_series(table.filter(keep))
        file_name = None
        if table.num_rows:
            file_name = write_durably(table, self.data)
        with self._write() as con:
            file_id = None
            if file_name is not None:
                size = (self.data / file_name).stat().st_size
                cur = con.execute(
                    "INSERT INTO files (name, bytes, created_us) VALUES (?, ?, ?)",
                    (file_name, size, time.time_ns() // 1000),
                )
                file_id = cur.lastrowid
            con.executemany(
                "INSERT INTO coverage (uuid, kind, start_us, end_us, fetched_us, file_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(u, kind, start, end, fetched_at, file_id) for u in dict.fromkeys(uuids)],
            )

    def _plan(
        self, uuids: Sequence[str], kind: str, start: int, end: int
    ) -> dict[str, list[tuple[str, Interval]]]:
        """File name -> the (uuid, interval) pieces it is the newest source for."""
        plan: dict[str, list[tuple[str, Interval]]] = {}
        with self._connect() as con:
            names = dict(con.execute("SELECT id, name FROM files").fetchall())
            for u in dict.fromkeys(uuids):
                taken: list[Interval] = []
                for s, e, _, fid in self._rows(con, u, kind, start, end):
                    mine = subtract([(max(s, start), min(e, end))], taken)
                    taken = normalise([*taken, (s, e)])
                    if fid is not None and mine:
                        plan.setdefault(names[fid], []).extend((u, iv) for iv in mine)
        return plan

    def read(self, uuids: Sequence[str], kind: str, start: int, end: int) -> pa.Table:
        """Cached rows in [start, end) for ``uuids``, sorted by series then time.

        Where stored intervals overlap, the newest fetch wins; no duplicates. ``id`` is
        dictionary-encoded over ``uuids`` (no string is made per row).
        """
        _check_range(start, end)
        order = list(dict.fromkeys(uuids))
        dictionary = pa.array(order, pa.string())
        position = {uuid: k for k, uuid in enumerate(order)}
        for attempt in range(3):
            plan = self._plan(order, kind, start, end)
            try:
                slices = [x for name, pieces in plan.items()
                          for x in read_slices(pq.read_table(self.data / name,
                                                             read_dictionary=["id"]), pieces)]
                break
            except FileNotFoundError:  # pruned or invalidated by another process: re-plan
                if attempt == 2:
                    raise CacheError(f"cache files keep vanishing under {self.path}") from None
            except (OSError, pa.ArrowException) as exc:
                raise CacheError(f"unreadable cache file in {self.data}: {exc}") from exc
        id_type = pa.dictionary(pa.int32(), pa.string())
        if not slices:
            schema = pa.schema([("timestamp", pa.timestamp("us", tz="UTC")),
                                ("id", id_type), ("value", pa.float64())])
            return schema.empty_table()
        # pieces of one series are disjoint in time, so ordering them needs no row sort
        slices.sort(key=lambda x: (position[x[0]], x[1]))
        tables = []
        for uuid, _, piece in slices:
            codes = pa.array(np.full(piece.num_rows, position[uuid], np.int32))
            ids = pa.DictionaryArray.from_arrays(codes, dictionary)
            tables.append(piece.set_column(piece.schema.get_field_index("id"), "id", ids))
        return pa.concat_tables(tables, promote_options="default")

    # -- maintenance ------------------------------------------------------------------

    def info(self) -> CacheInfo:
        """Bytes of indexed files, distinct series, coverage rows, oldest start/newest end."""
        with self._connect() as con:
            size = con.execute("SELECT COALESCE(SUM(bytes), 0) FROM files").fetchone()[0]
            n, series, lo, hi = con.execute(
                "SELECT COUNT(*), COUNT(DISTINCT uuid), MIN(start_us), MAX(end_us) FROM coverage"
            ).fetchone()
        return CacheInfo(int(size), int(series), int(n), lo, hi)

    def invalidate(self, uuids: Sequence[str], start: int, end: int) -> None:
        """Forget coverage of ``uuids`` in [start, end) (us, UTC), every kind."""
        _check_range(start, end)
        with self._write() as con:
            for u in dict.fromkeys(uuids):
                rows = con.execute(
                    "SELECT id, kind, start_us, end_us, fetched_us, file_id FROM coverage "
                    "WHERE uuid=? AND start_us<? AND end_us>?", (u, end, start)).fetchall()
                for rid, kind, s, e, f, fid in rows:
                    con.execute("DELETE FROM coverage WHERE id=?", (rid,))
                    con.executemany(
                        "INSERT INTO coverage (uuid, kind, start_us, end_us, fetched_us, "
                        "file_id) VALUES (?, ?, ?, ?, ?, ?)",
                        [(u, kind, a, b, f, fid) for a, b in subtract([(s, e)], [(start, end)])],
                    )
            dead = self._drop_unreferenced(con)
        self._unlink(dead)

    def clear(self) -> None:
        """Forget everything in this namespace and delete its data files."""
        with self._write() as con:
            con.execute("DELETE FROM coverage")
            dead = [r[0] for r in con.execute("SELECT name FROM files")]
            con.execute("DELETE FROM files")
        self._unlink(dead)

    def prune(
        self, max_bytes: int | None = None, older_than_s: float | None = None,
        orphan_grace_s: float = 3600.0,
    ) -> int:
        """Delete files written more than ``older_than_s`` ago, then the oldest files until
        at most ``max_bytes`` remain, then orphans (unindexed files older than
        ``orphan_grace_s``, which spares a write in progress). Returns bytes freed."""
        now_us = time.time_ns() // 1000
        with self._write() as con:
            files = con.execute("SELECT id, name, bytes, created_us FROM files "
                                "ORDER BY created_us, id").fetchall()
            drop: list[tuple[int, str, int]] = []
            total = sum(r[2] for r in files)
            for fid, name, size, created in files:
                too_old = older_than_s is not None and now_us - created > older_than_s * US
                too_big = max_bytes is not None and total > max_bytes
                if too_old or too_big:
                    drop.append((fid, name, size))
                    total -= size
            for fid, _, _ in drop:
                con.execute("DELETE FROM coverage WHERE file_id=?", (fid,))
                con.execute("DELETE FROM files WHERE id=?", (fid,))
            known = {r[0] for r in con.execute("SELECT name FROM files")}
        freed = sum(size for _, _, size in drop)
        self._unlink([name for _, name, _ in drop])
        for p in self.data.iterdir():
            if p.name not in known and time.time() - p.stat().st_mtime > orphan_grace_s:
                freed += p.stat().st_size
                p.unlink(missing_ok=True)
        return freed

    def _drop_unreferenced(self, con: sqlite3.Connection) -> list[str]:
        dead = [r[0] for r in con.execute(
            "SELECT name FROM files WHERE id NOT IN "
            "(SELECT file_id FROM coverage WHERE file_id IS NOT NULL)")]
        con.execute("DELETE FROM files WHERE id NOT IN "
                    "(SELECT file_id FROM coverage WHERE file_id IS NOT NULL)")
        return dead

    def _unlink(self, names: list[str]) -> None:
        for name in names:
            (self.data / name).unlink(missing_ok=True)
