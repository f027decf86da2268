"""A warm re-pull through the local cache against a cold one, and against local Parquet.

Run: ``.venv/bin/python benchmarks/bench_cache.py [--days 6] [--latency 0.05]``

The sandbox runs in a child process with ``--latency`` seconds added to every request.
Measured in this process, best of ``--repeat``: a cold pull (empty cache: every point
fetched and stored), a warm re-pull of the same range (no request), an uncached pull, and
``pandas.read_parquet`` of the same points written once as a single local file (the floor a
cache can hope for), shaped the same way (long frame). Prints seconds and the ratios
warm/cold (target <= 0.1) and warm/Parquet (target <= 1.5). Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from _sandbox_process import sandbox_process

START = pd.Timestamp("2025-01-01", tz="UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=6.0, help="days of 12 series at 1 Hz")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from raadata import Client

    end = START + pd.Timedelta(days=args.days)
    with sandbox_process(now="2025-06-01T00:00:00Z") as remote, \
            tempfile.TemporaryDirectory() as folder:
        remote.set(latency=args.latency)
        selectors = ["raalabs/" + s for s in remote.one_hz_series]
        kwargs = remote.client_kwargs()
        timings: dict[str, float] = {}

        def timed(name: str, action: object) -> pd.DataFrame:
            best, frame = float("inf"), None
            for attempt in range(args.repeat):
                started = time.perf_counter()
                frame = action(attempt)  # type: ignore[operator]
                best = min(best, time.perf_counter() - started)
            timings[name] = best
            return frame  # type: ignore[return-value]

        def cold(attempt: int) -> pd.DataFrame:
            with Client(**kwargs, cache=Path(folder) / f"cold-{attempt}", progress=False) as c:
                return c.measurements(selectors, START, end, shape="long")

        warm_client = Client(**kwargs, cache=Path(folder) / "warm", progress=False)
        warm_client.measurements(selectors, START, end, shape="long")  # fill it once

        def warm(_: int) -> pd.DataFrame:
            return warm_client.measurements(selectors, START, end, shape="long")

        def uncached(_: int) -> pd.DataFrame:
            with Client(**kwargs, progress=False) as c:
                return c.measurements(selectors, START, end, shape="long")

        expected = timed("uncached pull", uncached)
        timed("cold pull (fetch + store)", cold)
        got = timed("warm re-pull (no request)", warm)
        assert warm_client.last_report is not None
        assert warm_client.last_report.requests == 0
        pd.testing.assert_frame_equal(got, expected)
        parquet = Path(folder) / "same-points.parquet"
        expected.to_parquet(parquet)
        timed("pandas.read_parquet of the same points", lambda _: pd.read_parquet(parquet))
        warm_client.close()

    points = len(expected)
    print(f"{points:,} points ({len(selectors)} series x {args.days:g} days at 1 Hz), "
          f"{args.latency * 1000:.0f} ms per request; best of {args.repeat}")
    for name, seconds in timings.items():
        print(f"  {name:42s} {seconds:7.2f} s  {points / seconds / 1e6:6.2f} M points/s")
    warm_s = timings["warm re-pull (no request)"]
    print(f"warm / cold:    {warm_s / timings['cold pull (fetch + store)']:.3f}  (target <= 0.1)")
    print(f"warm / Parquet: {warm_s / timings['pandas.read_parquet of the same points']:.2f}"
          "  (target <= 1.5)")


if __name__ == "__main__":
    main()
