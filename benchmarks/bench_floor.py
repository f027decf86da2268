"""Client CPU per million points and peak memory over frame size, against the floor.

Run: ``.venv/bin/python benchmarks/bench_floor.py [--days 7 35] [--paths wide long ...]
[--repeat 3] [--baseline DIR]``

The sandbox runs in its own process and serves 10 series sampled every second (7 days:
6.0 M points; 35 days: 30.2 M). Every measurement runs in a fresh child process, so that
its peak RSS is its own: client CPU is ``time.process_time()`` of that process (all its
threads), peak memory is the peak RSS above the RSS before the call, and "left" is the RSS
after the call (frame dropped) above the RSS before it. Each figure is the median of
``--repeat`` fresh processes (this machine's speed drifts). In the same run, two baselines:

- floor: the same requests (``client.plan``), 8 threads, POST + ``pq.read_table`` +
  ``to_pandas``, no planning, checking or shaping;
- decode: the same bodies already in memory, ``pq.read_table`` with ``id`` as a
  dictionary, one thread: the cost of decoding alone.

``--baseline DIR``: also measure the raadata in DIR (e.g. ``git worktree add /tmp/base
<commit>``), interleaved with this one, and print each path's CPU and peak over the
baseline's. Plus a wide frame of 500 series x 1 day (5 batches joined on time). Prints a
table; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _sandbox_process import sandbox_process

START = "2025-01-01"
PATHS = ("wide", "long", "iter_frames", "export", "floor", "decode")


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child(path: str, kwargs: dict[str, Any], selectors: list[str], days: int,
           source: str | None, out: Any) -> None:
    if source:
        sys.path.insert(0, source)
    import gc

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import requests

    import raadata

    start = pd.Timestamp(START, tz="UTC")
    end = start + pd.Timedelta(days=days)
    client = raadata.Client(**kwargs, progress=False)
    client.series(selectors)  # resolve and fetch a token outside the measurement
    client.access_token()
    bodies: list[bytes] = []
    if path in ("floor", "decode"):
        token = client.access_token()
        tasks = client.plan(selectors, start, end).requests
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=8))
        session.headers.update({"Authorization": f"Bearer {token}",
                                "Accept": "application/vnd.apache.parquet"})
        base = client.transport.base_url

        def post(task: Any) -> bytes:
            response = session.post(
                f"{base}/measurements/query",
                params={"from": task.start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "to": task.end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
                json=[f"id/{uuid}" for uuid in task.uuids], timeout=600)
            response.raise_for_status()
            return response.content

        if path == "decode":
            with ThreadPoolExecutor(8) as pool:
                bodies = list(pool.map(post, tasks))
    gc.collect()
    rss0, cpu0, wall0 = _rss_mb(), time.process_time(), time.perf_counter()
    size_mb, points = 0.0, 0
    if path == "wide":
        frame = client.measurements(selectors, start, end)
        size_mb = frame.memory_usage(deep=True).sum() / 2**20
        points = int(frame.notna().sum().sum())
    elif path == "long":
        frame = client.measurements(selectors, start, end, shape="long")
        size_mb = frame.memory_usage(deep=True).sum() / 2**20
        points = len(frame)
    elif path == "iter_frames":
        for part in client.iter_frames(selectors, start, end):
            points += len(part)
        frame = None
    elif path == "export":
        with tempfile.TemporaryDirectory() as tmp:
            result = client.export(selectors, start, end, Path(tmp) / "out")
            points = result.rows
        frame = None
    elif path == "floor":
        def fetch(task: Any) -> Any:
            return pq.read_table(pa.BufferReader(post(task))).to_pandas()

        with ThreadPoolExecutor(8) as pool:
            points = sum(len(part) for part in pool.map(fetch, tasks))
        frame = None
    else:  # decode
        for body in bodies:
            points += pq.read_table(pa.BufferReader(body), read_dictionary=["id"]).num_rows
        frame = None
    cpu, wall, peak = time.process_time() - cpu0, time.perf_counter() - wall0, _peak_mb()
    del frame
    gc.collect()
    left = _rss_mb() - rss0
    out.send({"path": path, "points": points, "cpu": cpu, "wall": wall,
              "peak": max(0.0, peak - rss0), "size": size_mb, "left": left})
    client.close()


def _once(path: str, kwargs: dict[str, Any], selectors: list[str], days: int,
          source: str | None) -> dict[str, Any]:
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(path, kwargs, selectors, days, source, theirs))
    process.start()
    result: dict[str, Any] = ours.recv()
    process.join()
    return result


def measure(path: str, kwargs: dict[str, Any], selectors: list[str], days: int,
            repeat: int, baseline: str | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Medians of ``repeat`` measurements each in a fresh process, of this raadata and of
    the one in ``baseline`` (if given), taken in turns."""
    ours, theirs = [], []
    for turn in range(repeat):  # who goes first alternates: the order must not favour one
        if baseline and turn % 2:
            theirs.append(_once(path, kwargs, selectors, days, baseline))
        ours.append(_once(path, kwargs, selectors, days, None))
        if baseline and not turn % 2:
            theirs.append(_once(path, kwargs, selectors, days, baseline))
    return _median(ours), _median(theirs) if theirs else None


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(run[key] for run in runs) if key != "path" else runs[0][key]
            for key in runs[0]}


