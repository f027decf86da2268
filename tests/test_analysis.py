"""The analyst's layer end to end against the sandbox: downsampling in one call, complete
windows, fleet-shaped columns, latest values, display time zones and notebook reprs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import raadata
from raadata import Client
from raadata.sandbox import Sandbox, serve

NOW = "2025-01-03T00:00:00Z"
DAY = ("2025-01-01", "2025-01-02")
POWER = "raalabs/*/ME ShaftPower"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with serve(now=NOW) as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    sandbox.stats.reset()
    with sandbox.client(progress=False) as c:
        yield c


def test_get_series_downsamples_in_one_call(client: Client) -> None:
    direct = client.statistics(POWER, *DAY, aggregations="avg", window="1hour")
    one_call = raadata.get_series(POWER, *DAY, client=client, window="1hour", aggregations="avg")
    pd.testing.assert_frame_equal(one_call, direct)
    assert len(one_call) == 24
    assert client.last_report is not None
    assert client.last_report.kind == "statistics"


def test_window_alone_means_the_average(client: Client) -> None:
    frame = client.measurements("raalabs/IMO1000001/ME ShaftPower", *DAY, window="6hours")
    assert list(frame.columns) == ["IMO1000001/ME ShaftPower"]
    assert len(frame) == 4


def test_complete_windows_do_not_depend_on_the_number_of_series(client: Client) -> None:
    # the fleet's data starts on 2024-01-01: the first two windows are empty for every series
    span = ("2023-12-31T22:00:00Z", "2024-01-01T04:00:00Z")
    one = client.statistics("raalabs/IMO1000001/ME ShaftPower", *span, window="1hour",
                            aggregations=["count", "avg"], complete=True, shape="long")
    several = client.statistics(POWER, *span, window="1hour", aggregations=["count", "avg"],
                                complete=True, shape="long")
    n_series = several["series"].nunique()
    assert n_series > 1
    assert len(one) == 6 * 2
    assert len(several) == 6 * 2 * n_series
    empty = one[one["timestamp"] < pd.Timestamp("2024-01-01", tz="UTC")]
    assert empty.loc[empty["aggregation"] == "count", "value"].tolist() == [0.0, 0.0]
    assert empty.loc[empty["aggregation"] == "avg", "value"].isna().all()
    full = one[one["timestamp"] >= pd.Timestamp("2024-01-01", tz="UTC")]
    assert (full.loc[full["aggregation"] == "count", "value"] > 0).all()
    wide = client.statistics("raalabs/IMO1000001/ME ShaftPower", *span, window="1hour",
                             aggregations="count", complete=True)
    assert len(wide) == 6
    without = client.statistics("raalabs/IMO1000001/ME ShaftPower", *span, window="1hour",
                                aggregations="count")
    assert len(without) == 4  # empty windows are left out unless complete=True


def test_fleet_columns_have_vessel_and_tag_levels(client: Client) -> None:
    frame = client.measurements("raalabs/*/*", "2025-01-01T00:00:00Z", "2025-01-01T00:10:00Z",
                                columns="fleet")
    assert frame.columns.names == ["vessel", "tag"]
    power = frame.xs("ME ShaftPower", level="tag", axis=1)
    assert list(power.columns) == sorted({v for v, _ in frame.columns})
    flat = client.measurements("raalabs/*/*", "2025-01-01T00:00:00Z", "2025-01-01T00:10:00Z")
    for vessel in power.columns:
        np.testing.assert_array_equal(power[vessel].to_numpy(),
                                      flat[f"{vessel}/ME ShaftPower"].to_numpy())
    assert set(frame.attrs["vessels"]) == set(power.columns)
    assert all(isinstance(name, str) and name for name in frame.attrs["vessels"].values())


def test_name_labels_carry_the_vessel_name_for_a_fleet(client: Client) -> None:
    frame = client.measurements(POWER, "2025-01-01T00:00:00Z", "2025-01-01T00:05:00Z",
                                labels="name")
    names = frame.attrs["vessels"]
    assert len(frame.columns) == len(names) > 1
    for column in frame.columns:
        vessel, _, series = column.partition(" / ")
        assert vessel in names.values()
        assert series
        assert "[" not in series
    single = client.measurements("raalabs/IMO1000001/ME ShaftPower", "2025-01-01T00:00:00Z",
                                 "2025-01-01T00:05:00Z", labels="name")
    assert " / " not in single.columns[0]


def test_statistics_fleet_columns(client: Client) -> None:
    frame = client.statistics(POWER, *DAY, window="1day", aggregations="avg", columns="fleet")
    assert frame.columns.names == ["vessel", "tag", "aggregation"]
    assert frame.xs("avg", level="aggregation", axis=1).shape[1] == len(frame.attrs["vessels"])


def test_latest_gives_one_row_per_series(client: Client, sandbox: Sandbox) -> None:
    latest = client.latest(POWER, lookback="1hour")
    long = client.measurements(POWER, since="1hour", shape="long")
    assert list(latest.columns) == ["timestamp", "value", "unit"]
    assert latest.index.name == "series"
    assert len(latest) == long["series"].nunique()
    for label, row in latest.iterrows():
        rows = long[(long["series"] == label) & long["value"].notna()]
        assert row["timestamp"] == rows["timestamp"].iloc[-1]
        assert row["value"] == rows["value"].iloc[-1]
        assert row["unit"] == "kW"
        assert row["timestamp"] >= pd.Timestamp(NOW) - pd.Timedelta(hours=1)


def test_latest_refuses_another_time_range(client: Client) -> None:
    with pytest.raises(TypeError, match="lookback"):
        client.latest(POWER, since="1day")  # type: ignore[call-arg]


def test_tz_changes_only_how_instants_show(client: Client) -> None:
    utc = client.measurements("raalabs/IMO1000001/ME ShaftPower", *DAY)
    oslo = client.measurements("raalabs/IMO1000001/ME ShaftPower", *DAY, tz="Europe/Oslo")
    assert str(oslo.index.tz) == "Europe/Oslo"
    assert (oslo.index == utc.index).all()  # the same instants
    long = client.measurements("raalabs/IMO1000001/ME ShaftPower", *DAY, tz="Asia/Tokyo",
                               shape="long")
    assert str(long["timestamp"].dt.tz) == "Asia/Tokyo"


@pytest.mark.parametrize(("tz", "error"), [("Mars/Olympus", ValueError), (1, TypeError)])
def test_bad_tz_is_refused_before_any_request(
    client: Client, sandbox: Sandbox, tz: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="time zone"):
        client.measurements(POWER, *DAY, tz=tz)  # type: ignore[arg-type]
    assert sandbox.stats.requests["measurements"] == sandbox.stats.requests["metadata"] == 0


def test_bad_columns_is_refused(client: Client) -> None:
    with pytest.raises(ValueError, match="columns"):
        client.measurements(POWER, *DAY, columns="wide")  # type: ignore[arg-type]


def test_results_show_briefly_and_as_html(client: Client) -> None:
    plan = client.plan("raalabs/*/*", "2025-01-01", "2025-02-01")
    assert len(repr(plan)) < 200
    assert repr(plan).startswith("Plan(")
    assert "<table>" in plan._repr_html_()
    assert "requests" in plan._repr_html_()
    client.measurements(POWER, *DAY)
    report = client.last_report
    assert report is not None
    assert "\n" not in repr(report)
    assert repr(report).startswith("PullReport(")
    assert "IMO1000001/ME ShaftPower" in report._repr_html_()
    identity = client.whoami()
    assert identity.client_id in identity._repr_html_()
    assert client.access_token() not in identity._repr_html_()


def test_a_denied_selector_is_skipped_with_a_warning_when_asked(sandbox: Sandbox) -> None:
    selectors = ["raalabs/IMO1000001/ME ShaftPower", "raalabs/IMO1000002/ME ShaftPower"]
    with sandbox.client(client_id="sandbox-vessel", progress=False) as vessel_client:
        with pytest.raises(raadata.PermissionDeniedError):
            vessel_client.measurements(selectors, *DAY)
        with pytest.warns(raadata.ScopeWarning, match="IMO1000002"):
            frame = vessel_client.measurements(selectors, *DAY, on_denied="skip")
        assert list(frame.columns) == ["IMO1000001/ME ShaftPower"]
        with pytest.raises(raadata.PermissionDeniedError):  # every selector denied: the error
            vessel_client.measurements(selectors[1:], *DAY, on_denied="skip")


def test_no_client_id_points_at_the_sandbox() -> None:
    with pytest.raises(raadata.ConfigurationError, match="raadata demo"):
        Client.from_env({}, environment="x")


def test_permission_denied_names_the_callers_scopes(sandbox: Sandbox) -> None:
    with (sandbox.client(client_id="sandbox-vessel", progress=False) as vessel_client,
          pytest.raises(raadata.PermissionDeniedError) as caught):
        vessel_client.measurements("raalabs/IMO1000002/ME ShaftPower", *DAY)
    assert "prism/read:IMO1000001" in str(caught.value)
    assert caught.value.status == 403


def test_categorical_long_frames_hold_the_same_rows(client: Client) -> None:
    plain = client.measurements(POWER, *DAY, shape="long")
    small = client.measurements(POWER, *DAY, shape="long", categorical=True)
    assert isinstance(small["series"].dtype, pd.CategoricalDtype)
    assert isinstance(small["id"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(small.astype({"series": "str", "id": "str"}), plain)
    assert small.memory_usage(deep=True).sum() < plain.memory_usage(deep=True).sum() / 2
    parts = list(client.iter_frames(POWER, *DAY, categorical=True))
    assert all(isinstance(p["series"].dtype, pd.CategoricalDtype) for p in parts)
    assert sum(len(p) for p in parts) == len(plain)
