"""Selectors, durations, time ranges and format negotiation (pure, no server)."""

from __future__ import annotations

import pytest

from raadata.sandbox.clock import US_PER_S, to_us
from raadata.sandbox.fleet import default_fleet
from raadata.sandbox.messages import HttpError, negotiate
from raadata.sandbox.query import (
    QueryError,
    match,
    parse_aggregations,
    parse_duration,
    selector_from_path,
    selector_from_text,
    time_range,
)

FLEET = default_fleet()
NOW = to_us("2025-01-02T13:45:10.5Z")
H = 3600 * US_PER_S


@pytest.mark.parametrize(("text", "seconds"), [
    ("1s", 1), ("30sec", 30), ("1second", 1), ("2seconds", 2), ("1m", 60), ("5min", 300),
    ("1minute", 60), ("3minutes", 180), ("1h", 3600), ("6hours", 21_600), ("1hour", 3600),
    ("1d", 86_400), ("1day", 86_400), ("2days", 172_800), ("1w", 604_800), ("2weeks", 1_209_600),
])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds * US_PER_S


@pytest.mark.parametrize("text", ["", "1", "h", "1.5h", "-1h", "1 h", "1H", "1y", "0s", "1mo"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(QueryError):
        parse_duration(text)


@pytest.mark.parametrize(("params", "start", "end"), [
    ({}, "2025-01-02T12:45:10.5Z", "2025-01-02T13:45:10.5Z"),
    ({"from": "2025-01-01T00:00:00.000000Z", "to": "2025-01-01T01:00:00Z"},
     "2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"),
    ({"from": "2025-01-01T01:00:00+01:00", "to": "2025-01-01T00:30:00"},
     "2025-01-01T00:00:00Z", "2025-01-01T00:30:00Z"),
    ({"from": "2025-01-01T01:00:00 01:00"}, "2025-01-01T00:00:00Z", "2025-01-02T13:45:10.5Z"),
    ({"from": "2025-01-01"}, "2025-01-01T00:00:00Z", "2025-01-02T13:45:10.5Z"),
    ({"from_epoch": "1735689600", "to_epoch": "1735689600.25"},
     "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.25Z"),
    ({"from_epoch": "1735689600"}, "2025-01-01T00:00:00Z", "2025-01-02T13:45:10.5Z"),
    ({"since": "6hours"}, "2025-01-02T07:45:10.5Z", "2025-01-02T13:45:10.5Z"),
    ({"last": "1day"}, "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"),
    ({"last": "2d"}, "2024-12-31T00:00:00Z", "2025-01-02T00:00:00Z"),
    ({"year": "2024"}, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ({"year": "2024", "month": "2"}, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
    ({"year": "2024", "month": "12"}, "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ({"year": "2024", "month": "02", "day": "29"}, "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"),
    ({"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z", "format": "json"},
     "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
])
def test_time_ranges(params: dict[str, str], start: str, end: str) -> None:
    assert time_range(params, NOW) == (to_us(start), to_us(end))


@pytest.mark.parametrize("params", [
    {"from": "2025-01-01T00:00:00Z", "since": "1h"},
    {"from": "2025-01-01T00:00:00Z", "to_epoch": "1735689600"},
    {"since": "1h", "last": "1d"},
    {"year": "2025", "last": "1d"},
    {"to": "2025-01-01T00:00:00Z"},
    {"to_epoch": "1735689600"},
    {"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
    {"from_epoch": "1735689700", "to_epoch": "1735689600"},
    {"from": "yesterday"},
    {"from": ""},
    {"from": "2025-13-01T00:00:00Z"},
    {"from_epoch": "1e9"},
    {"from_epoch": "abc"},
    {"since": "forever"},
    {"last": "0d"},
    {"month": "1"},
    {"day": "1"},
    {"year": "2025", "day": "1"},
    {"year": "2025", "month": "13"},
    {"year": "2025", "month": "2", "day": "29"},
    {"year": "25x"},
])
def test_bad_time_ranges(params: dict[str, str]) -> None:
    with pytest.raises(QueryError):
        time_range(params, NOW)


def test_aggregations() -> None:
    assert parse_aggregations(None) == ("avg",)
    assert parse_aggregations("max,avg,max") == ("max", "avg")
    assert parse_aggregations("avg,min,max,count,sum,stddev,first,last") == (
        "avg", "min", "max", "count", "sum", "stddev", "first", "last")
    for bad in ("", "mean", "avg,", "avg,median"):
        with pytest.raises(QueryError):
            parse_aggregations(bad)


def tags(selector_text: str) -> list[str]:
    return [f"{s.imo}/{s.tag}" for s in match(FLEET, selector_from_text(selector_text))]


def test_wildcards_match_one_level_and_glob_within_it() -> None:
    assert tags("raalabs/*/ME ShaftPower") == [
        "IMO1000001/ME ShaftPower", "IMO1000002/ME ShaftPower", "IMO1000003/ME ShaftPower"]
    assert tags("raalabs/IMO1000001/ME Shaft*") == [
        "IMO1000001/ME ShaftPower", "IMO1000001/ME ShaftSpeed", "IMO1000001/ME ShaftTorque"]
    assert tags("raalabs/IMO100000*/*Tank1*") == [
        "IMO1000001/HFO Tank1 Level", "IMO1000002/HFO Tank1 Level", "IMO1000003/HFO Tank1 Level"]
    assert len(tags("raalabs/*/*")) == len(FLEET.series)
    assert tags("raalabs/*") == []  # '*' never spans '/'
    assert tags("raalabs/IMO1000001/ME ShaftPower/") == []
    assert tags("raalabs/IMO1000001/me shaftpower") == []  # case matters
    assert tags("raalabs/IMO1000001/ME ShaftP?wer") == []  # only '*' is special


def test_jsmea_levels_keep_empty_segments() -> None:
    assert tags("jsmea/IMO1000001/jsmea_mac/MainEngine/DrivingShaft/Output//Power/") == [
        "IMO1000001/ME ShaftPower"]
    assert tags("jsmea/IMO1000001/jsmea_mac/MainEngine/DrivingShaft/Output/Power") == []
    assert tags("jsmea/*/jsmea_mac/MainEngine/DrivingShaft/Output/*/Power/*") == [
        "IMO1000001/ME ShaftPower", "IMO1000002/ME ShaftPower", "IMO1000003/ME ShaftPower"]


def test_every_domain_resolves_every_id_it_has() -> None:
    for spec in FLEET.series:
        for domain, sid in spec.ids.items():
            found = match(FLEET, selector_from_text(f"{domain}/{sid}"))
            assert spec in found
            assert len(found) == (2 if sid.endswith("/AE Power/AE Power") else 1)


def test_id_domain_takes_a_comma_separated_list() -> None:
    a, b = FLEET.series[0].uuid, FLEET.series[5].uuid
    assert [s.uuid for s in match(FLEET, selector_from_text(f"id/{b},{a}"))] == [a, b]
    assert match(FLEET, selector_from_text("id/not-a-uuid")) == []
    # named twice, an unknown one among them: each known series once, in fleet order
    found = match(FLEET, selector_from_text(f"id/{b}, {a},{b},not-a-uuid"))
    assert [s.uuid for s in found] == [a, b]
    # a wildcard among UUIDs is a pattern (scanned, not looked up)
    assert [s.uuid for s in match(FLEET, selector_from_text(f"id/{a[:8]}*"))] == [a]


def test_unknown_domain_raises_key_error() -> None:
    with pytest.raises(KeyError):
        match(FLEET, selector_from_text("nope/IMO1000001/ME ShaftPower"))


def test_path_levels_are_percent_decoded_one_by_one() -> None:
    selector = selector_from_path(["raalabs", "IMO1000001", "ME%20ShaftPower"])
    assert selector.domain == "raalabs"
    assert selector.levels == ("IMO1000001", "ME ShaftPower")
    assert selector.text == "raalabs/IMO1000001/ME ShaftPower"
    assert selector_from_path(["parameters", "IMO1000001", "AE%2FX", "y"]).levels[1] == "AE/X"


@pytest.mark.parametrize("segments", [[], ["raalabs"], ["raalabs", ""], ["", "x"]])
def test_path_without_an_expression_is_refused(segments: list[str]) -> None:
    with pytest.raises(QueryError):
        selector_from_path(segments)


@pytest.mark.parametrize("item", [1, None, "raalabs", "raalabs/", ["raalabs/x"]])
def test_bad_body_selectors(item: object) -> None:
    with pytest.raises(QueryError):
        selector_from_text(item)


ALL = ("json", "ndjson", "parquet")


@pytest.mark.parametrize(("fmt", "accept", "expected"), [
    (None, None, "json"),
    (None, "", "json"),
    (None, "*/*", "json"),
    (None, "application/*", "json"),
    (None, "application/json", "json"),
    (None, "application/json; charset=utf-8", "json"),
    (None, "application/x-ndjson", "ndjson"),
    (None, "application/vnd.apache.parquet", "parquet"),
    (None, "text/csv, application/x-ndjson", "ndjson"),
    (None, "application/json;q=0.5, application/vnd.apache.parquet", "parquet"),
    (None, "application/vnd.apache.parquet;q=0, */*;q=0.1", "json"),
    ("ndjson", "application/json", "ndjson"),
    ("parquet", "text/csv", "parquet"),
])
def test_negotiation(fmt: str | None, accept: str | None, expected: str) -> None:
    assert negotiate(fmt, accept, ALL) == expected


@pytest.mark.parametrize(("fmt", "accept", "allowed", "status"), [
    (None, "text/csv", ALL, 406),
    (None, "application/vnd.apache.parquet;q=0", ALL, 406),
    (None, "application/x-ndjson", ("json",), 406),
    ("parquet", None, ("json",), 406),
])
def test_negotiation_refusals(fmt: str | None, accept: str | None, allowed: tuple[str, ...],
                              status: int) -> None:
    with pytest.raises(HttpError) as info:
        negotiate(fmt, accept, allowed)
    assert info.value.status == status


def test_unknown_format_parameter_is_a_400() -> None:
    with pytest.raises(QueryError):
        negotiate("csv", None, ALL)
