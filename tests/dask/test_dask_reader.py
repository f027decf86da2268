"""raadata.dask on a real ``distributed.LocalCluster`` (worker processes) and the sandbox."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import dask
import pandas as pd
import pytest
from distributed import Client as DaskClient
from distributed import LocalCluster
from distributed.comm.core import CommClosedError

import raadata.dask
from raadata import Client, ExportConflictError
from raadata.sandbox import Sandbox, serve

SELECTORS = ["raalabs/IMO1000001/ME ShaftPower", "raalabs/IMO1000002/*"]
RANGE = ("2025-01-01", "2025-01-02T05:00")
ENV_NAMES = ("RAADATA_CLIENT_ID", "RAADATA_CLIENT_SECRET", "RAADATA_ENVIRONMENT",
             "RAADATA_API_URL", "RAADATA_TOKEN_URL")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve() as sb:
        yield sb


@pytest.fixture(scope="module")
def cluster(sandbox: Sandbox) -> Iterator[DaskClient]:
    """Two worker processes whose environment holds the credentials (as a real cluster's)."""
    env = dict(zip(ENV_NAMES, (sandbox.client_id, sandbox.client_secret, sandbox.environment,
                               sandbox.api_url, sandbox.token_url), strict=True))
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0",
                      env=env) as local, DaskClient(local) as client:
        yield client


@pytest.fixture
def driver(sandbox: Sandbox) -> Iterator[Client]:
    with sandbox.client(progress=False) as client:
        yield client


