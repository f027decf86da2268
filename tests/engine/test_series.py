"""The time-series layer end to end against the sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import raadata
from raadata import Client, PermissionDeniedError
from raadata._decode import JSON, NDJSON, PARQUET
from raadata._fetch import WireFormats
from raadata.sandbox import Sandbox, serve

DAY = ("2025-01-01", "2025-01-02")
POWER = "raalabs/IMO1000001/ME ShaftPower"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve() as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    sandbox.faults.reset()
    sandbox.point_limit = 1_000_000
    with sandbox.client(progress=False) as c:
        yield c
    sandbox.faults.reset()


def expected_series(sandbox: Sandbox, domain_id: str, start: str, end: str) -> pd.Series:
    """What the fleet's value function says one series holds over [start, end)."""
    spec = next(s for s in sandbox.fleet.series if s.ids["raalabs"] == domain_id)
    stamps = sandbox.fleet.timestamps(
        spec.uuid, pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    )
    values = sandbox.fleet.values(spec.uuid, stamps)
    index = pd.DatetimeIndex(stamps, name="timestamp").tz_localize("UTC")
    return pd.Series(values, index=index, name=domain_id)


def test_wide_frame_has_exact_values(sandbox: Sandbox, client: Client) -> None:
    frame = client.measurements(POWER, *DAY)
    assert list(frame.columns) == ["IMO1000001/ME ShaftPower"]
    assert frame.index.name == "timestamp"
    assert str(frame.index.tz) == "UTC"
    assert frame.index.min() >= pd.Timestamp(DAY[0], tz="UTC")
    assert frame.index.max() < pd.Timestamp(DAY[1], tz="UTC")
    expected = expected_series(sandbox, "IMO1000001/ME ShaftPower", *DAY)
    pd.testing.assert_series_equal(
        frame["IMO1000001/ME ShaftPower"], expected, check_names=False, check_freq=False
    )
    assert frame.attrs["units"] == {"IMO1000001/ME ShaftPower": "kW"}
    assert client.last_report is not None
    assert frame.attrs["report"] == client.last_report.as_dict()


def test_long_frame_columns_and_order(client: Client) -> None:
    frame = client.measurements(
        "raalabs/IMO1000002/*", "2025-03-01T00:00", "2025-03-01T02:00", shape="long"
    )
    assert list(frame.columns) == ["timestamp", "series", "id", "value"]
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["value"].dtype == np.float64
    assert frame.equals(
        frame.sort_values(["series", "timestamp"], kind="stable").reset_index(drop=True)
    )
    assert frame["series"].str.startswith("IMO1000002/").all()
    assert frame["value"].isna().any() or len(frame) > 0


def test_wildcard_across_vessels_and_label_kinds(client: Client) -> None:
    frame = client.measurements("raalabs/*/ME ShaftPower", "2025-01-01T00:00", "2025-01-01T00:10")
    assert list(frame.columns) == [f"IMO100000{i}/ME ShaftPower" for i in (1, 2, 3)]
    by_uuid = client.measurements(
        "raalabs/*/ME ShaftPower", "2025-01-01T00:00", "2025-01-01T00:10", labels="uuid"
    )
    assert all(len(c) == 36 for c in by_uuid.columns)
    assert sorted(frame.count().tolist()) == sorted(by_uuid.count().tolist())


def test_limited_client_sees_only_its_vessel(sandbox: Sandbox) -> None:
    limited = sandbox.clients["sandbox-vessel"]
    with Client(
        limited.client_id,
        limited.client_secret,
        environment=sandbox.environment,
        api_url=sandbox.api_url,
        token_url=sandbox.token_url,
        progress=False,
    ) as client:
        frame = client.measurements(
            "raalabs/*/ME ShaftPower", "2025-01-01T00:00", "2025-01-01T00:10"
        )
        assert list(frame.columns) == ["IMO1000001/ME ShaftPower"]
        with pytest.raises(PermissionDeniedError) as caught:
            client.measurements("raalabs/IMO1000002/ME ShaftPower", *DAY)
        assert caught.value.status == 403


def test_windows_equal_one_request(sandbox: Sandbox, client: Client) -> None:
    whole = client.measurements("raalabs/IMO1000003/*", *DAY, shape="long", target_points=2_000_000)
    assert client.last_report is not None
    assert client.last_report.requests == 1
    windowed = client.measurements("raalabs/IMO1000003/*", *DAY, shape="long", target_points=7_000)
    assert client.last_report.requests > 20
    pd.testing.assert_frame_equal(whole, windowed)


