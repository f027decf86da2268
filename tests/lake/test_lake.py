"""Exports into an S3-compatible server on loopback (moto), as Parquet and as Delta Lake."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import s3fs
from deltalake import DeltaTable
from moto.server import ThreadedMotoServer

from raadata import Client, ExportConflictError, StorageError
from raadata._dataset import is_ours
from raadata._objectstore import FsspecStore
from raadata.sandbox import Sandbox

ALL = "raalabs/*/*"
RANGE = ("2025-01-01T00:00", "2025-01-02T06:00")
KEY, SECRET = "raadata-test-key", "raadata-test-secret-value-123"


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(s3_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def bucket(aws: dict[str, str], request: pytest.FixtureRequest) -> str:
    name = f"lake-{uuid.uuid4().hex[:20]}"
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir(name)
    return name


def rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=["vessel", "date"], errors="ignore")
    frame = frame[["timestamp", "series", "id", "value"]].astype({"series": str, "id": str})
    return frame.sort_values(["series", "timestamp"]).reset_index(drop=True)


def s3_rows(url: str) -> pd.DataFrame:
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    return rows(pd.read_parquet(url.removeprefix("s3://"), filesystem=fs))


def delta_rows(url: str) -> pd.DataFrame:
    return rows(DeltaTable(url, storage_options={"AWS_ALLOW_HTTP": "true"}).to_pandas())


def test_parquet_to_s3_equals_local_and_get_series(
    client: Client, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/fleet"
    result = client.export(ALL, *RANGE, url)
    assert result.complete
    assert result.units_written == 6
    local = client.export(ALL, *RANGE, tmp_path / "local")
    expected = rows(client.measurements(ALL, *RANGE, shape="long"))
    pd.testing.assert_frame_equal(s3_rows(url), expected, check_dtype=False)
    pd.testing.assert_frame_equal(s3_rows(url), rows(pd.read_parquet(tmp_path / "local")))
    assert result.rows == local.rows
    again = client.export(ALL, *RANGE, url)
    assert (again.units_skipped, again.units_written) == (6, 0)
    assert client.export(ALL, *RANGE, url, verify_only=True).complete
    listed = FsspecStore(url, {}).list()
    assert listed
    assert all(is_ours(path) for path in listed)
    assert ".raadata.lock" not in listed  # released


def test_delta_to_s3_is_one_transaction_per_unit_and_resumes(
    client: Client, bucket: str
) -> None:
    url = f"s3://{bucket}/delta"
    first = client.export(ALL, *RANGE, url, format="delta")
    assert first.units_written == 6
    expected = rows(client.measurements(ALL, *RANGE, shape="long"))
    pd.testing.assert_frame_equal(delta_rows(url), expected, check_dtype=False)
    table = DeltaTable(url, storage_options={"AWS_ALLOW_HTTP": "true"})
    version = table.version()
    assert version == 5  # six appends: versions 0..5
    again = client.export(ALL, *RANGE, url, format="delta")
    assert again.units_written == 0
    assert DeltaTable(url, storage_options={"AWS_ALLOW_HTTP": "true"}).version() == version
    description = json.loads(table.metadata().description)
    assert {s["uom"] for s in description["series"]} >= {"kW"}


def test_delta_commit_without_marker_is_not_committed_twice(
    client: Client, bucket: str
) -> None:
    url = f"s3://{bucket}/delta"
    client.export(ALL, *RANGE, url, format="delta")
    store = FsspecStore(url, {})
    markers = [p for p in store.list() if p.startswith("_raadata/units/")]
    for path in markers[:3]:  # a crash after the Delta commit, before raadata's marker
        store.delete(path)
    again = client.export(ALL, *RANGE, url, format="delta")
    assert again.units_written == 0
    assert again.units_skipped == 6
    pd.testing.assert_frame_equal(delta_rows(url),
                                  rows(client.measurements(ALL, *RANGE, shape="long")),
                                  check_dtype=False)


def test_a_delta_table_on_a_local_path(client: Client, tmp_path: Path) -> None:
    client.export("raalabs/IMO1000001/*", *RANGE, tmp_path / "d", format="delta")
    got = rows(DeltaTable(str(tmp_path / "d")).to_pandas())
    pd.testing.assert_frame_equal(
        got, rows(client.measurements("raalabs/IMO1000001/*", *RANGE, shape="long")),
        check_dtype=False)


def test_a_second_writer_is_refused_and_a_stale_lock_taken_over(
    client: Client, bucket: str
) -> None:
    url = f"s3://{bucket}/fleet"
    holder = FsspecStore(url, {})
    with holder.lock(), pytest.raises(ExportConflictError, match=rf"pid {os.getpid()} on "):
        client.export(ALL, *RANGE, url)
    holder.write_bytes(".raadata.lock", json.dumps(
        {"holder": "pid 1 on gone-host", "expires": time.time() - 1}).encode())
    assert client.export(ALL, *RANGE, url).complete  # a killed writer's lock has expired


def test_store_failures_are_clear_storage_errors_without_secrets(
    client: Client, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not check credentials, so a refused store is played by a missing bucket
    and by an endpoint where nothing listens."""
    options = {"secret": "another-secret-value-7", "key": "k2"}
    with pytest.raises(StorageError, match="s3://no-such-bucket-here/x") as missing:
        client.export(ALL, *RANGE, "s3://no-such-bucket-here/x", storage_options=options)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(StorageError, match=f"s3://{bucket}/y") as unreachable:
        client.export(ALL, *RANGE, f"s3://{bucket}/y",
                      storage_options={**options, "skip_instance_cache": True,
                                       "config_kwargs": {"retries": {"max_attempts": 1}}})
    for error in (missing.value, unreachable.value):
        text = str(error)
        assert "another-secret-value-7" not in text
        assert SECRET not in text
        assert error.__cause__ is None  # no botocore traceback for the user


def _cli_env(sandbox: Sandbox, aws: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **aws, "RAADATA_CLIENT_ID": sandbox.client_id,
            "RAADATA_CLIENT_SECRET": sandbox.client_secret,
            "RAADATA_ENVIRONMENT": sandbox.environment, "RAADATA_API_URL": sandbox.api_url,
            "RAADATA_TOKEN_URL": sandbox.token_url}


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_kill_9_during_an_s3_export_then_rerun_equals_a_clean_one(
    sandbox: Sandbox, client: Client, bucket: str, aws: dict[str, str], fmt: str
) -> None:
    url = f"s3://{bucket}/{fmt}"
    args = [sys.executable, "-m", "raadata", "--workers", "2", "--no-progress", "--debug",
            "export", ALL, "--start", RANGE[0], "--end", RANGE[1], "--out", url,
            "--format", fmt]
    store = FsspecStore(url, {})

    def units() -> int:
        return sum(path.startswith("_raadata/units/") for path in store.list())

    sandbox.faults.latency = 0.05
    for _ in range(3):
        before = units()
        process = subprocess.Popen(args, env=_cli_env(sandbox, aws),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while units() <= before and process.poll() is None:
            assert time.monotonic() < deadline, "no unit committed in 120 s"
            time.sleep(0.05)
        process.kill()
        _, stderr = process.communicate()
        assert SECRET.encode() not in stderr
    sandbox.faults.latency = 0
    final = subprocess.run(args, env=_cli_env(sandbox, aws), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert SECRET not in final.stdout + final.stderr
    expected = rows(client.measurements(ALL, *RANGE, shape="long"))
    got = s3_rows(url) if fmt == "parquet" else delta_rows(url)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert all(is_ours(path) for path in store.list())  # no orphan or partial object
