"""SeriesCache on real files: round trips, gaps, recent edge, layout, processes, crashes."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from raadata import CacheError, RaadataError
from raadata._cache import LAYOUT_VERSION, SeriesCache, default_cache_dir, kind_key

US = 1_000_000
H = 3600 * US
DAY = 24 * H
A, B = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"
M = kind_key()
T0 = 1_700_000_000 * US  # fixed epoch base; "now" is always injected


def rows(uuid: str, start: int, end: int, step: int = H, offset: float = 0.0) -> pa.Table:
    ts = list(range(start, end, step))
    return pa.table({
        "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "id": pa.array([uuid] * len(ts), pa.string()),
        "value": pa.array([float(t // H) + offset for t in ts], pa.float64()),
    })


def cache(tmp_path: Path, ns: str = "ns", **kw: int) -> SeriesCache:
    return SeriesCache(tmp_path / "cache", ns, **kw)


def test_round_trip_several_series(tmp_path: Path) -> None:
    c = cache(tmp_path)
    t = pa.concat_tables([rows(B, T0, T0 + 10 * H), rows(A, T0, T0 + 10 * H)])
    c.put([A, B], M, T0, T0 + 10 * H, t, fetched_at=T0 + 30 * DAY)
    got = c.read([A, B], M, T0 + 2 * H, T0 + 5 * H)
    assert got["id"].to_pylist() == [A] * 3 + [B] * 3
    assert [v // US for v in got["timestamp"].cast(pa.int64()).to_pylist()] == [
        (T0 + k * H) // US for k in (2, 3, 4)] * 2
    assert got["timestamp"].type == pa.timestamp("us", tz="UTC")
    assert c.gaps(A, M, T0, T0 + 12 * H, now=T0 + 30 * DAY) == [(T0 + 10 * H, T0 + 12 * H)]


def test_gaps_and_empty_stretches(tmp_path: Path) -> None:
    c = cache(tmp_path)
    now = T0 + 100 * DAY
    c.put([A], M, T0, T0 + DAY, rows(A, T0, T0 + DAY), fetched_at=now)
    c.put([A], M, T0 + 2 * DAY, T0 + 3 * DAY, rows(A, T0, T0)[:0], fetched_at=now)  # outage
    assert c.gaps(A, M, T0, T0 + 3 * DAY, now) == [(T0 + DAY, T0 + 2 * DAY)]
    assert c.gaps(B, M, T0, T0 + DAY, now) == [(T0, T0 + DAY)]
    assert c.gaps(A, kind_key("mean", "PT1H"), T0, T0 + DAY, now) == [(T0, T0 + DAY)]
    assert c.read([A], M, T0 + 2 * DAY, T0 + 3 * DAY).num_rows == 0


def test_newer_data_replaces_older(tmp_path: Path) -> None:
    c = cache(tmp_path)
    c.put([A], M, T0, T0 + 10 * H, rows(A, T0, T0 + 10 * H), fetched_at=T0 + 10 * DAY)
    c.put([A], M, T0 + 4 * H, T0 + 6 * H, rows(A, T0 + 4 * H, T0 + 6 * H, offset=0.5),
          fetched_at=T0 + 11 * DAY)
    got = c.read([A], M, T0, T0 + 10 * H)
    vals = got["value"].to_pylist()
    assert len(vals) == 10
    assert [v % 1 for v in vals] == [0.0] * 4 + [0.5] * 2 + [0.0] * 4
    ts = got["timestamp"].cast(pa.int64()).to_pylist()
    assert ts == sorted(set(ts))


def test_recent_edge_expires(tmp_path: Path) -> None:
    c = cache(tmp_path, settle_us=2 * DAY, recent_ttl_us=300 * US)
    fetched = T0 + 10 * DAY
    c.put([A], M, T0, fetched, rows(A, T0, fetched), fetched_at=fetched)
    assert c.gaps(A, M, T0, fetched, now=fetched + 299 * US) == []
    # after the ttl, the last 2 days before the fetch are provisional and missing again
    assert c.gaps(A, M, T0, fetched, now=fetched + 301 * US) == [(fetched - 2 * DAY, fetched)]
    assert c.gaps(A, M, T0, fetched, now=fetched + 50 * DAY) == [(fetched - 2 * DAY, fetched)]


def test_invalidate(tmp_path: Path) -> None:
    c = cache(tmp_path)
    now = T0 + 100 * DAY
    c.put([A, B], M, T0, T0 + DAY, pa.concat_tables([rows(A, T0, T0 + DAY),
                                                      rows(B, T0, T0 + DAY)]), fetched_at=now)
    c.invalidate([A], T0 + H, T0 + 2 * H)
    assert c.gaps(A, M, T0, T0 + DAY, now) == [(T0 + H, T0 + 2 * H)]
    assert c.gaps(B, M, T0, T0 + DAY, now) == []
    assert c.read([A], M, T0, T0 + DAY).num_rows == 23
    c.invalidate([A, B], T0, T0 + DAY)
    assert c.info().bytes == 0
    assert not list((c.data).iterdir())


def test_layout_version_change_is_ignored(tmp_path: Path) -> None:
    c = cache(tmp_path)
    now = T0 + 100 * DAY
    c.put([A], M, T0, T0 + DAY, rows(A, T0, T0 + DAY), fetched_at=now)
    con = sqlite3.connect(c.path / "index.sqlite")
    con.execute("UPDATE meta SET value='999' WHERE key='layout'")
    con.commit()
    con.close()
    c2 = cache(tmp_path)
    assert c2.gaps(A, M, T0, T0 + DAY, now) == [(T0, T0 + DAY)]
    assert c2.info().intervals == 0
    con = sqlite3.connect(c.path / "index.sqlite")
    assert con.execute("SELECT value FROM meta WHERE key='layout'").fetchone() == (
        str(LAYOUT_VERSION),)
    con.close()
    assert c2.prune(orphan_grace_s=0) > 0  # the old file is an orphan now
    assert not list(c2.data.iterdir())


def test_garbage_database_is_not_crashed_on(tmp_path: Path) -> None:
    c = cache(tmp_path)
    con = sqlite3.connect(c.path / "index.sqlite")
    con.execute("DROP TABLE meta")
    con.execute("CREATE TABLE coverage_old (x)")
    con.commit()
    con.close()
    c2 = cache(tmp_path)
    assert c2.info().intervals == 0


def test_namespace_separation(tmp_path: Path) -> None:
    now = T0 + 100 * DAY
    one = SeriesCache.open("https://api.example/", "prod", "v1", root=tmp_path)
    two = SeriesCache.open("https://api.example", "prod", "v2", root=tmp_path)
    one.put([A], M, T0, T0 + DAY, rows(A, T0, T0 + DAY), fetched_at=now)
    assert one.gaps(A, M, T0, T0 + DAY, now) == []
    assert two.gaps(A, M, T0, T0 + DAY, now) == [(T0, T0 + DAY)]
    same = SeriesCache.open("https://api.example", "prod", "v1", root=tmp_path)
    assert same.read([A], M, T0, T0 + DAY).num_rows == 24


def test_permissions_and_default_dir(tmp_path: Path) -> None:
    c = cache(tmp_path)
    for d in (c.root, c.path, c.data):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((c.path / "index.sqlite").stat().st_mode) == 0o600
    assert default_cache_dir().name.lower() == "raadata"


def test_bad_input(tmp_path: Path) -> None:
    c = cache(tmp_path)
    with pytest.raises(ValueError, match="empty interval"):
        c.gaps(A, M, T0, T0, T0)
    with pytest.raises(TypeError, match="microseconds"):
        c.read([A], M, 1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence"):
        c.put(A, M, T0, T0 + H, rows(A, T0, T0 + H), T0)
    with pytest.raises(ValueError, match="statistics"):
        kind_key("mean")


def test_rows_outside_the_put_are_dropped(tmp_path: Path) -> None:
    c = cache(tmp_path)
    c.put([A], M, T0 + H, T0 + 2 * H, pa.concat_tables([rows(A, T0, T0 + 3 * H),
                                                         rows(B, T0, T0 + 3 * H)]), T0)
    assert c.read([A, B], M, T0, T0 + 3 * H)["timestamp"].cast(pa.int64()).to_pylist() == [
        T0 + H]


def test_prune(tmp_path: Path) -> None:
    c = cache(tmp_path)
    now = T0 + 100 * DAY
    for k in range(4):
        s = T0 + k * DAY
        c.put([A], M, s, s + DAY, rows(A, s, s + DAY), fetched_at=now)
    (c.data / "deadbeef.parquet").write_bytes(b"x" * 10)  # orphan from a crash
    (c.data / ".tmp-cafe.parquet").write_bytes(b"y" * 10)
    before = c.info()
    assert before.intervals == 4
    assert before.series == 1
    assert before.oldest_us == T0
    assert before.newest_us == T0 + 4 * DAY
    freed = c.prune(max_bytes=before.bytes // 2, orphan_grace_s=0)
    after = c.info()
    assert after.bytes <= before.bytes // 2
    assert freed == before.bytes - after.bytes + 20
    assert not (c.data / "deadbeef.parquet").exists()
    # the oldest files went first
    assert c.gaps(A, M, T0, T0 + 4 * DAY, now) == [(T0, T0 + (4 - after.intervals) * DAY)]
    c.prune(older_than_s=0)
    assert c.info().bytes == 0
    c.put([A], M, T0, T0 + DAY, rows(A, T0, T0 + DAY), fetched_at=now)
    c.clear()
    assert c.info() == type(after)(0, 0, 0, None, None)
    assert not list(c.data.iterdir())


def test_prune_spares_young_orphans(tmp_path: Path) -> None:
    c = cache(tmp_path)
    (c.data / ".tmp-inflight.parquet").write_bytes(b"z")
    assert c.prune() == 0
    assert (c.data / ".tmp-inflight.parquet").exists()


WRITER = textwrap.dedent("""
    import sys, pyarrow as pa
    from raadata._cache import SeriesCache
    root, uid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    H = 3600 * 10**6
    T0 = 1_700_000_000 * 10**6
    c = SeriesCache(root, "ns")
    for k in range(n):
        s = T0 + k * H
        ts = list(range(s, s + H, 60 * 10**6))
        t = pa.table({"timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
                      "id": [uid] * len(ts), "value": [float(k)] * len(ts)})
        c.put([uid], "measurements", s, s + H, t, fetched_at=T0 + 10**12)
