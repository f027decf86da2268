"""``get``/``stats``/``latest`` output for people: CSV that spreadsheets open, local times,
calendar periods and downsampling from the command line."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from raadata import Client
from raadata.sandbox import Sandbox

from .conftest import POWER, RANGE, invoke, sandbox_env


@pytest.fixture
def env(sandbox: Sandbox) -> dict[str, str]:
    return sandbox_env(sandbox)


def test_excel_csv_has_one_header_row_with_units_and_local_times(
    env: dict[str, str], client: Client
) -> None:
    result = invoke(["get", POWER, *RANGE, "--format", "csv", "--excel", "--tz", "Europe/Oslo",
                     "--decimal", ",", "--decimals", "1"], env)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("\ufeff")
    header, first = text.lstrip("\ufeff").splitlines()[:2]
    assert header == "timestamp;IMO1000001/ME ShaftPower [kW]"
    stamp, value = first.split(";")
    assert "+" not in stamp
    assert "T" not in stamp
    frame = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=";", decimal=",",
                        index_col="timestamp", parse_dates=["timestamp"])
    expected = client.measurements(POWER, *(r for r in RANGE[1::2]), tz="Europe/Oslo")
    local = expected.index.tz_localize(None)
    assert list(frame.index) == list(local)
    got = frame.iloc[:, 0].to_numpy()
    want = expected.iloc[:, 0].round(1).to_numpy()
    assert ((got == want) | (pd.isna(got) & pd.isna(want))).all()
    assert "," in value or value == ""  # decimal comma


def test_several_aggregations_give_one_header_row(env: dict[str, str]) -> None:
    result = invoke(["stats", POWER, "raalabs/IMO1000002/ME ShaftPower", *RANGE,
                     "--window", "1hour", "--aggregations", "avg,max", "--format", "csv",
                     "--excel"], env)
    assert result.exit_code == 0, result.output
    header = result.stdout.lstrip("\ufeff").splitlines()[0]
    assert header.split(";")[0] == "timestamp"
    assert "IMO1000001/ME ShaftPower avg [kW]" in header.split(";")
    assert not result.stdout.lstrip("\ufeff").splitlines()[1].startswith(("series", "aggr"))


def test_get_downsamples_over_a_calendar_day(env: dict[str, str], client: Client) -> None:
    result = invoke(["get", POWER, "--year", "2025", "--month", "1", "--day", "1",
                     "--window", "6hours", "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout), index_col="timestamp")
    expected = client.statistics(POWER, year=2025, month=1, day=1, window="6hours")
    assert len(frame) == len(expected) == 4
    assert frame.iloc[:, 0].round(6).tolist() == expected.iloc[:, 0].round(6).tolist()


def test_latest_prints_one_row_per_series(env: dict[str, str], client: Client) -> None:
    result = invoke(["latest", "raalabs/*/ME ShaftPower", "--lookback", "1hour",
                     "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout), index_col="series")
    expected = client.latest("raalabs/*/ME ShaftPower", lookback="1hour")
    assert list(frame.index) == list(expected.index)
    assert list(frame["unit"]) == ["kW"] * len(expected)


def test_same_separator_and_decimal_mark_is_refused(env: dict[str, str]) -> None:
    result = invoke(["get", POWER, *RANGE, "--format", "csv", "--sep", ",", "--decimal", ","],
                    env)
    assert result.exit_code == 2
    assert "--sep and --decimal" in result.output