def test_too_large_responses_are_split(sandbox: Sandbox, client: Client) -> None:
    reference = client.measurements("raalabs/IMO1000001/*", *DAY, shape="long")
    sandbox.point_limit = 30_000
    split = client.measurements("raalabs/IMO1000001/*", *DAY, shape="long")
    report = client.last_report
    assert report is not None
    assert report.splits > 0
    assert sandbox.stats.responses[("measurements", 413)] >= report.splits
    pd.testing.assert_frame_equal(reference, split)


@pytest.mark.parametrize("fmt", [PARQUET, NDJSON, JSON])
def test_every_wire_format_gives_the_same_frame(client: Client, fmt: str) -> None:
    reference = client.measurements("raalabs/IMO1000002/*", "2025-02-01T00:00", "2025-02-01T01:00")
    client._puller.formats = WireFormats([fmt])
    frame = client.measurements("raalabs/IMO1000002/*", "2025-02-01T00:00", "2025-02-01T01:00")
    assert client.last_report is not None
    assert set(client.last_report.wire_formats) == {fmt}
    pd.testing.assert_frame_equal(reference, frame)


def test_falls_back_when_parquet_is_refused(sandbox: Sandbox, client: Client) -> None:
    reference = client.measurements(POWER, "2025-02-01T00:00", "2025-02-01T01:00")
    sandbox.faults.script([406])
    frame = client.measurements(POWER, "2025-02-01T00:00", "2025-02-01T01:00")
    assert client.last_report is not None
    assert set(client.last_report.wire_formats) == {NDJSON}
    pd.testing.assert_frame_equal(reference, frame)


def test_rate_limits_are_absorbed(sandbox: Sandbox, client: Client) -> None:
    reference = client.measurements(
        "raalabs/IMO1000001/*", *DAY, shape="long", target_points=40_000
    )
    sandbox.faults.rate_limit_every = 4
    sandbox.faults.retry_after = 0
    frame = client.measurements("raalabs/IMO1000001/*", *DAY, shape="long", target_points=40_000)
    report = client.last_report
    assert report is not None
    assert report.rate_limited > 0
    assert report.retries >= report.rate_limited
    pd.testing.assert_frame_equal(reference, frame)


def test_report_counts_rows_per_series(client: Client) -> None:
    frame = client.measurements("raalabs/IMO1000001/*", *DAY, shape="long")
    report = client.last_report
    assert report is not None
    assert report.rows_per_series == frame["series"].value_counts().to_dict()
    assert report.points == len(frame)
    assert report.series == frame["series"].nunique()
    assert report.elapsed > 0
    assert report.duplicates == 0
    assert "points" in report.summary()


def test_statistics_match_the_raw_points(sandbox: Sandbox, client: Client) -> None:
    stats = client.statistics(POWER, *DAY, aggregations=["avg", "max", "count"], window="1hour")
    assert list(stats.columns) == ["avg", "max", "count"]
    raw = expected_series(sandbox, "IMO1000001/ME ShaftPower", *DAY)
    hourly = raw.resample("1h")
    pd.testing.assert_series_equal(
        stats["avg"], hourly.mean().dropna(), check_names=False, check_freq=False, rtol=1e-9
    )
    pd.testing.assert_series_equal(
        stats["max"], hourly.max().dropna(), check_names=False, check_freq=False
    )
    counts = hourly.count()
    assert stats["count"].tolist() == counts[counts > 0].astype(float).tolist()


def test_statistics_many_series_many_aggregations(client: Client) -> None:
    stats = client.statistics("raalabs/*/ME ShaftPower", *DAY, aggregations="avg,min", window="6h")
    assert stats.columns.nlevels == 2
    assert set(stats.columns.get_level_values(1)) == {"avg", "min"}
    assert len(stats) == 4
    single = client.statistics("raalabs/*/ME ShaftPower", *DAY, window="6h")
    assert list(single.columns) == [f"IMO100000{i}/ME ShaftPower" for i in (1, 2, 3)]
    windowed = client.statistics("raalabs/*/ME ShaftPower", *DAY, window="6h", target_points=3)
    assert client.last_report is not None
    assert client.last_report.requests > 1
    pd.testing.assert_frame_equal(single, windowed)


def test_metadata_keeps_repeated_ids(sandbox: Sandbox, client: Client) -> None:
    meta = client.metadata("parameters/IMO1000001/AE Power/AE Power")
    assert len(meta) == 2
    assert meta["timeSeriesId"].nunique() == 2
    assert (meta["series"] == "IMO1000001/AE Power/AE Power").all()
    assert "mapsTo.raalabs" in meta.columns
    frame = client.measurements(
        "parameters/IMO1000001/AE Power/AE Power", "2025-01-01T00:00", "2025-01-01T01:00"
    )
    assert frame.shape[1] == 2
    assert all(c.startswith("IMO1000001/AE Power/AE Power [") for c in frame.columns)


