"""raadata.get_series against a hand-written baseline and the floor, on the same data.

Run: ``.venv/bin/python benchmarks/bench_fetch.py [--days 7]``

The sandbox runs in a child process (so the client is measured alone) and serves 10 series
sampled every second for ``--days`` days (7 days: about 6 million points). Three ways:

1. ``raadata.get_series`` with defaults (wide frame), and the peak RSS of this process;
2. a baseline a user would write from the docs' curl examples: plain ``requests``, JSON,
   ``pd.DataFrame``, one series-day per request, sequential;
3. the floor: the very requests raadata made, sent with bare ``requests`` on the same number
   of threads and decoded with ``pyarrow``, no planning and no shaping.

Then, with 100 ms of latency added to every request, raadata's default concurrency against
one worker. Prints points/s and the ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import requests

sys.path.insert(0, str(Path(__file__).parent))

from _sandbox_process import Remote, sandbox_process

import raadata

START = pd.Timestamp("2025-01-01", tz="UTC")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stamp(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def baseline(remote: Remote, selectors: list[str], days: int) -> int:
    """The docs' way: token by hand, one GET per series-day, JSON, DataFrame, sequential."""
    token = requests.post(
        remote.token_url,
        auth=(remote.client_id, remote.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    frames = []
    for selector in selectors:
        path = "/".join(quote(level) for level in selector.split("/"))  # raalabs/IMO.../tag
        for day in range(days):
            lo, hi = START + pd.Timedelta(days=day), START + pd.Timedelta(days=day + 1)
            response = requests.get(
                f"{remote.base_url}/measurements/{path}",
                params={"from": stamp(lo), "to": stamp(hi)},
                headers=headers,
                timeout=300,
            )
            response.raise_for_status()
            frame = pd.DataFrame(response.json())
            frame["timestamp"] = pd.to_datetime(frame["timestamp"])
            frames.append(frame)
    return len(pd.concat(frames, ignore_index=True))


def floor(remote: Remote, client: raadata.Client, workers: int, selectors: list[str],
          end: pd.Timestamp) -> int:
    """raadata's own requests (its plan: at 1 Hz the windows it sends), bare: POST, Parquet,
    pyarrow decode, same thread count."""
    tasks = client.plan(selectors, START, end).requests
    token = client.transport.tokens.token()
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=workers)
    session.mount("http://", adapter)
    session.headers.update(
        {"Authorization": f"Bearer {token}", "Accept": "application/vnd.apache.parquet"}
    )

    def one(task: raadata._planning.Task) -> pa.Table:
        response = session.post(
            f"{remote.base_url}/measurements/query",
            params={"from": stamp(task.start), "to": stamp(task.end)},
            json=[f"id/{uuid}" for uuid in task.uuids],
            timeout=300,
        )
        response.raise_for_status()
        return pq.read_table(pa.BufferReader(response.content))

    with ThreadPoolExecutor(workers) as pool:
        tables = list(pool.map(one, tasks))
    session.close()
    return sum(table.num_rows for table in tables)


def timed_once(function: object, *args: object) -> tuple[float, int]:
    """Seconds and points of one run."""
    started = time.perf_counter()
    points = function(*args)  # type: ignore[operator]
    return time.perf_counter() - started, points


def show(label: str, seconds: float, points: int) -> None:
    rate = points / seconds
    print(f"{label:<44} {seconds:8.2f} s {points:>12,} points {rate:>14,.0f} points/s")


def timed(label: str, function: object, *args: object, repeat: int = 1) -> tuple[float, int]:
    """Best of ``repeat`` runs, printed: seconds and points."""
    best, points = min(timed_once(function, *args) for _ in range(repeat))
    show(label, best, points)
    return best, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="best of N for runs 1 and 3")
    args = parser.parse_args()
    end = START + pd.Timedelta(days=args.days)
    with sandbox_process(now="2025-06-01T00:00:00Z") as remote:
        selectors = [f"raalabs/{s}" for s in remote.one_hz_series[:10]]
        client = raadata.Client(**remote.client_kwargs(), progress=False)
        client.series(selectors)  # resolve once, outside the timings (the baseline knows its ids)
        print(f"10 series at 1 s, {args.days} days: {START} to {end}\n")
        rss_before = peak_rss_mb()

        def run_get_series() -> int:
            raadata.get_series(selectors, START, end, client=client)
            assert client.last_report is not None
            return client.last_report.points

        cold, _ = timed("1. raadata.get_series, first (cold) run", run_get_series)
        rss_after = peak_rss_mb()
        assert client.last_report is not None
        print(f"   {client.last_report.summary().splitlines()[1]}")
        print(f"   peak RSS {rss_after:,.0f} MB (was {rss_before:,.0f} MB before the pull)")
        workers = client.max_workers
        t1, t3 = float("inf"), float("inf")
        for _ in range(args.repeat):  # interleaved, so both see the same machine
            seconds, p1 = timed_once(run_get_series)
            t1 = min(t1, seconds)
            seconds, p3 = timed_once(floor, remote, client, workers, selectors, end)
            t3 = min(t3, seconds)
        show("1. raadata.get_series (defaults, wide)", t1, p1)
        show("3. floor (same requests, bare, pyarrow)", t3, p3)
        t2, p2 = timed(
            "2. baseline (requests+JSON, sequential)", baseline, remote, selectors, args.days
        )
        assert p1 == p2 == p3, (p1, p2, p3)
        print(
            f"\n(1) vs (2): {t2 / t1:5.1f}x faster   (target >= 20x; first run: {t2 / cold:.1f}x)"
        )
        print(f"(1) vs (3): {t3 / t1:5.2f}x of the floor's speed   (target >= 0.8x)")

        remote.set(latency=0.1)
        day = (START, START + pd.Timedelta(days=1))
        print("\nwith 100 ms latency per request, 10 series x 1 day, 50,000 points per request:")

        def with_workers(workers: int | None) -> int:
            client.measurements(selectors, *day, max_workers=workers, target_points=50_000)
            assert client.last_report is not None
            return client.last_report.points

        td, _ = timed(
            f"   default concurrency ({workers} workers)", with_workers, None, repeat=args.repeat
        )
        t_one, _ = timed("   one worker", with_workers, 1, repeat=args.repeat)
        print(f"   default vs one worker: {t_one / td:4.1f}x   (target >= 4x)")

        print(f"\nwith 100 ms latency per request, the whole pull ({args.days} days) with the "
              "default target_points:")

        made: list[int] = []

        def whole(workers: int | None) -> int:
            client.measurements(selectors, START, START + pd.Timedelta(days=args.days),
                                max_workers=workers)
            assert client.last_report is not None
            made.append(client.last_report.requests)
            return client.last_report.points

        tw, _ = timed(f"   default concurrency ({workers} workers)", whole, None, repeat=1)
        tw_one, _ = timed("   one worker", whole, 1, repeat=1)
        print(f"   default vs one worker: {tw_one / tw:4.1f}x over {made[0]} requests (few large "
              "requests: little to overlap)")
        client.close()


if __name__ == "__main__":
    main()
