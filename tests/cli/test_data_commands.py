"""``metadata``, ``get``, ``stats`` and ``export`` in-process: what they print and write is
what the library returns for the same arguments."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from raadata import Client
from raadata.sandbox import Sandbox

from .conftest import END, POWER, RANGE, START, invoke, sandbox_env

SERIES = [POWER, "raalabs/IMO1000001/Nav SOG", "raalabs/IMO1000002/ME ShaftSpeed"]
SHARED = "parameters/IMO1000001/AE Power/AE Power"
"""One id in the parameters domain that two series share (AE1 and AE2 power)."""


@pytest.fixture
def env(sandbox: Sandbox) -> dict[str, str]:
    return sandbox_env(sandbox)


def wide_from_csv(text: str) -> pd.DataFrame:
    """A wide frame back from ``get --format csv`` (UTC index, columns named "series")."""
    frame = pd.read_csv(io.StringIO(text), index_col="timestamp")
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index, utc=True), name="timestamp")
    frame.columns.name = "series"
    return frame


def long_from_csv(text: str) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(text), index_col=0)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal values and labels; time resolution and string dtypes may differ in text."""
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False,
                                  check_column_type=False)


# -- get ----------------------------------------------------------------------------------


def test_get_csv_to_stdout_matches_measurements(env: dict[str, str], client: Client) -> None:
    result = invoke(["get", *SERIES, *RANGE, "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    got = wide_from_csv(result.stdout)
    expected = client.measurements(SERIES, START, END)
    assert got.shape == (600, 3)
    assert got.isna().any().any()  # Nav SOG is sampled every 5 s: NaN between its points
    same(got, expected)
    assert client.last_report is not None
    points = client.last_report.points  # NaN values are points too
    assert result.stderr.startswith(f"measurements: {points:,} points from 3 series")


def test_get_csv_to_a_file(env: dict[str, str], client: Client, tmp_path: Path) -> None:
    out = tmp_path / "power.csv"
    result = invoke(["get", POWER, *RANGE, "--format", "csv", "-o", str(out)], env)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote 600 rows to {out}" in result.stderr
    same(wide_from_csv(out.read_text()), client.measurements(POWER, START, END))


def test_get_long_csv_matches_long_measurements(env: dict[str, str], client: Client) -> None:
    result = invoke(["get", *SERIES, *RANGE, "--shape", "long", "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    got = long_from_csv(result.stdout)
    assert list(got.columns) == ["timestamp", "series", "id", "value"]
    same(got, client.measurements(SERIES, START, END, shape="long"))


def test_get_json_round_trips(env: dict[str, str], client: Client) -> None:
    result = invoke(["get", *SERIES, *RANGE, "--format", "json"], env)
    assert result.exit_code == 0, result.output
    got = pd.read_json(io.StringIO(result.stdout), orient="table")
    got.columns.name = "series"
    same(got, client.measurements(SERIES, START, END))


def test_get_table_is_readable(env: dict[str, str]) -> None:
    result = invoke(["get", POWER, *RANGE], env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "IMO1000001/ME ShaftPower" in lines[0]
    assert lines[2].startswith("2025-01-01 00:00:00+00:00")
    assert len(lines) < 80  # long frames are abbreviated, not dumped


def test_get_with_a_default_domain_and_uuid_labels(env: dict[str, str], client: Client) -> None:
    result = invoke(["get", "IMO1000001/ME ShaftPower", "--domain", "raalabs", *RANGE,
                     "--labels", "uuid", "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    uuid = client.series(POWER)[0].uuid
    assert list(wide_from_csv(result.stdout).columns) == [uuid]


def test_get_accepts_epoch_seconds(env: dict[str, str], client: Client) -> None:
    """``--start``/``--end`` help says "ISO 8601 or epoch seconds": 1735689600 is
    2025-01-01T00:00:00Z.

    Fails today: the CLI hands the text "1735689600" to the library, which reads strings
    as ISO 8601 only ("year 1735689600 is out of range").
    """
    result = invoke(["get", POWER, "--start", "1735689600", "--end", "1735689603",
                     "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    same(wide_from_csv(result.stdout),
         client.measurements(POWER, "2025-01-01T00:00:00", "2025-01-01T00:00:03"))


def test_get_parquet_to_a_file(env: dict[str, str], client: Client, tmp_path: Path) -> None:
    """``--format parquet -o FILE`` writes a readable file (``attrs`` must be JSON-able:
    pandas stores them in the Parquet metadata)."""
    out = tmp_path / "power.parquet"
    result = invoke(["get", *SERIES, *RANGE, "--format", "parquet", "-o", str(out)], env)
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
    assert f"wrote 600 rows to {out}" in result.stderr
    same(pd.read_parquet(out), client.measurements(SERIES, START, END))


def test_parquet_needs_a_file(env: dict[str, str]) -> None:
    result = invoke(["get", POWER, *RANGE, "--format", "parquet"], env)
    assert result.exit_code == 2  # a usage error, reported by click
    assert "--format parquet needs --out FILE" in result.stderr


# -- metadata -----------------------------------------------------------------------------


def test_metadata_table_lists_every_series_of_a_vessel(env: dict[str, str],
                                                       client: Client) -> None:
    result = invoke(["metadata", "raalabs/IMO1000001/*"], env)
    assert result.exit_code == 0, result.output
    expected = client.metadata("raalabs/IMO1000001/*")
    assert len(expected) == 12
    for series in expected["series"]:
        assert series in result.stdout


def test_metadata_csv_matches_the_library(env: dict[str, str], client: Client) -> None:
    result = invoke(["metadata", "raalabs/IMO1000001/*", "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(io.StringIO(result.stdout), index_col=0)
    expected = client.metadata("raalabs/IMO1000001/*")
    same(got[["series", "name", "uom", "timeSeriesId"]],
         expected[["series", "name", "uom", "timeSeriesId"]])
    assert list(got.columns) == list(expected.columns)


def test_metadata_keeps_a_shared_domain_id_as_two_rows(env: dict[str, str]) -> None:
    result = invoke(["metadata", SHARED, "--format", "json"], env)
    assert result.exit_code == 0, result.output
    got = pd.read_json(io.StringIO(result.stdout), orient="table")
    assert list(got["series"]) == ["IMO1000001/AE Power/AE Power"] * 2
    assert sorted(got["mapsTo.raalabs"]) == ["IMO1000001/AE1 Power", "IMO1000001/AE2 Power"]
    assert got["timeSeriesId"].nunique() == 2


def test_metadata_parquet_to_a_file(env: dict[str, str], client: Client,
                                    tmp_path: Path) -> None:
    out = tmp_path / "meta.parquet"
    result = invoke(["metadata", "raalabs/IMO1000003/*", "--format", "parquet", "-o", str(out)],
                    env)
    assert result.exit_code == 0, result.output
    assert f"wrote 12 rows to {out}" in result.stderr
    same(pd.read_parquet(out), client.metadata("raalabs/IMO1000003/*"))


# -- stats --------------------------------------------------------------------------------

HOURS = ["--start", "2025-01-01T00:00", "--end", "2025-01-01T06:00"]


def test_stats_long_csv_matches_statistics(env: dict[str, str], client: Client) -> None:
    result = invoke(["stats", "raalabs/*/ME ShaftPower", *HOURS, "--window", "1hour",
                     "--aggregations", "avg,max,count", "--shape", "long", "--format", "csv"],
                    env)
    assert result.exit_code == 0, result.output
    got = long_from_csv(result.stdout)
    expected = client.statistics("raalabs/*/ME ShaftPower", "2025-01-01T00:00",
                                 "2025-01-01T06:00", aggregations="avg,max,count",
                                 window="1hour", shape="long")
    assert set(got["aggregation"]) == {"avg", "max", "count"}
    assert set(got["series"]) == {f"IMO100000{n}/ME ShaftPower" for n in (1, 2, 3)}
    same(got, expected)


def test_stats_wide_one_series_to_a_file(env: dict[str, str], client: Client,
                                         tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    result = invoke(["stats", POWER, *HOURS, "--window", "15min", "--aggregations", "max,avg",
                     "--format", "csv", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out, index_col="timestamp")
    assert list(got.columns) == ["max", "avg"]  # in the order asked for
    assert len(got) == 24
    expected = client.statistics(POWER, "2025-01-01T00:00", "2025-01-01T06:00",
                                 aggregations="max,avg", window="15min")
    assert got["avg"].tolist() == pytest.approx(expected["avg"].tolist())


def test_stats_table_has_both_levels(env: dict[str, str]) -> None:
    result = invoke(["stats", "raalabs/*/ME ShaftPower", *HOURS, "--window", "1hour",
                     "--aggregations", "avg,max"], env)
    assert result.exit_code == 0, result.output
    head = result.stdout.splitlines()
    assert "IMO1000003/ME ShaftPower" in head[0]
    assert head[1].split()[:3] == ["aggregation", "avg", "max"]


def test_stats_json_with_several_series_and_aggregations(env: dict[str, str]) -> None:
    """The README's stats example with ``--format json``: two-level columns (series,
    aggregation) are flattened to ``series:aggregation`` (``to_json(orient="table")`` cannot
    write a MultiIndex)."""
    result = invoke(["stats", "raalabs/*/ME ShaftPower", *HOURS, "--window", "1hour",
                     "--aggregations", "avg,max", "--format", "json"], env)
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
    got = pd.read_json(io.StringIO(result.stdout), orient="table")
    assert list(got.columns) == [f"IMO100000{n}/ME ShaftPower:{agg}"
                                 for n in (1, 2, 3) for agg in ("avg", "max")]
    assert len(got) == 6


def test_stats_parquet_to_a_file(env: dict[str, str], client: Client,
                                 tmp_path: Path) -> None:
    """Two-level columns (series, aggregation) survive the Parquet round trip."""
    out = tmp_path / "stats.parquet"
    result = invoke(["stats", "raalabs/*/ME ShaftPower", *HOURS, "--window", "1hour",
                     "--aggregations", "avg,max", "--format", "parquet", "-o", str(out)], env)
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
    expected = client.statistics("raalabs/*/ME ShaftPower", "2025-01-01T00:00",
                                 "2025-01-01T06:00", aggregations="avg,max", window="1hour")
    same(pd.read_parquet(out), expected)


# -- export -------------------------------------------------------------------------------

DAYS = ["--start", "2025-01-01T22:00", "--end", "2025-01-02T02:00"]
"""Four hours across midnight: two (vessel, day) units per vessel."""


def read_dataset(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path).drop(columns=["vessel", "date"])
    return frame.sort_values(["series", "timestamp"]).reset_index(drop=True)


def test_export_writes_the_same_rows_and_resumes(env: dict[str, str], client: Client,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    selector = "raalabs/*/ME ShaftPower"
    first = invoke(["export", selector, *DAYS, "--out", str(out)], env)
    assert first.exit_code == 0, first.output
    expected = client.measurements(selector, "2025-01-01T22:00", "2025-01-02T02:00",
                                   shape="long")
    rows = len(expected)
    lines = first.stdout.splitlines()
    assert lines[0] == f"{out}: {rows:,} rows in 6 new files; 6 units written, 0 already done"
    assert lines[1].startswith(f"measurements: {rows:,} points from 3 series")
    same(read_dataset(out), expected)
    dataset = ds.dataset(out, format="parquet", partitioning="hive")
    assert sorted(set(dataset.to_table(columns=["vessel"])["vessel"].to_pylist())) == [
        "IMO1000001", "IMO1000002", "IMO1000003"]
    sidecar = json.loads((out / "_raadata.json").read_text())
    assert sidecar["spec"]["selectors"] == [selector]
    assert sidecar["complete"] is True

    again = invoke(["export", selector, *DAYS, "--out", str(out)], env)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == (
        f"{out}: 0 rows in 0 new files; 0 units written, 6 already done")
    same(read_dataset(out), expected)


def test_export_refuses_other_arguments_unless_overwrite(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    assert invoke(["export", POWER, *RANGE, "--out", str(out)], env).exit_code == 0
    refused = invoke(["export", "raalabs/IMO1000002/ME ShaftPower", *RANGE, "--out", str(out)],
                     env)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ")
    assert "--overwrite" in refused.stderr
    replaced = invoke(["export", "raalabs/IMO1000002/ME ShaftPower", *RANGE, "--out", str(out),
                       "--overwrite"], env)
    assert replaced.exit_code == 0, replaced.output
    assert set(pd.read_parquet(out)["series"]) == {"IMO1000002/ME ShaftPower"}


def test_export_statistics_partitioned_by_date(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "stats"
    result = invoke(["export", "raalabs/*/ME ShaftPower", *DAYS, "--out", str(out), "--stats",
                     "--aggregations", "avg,max", "--window", "1hour", "--partition-by", "date"],
                    env)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("date=*")) == [
        "date=2025-01-01", "date=2025-01-02"]
    frame = pd.read_parquet(out)
    assert set(frame["aggregation"]) == {"avg", "max"}
    assert frame.groupby(["series", "aggregation"]).size().max() == 4  # hours


def test_get_dry_run_prints_the_plan_and_fetches_no_data(
    env: dict[str, str], sandbox: Sandbox
) -> None:
    before = sandbox.stats.requests["measurements"]
    result = invoke(["get", "raalabs/*/*", "--start", "2025-01-01", "--end", "2025-01-08",
                     "--dry-run"], env)
    assert result.exit_code == 0, result.output
    assert "36 series" in result.stdout
    assert "requests" in result.stdout
    assert sandbox.stats.requests["measurements"] == before