def by_series(frame: pd.DataFrame, columns: list[str], keys: list[str]) -> pd.DataFrame:
    flat = frame.reset_index()[columns]
    return flat.sort_values(keys, kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("freq", ["6h", "1D"])
def test_measurements_equal_the_single_process_pull(
    cluster: DaskClient, driver: Client, freq: str
) -> None:
    expected = driver.measurements(SELECTORS, *RANGE, shape="long")
    with dask.config.set({"dataframe.convert-string": False}):
        lazy = raadata.dask.read_measurements(SELECTORS, *RANGE, partition_freq=freq,
                                               client=driver)
        got = lazy.compute()
    assert lazy.known_divisions
    pd.testing.assert_frame_equal(
        by_series(got, list(expected.columns), ["series", "timestamp"]), expected)
    assert got.index.is_monotonic_increasing  # time-major partitions, each ordered by time


def test_statistics_equal_and_default_strings_hold_the_same_values(
    cluster: DaskClient, driver: Client
) -> None:
    expected = driver.statistics(SELECTORS, "2025-01-01", "2025-01-04", shape="long",
                                 aggregations="avg,max", window="1h")
    lazy = raadata.dask.read_statistics(SELECTORS, "2025-01-01", "2025-01-04",
                                        aggregations="avg,max", window="1h", client=driver)
    got = by_series(lazy.compute(), list(expected.columns), ["series", "aggregation", "timestamp"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)  # dask's own strings


def test_building_the_graph_fetches_no_data_and_loc_prunes(
    sandbox: Sandbox, cluster: DaskClient, driver: Client
) -> None:
    before = sandbox.stats.requests["measurements"]
    lazy = raadata.dask.read_measurements(SELECTORS, "2025-01-01", "2025-01-08",
                                          partition_freq="1D", client=driver)
    assert sandbox.stats.requests["measurements"] == before
    assert lazy.npartitions == 7
    assert lazy.divisions[1] == pd.Timestamp("2025-01-02", tz="UTC")
    one_day = lazy.loc["2025-01-03T06:00":"2025-01-03T07:00"]
    assert one_day.npartitions == 1
    rows = one_day.compute()
    assert rows.index.min() >= pd.Timestamp("2025-01-03T06:00", tz="UTC")
    assert sandbox.stats.requests["measurements"] - before <= 2  # that day's windows only


def test_no_credential_is_in_the_graph(sandbox: Sandbox, driver: Client) -> None:
    lazy = raadata.dask.read_measurements(SELECTORS, *RANGE, client=driver)
    token = driver.access_token()
    graph = dict(lazy.__dask_graph__())
    blobs = [cloudpickle.dumps(graph), *(cloudpickle.dumps(task) for task in graph.values())]
    for needle in (sandbox.client_secret, token, token.split(".")[1]):
        assert all(needle.encode() not in blob for blob in blobs)


def test_cold_compute_fetches_a_token_per_worker_at_most(
    sandbox: Sandbox, cluster: DaskClient, driver: Client
) -> None:
    cluster.restart()  # fresh worker processes: no client, no token yet
    before = sandbox.stats.tokens_issued
    raadata.dask.read_measurements(SELECTORS, *RANGE, partition_freq="3h",
                                   client=driver).compute()
    assert sandbox.stats.tokens_issued - before <= 2 + 1  # two workers, plus the driver


def test_a_429_storm_completes(sandbox: Sandbox, cluster: DaskClient, driver: Client) -> None:
    expected = driver.measurements(SELECTORS, *RANGE, shape="long")
    sandbox.faults.rate_limit_every = 2
    sandbox.faults.retry_after = 0
    try:
        with dask.config.set({"dataframe.convert-string": False}):
            got = raadata.dask.read_measurements(SELECTORS, *RANGE, partition_freq="2h",
                                                 client=driver).compute()
    finally:
        sandbox.faults.reset()
    pd.testing.assert_frame_equal(
        by_series(got, list(expected.columns), ["series", "timestamp"]), expected)


def test_bad_arguments_fail_before_any_request(sandbox: Sandbox, driver: Client) -> None:
    before = sum(sandbox.stats.requests.values())
    with pytest.raises(ValueError, match="multiple of window"):
        raadata.dask.read_statistics(SELECTORS, *RANGE, window="7min", partition_freq="1h",
                                     client=driver)
    with pytest.raises(ValueError, match="half-open"):
        raadata.dask.read_measurements(SELECTORS, "2025-01-02", "2025-01-01", client=driver)
    assert sum(sandbox.stats.requests.values()) == before


def test_the_cluster_wide_cap_holds(sandbox: Sandbox, cluster: DaskClient, driver: Client) -> None:
    sandbox.faults.latency = 0.1
    try:
        marks = {}
        for cap in (1, 8):
            sandbox.stats.reset()
            raadata.dask.read_measurements(SELECTORS, *RANGE, partition_freq="1h",
                                           client=driver, max_concurrency=cap).compute()
            marks[cap] = sandbox.stats.max_concurrent
    finally:
        sandbox.faults.reset()
    assert marks[1] == 1  # one request at a time over both workers
    assert marks[8] > 1  # without the cap, the four worker threads overlap


def test_a_distributed_export_equals_a_local_one_and_they_resume_each_other(
    sandbox: Sandbox, cluster: DaskClient, driver: Client, tmp_path: Path
) -> None:
    out, local = tmp_path / "on-cluster", tmp_path / "local"
    driver.export(SELECTORS, *RANGE, local)
    first = raadata.dask.export(SELECTORS, "2025-01-01", "2025-01-01T12:00", out,
                                client=driver)
    assert first.units_written == 2  # two batches (one per vessel) over a half day
    with pytest.raises(ExportConflictError, match="end"):
        driver.export(SELECTORS, *RANGE, out)  # another range: refused as in one process
    on_cluster = raadata.dask.export(SELECTORS, *RANGE, tmp_path / "full", client=driver)
    assert on_cluster.units_written == 4
    assert on_cluster.complete
    pd.testing.assert_frame_equal(read_export(tmp_path / "full"), read_export(local))
    parts = sorted(p.relative_to(tmp_path / "full") for p in (tmp_path / "full").rglob("*.parquet"))
    assert parts == sorted(p.relative_to(local) for p in local.rglob("*.parquet"))
    resumed = driver.export(SELECTORS, *RANGE, tmp_path / "full")  # one process resumes it
    assert (resumed.units_skipped, resumed.units_written) == (4, 0)


def read_export(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path).drop(columns=["vessel", "date"])
    return frame.sort_values(["series", "timestamp"]).reset_index(drop=True)


def test_a_worker_killed_mid_compute_still_gives_the_exact_result(
    sandbox: Sandbox, cluster: DaskClient, driver: Client
) -> None:
    expected = driver.measurements(SELECTORS, *RANGE, shape="long")
    sandbox.faults.latency = 0.2  # long enough to kill a worker while tasks run
    try:
        with dask.config.set({"dataframe.convert-string": False}):
            lazy = raadata.dask.read_measurements(SELECTORS, *RANGE, partition_freq="1h",
                                                  client=driver)
            future = cluster.compute(lazy)
            deadline = time.monotonic() + 120
            while sandbox.stats.requests["measurements"] < 3:
                assert time.monotonic() < deadline, "no request reached the sandbox"
                time.sleep(0.05)
            victim = next(iter(cluster.scheduler_info()["workers"]))
            with contextlib.suppress(CommClosedError):  # it dies answering: that is the point
                cluster.run(os._exit, 1, workers=[victim], on_error="ignore")
            # the nanny starts a new worker; the lost tasks run again
            got = future.result()
    finally:
        sandbox.faults.reset()
    pd.testing.assert_frame_equal(
        by_series(got, list(expected.columns), ["series", "timestamp"]), expected)


def test_cli_export_on_a_scheduler(
    sandbox: Sandbox, cluster: DaskClient, driver: Client, tmp_path: Path
) -> None:
    env = {**os.environ, "RAADATA_CLIENT_ID": sandbox.client_id,
           "RAADATA_CLIENT_SECRET": sandbox.client_secret,
           "RAADATA_ENVIRONMENT": sandbox.environment, "RAADATA_API_URL": sandbox.api_url,
           "RAADATA_TOKEN_URL": sandbox.token_url}
    out = tmp_path / "cli"
    run = subprocess.run(
        [sys.executable, "-m", "raadata", "--no-progress", "export", *SELECTORS,
         "--start", RANGE[0], "--end", RANGE[1], "--out", str(out),
         "--scheduler", cluster.scheduler.address],
        env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "4 units written" in run.stdout
    driver.export(SELECTORS, *RANGE, tmp_path / "local")
    pd.testing.assert_frame_equal(read_export(out), read_export(tmp_path / "local"))


def test_a_distributed_export_resumes_in_one_process_after_the_cluster_dies(
    sandbox: Sandbox, driver: Client, tmp_path: Path
) -> None:
    env = {"RAADATA_CLIENT_ID": sandbox.client_id, "RAADATA_CLIENT_SECRET": sandbox.client_secret,
           "RAADATA_ENVIRONMENT": sandbox.environment, "RAADATA_API_URL": sandbox.api_url,
           "RAADATA_TOKEN_URL": sandbox.token_url}
    out = tmp_path / "interrupted"
    sandbox.faults.latency = 0.3
    try:
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=":0", env=env) as doomed:
            process = subprocess.Popen(
                [sys.executable, "-m", "raadata", "--no-progress", "export", *SELECTORS,
                 "--start", RANGE[0], "--end", RANGE[1], "--out", str(out),
                 "--scheduler", doomed.scheduler_address],
                env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 120
            while not list(out.glob("_raadata/units/*.json")):
                assert process.poll() is None, "the export ended before the cluster died"
                assert time.monotonic() < deadline, "no unit committed in 120 s"
                time.sleep(0.05)
        process.communicate(timeout=300)
        assert process.returncode != 0  # the cluster is gone: the export stopped
    finally:
        sandbox.faults.reset()
    resumed = driver.export(SELECTORS, *RANGE, out)
    assert resumed.complete
    assert resumed.units_skipped >= 1
    assert resumed.units_skipped + resumed.units_written == 4
    driver.export(SELECTORS, *RANGE, tmp_path / "local")
    pd.testing.assert_frame_equal(read_export(out), read_export(tmp_path / "local"))
