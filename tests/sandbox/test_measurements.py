"""GET and POST /measurements over real HTTP: formats, time ranges, domains, errors, limits."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from raadata.sandbox import Sandbox
from raadata.sandbox.clock import US_PER_S, format_us, to_us
from raadata.sandbox.fleet import SHARED_PARAMETERS_ID

from .conftest import NOW, POWER, POWER_PATH, Http, expected_rows, uuid_of

DATA = f"measurements/raalabs/{POWER_PATH}"
RANGE = {"from": "2025-01-01T00:00:00.000000Z", "to": "2025-01-01T00:10:00.000000Z"}


def rows_of(r: Any) -> list[dict[str, Any]]:
    """Decode a measurements body in any format to JSON-like rows."""
    ctype = r.headers["Content-Type"]
    if ctype == "application/json":
        return list(json.loads(r.content))
    if ctype == "application/x-ndjson":
        assert r.text == "" or r.text.endswith("\n")
        return [json.loads(line) for line in r.text.splitlines()]
    assert ctype == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.content))
    return [{"id": row["id"], "timestamp": format_us(to_us(row["timestamp"])),
             "value": row["value"]} for row in table.to_pylist()]


def test_the_documented_measurement_call(http: Http, sb: Sandbox) -> None:
    r = http.get(DATA, params=RANGE)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["x-api-version"] == "2025-10-31"
    assert r.headers["x-request-id"]
    rows = r.json()
    assert rows == expected_rows(sb, uuid_of(sb, POWER), RANGE["from"], RANGE["to"])
    assert len(rows) == 600
    assert rows[0] == {"id": "b9723c91-e702-5585-8d09-876871a58413",
                       "timestamp": "2025-01-01T00:00:00.000000Z", "value": 6169.1}


@pytest.mark.parametrize(("params", "headers"), [
    ({"format": "json"}, {}),
    ({"format": "ndjson"}, {}),
    ({"format": "parquet"}, {}),
    ({}, {"Accept": "application/json"}),
    ({}, {"Accept": "application/x-ndjson"}),
    ({}, {"Accept": "application/vnd.apache.parquet"}),
    ({"format": "ndjson"}, {"Accept": "application/vnd.apache.parquet"}),
])
def test_every_format_holds_the_same_rows(http: Http, sb: Sandbox, params: dict[str, str],
                                          headers: dict[str, str]) -> None:
    selector = "raalabs/IMO1000001/*"  # many series, intervals and some NaNs
    day = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T03:00:00Z"}
    r = http.get(f"measurements/{selector.replace(' ', '%20')}", params={**day, **params},
                 headers=headers)
    assert r.status_code == 200
    expected = [row for s in sorted(sb.fleet.series, key=lambda s: s.uuid)
                if s.imo == "IMO1000001"
                for row in expected_rows(sb, s.uuid, day["from"], day["to"])]
    assert any(row["value"] is None for row in expected)
    assert rows_of(r) == expected


def test_parquet_columns_have_the_agreed_types(http: Http) -> None:
    r = http.get(DATA, params={**RANGE, "format": "parquet"})
    table = pq.read_table(io.BytesIO(r.content))
    assert table.schema.names == ["id", "timestamp", "value"]
    assert table.schema.field("id").type == pa.string()
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("value").type == pa.float64()


def test_empty_results_in_every_format(http: Http) -> None:
    before = {"from": "2023-01-01T00:00:00Z", "to": "2023-01-02T00:00:00Z"}
    assert http.get(DATA, params=before).content == b"[]"
    assert http.get(DATA, params={**before, "format": "ndjson"}).content == b""
    r = http.get(DATA, params={**before, "format": "parquet"})
    assert pq.read_table(io.BytesIO(r.content)).num_rows == 0


@pytest.mark.parametrize(("params", "headers", "status"), [
    ({"format": "csv"}, {}, 400),
    ({}, {"Accept": "text/csv"}, 406),
    ({}, {"Accept": "application/json;q=0"}, 406),
])
def test_format_refusals(http: Http, params: dict[str, str], headers: dict[str, str],
                         status: int) -> None:
    r = http.get(DATA, params={**RANGE, **params}, headers=headers)
    assert r.status_code == status
    assert set(r.json()) == {"error"}


def test_api_version_is_echoed_and_checked(http: Http) -> None:
    for version in ("2025-10-31", "2025-04-30"):
        r = http.get(DATA, params=RANGE, headers={"x-api-version": version})
        assert (r.status_code, r.headers["x-api-version"]) == (200, version)
    r = http.get(DATA, params=RANGE, headers={"x-api-version": "2020-01-01"})
    assert r.status_code == 400
    assert "x-api-version" in r.json()["error"]


def stamps(http: Http, params: dict[str, str], path: str = DATA) -> tuple[str, str, int]:
    r = http.get(path, params=params)
    assert r.status_code == 200, r.text
    rows = r.json()
    return rows[0]["timestamp"], rows[-1]["timestamp"], len(rows)


def test_default_range_is_the_last_hour_before_now(http: Http) -> None:
    # now = 2025-01-02T00:00:00Z; a 60 s series has 60 points in the hour before
    sw = "measurements/raalabs/IMO1000001/SW%20Temp"
    assert stamps(http, {}, sw) == ("2025-01-01T23:00:00.000000Z",
                                    "2025-01-01T23:59:00.000000Z", 60)


@pytest.mark.parametrize(("params", "first", "last"), [
    ({"since": "10min"}, "2025-01-01T23:50:00", "2025-01-01T23:59:00"),
    ({"last": "1day"}, "2025-01-01T00:00:00", "2025-01-01T23:59:00"),
    ({"year": "2024", "month": "3", "day": "5"}, "2024-03-05T00:00:00", "2024-03-05T23:59:00"),
    ({"year": "2024", "month": "12"}, "2024-12-01T00:00:00", "2024-12-31T23:59:00"),
    ({"from_epoch": "1735689600", "to_epoch": "1735690200"},
     "2025-01-01T00:00:00", "2025-01-01T00:09:00"),
    ({"from": "2025-01-01T00:00:30Z", "to": "2025-01-01T00:10:00Z"},
     "2025-01-01T00:01:00", "2025-01-01T00:09:00"),
    ({"from": "2025-01-01T23:55:00Z"}, "2025-01-01T23:55:00", "2025-01-01T23:59:00"),
    ({"from": "2025-01-01T23:55:00Z", "to": "2030-01-01T00:00:00Z"},
     "2025-01-01T23:55:00", "2025-01-01T23:59:00"),
])
def test_time_parameters(http: Http, params: dict[str, str], first: str, last: str) -> None:
    sw = "measurements/raalabs/IMO1000002/SW%20Temp"  # 60 s, no outage on these days
    got = stamps(http, params, sw)
    assert got[:2] == (first + ".000000Z", last + ".000000Z")


def test_year_2024_is_refused_for_its_size_but_counted(http: Http, sb: Sandbox) -> None:
    sw = "measurements/raalabs/IMO1000002/SW%20Temp"
    points = sb.fleet.count(uuid_of(sb, "IMO1000002/SW Temp"), "2024-01-01", "2025-01-01")
    assert 500_000 < points < 527_040  # a leap year of minutes, less the outages
    sb.point_limit = points
    assert len(http.get(sw, params={"year": "2024"}).json()) == points
    sb.point_limit = points - 1
    r = http.get(sw, params={"year": "2024"})
    assert r.status_code == 413
    assert str(points) in r.json()["error"]


@pytest.mark.parametrize("params", [
    {"from": "2025-01-01T00:00:00Z", "since": "1h"},
    {"to": "2025-01-01T00:00:00Z"},
    {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
    {"from": "soon"},
    {"since": "1fortnight"},
    {"last": "-1d"},
    {"month": "1"},
    {"year": "2025", "day": "1"},
    {"year": "2025", "month": "2", "day": "30"},
    {"start": "2025-01-01T00:00:00Z"},
    {"window": "1m"},
    {"verbose": "true"},
])
def test_bad_parameters_are_400(http: Http, params: dict[str, str]) -> None:
    r = http.get(DATA, params=params)
    assert r.status_code == 400
    assert set(r.json()) == {"error"}
    assert r.headers["x-api-version"] == "2025-10-31"


def test_a_repeated_parameter_is_400(http: Http) -> None:
    r = http.get(f"{DATA}?since=1h&since=2h")
    assert r.status_code == 400


def test_data_stops_before_now(http: Http, sb: Sandbox) -> None:
    sb.now = "2025-01-01T00:00:10.5Z"
    assert stamps(http, {"since": "1day"})[1] == "2025-01-01T00:00:10.000000Z"
    sb.now = "2025-01-01T00:00:10Z"
    assert stamps(http, {"since": "1day"})[1] == "2025-01-01T00:00:09.000000Z"
    sb.now = "2023-06-01T00:00:00Z"
    assert http.get(DATA, params={"since": "1day"}).json() == []


def test_outages_leave_gaps(http: Http, sb: Sandbox) -> None:
    vessel = sb.fleet.vessel("IMO1000001")
    sb.now = "2025-02-01T00:00:00Z"
    day = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-04T00:00:00Z"}
    sw = "measurements/raalabs/IMO1000001/SW%20Temp"
    stamps_us = [to_us(r["timestamp"]) for r in http.get(sw, params=day).json()]
    gaps = {b - a for a, b in itertools.pairwise(stamps_us) if b - a > 60 * US_PER_S}
    assert gaps == {(vessel.outage_duration_s + 60) * US_PER_S}


@pytest.mark.parametrize("domain", ["id", "raalabs", "jsmea", "parameters", "maker", "vis-3-8a"])
def test_every_domain_names_the_series(http: Http, sb: Sandbox, domain: str) -> None:
    spec = sb.fleet.get(uuid_of(sb, "IMO1000001/AE1 Power"))
    path = "/".join(level.replace(" ", "%20") for level in spec.ids[domain].split("/"))
    rows = http.get(f"measurements/{domain}/{path}", params=RANGE).json()
    ids = {row["id"] for row in rows}
    if domain == "parameters":  # shared by AE1 Power and AE2 Power
        assert spec.ids[domain] == SHARED_PARAMETERS_ID
        assert ids == {spec.uuid, uuid_of(sb, "IMO1000001/AE2 Power")}
    else:
        assert ids == {spec.uuid}


def test_jsmea_path_keeps_empty_levels(http: Http, sb: Sandbox) -> None:
    r = http.get("measurements/jsmea/IMO1000001/jsmea_mac/MainEngine/DrivingShaft/Output//Power/",
                 params=RANGE)
    assert {row["id"] for row in r.json()} == {uuid_of(sb, POWER)}
    r = http.get("measurements/jsmea/IMO1000001/jsmea_mac/MainEngine/DrivingShaft/Output/Power",
                 params=RANGE)
    assert r.status_code == 404


def test_wildcards_over_http_and_row_order(http: Http, sb: Sandbox) -> None:
    r = http.get("measurements/raalabs/*/ME%20Shaft*", params={**RANGE, "format": "ndjson"})
    rows = rows_of(r)
    keys = [(row["id"], row["timestamp"]) for row in rows]
    assert keys == sorted(keys)  # by series, then time
    assert len({row["id"] for row in rows}) == 9


def test_id_domain_with_a_list(http: Http, sb: Sandbox) -> None:
    a, b = sb.fleet.series[0].uuid, sb.fleet.series[4].uuid
    rows = http.get(f"measurements/id/{b},{a}", params=RANGE).json()
    assert {row["id"] for row in rows} == {a, b}


def test_post_query_with_many_selectors(http: Http, sb: Sandbox) -> None:
    body = ["raalabs/IMO1000001/ME ShaftPower", f"id/{uuid_of(sb, POWER)}",
            "jsmea/IMO1000002/jsmea_mac/MainEngine/DrivingShaft/Output//Power/"]
    r = http.post("measurements/query", params={**RANGE, "format": "parquet"}, json=body)
    assert r.status_code == 200
    rows = rows_of(r)
    assert len(rows) == 1200  # the series named twice comes once
    other = uuid_of(sb, "IMO1000002/ME ShaftPower")
    assert {row["id"] for row in rows} == {uuid_of(sb, POWER), other}


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"data": '["raalabs/IMO1000001/ME ShaftPower"]'}, 415),
    ({"data": '["raalabs/x"]', "headers": {"Content-Type": "text/plain"}}, 415),
    ({"data": "not json", "headers": {"Content-Type": "application/json"}}, 400),
    ({"json": {"selectors": ["raalabs/x"]}}, 400),
    ({"json": []}, 400),
    ({"json": [1]}, 400),
    ({"json": ["raalabs"]}, 400),
    ({"json": ["raalabs/IMO1000001/ME ShaftPower"] * 101}, 400),
    ({"json": ["raalabs/IMO1000001/ME ShaftPower", "raalabs/IMO1000009/ME ShaftPower"]}, 404),
    ({"json": ["nodomain/IMO1000001/ME ShaftPower"]}, 404),
])
def test_post_query_errors(http: Http, kwargs: dict[str, Any], status: int) -> None:
    r = http.post("measurements/query", params=RANGE, **kwargs)
    assert r.status_code == status
    assert set(r.json()) == {"error"}


def test_post_query_takes_100_selectors(http: Http) -> None:
    r = http.post("measurements/query", params=RANGE,
                  json=["raalabs/IMO1000001/ME ShaftPower"] * 100)
    assert r.status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "measurements/nodomain/IMO1000001/ME%20ShaftPower"),
    ("GET", "measurements/raalabs/IMO1000009/ME%20ShaftPower"),
    ("GET", "measurements/raalabs/IMO1000001/ME%20ShaftPower/extra"),
    ("GET", "measurements/query"),
    ("GET", "nothing/raalabs/IMO1000001/ME%20ShaftPower"),
    ("POST", "metadata/query"),
    ("POST", "measurements/raalabs/IMO1000001/ME%20ShaftPower"),
    ("DELETE", "measurements/raalabs/IMO1000001/ME%20ShaftPower"),
])
def test_unknown_things_are_404(http: Http, method: str, path: str) -> None:
    r = http.request(method, path, params=RANGE, json=["raalabs/x/y"])
    assert r.status_code == 404
    assert set(r.json()) == {"error"}
    assert r.headers["x-request-id"]


def test_unknown_environment_is_404(http: Http, sb: Sandbox) -> None:
    r = http.get(f"{sb.api_url}/production/{DATA}", params=RANGE)
    assert r.status_code == 404
    assert "environment" in r.json()["error"]
    assert http.get(f"{sb.api_url}/", auth=False).status_code == 404


def test_point_limit(http: Http, sb: Sandbox) -> None:
    assert sb.point_limit == 1_000_000
    sb.point_limit = 600
    assert http.get(DATA, params=RANGE).status_code == 200  # exactly 600 points
    sb.point_limit = 599
    r = http.get(DATA, params=RANGE)
    assert r.status_code == 413
    assert "600" in r.json()["error"]
    r = http.post("measurements/query", params=RANGE, json=["raalabs/IMO1000001/ME ShaftPower"])
    assert r.status_code == 413


def test_default_point_limit_refuses_over_a_million(http: Http) -> None:
    r = http.get("measurements/raalabs/*/ME%20ShaftPower", params={"last": "5days"})
    assert r.status_code == 413


def test_values_match_the_fleet_exactly_in_parquet(http: Http, sb: Sandbox) -> None:
    r = http.get(DATA, params={"last": "1day", "format": "parquet"})
    table = pq.read_table(io.BytesIO(r.content))
    uuid = uuid_of(sb, POWER)
    ts = table["timestamp"].to_numpy().astype("datetime64[us]")
    np.testing.assert_array_equal(ts, sb.fleet.timestamps(uuid, "2025-01-01", NOW))
    values = table["value"].to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(values, sb.fleet.values(uuid, ts))
    assert table["value"].null_count == np.isnan(values).sum() > 0