""")


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), u, "30"])
             for u in (A, B)]
    assert [p.wait() for p in procs] == [0, 0]
    c = SeriesCache(root, "ns")
    now = T0 + 10**12
    for u in (A, B):
        assert c.gaps(u, M, T0, T0 + 30 * H, now) == []
        got = c.read([u], M, T0, T0 + 30 * H)
        assert got.num_rows == 30 * 60
        assert set(got["id"].to_pylist()) == {u}
    assert c.info().intervals == 60


KILLED = textwrap.dedent("""
    import os, signal, sys, pyarrow as pa
    import raadata._cache as m
    root = sys.argv[1]
    real = m.pq.write_table
    def write_then_die(table, where, **kw):
        real(table, where, **kw)
        if sys.argv[2] == "after-file":
            where.flush()
            os.replace(where.name, where.name.replace(".tmp-", ""))
        os.kill(os.getpid(), signal.SIGKILL)
    m.pq.write_table = write_then_die
    c = m.SeriesCache(root, "ns")
    T0 = 1_700_000_000 * 10**6
    ts = list(range(T0, T0 + 3600 * 10**6, 10**6))
    t = pa.table({"timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
                  "id": ["a"] * len(ts), "value": [1.0] * len(ts)})
    c.put(["a"], "measurements", T0, T0 + 3600 * 10**6, t, fetched_at=T0)
