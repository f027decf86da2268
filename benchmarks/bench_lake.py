"""Export throughput into a loopback S3 server (moto), Parquet and Delta, next to local disk.

Run: ``.venv/bin/python benchmarks/bench_lake.py [--days 5]``

The sandbox runs in a child process, moto's S3 server in a thread of this one (so its CPU
counts against the exports; a real store would not). The same export of every 1 Hz series
over ``--days`` days (about a million points a day) goes to a local folder, to ``s3://``
as Parquet and to ``s3://`` as Delta. Prints seconds, points/s and the ratio to the local
export. Asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
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
    parser.add_argument("--days", type=float, default=5.0)
    args = parser.parse_args()

    import s3fs
    from moto.server import ThreadedMotoServer

    from raadata import Client

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret",
                      AWS_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://{host}:{port}")
    s3fs.S3FileSystem().mkdir("bench")
    end = START + pd.Timedelta(days=args.days)
    results = {}
    try:
        with sandbox_process(now="2025-06-01T00:00:00Z") as remote, \
                tempfile.TemporaryDirectory() as folder, \
                Client(**remote.client_kwargs(), progress=False) as client:
            selectors = ["raalabs/" + s for s in remote.one_hz_series]
            runs = {
                "local folder, Parquet": (Path(folder) / "local", "parquet"),
                "s3:// (moto), Parquet": ("s3://bench/parquet", "parquet"),
                "s3:// (moto), Delta": ("s3://bench/delta", "delta"),
            }
            for name, (destination, fmt) in runs.items():
                started = time.perf_counter()
                result = client.export(selectors, START, end, destination,
                                       format=fmt)  # type: ignore[arg-type]
                results[name] = (time.perf_counter() - started, result.rows)
    finally:
        server.stop()
    local = results["local folder, Parquet"][0]
    print(f"{next(iter(results.values()))[1]:,} points ({args.days:g} days of 1 Hz series)")
    for name, (seconds, rows) in results.items():
        print(f"  {name:24s} {seconds:6.2f} s  {rows / seconds / 1e6:5.2f} M points/s  "
              f"x{seconds / local:.2f} of local")


if __name__ == "__main__":
    main()