def test_iter_frames_adds_up_to_measurements(client: Client) -> None:
    whole = client.measurements("raalabs/IMO1000001/*", *DAY, shape="long")
    parts = list(client.iter_frames("raalabs/IMO1000001/*", *DAY, target_points=50_000))
    assert len(parts) > 1
    joined = pd.concat(parts).sort_values(["series", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(whole, joined, check_like=True)


def test_plan_fetches_no_data(sandbox: Sandbox, client: Client) -> None:
    before = sandbox.stats.requests["measurements"]
    plan = client.plan("raalabs/*/*", "2025-01-01", "2025-01-08")
    assert sandbox.stats.requests["measurements"] == before
    assert len(plan.series) == 36
    assert plan.estimated_points == 36 * 7 * 86_400
    assert plan.requests[0].start == pd.Timestamp("2025-01-01", tz="UTC")
    assert "requests" in str(plan)


def test_get_series_with_client_and_from_env(
    sandbox: Sandbox, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = raadata.get_series(POWER, "2025-01-01T00:00", "2025-01-01T01:00", client=client)
    monkeypatch.setenv("RAADATA_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("RAADATA_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.setenv("RAADATA_ENVIRONMENT", sandbox.environment)
    monkeypatch.setenv("RAADATA_API_URL", sandbox.api_url)
    monkeypatch.setenv("RAADATA_TOKEN_URL", sandbox.token_url)
    from_env = raadata.get_series(POWER, "2025-01-01T00:00", "2025-01-01T01:00", progress=False)
    pd.testing.assert_frame_equal(direct, from_env)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "words"),
    [
        (("nodomain/IMO1000001/x", *DAY), {}, ValueError, "domain"),
        ((POWER, "2025-01-02", "2025-01-01"), {}, ValueError, "half-open"),
        ((POWER, "2025-01-01"), {"since": "1day"}, ValueError, "since"),
        ((POWER, *DAY), {"shape": "tall"}, ValueError, "shape"),
        ((POWER, *DAY), {"labels": "nick"}, ValueError, "labels"),
        ((POWER, *DAY), {"target_points": 0}, ValueError, "target_points"),
        ((POWER, *DAY), {"max_workers": 0}, ValueError, "max_workers"),
        ((42, *DAY), {}, TypeError, "str"),
    ],
)
def test_bad_arguments_fail_before_any_request(
    sandbox: Sandbox,
    client: Client,
    args: tuple[object, ...],
    kwargs: dict[str, object],
    error: type[Exception],
    words: str,
) -> None:
    before = sum(sandbox.stats.requests.values())
    with pytest.raises(error, match=words):
        client.measurements(*args, **kwargs)  # type: ignore[arg-type]
    if error is ValueError:
        assert sum(sandbox.stats.requests.values()) == before


def test_progress_bar_is_switchable(
    sandbox: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.faults.latency = 0.2
    args = ("raalabs/IMO1000001/ME ShaftPower", *DAY)
    client.measurements(*args, progress=True, max_workers=1, target_points=20_000)
    assert "raadata measurements" in capsys.readouterr().err
    client.measurements(*args, progress=False, max_workers=1, target_points=20_000)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("workers", [1, 3])
def test_iter_frames_holds_at_most_max_workers_plus_two_tables(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """However slowly the caller reads, decoded tables do not pile up: at most one per
    request in flight, the one being shaped and the frame's."""
    import weakref

    import raadata._fetch

    alive, most = [0], [0]
    fetch_task = raadata._fetch.fetch_task

    def counted(*args: object, **kwargs: object) -> object:
        table = fetch_task(*args, **kwargs)  # type: ignore[arg-type]
        alive[0] += 1
        most[0] = max(most[0], alive[0])
        weakref.finalize(table, lambda: alive.__setitem__(0, alive[0] - 1))
        return table

    monkeypatch.setattr(raadata._fetch, "fetch_task", counted)
    with sandbox.client(progress=False, max_workers=workers) as client:
        frames = client.iter_frames("raalabs/IMO1000001/*", *DAY, target_points=20_000)
        count = 0
        for _ in frames:
            time.sleep(0.02)  # a slow reader: finished requests wait for it
            count += 1
    assert count > 3 * (workers + 2)
    assert 1 <= most[0] <= workers + 2
