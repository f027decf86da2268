"""GET and POST /statistics over real HTTP: aggregations, epoch-aligned windows, formats."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from raadata.sandbox import Sandbox
from raadata.sandbox.clock import US_PER_S, format_us, to_us

from .conftest import POWER, POWER_PATH, Http, uuid_of

STATS = f"statistics/raalabs/{POWER_PATH}"
RANGE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:05:00Z"}
ALL = "avg,min,max,count,sum,stddev,first,last"


def expected(sb: Sandbox, uuid: str, start: str, end: str, window_s: int,
             aggregations: list[str]) -> list[tuple[str, str, str, float | None]]:
    """(id, aggregation, timestamp, value) rows computed here with numpy, one by one."""
    ticks = sb.fleet.ticks_us(uuid, to_us(start), min(to_us(end), to_us(sb.clock())))
    values = sb.fleet.values(uuid, ticks)
    windows = ticks // (window_s * US_PER_S) * (window_s * US_PER_S)
    rows = []
    for agg in aggregations:
        for w in np.unique(windows):
            v = values[windows == w]
            rows.append((uuid, agg, format_us(int(w)), aggregate(agg, v[~np.isnan(v)])))
    return rows


def aggregate(name: str, ok: np.ndarray) -> float | None:
    """One aggregation of the non-NaN values of a window, the obvious way."""
    if name == "count":
        return float(len(ok))
    if len(ok) < (2 if name == "stddev" else 1):
        return None
    return float({"avg": np.mean, "min": np.min, "max": np.max, "sum": np.sum,
                  "stddev": lambda x: np.std(x, ddof=1), "first": lambda x: x[0],
                  "last": lambda x: x[-1]}[name](ok))


def close(got: list[tuple[str, str, str, Any]], want: list[tuple[str, str, str, Any]]) -> None:
    assert [g[:3] for g in got] == [w[:3] for w in want]
    for g, w in zip(got, want, strict=True):
        if w[3] is None:
            assert g[3] is None, g
        else:
            assert math.isclose(g[3], w[3], rel_tol=1e-9, abs_tol=1e-9), (g, w)


def keyed_rows(body: bytes) -> list[tuple[str, str, str, Any]]:
    rows = []
    for obj in json.loads(body):
        assert len(obj) == 2
        assert "timestamp" in obj
        key = next(k for k in obj if k != "timestamp")
        uuid, agg = key.rsplit(":", 1)
        rows.append((uuid, agg, obj["timestamp"], obj[key]))
    return rows


def test_json_objects_are_keyed_id_colon_aggregation(http: Http, sb: Sandbox) -> None:
    r = http.get(STATS, params={**RANGE, "aggregation": ALL})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    first = r.json()[0]
    assert list(first) == [f"{uuid_of(sb, POWER)}:avg", "timestamp"]
    close(keyed_rows(r.content),
          expected(sb, uuid_of(sb, POWER), RANGE["from"], RANGE["to"], 60, ALL.split(",")))


def test_defaults_are_avg_over_one_minute(http: Http, sb: Sandbox) -> None:
    rows = keyed_rows(http.get(STATS, params=RANGE).content)
    close(rows, expected(sb, uuid_of(sb, POWER), RANGE["from"], RANGE["to"], 60, ["avg"]))
    assert len(rows) == 5


def test_ndjson_and_parquet_use_long_columns(http: Http, sb: Sandbox) -> None:
    params = {**RANGE, "aggregation": "max,count", "window": "2min"}
    want = expected(sb, uuid_of(sb, POWER), RANGE["from"], RANGE["to"], 120, ["max", "count"])
    r = http.get(STATS, params={**params, "format": "ndjson"})
    assert r.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert list(lines[0]) == ["id", "aggregation", "timestamp", "value"]
    close([(x["id"], x["aggregation"], x["timestamp"], x["value"]) for x in lines], want)
    r = http.get(STATS, params=params, headers={"Accept": "application/vnd.apache.parquet"})
    table = pq.read_table(io.BytesIO(r.content))
    assert table.schema == pa.schema([("id", pa.string()), ("aggregation", pa.string()),
                                      ("timestamp", pa.timestamp("us", tz="UTC")),
                                      ("value", pa.float64())])
    close([(x["id"], x["aggregation"], format_us(to_us(x["timestamp"])), x["value"])
           for x in table.to_pylist()], want)


def test_windows_are_aligned_to_the_epoch(http: Http, sb: Sandbox) -> None:
    params = {"from": "2025-01-01T00:00:30Z", "to": "2025-01-01T02:10:00Z", "window": "1h",
              "aggregation": "count"}
    rows = keyed_rows(http.get(STATS, params=params).content)
    assert [(r[2], r[3]) for r in rows] == [
        ("2025-01-01T00:00:00.000000Z", 3570 - nans(sb, "2025-01-01T00:00:30Z", 3570)),
        ("2025-01-01T01:00:00.000000Z", 3600 - nans(sb, "2025-01-01T01:00:00Z", 3600)),
        ("2025-01-01T02:00:00.000000Z", 600 - nans(sb, "2025-01-01T02:00:00Z", 600)),
    ]


def nans(sb: Sandbox, start: str, seconds: int) -> int:
    uuid = uuid_of(sb, POWER)
    ticks = sb.fleet.ticks_us(uuid, to_us(start), to_us(start) + seconds * US_PER_S)
    return int(np.isnan(sb.fleet.values(uuid, ticks)).sum())


def test_empty_windows_are_left_out(http: Http, sb: Sandbox) -> None:
    sb.now = "2025-02-01T00:00:00Z"
    vessel = sb.fleet.vessel("IMO1000001")
    params = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-04T00:00:00Z", "window": "1h",
              "aggregation": "count"}
    rows = keyed_rows(http.get(STATS, params=params).content)
    assert 72 - len(rows) == vessel.outage_duration_s // 3600
    stamps = [r[2] for r in rows]
    assert stamps == sorted(stamps)


def test_a_window_cut_by_now_uses_the_points_there_are(http: Http, sb: Sandbox) -> None:
    sb.now = "2025-01-01T00:00:30Z"
    rows = keyed_rows(http.get(STATS, params={"since": "1h", "aggregation": "count"}).content)
    assert rows[-1][2:] == ("2025-01-01T00:00:00.000000Z",
                            30.0 - nans(sb, "2025-01-01T00:00:00Z", 30))


def test_many_series_by_post_are_ordered_by_series_then_aggregation(http: Http,
                                                                    sb: Sandbox) -> None:
    body = ["raalabs/*/ME ShaftSpeed", "raalabs/IMO1000001/SW Temp"]
    r = http.post("statistics/query", params={**RANGE, "aggregation": "min,max",
                                              "format": "ndjson"}, json=body)
    assert r.status_code == 200
    keys = [(x["id"], x["aggregation"]) for x in map(json.loads, r.text.splitlines())]
    series = sorted({k[0] for k in keys})
    assert len(series) == 4
    assert list(dict.fromkeys(keys)) == [(s, a) for s in series for a in ("min", "max")]


@pytest.mark.parametrize("params", [
    {"aggregation": "median"}, {"aggregation": ""}, {"window": "1"}, {"window": "0m"},
    {"window": "1month"}, {"format": "xml"}, {"verbose": "true"},
])
def test_bad_statistics_parameters_are_400(http: Http, params: dict[str, str]) -> None:
    r = http.get(STATS, params={**RANGE, **params})
    assert r.status_code == 400
    assert set(r.json()) == {"error"}


def test_statistics_point_limit_counts_output_rows(http: Http, sb: Sandbox) -> None:
    sb.point_limit = 10  # 5 windows x 2 aggregations is fine, x 3 is not
    assert http.get(STATS, params={**RANGE, "aggregation": "avg,max"}).status_code == 200
    r = http.get(STATS, params={**RANGE, "aggregation": "avg,max,min"})
    assert r.status_code == 413
    assert "rows" in r.json()["error"]


def test_statistics_refuse_to_scan_too_many_points(http: Http, sb: Sandbox) -> None:
    sb.point_limit = 100  # scanning more than 50 x 100 raw points is refused
    r = http.get(STATS, params={"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T03:00:00Z",
                                "window": "1d"})
    assert r.status_code == 413
    assert "scan" in r.json()["error"]


def test_long_ranges_are_computed_in_chunks(http: Http, sb: Sandbox,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from raadata.sandbox import data

    params = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T06:00:00Z", "window": "7min",
              "aggregation": ALL}
    whole = http.get(STATS, params=params).content
    monkeypatch.setattr(data, "CHUNK_POINTS", 1000)
    assert http.get(STATS, params=params).content == whole
    close(keyed_rows(whole),
          expected(sb, uuid_of(sb, POWER), params["from"], params["to"], 420, ALL.split(",")))
