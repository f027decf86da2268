"""Export to Parquet against the sandbox: round trip, partitions, atomicity, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from raadata import AuthenticationError, Client, ExportConflictError
from raadata.sandbox import Sandbox

ALL = "raalabs/*/*"
RANGE = ("2025-01-01T00:00", "2025-01-02T06:00")


def read_back(path: Path) -> pd.DataFrame:
    """The dataset's rows in get_series long form (partition columns dropped), sorted."""
    frame = pd.read_parquet(path).drop(columns=["vessel", "date"], errors="ignore")
    return frame.sort_values(["series", "timestamp"]).reset_index(drop=True)


def test_round_trip_equals_get_series(client: Client, tmp_path: Path) -> None:
    result = client.export(ALL, *RANGE, tmp_path / "out")
    assert result.rows > 0
    assert result.units_written == 3 * 2  # three vessels, two UTC days
    expected = client.measurements(ALL, *RANGE, shape="long")
    pd.testing.assert_frame_equal(read_back(tmp_path / "out"), expected, check_dtype=False)
    assert result.rows == len(expected)
    assert not list((tmp_path / "out").rglob("*.raadata-tmp"))


def test_layout_partitions_and_sidecar(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    client.export("raalabs/IMO1000002/*", *RANGE, out)
    dirs = sorted(str(p.relative_to(out)) for p in out.glob("vessel=*/*") if p.is_dir())
    assert dirs == ["vessel=IMO1000002/date=2025-01-01", "vessel=IMO1000002/date=2025-01-02"]
    dataset = ds.dataset(out, format="parquet", partitioning="hive")
    assert {"timestamp", "series", "id", "value", "vessel", "date"} <= set(dataset.schema.names)
    schema = ds.dataset(next(out.rglob("*.parquet"))).schema
    assert str(schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    assert str(schema.field("value").type) == "double"
    parquet_meta = __import__("pyarrow.parquet").parquet.ParquetFile(next(out.rglob("*.parquet")))
    assert parquet_meta.metadata.row_group(0).column(0).compression == "ZSTD"
    sidecar = json.loads((out / "_raadata.json").read_text())
    assert sidecar["complete"] is True
    assert sidecar["spec"]["selectors"] == ["raalabs/IMO1000002/*"]
    assert sidecar["spec"]["api_version"] == "2025-10-31"
    units = {s["series"]: s["uom"] for s in sidecar["series"]}
    assert units["IMO1000002/ME ShaftPower"] == "kW"


def test_partition_by_date_only(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    client.export("raalabs/*/ME ShaftPower", *RANGE, out, partition_by=["date"])
    assert sorted(p.name for p in out.glob("date=*")) == [
        "date=2025-01-01",
        "date=2025-01-02",
    ]
    assert read_back(out)["series"].nunique() == 3


def test_statistics_export(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "stats"
    client.export(ALL, *RANGE, out, statistics=True, aggregations="avg,max", window="1h")
    frame = pd.read_parquet(out)
    assert set(frame["aggregation"]) == {"avg", "max"}
    expected = client.statistics(ALL, *RANGE, aggregations="avg,max", window="1h", shape="long")
    got = frame.drop(columns=["vessel", "date"])[list(expected.columns)]
    got = got.sort_values(["series", "aggregation", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_rerun_skips_and_changed_arguments_are_refused(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = client.export(ALL, *RANGE, out)
    again = client.export(ALL, *RANGE, out)
    assert again.units_skipped == first.units_written
    assert again.rows == 0
    with pytest.raises(ExportConflictError, match="end"):
        client.export(ALL, RANGE[0], "2025-01-03", out)
    with pytest.raises(ExportConflictError, match="overwrite"):
        client.export("raalabs/IMO1000001/*", *RANGE, out)
    replaced = client.export("raalabs/IMO1000001/*", *RANGE, out, overwrite=True)
    assert replaced.units_written == 2
    assert read_back(out)["series"].str.startswith("IMO1000001/").all()


def test_refuses_a_directory_that_is_not_an_export(client: Client, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ExportConflictError, match="holds no raadata export"):
        client.export(ALL, *RANGE, tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_short_token_lifetime_during_export(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    sandbox.token_ttl = 2
    sandbox.faults.latency = 0.15
    result = client.export(
        "raalabs/*/ME ShaftPower", *RANGE, tmp_path / "out", target_points=5_000, max_workers=2
    )
    assert result.report.elapsed > 2 * sandbox.token_ttl  # latency makes this a lower bound
    assert sandbox.stats.tokens_issued >= 3
    # any 401 from a token expiring in flight is absorbed by one re-fetch: the export succeeds
    expected = client.measurements("raalabs/*/ME ShaftPower", *RANGE, shape="long")
    pd.testing.assert_frame_equal(read_back(tmp_path / "out"), expected, check_dtype=False)


def test_fatal_error_stops_cleanly_and_stays_resumable(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def rotate_when_files_exist() -> None:
        while len(list(out.rglob("part-*.parquet"))) < 2:
            time.sleep(0.02)
        sandbox.rotate_secret(sandbox.client_id)
        sandbox.revoke_tokens()

    sandbox.faults.latency = 0.05
    rotation = threading.Thread(target=rotate_when_files_exist, daemon=True)
    rotation.start()
    with (
        sandbox.client(progress=False) as client,
        pytest.raises(AuthenticationError, match="rotated"),
    ):
        client.export(ALL, *RANGE, out, target_points=50_000)
    rotation.join()
    assert not list(out.rglob("*.raadata-tmp"))
    assert json.loads((out / "_raadata.json").read_text())["complete"] is False
    sandbox.faults.latency = 0
    with sandbox.client(progress=False) as fresh:
        result = fresh.export(ALL, *RANGE, out, target_points=50_000)
        assert result.units_written + result.units_skipped == 6
        expected = fresh.measurements(ALL, *RANGE, shape="long")
    pd.testing.assert_frame_equal(read_back(out), expected, check_dtype=False)


def sandbox_env(sandbox: Sandbox) -> dict[str, str]:
    return {
        **os.environ,
        "RAADATA_CLIENT_ID": sandbox.client_id,
        "RAADATA_CLIENT_SECRET": sandbox.client_secret,
        "RAADATA_ENVIRONMENT": sandbox.environment,
        "RAADATA_API_URL": sandbox.api_url,
        "RAADATA_TOKEN_URL": sandbox.token_url,
    }


def test_resume_after_sigkill_matches_a_clean_export(sandbox: Sandbox, tmp_path: Path) -> None:
    out, clean = tmp_path / "killed", tmp_path / "clean"
    args = [
        sys.executable,
        "-m",
        "raadata",
        "--workers",
        "2",
        "export",
        ALL,
        "--start",
        RANGE[0],
        "--end",
        RANGE[1],
        "--out",
        str(out),
    ]
    sandbox.faults.latency = 0.1
    process = subprocess.Popen(
        args, env=sandbox_env(sandbox), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while len(list(out.rglob("part-*.parquet"))) < 4 and process.poll() is None:
        assert time.monotonic() < deadline, "the export wrote no files"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    done_before = len(list(out.glob("_raadata/units/*.json")))
    assert done_before < 6, "the export finished before it could be killed"
    sandbox.faults.latency = 0
    resumed = subprocess.run(
        args, env=sandbox_env(sandbox), capture_output=True, text=True, check=True
    )
    assert f"{done_before} already done" in resumed.stdout
    with sandbox.client(progress=False) as client:
        client.export(ALL, *RANGE, clean)
    killed_rows, clean_rows = read_back(out), read_back(clean)
    assert not killed_rows.duplicated(["series", "timestamp"]).any()
    pd.testing.assert_frame_equal(killed_rows, clean_rows)
    assert not list(out.rglob("*.raadata-tmp"))


def test_readable_by_duckdb_and_polars(client: Client, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    polars = pytest.importorskip("polars")
    out = tmp_path / "out"
    result = client.export("raalabs/IMO1000003/*", *RANGE, out)
    pattern = str(out / "**" / "*.parquet")
    rows = duckdb.sql(
        "select count(*), count(distinct vessel) "
        f"from read_parquet('{pattern}', hive_partitioning=true)"
    ).fetchall()[0]
    assert rows == (result.rows, 1)
    frame = polars.scan_parquet(pattern, hive_partitioning=True).collect()
    assert frame.height == result.rows
    assert set(frame["vessel"].unique().to_list()) == {"IMO1000003"}


def test_export_survives_faults_the_http_layer_retries(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    sandbox.faults.rate_limit_every = 5
    sandbox.faults.retry_after = 0
    sandbox.faults.drop_every = 7
    sandbox.faults.script([503, 500, 502])
    result = client.export(ALL, *RANGE, tmp_path / "out", target_points=100_000)
    assert result.report.retries >= 3
    assert result.report.rate_limited > 0
    sandbox.faults.reset()
    expected = client.measurements(ALL, *RANGE, shape="long")
    pd.testing.assert_frame_equal(read_back(tmp_path / "out"), expected, check_dtype=False)



def test_missing_readings_are_nulls_that_sql_and_polars_skip(
    client: Client, tmp_path: Path
) -> None:
    import duckdb
    import polars as pl
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    client.export(ALL, *RANGE, out)
    expected = client.measurements(ALL, *RANGE, shape="long")
    missing = int(expected["value"].isna().sum())
    assert missing > 0  # the sandbox serves some nulls: the check means something
    table = pq.read_table(out)
    assert table.column("value").null_count == missing
    assert not pc_any_nan(table)
    daily = duckdb.sql(
        f"SELECT series, date, avg(value) AS mean FROM read_parquet('{out}/**/*.parquet', "
        "hive_partitioning = true) GROUP BY ALL").df()
    assert len(daily) == 36 * 2
    assert daily["mean"].notna().all()
    means = pl.scan_parquet(f"{out}/**/*.parquet").group_by("series").agg(
        pl.col("value").mean()).collect()
    assert means["value"].is_finite().all()
    # pandas reads the nulls back as NaN, the missing marker of frames
    pd.testing.assert_frame_equal(read_back(out), expected, check_dtype=False)


def test_statistics_exports_hold_nulls_for_empty_windows(client: Client, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "stats"
    client.export(ALL, *RANGE, out, statistics=True, window="1min",
                  aggregations=["avg", "max"])
    expected = client.statistics(ALL, *RANGE, window="1min", aggregations=["avg", "max"],
                                 shape="long")
    missing = int(expected["value"].isna().sum())
    assert missing > 0  # windows of the slower series that hold no sample
    table = pq.read_table(out)
    assert table.column("value").null_count == missing
    assert not pc_any_nan(table)


def pc_any_nan(table: object) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    assert isinstance(table, pa.Table)
    return bool(pc.any(pc.is_nan(table.column("value"))).as_py())


def test_parts_use_time_series_encodings_and_every_reader_agrees(
    client: Client, tmp_path: Path
) -> None:
    import duckdb
    import polars as pl
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    client.export("raalabs/IMO1000001/*", *RANGE, out)
    part = next(out.rglob("*.parquet"))
    meta = pq.ParquetFile(part).metadata
    encodings = {meta.schema.column(i).name: set(meta.row_group(0).column(i).encodings)
                 for i in range(meta.num_columns)}
    assert "DELTA_BINARY_PACKED" in encodings["timestamp"]
    assert {"RLE_DICTIONARY"} <= encodings["series"] & encodings["id"]
    expected = pq.read_table(part).to_pandas()
    assert str(expected["timestamp"].dtype) == "datetime64[us, UTC]"
    by_duckdb = duckdb.sql(f"SELECT * FROM read_parquet('{part}')").df()
    by_polars = pl.read_parquet(part).to_pandas()
    for other in (by_duckdb, by_polars):
        pd.testing.assert_series_equal(
            other["timestamp"].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
            expected["timestamp"])
        assert other["value"].equals(expected["value"])
        assert list(other["id"]) == list(expected["id"])
