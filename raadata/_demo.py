"""``raadata demo``: the whole product on the built-in sandbox, with no credentials.

Starts the sandbox on 127.0.0.1, pulls the last hours of every series of the fleet into a
DataFrame, exports the same range to a Parquet dataset, and prints what it got.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from raadata.sandbox import serve


def run_demo(out: Path, *, hours: int = 24, echo: Callable[[str], None] = print) -> None:
    """Run the demo, writing the dataset to ``out`` (replaced if it holds an older demo)."""
    with serve() as sandbox, sandbox.client() as client:
        end = pd.Timestamp.now(tz="UTC").floor("h")
        start = end - pd.Timedelta(hours=hours)
        echo(f"sandbox at {sandbox.base_url}; client {client.whoami().client_id}")
        echo(f"pulling every series of the fleet, {start} to {end} (UTC, [start, end))")
        frame = client.measurements("raalabs/*/*", start, end)
        report = client.last_report
        echo(f"DataFrame: {frame.shape[0]:,} timestamps x {frame.shape[1]} series")
        echo(report.summary().splitlines()[0] if report else "")
        echo(summary_table(frame).to_string())
        result = client.export("raalabs/*/*", start, end, out, overwrite=True)
        echo(f"Parquet dataset: {result}")
        back = pd.read_parquet(out)
        echo(
            f"read back with pandas.read_parquet: {len(back):,} rows, columns {list(back.columns)}"
        )
    echo("")
    echo("next steps:")
    echo("  in Python:  raadata sandbox  (prints the exports for another shell; then "
         'raadata.get_series("raalabs/*/ME ShaftPower", "2025-01-01", "2025-01-02"))')
    echo('  notebooks:  pip install -e ".[notebooks]" && jupyter lab notebooks/')
    echo("  your data:  your Raa Labs client credentials in the environment (README, "
         '"Credentials"), then raadata whoami')


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per series: its unit, the number of readings (an integer) and mean/min/max
    in that unit."""
    units = frame.attrs.get("units", {})
    table = pd.DataFrame({
        "unit": [units.get(column, "") for column in frame.columns],
        "count": frame.count().to_numpy(),
        "mean": frame.mean().to_numpy(),
        "min": frame.min().to_numpy(),
        "max": frame.max().to_numpy(),
    }, index=frame.columns)
    return table.round(2)
