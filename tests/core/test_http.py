"""Transport against mocked endpoints (responses): headers, retries, errors, 401, redirects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import urllib3

from raadata import __version__
from raadata._config import Settings
from raadata._errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
)
from raadata._http import Transport
from raadata._retry import RetryEvent, RetryPolicy

from .conftest import API, ENVIRONMENT, FAST, TOKEN_URL, token_json

DATA = f"{API}/{ENVIRONMENT}/measurements/raalabs/IMO1000001/ME%20ShaftPower"
PATH = "measurements/raalabs/IMO1000001/ME%20ShaftPower"
QUERY = f"{API}/{ENVIRONMENT}/measurements/query"
STALLED_BODY = urllib3.exceptions.ReadTimeoutError(None, "/", "slow")  # type: ignore[arg-type]


@pytest.fixture
def transport(settings: Settings, mocked: responses.RequestsMock) -> Iterator[Transport]:
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    mocked.post(TOKEN_URL, body=token_json("tok-2"))
    with Transport(settings, retry=FAST) as t:
        yield t


def api_calls(mocked: responses.RequestsMock) -> list[Any]:
    return [c for c in mocked.calls if not str(c.request.url).startswith(TOKEN_URL)]


def test_request_basics(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, json=[{"id": "u", "timestamp": "t", "value": 1.0}],
               headers={"x-api-version": "2025-10-31"})
    response = transport.request("GET", PATH, params={"from": "2025-01-01T00:00:00Z"},
                                 accept="application/x-ndjson")
    assert response.json()[0]["value"] == 1.0
    request = api_calls(mocked)[0].request
    assert request.url == DATA + "?from=2025-01-01T00%3A00%3A00Z"
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.headers["x-api-version"] == "2025-10-31"
    assert request.headers["User-Agent"] == f"raadata/{__version__}"
    assert request.headers["Accept"] == "application/x-ndjson"
    assert request.req_kwargs["timeout"] == (10.0, 300.0)
    assert transport.base_url == f"{API}/{ENVIRONMENT}"
    assert transport.url("/metadata/x") == f"{API}/{ENVIRONMENT}/metadata/x"


def test_post_json_and_timeout(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.post(QUERY, json=[])
    transport.request("POST", "measurements/query", json=["id/a", "id/b"], timeout=7)
    request = api_calls(mocked)[0].request
    assert request.body == b'["id/a", "id/b"]'
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.req_kwargs["timeout"] == 7


def test_pool_size(settings: Settings) -> None:
    transport = Transport(settings, pool_size=33)
    adapter = transport.session.get_adapter(API)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter._pool_maxsize == 33  # type: ignore[attr-defined]
    assert transport.session.get_adapter("http://127.0.0.1:1") is adapter
    with pytest.raises(ValueError, match="pool_size"):
        Transport(settings, pool_size=0)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (403, PermissionDeniedError), (404, NotFoundError),
     (413, ResponseTooLargeError)],
)
def test_client_errors_not_retried(
    transport: Transport, mocked: responses.RequestsMock, status: int, cls: type[Exception]
) -> None:
    mocked.get(DATA, status=status, json={"error": "no way"}, headers={"x-request-id": "rq-9"})
    with pytest.raises(cls) as info:
        transport.request("GET", PATH)
    assert len(api_calls(mocked)) == 1
    error = info.value
    assert getattr(error, "status", None) == status
    assert getattr(error, "message", None) == "no way"
    assert getattr(error, "request_id", None) == "rq-9"
    assert getattr(error, "url", None) == DATA
    assert getattr(error, "method", None) == "GET"


def test_403_never_retried_nor_refetched(
    transport: Transport, mocked: responses.RequestsMock
) -> None:
    mocked.get(DATA, status=403, json={"error": "not in your scopes"})
    with pytest.raises(PermissionDeniedError, match="not in your scopes"):
        transport.request("GET", PATH)
    assert len(api_calls(mocked)) == 1
    assert transport.tokens.fetch_count == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_retried(
    transport: Transport, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.get(DATA, status=status, json={"error": "busy"})
    mocked.get(DATA, json=[])
    events: list[RetryEvent] = []
    assert transport.request("GET", PATH, on_retry=events.append).json() == []
    assert len(api_calls(mocked)) == 2
    assert len(events) == 1
    assert events[0].attempt == 1
    assert events[0].status == status
    assert "busy" in events[0].reason
    assert 0 <= events[0].wait <= FAST.backoff_max


def test_503_then_200(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, status=503, headers={"Retry-After": "0"}, json={"error": "unavailable"})
    mocked.get(DATA, json=[{"id": "u", "timestamp": "t", "value": 2.0}])
    assert transport.request("GET", PATH).json()[0]["value"] == 2.0


def test_429_retry_after_waits(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    mocked.get(DATA, status=429, headers={"Retry-After": "2"}, json={"error": "slow down"})
    mocked.get(DATA, json=[])
    transport = Transport(settings)  # real sleep, default policy
    events: list[RetryEvent] = []
    started = time.monotonic()
    transport.request("GET", PATH, on_retry=events.append)
    assert time.monotonic() - started >= 2.0
    assert events[0].status == 429
    assert events[0].wait >= 2.0


def test_on_retry_called_before_each_sleep(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    for _ in range(3):
        mocked.get(DATA, status=502, json={"error": "bad gateway"})
    mocked.get(DATA, json=[])
    log: list[str] = []
    transport = Transport(settings, retry=RetryPolicy(backoff_initial=1, backoff_max=8),
                          sleep=lambda s: log.append(f"sleep {s:.3f}"))
    transport.request("GET", PATH, on_retry=lambda e: log.append(f"event {e.wait:.3f}"))
    assert len(log) == 6
    for event, sleep in zip(log[::2], log[1::2], strict=True):
        assert event.split()[1] == sleep.split()[1]
    waits = [float(x.split()[1]) for x in log[::2]]
    for n, wait in enumerate(waits, start=1):  # exponential with jitter
        base = min(8, 2 ** (n - 1))
        assert base / 2 <= wait <= base


def test_retries_are_bounded(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, status=503, json={"error": "down"})
    with pytest.raises(ServerError, match="down") as info:
        transport.request("GET", PATH)
    assert len(api_calls(mocked)) == FAST.max_attempts
    assert any("gave up after 4 attempts" in note for note in info.value.__notes__)


def test_retry_after_beyond_budget_stops(transport: Transport, mocked: responses.RequestsMock
                                         ) -> None:
    mocked.get(DATA, status=429, headers={"Retry-After": "3600"}, json={"error": "quota"})
    with pytest.raises(RateLimitedError) as info:
        transport.request("GET", PATH)
    assert info.value.retry_after == 3600
    assert len(api_calls(mocked)) == 1


def test_connection_errors_retried(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, body=requests.ConnectionError("reset by peer"))
    mocked.get(DATA, body=requests.exceptions.ChunkedEncodingError("broken"))
    mocked.get(DATA, json=[])
    events: list[RetryEvent] = []
    assert transport.request("GET", PATH, on_retry=events.append).json() == []
    assert [e.status for e in events] == [None, None]


def test_connection_errors_give_up(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, body=requests.ConnectionError("reset by peer"))
    with pytest.raises(TransportError, match="reset by peer") as info:
        transport.request("GET", PATH)
    assert isinstance(info.value.__cause__, requests.ConnectionError)
    assert len(api_calls(mocked)) == FAST.max_attempts


def test_tls_errors_not_retried(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(TransportError, match="certificate verify failed"):
        transport.request("GET", PATH)
    assert len(api_calls(mocked)) == 1


def test_read_timeout(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(TransportError, match=r"read timeout of 300\.0 s"):
        transport.request("GET", PATH)
    assert len(api_calls(mocked)) == 1


@pytest.mark.parametrize(
    "failure",
    [{"status": 413, "json": {"error": "too many points"}},
     {"status": 502, "json": {"error": "bad gateway"}},
     {"status": 504, "body": "gateway timeout"},
     {"body": requests.ReadTimeout("read timed out")},
     {"body": requests.ConnectionError(STALLED_BODY)}],
)
def test_split_on_too_large(
    transport: Transport, mocked: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    mocked.post(QUERY, **failure)
    with pytest.raises(ResponseTooLargeError) as info:
        transport.request("POST", "measurements/query", json=["id/a"], split_on_too_large=True)
    assert len(api_calls(mocked)) == 1
    assert info.value.status == failure.get("status")
    assert info.value.method == "POST"


def test_503_still_retried_when_splitting(
    transport: Transport, mocked: responses.RequestsMock
) -> None:
    mocked.post(QUERY, status=503, json={"error": "busy"})
    mocked.post(QUERY, json=[])
    transport.request("POST", "measurements/query", json=[], split_on_too_large=True)
    assert len(api_calls(mocked)) == 2


def test_non_read_post_not_retried(transport: Transport, mocked: responses.RequestsMock) -> None:
    url = f"{API}/{ENVIRONMENT}/something"
    mocked.post(url, status=503, json={"error": "busy"})
    with pytest.raises(ServerError):
        transport.request("POST", "something", json={})
    assert len(api_calls(mocked)) == 1


def test_401_refetches_once_and_retries(
    transport: Transport, mocked: responses.RequestsMock
) -> None:
    mocked.get(DATA, status=401, json={"error": "token revoked"})
    mocked.get(DATA, json=[])
    assert transport.request("GET", PATH).json() == []
    calls = api_calls(mocked)
    assert [c.request.headers["Authorization"] for c in calls] == ["Bearer tok-1", "Bearer tok-2"]
    assert transport.tokens.fetch_count == 2


def test_second_401_raises(transport: Transport, mocked: responses.RequestsMock) -> None:
    mocked.get(DATA, status=401, json={"error": "expired"})
    with pytest.raises(AuthenticationError, match="freshly fetched token") as info:
        transport.request("GET", PATH)
    assert info.value.status == 401
    assert len(api_calls(mocked)) == 2
    assert transport.tokens.fetch_count == 2


def test_401_then_rejected_credentials(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    mocked.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    mocked.get(DATA, status=401, json={"error": "token revoked"})
    transport = Transport(settings, retry=FAST)
    with pytest.raises(AuthenticationError, match="may have been rotated"):
        transport.request("GET", PATH)
    with pytest.raises(AuthenticationError, match="may have been rotated"):
        transport.request("GET", PATH)
    assert transport.tokens.fetch_count == 2
    assert len(api_calls(mocked)) == 1


def test_cross_origin_redirect_drops_authorization(
    transport: Transport, mocked: responses.RequestsMock
) -> None:
    elsewhere = "https://files.elsewhere.test/blob"
    mocked.get(DATA, status=302, headers={"Location": elsewhere})
    mocked.get(elsewhere, body=b"data")
    assert transport.request("GET", PATH).content == b"data"
    first, second = api_calls(mocked)
    assert first.request.headers["Authorization"] == "Bearer tok-1"
    assert second.request.url == elsewhere
    assert "Authorization" not in second.request.headers


@pytest.mark.parametrize("target", ["http://prism.test/acme/x", "https://prism.test:8443/acme/x"])
def test_scheme_or_port_change_drops_authorization(
    transport: Transport, mocked: responses.RequestsMock, target: str
) -> None:
    mocked.get(DATA, status=307, headers={"Location": target})
    mocked.get(target, body=b"ok")
    transport.request("GET", PATH)
    assert "Authorization" not in api_calls(mocked)[1].request.headers


def test_same_origin_redirect_keeps_authorization(
    transport: Transport, mocked: responses.RequestsMock
) -> None:
    moved = f"{API}/{ENVIRONMENT}/moved"
    mocked.get(DATA, status=301, headers={"Location": moved})
    mocked.get(moved, json=[])
    transport.request("GET", PATH)
    assert api_calls(mocked)[1].request.headers["Authorization"] == "Bearer tok-1"


def test_repr_and_pickle(transport: Transport) -> None:
    import pickle

    assert "tok-" not in repr(transport)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(transport)


def test_token_failures_are_not_retried_again_by_the_transport(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    mocked.post(TOKEN_URL, status=503, json={"error": "auth down"})
    transport = Transport(settings, retry=FAST)
    transport.tokens.retry = FAST
    with pytest.raises(ServerError, match="auth down"):
        transport.request("GET", PATH)
    assert transport.tokens.fetch_count == FAST.max_attempts  # not max_attempts squared
    assert api_calls(mocked) == []


def test_tracebacks_show_the_cause_not_the_retry_machinery(
    transport: Transport, mocked: responses.RequestsMock
) -> None:
    import traceback

    mocked.get(DATA, body=requests.ConnectionError("connection reset by peer"))
    with pytest.raises(TransportError) as info:
        transport.request("GET", PATH)
    text = "".join(traceback.format_exception(info.value))
    assert "tenacity" not in text
    assert "connection reset by peer" in str(info.value)
    assert text.count("Traceback (most recent call last)") == 2  # the cause, then ours
    assert info.value.__cause__ is not None