def show(row: dict[str, Any], floor_cpu: float | None, base: dict[str, Any] | None) -> None:
    per_m = row["cpu"] / (row["points"] / 1e6)
    ratio = f"{per_m / floor_cpu:5.2f}x" if floor_cpu else "     "
    memory = f"{row['peak'] / row['size']:5.2f}x" if row["size"] else "    -"
    versus = (f"   cpu {row['cpu'] / base['cpu']:4.2f}x  peak {row['peak'] / base['peak']:4.2f}x"
              f"  (baseline {base['cpu'] / (base['points'] / 1e6):.3f} s/M, "
              f"{base['peak']:,.0f} MB)" if base else "")
    print(f"{row['path']:<12} {int(row['points']):>12,} {row['wall']:7.2f} s {per_m:8.3f} {ratio} "
          f"{row['peak']:9,.0f} {row['size']:8,.0f} {memory} {row['left']:8,.0f}{versus}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[7, 35])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--baseline", help="a source tree of raadata to compare with")
    parser.add_argument("--no-fleet", action="store_true", help="skip 500 series x 1 day")
    args = parser.parse_args()
    with sandbox_process(now="2025-06-01T00:00:00Z") as remote:
        selectors = [f"raalabs/{s}" for s in remote.one_hz_series[:10]]
        print("client CPU s/M points (x: over the floor's), peak MB above the start, frame MB,"
              " peak/frame, MB left after the call (frame dropped)\n")
        print(f"{'path':<12} {'points':>12} {'wall':>9} {'cpu/M':>8} {'':>6} {'peak MB':>9} "
              f"{'frame':>8} {'p/f':>6} {'left':>8}")
        for days in args.days:
            rows = {p: measure(p, remote.client_kwargs(), selectors, days, args.repeat,
                               args.baseline if p not in ("floor", "decode") else None)
                    for p in args.paths}
            floor = rows["floor"][0] if "floor" in rows else None
            floor_cpu = floor["cpu"] / (floor["points"] / 1e6) if floor else None
            for row, base in rows.values():
                show(row, floor_cpu, base)
            print()
    if not args.no_fleet:
        fleet_join()


def fleet_join() -> None:
    """500 series x 1 day at 1-60 s: WideBuilder's join of 5 batches against pandas'
    concat + transpose-groupby (the old way), on the same synthetic blocks. Each batch holds
    a 1 s series, so its block covers every instant and joins without a copy."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from raadata._decode import MEASUREMENTS_SCHEMA
    from raadata._wide import WideBuilder

    day = pd.Timestamp(START, tz="UTC")
    uuids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(500)]
    labels = {u: f"IMO{1000000 + i // 12}/tag {i % 12}" for i, u in enumerate(uuids)}
    batches = [tuple(uuids[k:k + 100]) for k in range(0, 500, 100)]
    tables = []
    for batch in batches:
        parts = []
        for i, uuid in enumerate(batch):
            step = (1, 5, 10, 30, 60)[i % 5]
            stamps = day.value // 1000 + np.arange(0, 86_400, step) * 1_000_000
            parts.append(pa.table({
                "id": [uuid] * len(stamps),
                "timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
                "value": np.random.default_rng(i).random(len(stamps))}, schema=MEASUREMENTS_SCHEMA))
        tables.append(pa.concat_tables(parts))
    builder = WideBuilder(labels)
    for batch, table in zip(batches, tables, strict=True):
        builder.add(batch, day, table)
    started = time.perf_counter()
    wide = builder.frame()
    ours = time.perf_counter() - started
    started = time.perf_counter()
    floor = np.full(wide.shape, np.nan, order="F")  # allocating and filling one grid alone
    floor_s = time.perf_counter() - started
    del floor
    per_batch = []
    for batch, table in zip(batches, tables, strict=True):
        one = WideBuilder(labels)
        one.add(batch, day, table)
        per_batch.append(one.frame())
    started = time.perf_counter()
    old = pd.concat(per_batch, axis=1, sort=True)
    old = old.T.groupby(level=0, sort=True).first().T
    theirs = time.perf_counter() - started
    old.columns.name = "series"
    same = wide.equals(old[wide.columns])
    print(f"500 series x 1 day, wide join of 5 batches ({wide.shape[0]:,} x {wide.shape[1]}): "
          f"{ours * 1000:.0f} ms (allocating and filling one {wide.size * 8 / 2**20:,.0f} MB grid "
          f"alone: {floor_s * 1000:.0f} ms); concat + transpose-groupby {theirs * 1000:.0f} ms "
          f"({theirs / ours:.1f}x); same frame: {same}")


if __name__ == "__main__":
    main()