""")


@pytest.mark.parametrize("stage", ["mid-file", "after-file"])
def test_kill_9_mid_write(tmp_path: Path, stage: str) -> None:
    root = tmp_path / "cache"
    c = SeriesCache(root, "ns")
    c.put(["a"], M, T0 - H, T0, rows("a", T0 - H, T0), fetched_at=T0)
    p = subprocess.run([sys.executable, "-c", KILLED, str(root), stage], check=False)
    assert p.returncode == -signal.SIGKILL
    assert len(list(c.data.iterdir())) == 2  # the good file and the debris
    c2 = SeriesCache(root, "ns")
    assert c2.gaps("a", M, T0 - H, T0 + H, now=T0) == [(T0, T0 + H)]
    assert c2.read(["a"], M, T0 - H, T0 + H).num_rows == 1
    assert c2.prune(orphan_grace_s=0) > 0
    assert len(list(c2.data.iterdir())) == 1
    assert c2.read(["a"], M, T0 - H, T0 + H).num_rows == 1
    assert os.path.exists(c2.path / "index.sqlite")


def test_statistics_read_equals_the_uncached_table(tmp_path: Path) -> None:
    c = cache(tmp_path)
    kind = kind_key("mean", "PT1H")
    now = T0 + 100 * DAY

    def stats(uuid: str, start: int, end: int) -> pa.Table:
        t = rows(uuid, start, end)
        return t.append_column("aggregation", pa.array(["mean"] * t.num_rows, pa.string()))

    # three fetches in shuffled time order, each for both series
    for s, e in [(T0 + 2 * DAY, T0 + 3 * DAY), (T0, T0 + DAY), (T0 + DAY, T0 + 2 * DAY)]:
        c.put([B, A], kind, s, e, pa.concat_tables([stats(B, s, e), stats(A, s, e)]), now)
    expected = pa.concat_tables([stats(B, T0 + H, T0 + 3 * DAY - H),  # in the order asked
                                 stats(A, T0 + H, T0 + 3 * DAY - H)])
    got = c.read([B, A], kind, T0 + H, T0 + 3 * DAY - H)
    assert got.schema.field("id").type == pa.dictionary(pa.int32(), pa.string())
    assert got.cast(expected.schema).equals(expected)
    assert c.read([A], M, T0, T0 + DAY).num_rows == 0  # other kind key


def test_corrupt_data_file_raises_cache_error(tmp_path: Path) -> None:
    c = cache(tmp_path)
    c.put([A], M, T0, T0 + DAY, rows(A, T0, T0 + DAY), fetched_at=T0 + 100 * DAY)
    (victim,) = c.data.iterdir()
    victim.write_bytes(b"not parquet")
    with pytest.raises(CacheError, match="unreadable") as info:
        c.read([A], M, T0, T0 + DAY)
    assert isinstance(info.value, RaadataError)
