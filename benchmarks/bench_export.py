"""Export throughput and peak memory at two sizes: memory must not grow with the export.

Run: ``.venv/bin/python benchmarks/bench_export.py [--small-days 5] [--large-days 48]``

The sandbox runs in one child process; each export runs in a fresh child process of its own,
so its peak RSS is its own. The 12 series sampled every second hold about 1 million points a
day: 5 days are about 5 million points, 48 days about 50 million. Prints points/s, peak RSS
and the ratio of the two peaks (target: at most 1.2). Asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _sandbox_process import sandbox_process

START = "2025-01-01"


def _export(client_kwargs: dict[str, str], days: int, out: str, queue: Any) -> None:
    import pandas as pd

    import raadata

    selectors = ["raalabs/*/ME ShaftPower", "raalabs/*/ME ShaftSpeed",
                 "raalabs/*/ME ShaftTorque", "raalabs/*/ME FuelMassFlow"]
    end = pd.Timestamp(START, tz="UTC") + pd.Timedelta(days=days)
    with raadata.Client(**client_kwargs, progress=False) as client:
        started = time.perf_counter()
        result = client.export(selectors, START, end, out)
        seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((result.rows, result.files, seconds, rss))


def measure(client_kwargs: dict[str, str], days: int) -> tuple[int, int, float, float]:
    """Rows, files, seconds and peak RSS (MB) of one export in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    with tempfile.TemporaryDirectory() as out:
        process = context.Process(target=_export, args=(client_kwargs, days, out, queue))
        process.start()
        figures: tuple[int, int, float, float] = queue.get()
        process.join()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-days", type=int, default=5)
    parser.add_argument("--large-days", type=int, default=48)
    args = parser.parse_args()
    with sandbox_process(now="2025-06-01T00:00:00Z") as remote:
        peaks = []
        for days in (args.small_days, args.large_days):
            rows, files, seconds, rss = measure(remote.client_kwargs(), days)
            peaks.append(rss)
            print(f"{days:3d} days: {rows:>12,} points in {files:5d} files, {seconds:7.1f} s, "
                  f"{rows / seconds:>12,.0f} points/s, peak RSS {rss:7.0f} MB")
        print(f"peak RSS large / small: {peaks[1] / peaks[0]:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
