"""Pulls through the local cache, against the sandbox: the same frames, fewer requests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from raadata import Client
from raadata.sandbox import Sandbox

SELECTORS = ["raalabs/IMO1000001/*", "raalabs/IMO1000002/ME ShaftPower"]
DAY = ("2025-01-01", "2025-01-02")


def data_requests(sandbox: Sandbox) -> int:
    return sandbox.stats.requests["measurements"] + sandbox.stats.requests["statistics"]


def cached(sandbox: Sandbox, folder: Path, **kwargs: object) -> Client:
    client: Client = sandbox.client(progress=False, cache=folder, **kwargs)
    return client


def test_a_repeated_pull_makes_no_data_request_and_equals_an_uncached_one(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with sandbox.client(progress=False) as plain, cached(sandbox, tmp_path) as client:
        expected = {
            "wide": plain.measurements(SELECTORS, *DAY),
            "long": plain.measurements(SELECTORS, *DAY, shape="long"),
            "stats": plain.statistics(SELECTORS, *DAY, aggregations="avg,max", window="1h"),
        }
        for _ in range(2):
            before = data_requests(sandbox)
            got = {
                "wide": client.measurements(SELECTORS, *DAY),
                "long": client.measurements(SELECTORS, *DAY, shape="long"),
                "stats": client.statistics(SELECTORS, *DAY, aggregations="avg,max", window="1h"),
            }
            for name, frame in got.items():
                pd.testing.assert_frame_equal(frame, expected[name], obj=name)
        assert data_requests(sandbox) == before  # the second round came from disk
        report = client.last_report
        assert report is not None
        assert report.requests == 0
        assert report.cached == int(expected["stats"].count().sum())  # every value, from disk
    assert client.cache is not None
    info = client.cache.info()
    assert info.series > 0
    assert info.bytes > 0


def test_an_overlapping_range_fetches_only_the_missing_part(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with cached(sandbox, tmp_path) as client, sandbox.client(progress=False) as plain:
        client.measurements(SELECTORS, "2025-01-01", "2025-01-01T12:00")
        wider = client.measurements(SELECTORS, "2025-01-01", "2025-01-02", shape="long")
        report = client.last_report
        missing = plain.measurements(SELECTORS, "2025-01-01T12:00", "2025-01-02", shape="long")
        pd.testing.assert_frame_equal(
            wider, plain.measurements(SELECTORS, "2025-01-01", "2025-01-02", shape="long"))
    assert report is not None
    assert report.points == len(missing)  # exactly the second half was fetched
    assert report.cached == len(wider) - len(missing)


def test_empty_stretches_are_covered_and_not_asked_again(sandbox: Sandbox, tmp_path: Path) -> None:
    vessel = sandbox.fleet.vessel("IMO1000001")
    start = pd.Timestamp(vessel.outage_offset_s, unit="s", tz="UTC")  # an outage: no samples
    end = start + pd.Timedelta(seconds=min(vessel.outage_duration_s, 3600))
    with cached(sandbox, tmp_path) as client:
        first = client.measurements("raalabs/IMO1000001/*", start, end, shape="long")
        before = data_requests(sandbox)
        again = client.measurements("raalabs/IMO1000001/*", start, end, shape="long")
    assert first.empty
    assert again.empty
    assert data_requests(sandbox) == before


def test_the_recent_edge_is_fetched_again_once_stale(sandbox: Sandbox, tmp_path: Path) -> None:
    end = pd.Timestamp.now(tz="UTC").floor("min")
    start = end - pd.Timedelta(days=4)
    selector = "raalabs/IMO1000002/ME ShaftPower"
    with cached(sandbox, tmp_path) as client, sandbox.client(progress=False) as plain:
        client.measurements(selector, start, end)
        client.measurements(selector, start, end)
        assert client.last_report is not None
        assert client.last_report.requests == 0  # younger than recent_ttl: still fresh
        client._puller.cache.recent_ttl_us = 0  # type: ignore[union-attr]  # time has passed
        frame = client.measurements(selector, start, end, shape="long")
        report = client.last_report
        tail = plain.measurements(selector, end - pd.Timedelta(days=2), end, shape="long")
        pd.testing.assert_frame_equal(frame, plain.measurements(selector, start, end,
                                                               shape="long"))
    assert report is not None
    assert 0 < report.points <= len(tail) + 2  # only the provisional last two days again


def test_refresh_fetches_everything_again(sandbox: Sandbox, tmp_path: Path) -> None:
    with cached(sandbox, tmp_path) as client:
        first = client.measurements(SELECTORS, *DAY, shape="long")
        again = client.measurements(SELECTORS, *DAY, shape="long", refresh=True)
    assert client.last_report is not None
    assert client.last_report.points == len(first)
    pd.testing.assert_frame_equal(first, again)


def test_another_api_version_starts_afresh(sandbox: Sandbox, tmp_path: Path) -> None:
    with cached(sandbox, tmp_path) as client:
        client.measurements(SELECTORS, *DAY)
    with cached(sandbox, tmp_path, api_version="2025-04-30") as other:
        other.measurements(SELECTORS, *DAY)
        assert other.last_report is not None
        assert other.last_report.requests > 0
        assert other.last_report.cached == 0


def test_invalidate_and_clear(sandbox: Sandbox, tmp_path: Path) -> None:
    with cached(sandbox, tmp_path) as client:
        client.measurements(SELECTORS, *DAY)
        assert client.cache is not None
        client.cache.invalidate("raalabs/IMO1000002/*", *DAY)
        client.measurements(SELECTORS, *DAY)
        assert client.last_report is not None
        fetched = client.last_report.points
        assert 0 < fetched < client.last_report.points + client.last_report.cached
        client.cache.clear()
        assert client.cache.info().bytes == 0
        assert "ClientCache(" in repr(client.cache)


def test_off_by_default_and_on_from_the_environment(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox.client(progress=False) as client:
        assert client.cache is None
    monkeypatch.setenv("RAADATA_CACHE", "1")
    monkeypatch.setenv("RAADATA_CACHE_DIR", str(tmp_path / "env-cache"))
    with sandbox.client(progress=False) as client:
        assert client.cache is not None
        assert client.cache.path.parent == tmp_path / "env-cache"
        assert (client.cache.path.stat().st_mode & 0o777) == 0o700
    with pytest.raises(TypeError, match="cache"):
        sandbox.client(cache=3)


def test_two_processes_pull_through_one_cache(sandbox: Sandbox, tmp_path: Path) -> None:
    code = (
        "import sys; from raadata import Client; "
        "c = Client(client_id=sys.argv[1], client_secret=sys.argv[2], environment=sys.argv[3], "
        "api_url=sys.argv[4], token_url=sys.argv[5], cache=sys.argv[6], progress=False); "
        "c.measurements(['raalabs/*/ME ShaftPower'], sys.argv[7], sys.argv[8])"
    )
    args = [sandbox.client_id, sandbox.client_secret, sandbox.environment, sandbox.api_url,
            sandbox.token_url, str(tmp_path)]
    runs = [subprocess.Popen([sys.executable, "-c", code, *args, lo, hi])
            for lo, hi in (("2025-01-01", "2025-01-01T18:00"), ("2025-01-01T06:00", "2025-01-02"))]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    with cached(sandbox, tmp_path) as client, sandbox.client(progress=False) as plain:
        got = client.measurements(["raalabs/*/ME ShaftPower"], *DAY, shape="long")
        assert client.last_report is not None
        assert client.last_report.requests == 0
        pd.testing.assert_frame_equal(
            got, plain.measurements(["raalabs/*/ME ShaftPower"], *DAY, shape="long"))
