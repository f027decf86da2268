"""GET /metadata over real HTTP: keys per domain, a repeated key, verbose, scopes, format."""

from __future__ import annotations

import json
from typing import Any

import pytest

from raadata.sandbox import Sandbox
from raadata.sandbox.fleet import SHARED_PARAMETERS_ID

from .conftest import POWER, Http, uuid_of

FIELDS = {"name", "description", "source", "scale", "uom", "mapsTo", "rangeHigh", "rangeLow",
          "timeSeriesId", "vesselImo", "vesselName"}


def pairs(body: bytes) -> list[tuple[str, Any]]:
    """The raw JSON object's key/value pairs, repeated keys kept."""
    result: list[tuple[str, Any]] = json.loads(body, object_pairs_hook=lambda p: p)
    return result


def test_metadata_of_one_series(http: Http, sb: Sandbox) -> None:
    r = http.get("metadata/raalabs/IMO1000001/ME%20ShaftPower")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["x-api-version"] == "2025-10-31"
    meta = r.json()
    assert list(meta) == [POWER]
    record = meta[POWER]
    assert set(record) == FIELDS
    spec = sb.fleet.get(uuid_of(sb, POWER))
    assert record["timeSeriesId"] == spec.uuid
    assert record["vesselImo"] == "1000001"
    assert record["vesselName"] == "Nordic Aurora"
    assert record["uom"] == "kW"
    assert record["mapsTo"] == {d: i for d, i in spec.ids.items() if d != "id"}
    assert record["rangeLow"] <= record["rangeHigh"]


def test_keys_are_ids_in_the_queried_domain(http: Http, sb: Sandbox) -> None:
    meta = http.get("metadata/jsmea/*/jsmea_mac/MainEngine/DrivingShaft/Output//*/").json()
    assert len(meta) == 9
    for key, record in meta.items():
        assert sb.fleet.get(record["timeSeriesId"]).ids["jsmea"] == key
    uuid = uuid_of(sb, POWER)
    assert list(http.get(f"metadata/id/{uuid}").json()) == [uuid]


def test_a_shared_id_repeats_the_key_in_the_raw_json(http: Http, sb: Sandbox) -> None:
    r = http.get("metadata/parameters/IMO1000001/AE%20Power/AE%20Power")
    got = pairs(r.content)
    assert [k for k, _ in got] == [SHARED_PARAMETERS_ID, SHARED_PARAMETERS_ID]
    ids = {dict(v)["timeSeriesId"] for _, v in got}
    assert ids == {uuid_of(sb, "IMO1000001/AE1 Power"), uuid_of(sb, "IMO1000001/AE2 Power")}
    assert len(r.json()) == 1  # what a plain json.loads would silently keep


def test_verbose_adds_readable_ids_where_the_domain_has_them(http: Http) -> None:
    path = "metadata/maker/IMO1000001/MAN-ES/*"
    plain = http.get(path).json()
    verbose = http.get(path, params={"verbose": "true"}).json()
    assert list(plain) == list(verbose)
    for key, record in verbose.items():
        assert set(record) == FIELDS | {"verboseId"}
        assert record["verboseId"].startswith("IMO1000001/MAN-ES/")
        assert record["verboseId"] != key
    assert "verboseId" not in next(iter(plain.values()))
    assert http.get(path, params={"verbose": "false"}).json() == plain
    vis = http.get("metadata/vis-3-8a/IMO1000001/411.1/C101.31/meta/qty-power",
                   params={"verbose": "TRUE"}).json()
    assert vis["IMO1000001/411.1/C101.31/meta/qty-power"]["verboseId"] == (
        "IMO1000001/Propulsion engine/Crankshaft/meta/qty-power")
    raalabs = http.get("metadata/raalabs/IMO1000001/ME%20ShaftPower",
                       params={"verbose": "true"}).json()
    assert "verboseId" not in raalabs[POWER]  # raalabs ids are readable already


@pytest.mark.parametrize(("params", "headers", "status"), [
    ({"verbose": "yes"}, {}, 400),
    ({"since": "1h"}, {}, 400),
    ({"format": "parquet"}, {}, 406),
    ({"format": "ndjson"}, {}, 406),
    ({"format": "json"}, {}, 200),
    ({}, {"Accept": "application/vnd.apache.parquet"}, 406),
    ({}, {"Accept": "application/x-ndjson, application/json;q=0.1"}, 200),
])
def test_metadata_parameters_and_format(http: Http, params: dict[str, str],
                                        headers: dict[str, str], status: int) -> None:
    r = http.get("metadata/raalabs/IMO1000001/ME%20ShaftPower", params=params, headers=headers)
    assert r.status_code == status
    if status != 200:
        assert set(r.json()) == {"error"}


def test_scopes_filter_wildcards_and_refuse_what_cannot_be_read(http: Http) -> None:
    vessel = "sandbox-vessel"  # may read IMO1000001 only
    meta = http.get("metadata/raalabs/*/ME%20ShaftPower", client_id=vessel).json()
    assert list(meta) == [POWER]
    r = http.get("metadata/raalabs/IMO1000002/ME%20ShaftPower", client_id=vessel)
    assert r.status_code == 403
    assert set(r.json()) == {"error"}
    r = http.get("metadata/raalabs/IMO1000002/No%20Such", client_id=vessel)
    assert r.status_code == 404


def test_scopes_apply_to_data_too(http: Http) -> None:
    vessel = "sandbox-vessel"
    params = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:00:10Z"}
    rows = http.get("measurements/raalabs/*/ME%20ShaftPower", params=params,
                    client_id=vessel).json()
    assert len({r["id"] for r in rows}) == 1
    assert http.get("measurements/raalabs/IMO1000003/*", params=params,
                    client_id=vessel).status_code == 403
    assert http.get("statistics/raalabs/IMO1000003/*", params=params,
                    client_id=vessel).status_code == 403
    r = http.post("measurements/query", params=params, client_id=vessel,
                  json=["raalabs/IMO1000001/ME ShaftPower", "raalabs/IMO1000002/ME ShaftPower"])
    assert r.status_code == 403
    assert "IMO1000002" in r.json()["error"]
