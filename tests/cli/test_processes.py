"""The command as real processes: ``python -m raadata`` and the installed console script,
configured only through the environment; ``raadata sandbox`` serving; ``raadata demo``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from raadata import Client
from raadata.sandbox import Sandbox

from .conftest import (
    END,
    INVOCATIONS,
    POWER,
    RANGE,
    REPO,
    START,
    assert_no_credentials,
    console_script,
    invoke,
    run,
    sandbox_env,
)


def test_get_csv(invocation: list[str], sandbox: Sandbox, client: Client,
                 issued_tokens: list[str]) -> None:
    series = [POWER, "raalabs/IMO1000003/Nav SOG"]
    done = run([*invocation, "get", *series, *RANGE, "--format", "csv"], sandbox_env(sandbox))
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(io.StringIO(done.stdout), index_col="timestamp")
    got.index = pd.DatetimeIndex(pd.to_datetime(got.index, utc=True), name="timestamp")
    got.columns.name = "series"
    pd.testing.assert_frame_equal(got, client.measurements(series, START, END),
                                  check_index_type=False, check_column_type=False)
    assert done.stderr.startswith("measurements: ")
    assert len(done.stderr.splitlines()) == 1
    assert_no_credentials(done.stdout + done.stderr, sandbox, issued_tokens)


def test_get_to_a_file_with_the_secret_in_a_file(sandbox: Sandbox, client: Client,
                                                 tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(sandbox.client_secret)
    out = tmp_path / "power.csv"
    done = run([*INVOCATIONS["module"], "--client-secret-file", str(secret), "get", POWER,
                *RANGE, "--format", "csv", "-o", str(out)], sandbox_env(sandbox, secret=False))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == f"wrote 600 rows to {out}"
    got = pd.read_csv(out, index_col="timestamp")
    assert got[POWER.removeprefix("raalabs/")].tolist() == (
        client.measurements(POWER, START, END)[POWER.removeprefix("raalabs/")].tolist())


def test_metadata_json(sandbox: Sandbox) -> None:
    done = run([*INVOCATIONS["module"], "metadata", "raalabs/*/SW Temp", "--format", "json"],
               sandbox_env(sandbox))
    assert done.returncode == 0, done.stderr
    frame = pd.read_json(io.StringIO(done.stdout), orient="table")
    assert sorted(frame["series"]) == [f"IMO100000{n}/SW Temp" for n in (1, 2, 3)]
    assert set(frame["uom"]) == {"degC"}


def test_stats_long_csv(sandbox: Sandbox, client: Client) -> None:
    args = ["--start", "2025-01-01", "--end", "2025-01-01T04:00"]
    done = run([*console_script(), "stats", POWER, *args, "--window", "1hour",
                "--aggregations", "min,max", "--shape", "long", "--format", "csv"],
               sandbox_env(sandbox))
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(io.StringIO(done.stdout), index_col=0)
    expected = client.statistics(POWER, "2025-01-01", "2025-01-01T04:00", window="1hour",
                                 aggregations="min,max", shape="long")
    assert got["value"].tolist() == pytest.approx(expected["value"].tolist())
    assert got["aggregation"].tolist() == expected["aggregation"].tolist()


def test_export_then_resume(invocation: list[str], sandbox: Sandbox, client: Client,
                            tmp_path: Path) -> None:
    out = tmp_path / "ds"
    argv = [*invocation, "export", "raalabs/IMO1000002/*", "--start", "2025-01-01T23:30",
            "--end", "2025-01-02T00:30", "--out", str(out)]
    first = run(argv, sandbox_env(sandbox))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].endswith("2 units written, 0 already done")
    again = run(argv, sandbox_env(sandbox))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].endswith("0 units written, 2 already done")
    rows = pd.read_parquet(out)
    expected = client.measurements("raalabs/IMO1000002/*", "2025-01-01T23:30",
                                   "2025-01-02T00:30", shape="long")
    assert len(rows) == len(expected)
    assert set(rows["date"].astype(str)) == {"2025-01-01", "2025-01-02"}


# -- raadata sandbox ----------------------------------------------------------------------


def test_sandbox_prints_its_urls_and_serves(invocation: list[str],
                                            issued_tokens: list[str]) -> None:
    argv = [*invocation, "sandbox", "--port", "0", "--now", "2025-01-02T00:00:00Z"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        try:
            head: list[str] = []
            for line in proc.stdout:
                head.append(line.rstrip("\n"))
                if line.startswith("export RAADATA_CLIENT_SECRET="):
                    break
            exports = dict(line.removeprefix("export ").split("=", 1)
                           for line in head if line.startswith("export "))
            url = exports["RAADATA_API_URL"]
            assert head[0] == f"raadata sandbox serving on {url} (Ctrl-C to stop)"
            assert url.startswith("http://127.0.0.1:")
            assert not url.endswith(":0")
            assert f"  token_url    {url}/oauth2/token" in head
            assert "  now          2025-01-02T00:00:00Z" in head
            with Client(exports["RAADATA_CLIENT_ID"], exports["RAADATA_CLIENT_SECRET"],
                        environment=exports["RAADATA_ENVIRONMENT"], api_url=url,
                        token_url=exports["RAADATA_TOKEN_URL"], progress=False) as client:
                frame = client.measurements(POWER, "2025-01-01T23:59:50", "2025-01-03")
            assert len(frame) == 10  # data stops at the sandbox's fixed "now"
            proc.send_signal(signal.SIGTERM)
            rest, log = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, log
    assert rest.strip().endswith("sandbox stopped")
    assert "POST /oauth2/token -> 200" in log
    assert "POST /sandbox/measurements/query -> 200" in log
    assert issued_tokens == []  # the sandbox ran in the child, not here
    assert "eyJ" not in log  # the request log never shows a token


# -- raadata demo -------------------------------------------------------------------------


def check_demo_dataset(out: Path) -> None:
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["timestamp", "series", "id", "value", "vessel", "date"]
    assert len(frame) > 10_000
    assert frame["series"].nunique() == 36
    dataset = ds.dataset(out, format="parquet", partitioning="hive")
    vessels = set(dataset.to_table(columns=["vessel"])["vessel"].to_pylist())
    assert vessels == {"IMO1000001", "IMO1000002", "IMO1000003"}
    assert json.loads((out / "_raadata.json").read_text())["complete"] is True


def test_demo_as_a_process(invocation: list[str], tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = run([*invocation, "demo", "--hours", "1", "--out", str(out)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("sandbox at http://127.0.0.1:")
    assert "client sandbox-fleet" in text
    assert "DataFrame: " in text
    assert " x 36 series" in text
    assert f"Parquet dataset: {out}: " in text
    assert "read back with pandas.read_parquet" in text
    assert "secret" not in text.lower()
    shaft = next(line for line in text.splitlines() if "IMO1000001/ME ShaftPower" in line)
    unit, count = shaft.split("ShaftPower", 1)[1].split()[:2]
    assert unit == "kW"
    assert count.isdigit()  # counts are integers, not 3600.0
    steps = text.rstrip().splitlines()[-3:]
    assert [line.split(":")[0].strip() for line in steps] == ["in Python", "notebooks",
                                                              "your data"]
    check_demo_dataset(out)


def test_demo_in_process_writes_to_the_current_directory(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["demo", "--hours", "1"])
    assert result.exit_code == 0, result.output
    check_demo_dataset(tmp_path / "raadata-demo")
    again = invoke(["demo", "--hours", "1"])  # an older demo is replaced, not refused
    assert again.exit_code == 0, again.output
