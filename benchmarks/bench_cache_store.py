"""Time writing and reading 6 M points through SeriesCache against one local Parquet file.

Run: ``python benchmarks/bench_cache_store.py [--series 60] [--points 100000] [--puts 1]``.
``--puts`` is how many time slices each series is stored in (one put per slice, all series
together), e.g. 12 for monthly pulls. Prints seconds for each step and the read ratio.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from raadata._cache import SeriesCache, kind_key

US = 1_000_000
T0 = 1_600_000_000 * US


def make(series: int, points: int) -> tuple[list[str], pa.Table]:
    uuids = [f"00000000-0000-0000-0000-{k:012d}" for k in range(series)]
    ts = T0 + np.arange(points, dtype=np.int64) * 10 * US
    table = pa.table({
        "timestamp": pa.array(np.tile(ts, series), pa.timestamp("us", tz="UTC")),
        "id": pa.array(np.repeat(uuids, points), pa.string()),
        "value": pa.array(np.random.default_rng(0).normal(size=series * points)),
    })
    return uuids, table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=60)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--puts", type=int, default=1)
    args = ap.parse_args()
    uuids, table = make(args.series, args.points)
    end = T0 + args.points * 10 * US
    kind = kind_key()
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "ref.parquet"
        t = time.perf_counter()
        pq.write_table(table, ref, compression="zstd")
        ref_write = time.perf_counter() - t
        cache = SeriesCache(Path(tmp) / "cache", "bench")
        edges = np.linspace(T0, end, args.puts + 1).astype(np.int64).tolist()
        t = time.perf_counter()
        for s, e in itertools.pairwise(edges):
            cache.put(uuids, kind, s, e, table, fetched_at=end + 10**12)
        put_s = time.perf_counter() - t
        best_ref = best_cache = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            a = pq.read_table(ref)
            best_ref = min(best_ref, time.perf_counter() - t)
            t = time.perf_counter()
            b = cache.read(uuids, kind, T0, end)
            best_cache = min(best_cache, time.perf_counter() - t)
        assert b.num_rows == a.num_rows == table.num_rows
        assert b.select(["timestamp", "id", "value"]).equals(a)
    n = table.num_rows
    print(f"points: {n:,} ({args.series} series, {args.puts} put(s))")
    print(f"write: parquet file {ref_write:.3f} s, cache put {put_s:.3f} s")
    print(f"read (best of 3): parquet file {best_ref:.3f} s, cache {best_cache:.3f} s")
    print(f"ratio cache/parquet: {best_cache / best_ref:.2f}x")


if __name__ == "__main__":
    main()
