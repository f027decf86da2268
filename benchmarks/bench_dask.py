"""A fleet pull on a Dask LocalCluster against one process, with request latency.

Run: ``.venv/bin/python benchmarks/bench_dask.py [--days 14] [--latency 0.1] [--workers 2]``

The sandbox runs in a child process with ``--latency`` seconds added to every request. The
same long-form pull of every 1 Hz series over ``--days`` days is timed three ways: one
process (``client.measurements``, 8 concurrent requests), the cluster through
``raadata.dask.read_measurements`` (``--workers`` worker processes, 4 threads each, cap 8),
and the cluster with no latency over tiny partitions, whose time per partition is the
scheduler's overhead. Prints seconds, points/s and ratios. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from _sandbox_process import sandbox_process

START = pd.Timestamp("2025-01-01", tz="UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from distributed import Client as DaskClient
    from distributed import LocalCluster

    import raadata.dask
    from raadata import Client

    end = START + pd.Timedelta(days=args.days)
    with sandbox_process(now="2025-06-01T00:00:00Z") as remote:
        remote.set(latency=args.latency)
        selectors = ["raalabs/" + s for s in remote.one_hz_series]
        env = {f"RAADATA_{k.upper()}": v for k, v in remote.client_kwargs().items()}
        with Client(**remote.client_kwargs(), progress=False) as driver:
            started = time.perf_counter()
            single = driver.measurements(selectors, START, end, shape="long")
            one_process = time.perf_counter() - started
            points = len(single)
            del single
            with LocalCluster(n_workers=args.workers, threads_per_worker=4, processes=True,
                              dashboard_address=":0", env={**os.environ, **env}) as cluster, \
                    DaskClient(cluster):
                lazy = raadata.dask.read_measurements(selectors, START, end, client=driver,
                                                      partition_freq="1D")
                started = time.perf_counter()
                rows = len(lazy.compute())
                on_cluster = time.perf_counter() - started
                remote.set(latency=0.0)
                tiny = raadata.dask.read_measurements(selectors[:1], START,
                                                      START + pd.Timedelta(hours=4),
                                                      client=driver, partition_freq="1min")
                started = time.perf_counter()
                tiny.compute()
                overhead = (time.perf_counter() - started) / tiny.npartitions
    print(f"{points:,} points ({len(selectors)} series x {args.days:g} days at 1 Hz), "
          f"{args.latency * 1000:.0f} ms per request")
    print(f"  one process (8 concurrent requests)      {one_process:7.2f} s  "
          f"{points / one_process / 1e6:5.2f} M points/s")
    print(f"  LocalCluster, {args.workers} workers x 4 threads, 1-day partitions "
          f"{on_cluster:7.2f} s  {rows / on_cluster / 1e6:5.2f} M points/s")
    print(f"cluster / one process: {on_cluster / one_process:.2f}")
    print(f"time per partition of {tiny.npartitions} one-minute partitions (no latency): "
          f"{overhead * 1000:.1f} ms (request + task + scheduler)")


if __name__ == "__main__":
    main()
