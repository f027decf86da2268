"""Faults switched on at run time, and the request counters, over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from raadata.sandbox import Sandbox, serve

from .conftest import NOW, POWER_PATH, Http

DATA = f"measurements/raalabs/{POWER_PATH}"
RANGE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:10:00Z"}
GRANT = {"grant_type": "client_credentials"}


def statuses(http: Http, n: int, path: str = DATA) -> list[int]:
    return [http.get(path, params=RANGE).status_code for _ in range(n)]


def test_latency_is_added_to_api_requests(http: Http, sb: Sandbox) -> None:
    http.token()
    sb.faults.latency = 0.2
    started = time.perf_counter()
    assert http.get(DATA, params=RANGE).status_code == 200
    assert time.perf_counter() - started >= 0.2  # a lower bound only


def test_every_nth_request_is_rate_limited(http: Http, sb: Sandbox) -> None:
    sb.faults.rate_limit_every = 3
    assert statuses(http, 6) == [200, 200, 429, 200, 200, 429]
    got = [http.get("metadata/raalabs/IMO1000001/*") for _ in range(3)]
    assert [r.status_code for r in got] == [200, 200, 429]
    assert got[-1].headers["Retry-After"] == "1"
    assert set(got[-1].json()) == {"error"}
    assert got[-1].headers["x-request-id"]


def test_retry_after_rounds_up_to_whole_seconds(http: Http, sb: Sandbox) -> None:
    sb.faults.rate_limit_every, sb.faults.retry_after = 1, 2.5
    assert http.get(DATA, params=RANGE).headers["Retry-After"] == "3"
    sb.faults.retry_after = 0
    assert http.get(DATA, params=RANGE).headers["Retry-After"] == "0"


def test_the_token_endpoint_is_not_rate_limited(http: Http, sb: Sandbox) -> None:
    sb.faults.rate_limit_every = 1
    sb.faults.error_rate = 1.0
    assert http.token(fresh=True)
    assert http.token(fresh=True)


def test_random_errors_with_a_rate_and_status(http: Http, sb: Sandbox) -> None:
    sb.faults.error_rate, sb.faults.error_status = 1.0, 503
    r = http.get(DATA, params=RANGE)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "1"
    sb.faults.error_status = 500
    r = http.get(DATA, params=RANGE)
    assert r.status_code == 500
    assert "Retry-After" not in r.headers
    assert set(r.json()) == {"error"}


def test_random_errors_repeat_with_the_seed() -> None:
    def run(seed: int) -> list[int]:
        with serve(now=NOW, seed=seed, error_rate=0.5) as sb, requests.Session() as s:
            http = Http(sb, s)
            return statuses(http, 30)

    first = run(3)
    assert first == run(3)
    assert 200 in first
    assert 500 in first
    assert first != run(4)


def test_a_scripted_sequence(http: Http, sb: Sandbox) -> None:
    sb.faults.script([503, 500, 200, 429])
    assert statuses(http, 6) == [503, 500, 200, 429, 200, 200]


def test_a_script_for_the_token_endpoint(sb: Sandbox) -> None:
    sb.faults.script([503, 500], target="token")
    auth = (sb.client_id, sb.client_secret)
    got = []
    for _ in range(3):
        with requests.post(sb.token_url, auth=auth, data=GRANT, timeout=10) as r:
            got.append((r.status_code, r.json().get("error"), r.headers.get("Retry-After")))
    assert got == [(503, "temporarily_unavailable", "1"), (500, "server_error", None),
                   (200, None, None)]
    with pytest.raises(ValueError, match="target"):
        sb.faults.script([500], target="nope")  # type: ignore[arg-type]


def test_dropped_connections_cut_a_body_short(http: Http, sb: Sandbox) -> None:
    sb.faults.drop_every = 2
    assert http.get(DATA, params=RANGE).status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(DATA, params=RANGE)
    assert http.get(DATA, params=RANGE).status_code == 200
    assert http.get("metadata/raalabs/IMO1000001/*").status_code == 200  # not data
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(DATA, params={**RANGE, "format": "parquet"})


def test_fault_options_at_start() -> None:
    with serve(now=NOW, rate_limit_every=2, latency=0.0) as sb, requests.Session() as s:
        assert statuses(Http(sb, s), 2) == [200, 429]
    with pytest.raises(TypeError, match="unknown sandbox option"):
        serve(nonsense=1).__enter__()


def test_reset_switches_every_fault_off(http: Http, sb: Sandbox) -> None:
    sb.faults.rate_limit_every = 1
    sb.faults.drop_every = 1
    sb.faults.error_rate = 1.0
    sb.faults.latency = 0.5
    sb.faults.script([503])
    sb.faults.reset()
    assert statuses(http, 3) == [200, 200, 200]


def test_stats_count_requests_responses_and_tokens(http: Http, sb: Sandbox) -> None:
    http.token()
    http.token("sandbox-vessel")
    http.get(DATA, params=RANGE)
    http.get(DATA, params={"since": "nonsense"})
    http.get("statistics/raalabs/IMO1000001/*", params=RANGE)
    http.get("metadata/raalabs/IMO1000001/*")
    http.get("metadata/raalabs/IMO1000002/*", client_id="sandbox-vessel")
    http.get(f"{sb.api_url}/nothing", auth=False)
    with requests.post(sb.token_url, auth=("x", "y"), data=GRANT, timeout=10):
        pass
    assert sb.stats.tokens_issued == 2
    assert sb.stats.requests == {"token": 3, "measurements": 2, "statistics": 1,
                                 "metadata": 2, "other": 1}
    assert sb.stats.responses == {
        ("token", 200): 2, ("token", 401): 1, ("measurements", 200): 1,
        ("measurements", 400): 1, ("statistics", 200): 1, ("metadata", 200): 1,
        ("metadata", 403): 1, ("other", 404): 1,
    }
    sb.stats.reset()
    assert sb.stats.requests == {}
    assert sb.stats.tokens_issued == 0
