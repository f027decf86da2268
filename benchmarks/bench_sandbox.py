"""How long the sandbox takes to serve 1,000,000 points as Parquet, NDJSON and JSON over HTTP.

Run: ``.venv/bin/python benchmarks/bench_sandbox.py [--points N] [--repeat R]``

Measures whole requests on 127.0.0.1 with plain ``requests`` (token fetched once, outside
the timing): generation, encoding, transfer and reading the body on the client side; no
decoding. Also serves the Parquet request from 4 threads at once, and 8 requests with 0.2 s of
added latency from 8 threads, to show that requests run in parallel. Prints seconds and points
per second; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from raadata.sandbox import serve
from raadata.sandbox.clock import US_PER_S, format_us, to_us

NOW = "2025-03-01T00:00:00Z"
START = "2025-01-01T00:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with serve(now=NOW, point_limit=args.points) as sb, requests.Session() as http:
        one_second = [s for s in sb.fleet.series if s.interval_s == 1][:10]
        start = to_us(START)
        # the longest range [start, end) in whole seconds where the series hold <= N points
        def held(seconds: int) -> int:
            return sum(sb.fleet.count(s.uuid, start, start + seconds * US_PER_S)
                       for s in one_second)

        lo, hi = 0, args.points
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if held(mid) <= args.points else (lo, mid - 1)
        end = start + lo * US_PER_S
        points = sum(sb.fleet.count(s.uuid, start, end) for s in one_second)
        token = http.post(sb.token_url, auth=(sb.client_id, sb.client_secret),
                          data={"grant_type": "client_credentials"}).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        url = f"{sb.base_url}/measurements/query"
        body = [f"id/{s.uuid}" for s in one_second]
        params = {"from": START, "to": format_us(end)}

        def fetch(fmt: str) -> int:
            r = http.post(url, params={**params, "format": fmt}, json=body)
            r.raise_for_status()
            return len(r.content)

        print(f"sandbox benchmark: {points:,} points ({len(one_second)} series at 1 s), "
              f"best and median of {args.repeat}")
        print(f"{'format':<10}{'best s':>9}{'median s':>10}{'points/s':>14}{'MB':>9}")
        for fmt in ("parquet", "ndjson", "json"):
            fetch(fmt)  # warm up (allocator, caches)
            times, size = [], 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                size = fetch(fmt)
                times.append(time.perf_counter() - t0)
            best = min(times)
            print(f"{fmt:<10}{best:>9.3f}{statistics.median(times):>10.3f}"
                  f"{points / best:>14,.0f}{size / 1e6:>9.1f}")

        def fetch_alone(_: int) -> None:
            with requests.Session() as own:
                own.headers["Authorization"] = http.headers["Authorization"]
                own.post(url, params={**params, "format": "parquet"}, json=body).raise_for_status()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(fetch_alone, range(4)))  # warm up
            t0 = time.perf_counter()
            list(pool.map(fetch_alone, range(4)))
            elapsed = time.perf_counter() - t0
        print(f"parquet x4 in parallel: {elapsed:.3f} s, {4 * points / elapsed:,.0f} points/s")

        sb.faults.latency = 0.2  # requests that wait: served side by side, not one by one
        small = {"from": START, "to": "2025-01-01T00:01:00Z", "format": "parquet"}

        def fetch_small(_: int) -> None:
            with requests.Session() as own:
                own.headers["Authorization"] = http.headers["Authorization"]
                own.post(url, params=small, json=body).raise_for_status()

        with ThreadPoolExecutor(8) as pool:
            t0 = time.perf_counter()
            list(pool.map(fetch_small, range(8)))
            elapsed = time.perf_counter() - t0
        print(f"8 requests with 0.2 s latency on 8 threads: {elapsed:.3f} s "
              "(one at a time would take 1.6 s)")
    fleet_lookup()


def fleet_lookup() -> None:
    """Matching 100 ``id/<uuid>`` selectors (one POST body) in a 6,000-series fleet: the
    dict lookup against the regex scan of every series it replaced (measured here too)."""
    from raadata.sandbox.fleet import _TAGS, Fleet, Vessel, _spec
    from raadata.sandbox.query import _level_matcher, match, selector_from_text

    vessels = [Vessel(f"IMO{2_000_000 + i}", f"Vessel {i}", 3 * 86_400, 2 * 3600, 10 * 3600)
               for i in range(500)]
    fleet = Fleet(vessels, [_spec(vi, v, ti, t) for vi, v in enumerate(vessels)
                            for ti, t in enumerate(_TAGS)])
    selectors = [selector_from_text(f"id/{s.uuid}") for s in fleet.series[::60]]

    def scan() -> None:
        for selector in selectors:
            pattern = _level_matcher(selector.levels[0])
            [s for s in fleet.series if pattern.fullmatch(s.uuid)]

    def lookup() -> None:
        for selector in selectors:
            match(fleet, selector)

    timed = {}
    for name, run in (("scan", scan), ("lookup", lookup)):
        t0 = time.perf_counter()
        run()
        timed[name] = time.perf_counter() - t0
    print(f"{len(selectors)} id selectors in a {len(fleet.series):,}-series fleet: lookup "
          f"{timed['lookup'] * 1e3:.2f} ms, regex scan {timed['scan'] * 1e3:.1f} ms "
          f"(x{timed['scan'] / timed['lookup']:.0f})")


if __name__ == "__main__":
    main()
