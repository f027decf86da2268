"""TokenProvider against a mocked token endpoint (responses)."""

from __future__ import annotations

import base64
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from requests_oauthlib import OAuth2Session

from raadata._auth import TokenProvider
from raadata._config import Settings
from raadata._errors import (
    AuthenticationError,
    ConfigurationError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from raadata._retry import RetryPolicy
from raadata._tokens import Identity, refresh_margin, token_lifetime

from .conftest import CLIENT_ID, FAST, SECRET, TOKEN_URL, make_jwt, token_json


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def provider(settings: Settings, **kwargs: Any) -> TokenProvider:
    kwargs.setdefault("retry", FAST)
    return TokenProvider.from_settings(settings, **kwargs)


def test_exchange_request_shape(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    tokens = provider(settings)
    assert tokens.token() == "tok-1"
    request = mocked.calls[0].request
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.body == "grant_type=client_credentials"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["User-Agent"].startswith("raadata/")
    assert request.req_kwargs["timeout"] == (10.0, 30.0)  # type: ignore[attr-defined]
    assert tokens.fetch_count == 1


def test_uses_oauth2session_with_backend_client(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    from oauthlib.oauth2 import BackendApplicationClient

    made: list[OAuth2Session] = []

    def factory() -> OAuth2Session:
        session = OAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
        made.append(session)
        return session

    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    tokens = provider(settings, session_factory=factory)
    assert tokens.token() == "tok-1"
    assert len(made) == 1
    assert isinstance(made[0]._client, BackendApplicationClient)


def test_token_is_cached_until_margin(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1", expires_in=100))
    mocked.post(TOKEN_URL, body=token_json("tok-2", expires_in=100))
    clock = FakeClock()
    tokens = provider(settings, clock=clock)
    assert tokens.token() == "tok-1"
    clock.now += 100 - 50 - 0.01  # margin = min(60, 100/2) = 50 s
    assert tokens.token() == "tok-1"
    clock.now += 0.02
    assert tokens.token() == "tok-2"
    assert tokens.fetch_count == 2


@pytest.mark.parametrize(("lifetime", "margin"), [(3600, 60), (120, 60), (100, 50), (4, 2)])
def test_margin(lifetime: float, margin: float) -> None:
    assert refresh_margin(lifetime) == margin


def test_lifetime_sources() -> None:
    now = 1_700_000_000.0
    assert token_lifetime({"expires_in": 300}, {"exp": now + 10}, now) == 300
    assert token_lifetime({}, {"exp": now + 120, "iat": now}, now) == 120
    assert token_lifetime({}, {"exp": now + 120, "iat": now - 30}, now) == 120  # shorter
    assert token_lifetime({}, {"exp": now + 120}, now) == 120
    assert token_lifetime({}, {"exp": now - 5, "iat": now - 65}, now) == 60  # skewed clock
    assert token_lifetime({}, {}, now) == 3600
    assert token_lifetime({"expires_in": "oops"}, {}, now) == 3600


def test_lifetime_from_jwt_when_no_expires_in(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    jwt_text = make_jwt(lifetime=40)
    mocked.post(TOKEN_URL, body=token_json(jwt_text, expires_in=None))
    clock = FakeClock()
    tokens = provider(settings, clock=clock)
    tokens.token()
    current = tokens._current
    assert current is not None
    assert 39 <= current.lifetime <= 40
    assert current.refresh_at == pytest.approx(clock.now + current.lifetime / 2)
    assert tokens.info().expires_at == datetime.fromtimestamp(
        current.claims["exp"], UTC)


def test_opaque_token_without_expiry_lives_an_hour(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    mocked.post(TOKEN_URL, body=token_json("opaque-token", expires_in=None))
    tokens = provider(settings)
    tokens.token()
    assert tokens._current is not None
    assert tokens._current.lifetime == 3600
    identity = tokens.info()
    assert identity.scopes == ()
    assert 3590 < identity.expires_in <= 3600


def test_identity(settings: Settings, mocked: responses.RequestsMock) -> None:
    text = make_jwt(lifetime=600)
    mocked.post(TOKEN_URL, body=token_json(text, expires_in=600))
    identity = provider(settings).info()
    assert isinstance(identity, Identity)
    assert identity.client_id == CLIENT_ID
    assert identity.scopes == ("prism/read:IMO1000001", "prism/read:IMO1000002")
    assert identity.issuer == "https://auth.test"
    assert identity.expires_at.tzinfo is UTC
    assert identity.issued_at is not None
    assert identity.issued_at.tzinfo is UTC
    for shown in (repr(identity), str(identity)):
        assert text not in shown
        assert "prism/read:IMO1000001" in shown


def test_identity_scp_claim(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json(make_jwt(scope=None, scp=["a", "b"])))
    assert provider(settings).info().scopes == ("a", "b")


def test_invalidate_only_current(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    mocked.post(TOKEN_URL, body=token_json("tok-2"))
    tokens = provider(settings)
    assert tokens.token() == "tok-1"
    assert tokens.invalidate("tok-1") is True
    assert tokens.token() == "tok-2"
    assert tokens.invalidate("tok-1") is False  # another thread already replaced it
    assert tokens.token() == "tok-2"
    assert tokens.fetch_count == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, '{"error": "invalid_client"}'), (400, '{"error": "invalid_client"}'),
     (401, "Unauthorized")],
)
def test_rejected_credentials(
    settings: Settings, mocked: responses.RequestsMock, status: int, body: str
) -> None:
    mocked.post(TOKEN_URL, status=status, body=body)
    tokens = provider(settings)
    with pytest.raises(AuthenticationError) as info:
        tokens.token()
    message = str(info.value)
    assert "credentials were rejected and may have been rotated" in message
    assert info.value.status == status
    assert SECRET not in message
    # sticky: no retry storm, later calls do not hit the server
    with pytest.raises(AuthenticationError):
        tokens.token()
    with pytest.raises(AuthenticationError):
        tokens.info()
    assert len(mocked.calls) == 1
    assert tokens.fetch_count == 1


def test_other_refusal(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, status=400, body='{"error": "unsupported_grant_type"}')
    with pytest.raises(AuthenticationError, match="refused: unsupported_grant_type"):
        provider(settings).token()


@pytest.mark.parametrize(
    "failure",
    [{"status": 503, "body": "{}"}, {"status": 500, "body": "oops"},
     {"status": 429, "body": '{"error": "slow"}'},
     {"body": requests.ConnectionError("refused")}],
)
def test_fetch_retried_on_transient(
    settings: Settings, mocked: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    mocked.post(TOKEN_URL, **failure)
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    tokens = provider(settings)
    assert tokens.token() == "tok-1"
    assert tokens.fetch_count == 2


def test_fetch_honours_retry_after(settings: Settings, mocked: responses.RequestsMock) -> None:
    waits: list[float] = []
    mocked.post(TOKEN_URL, status=429, headers={"Retry-After": "7"}, body="{}")
    mocked.post(TOKEN_URL, body=token_json("tok-1"))
    tokens = provider(settings, retry=RetryPolicy(max_total_wait=60), sleep=waits.append)
    assert tokens.token() == "tok-1"
    assert len(waits) == 1
    assert 7 <= waits[0] <= 7.7


def test_fetch_gives_up(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, status=503, body='{"error": "down"}')
    tokens = provider(settings)
    with pytest.raises(ServerError, match="down"):
        tokens.token()
    assert tokens.fetch_count == FAST.max_attempts
    mocked.replace(responses.POST, TOKEN_URL, status=429, body="{}",
                   headers={"Retry-After": "1000"})
    with pytest.raises(RateLimitedError):  # the hint exceeds the wait budget: stop at once
        tokens.token()
    assert tokens.fetch_count == FAST.max_attempts + 1
    mocked.replace(responses.POST, TOKEN_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(TransportError, match="unreachable"):
        tokens.token()


def test_old_token_kept_while_endpoint_is_down(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-1", expires_in=100))
    clock = FakeClock()
    tokens = provider(settings, clock=clock)
    assert tokens.token() == "tok-1"
    mocked.replace(responses.POST, TOKEN_URL, status=503, body="{}")
    clock.now += 60  # inside the margin, still valid
    assert tokens.token() == "tok-1"
    attempts = tokens.fetch_count
    assert tokens.token() == "tok-1"  # postponed: no new attempt straight away
    assert tokens.fetch_count == attempts
    clock.now += 40  # expired
    with pytest.raises(ServerError):
        tokens.token()


def test_bad_token_responses(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body='{"token_type": "Bearer"}')
    with pytest.raises(AuthenticationError, match="without a usable token"):
        provider(settings).token()
    mocked.replace(responses.POST, TOKEN_URL, body='{"access_token": "x-y-z-w", '
                   '"token_type": "mac"}')
    with pytest.raises(AuthenticationError, match="unsupported token type"):
        provider(settings).token()


def test_token_type_case_insensitive(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body='{"access_token": "tok-1", "token_type": "bearer"}')
    assert provider(settings).token() == "tok-1"


def test_loopback_http_without_global_switch(mocked: responses.RequestsMock) -> None:
    url = "http://127.0.0.1:9/oauth2/token"
    seen: list[str | None] = []

    def record(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"))
        return 200, {}, token_json("tok-1")

    mocked.add_callback(responses.POST, url, callback=record)
    tokens = TokenProvider(CLIENT_ID, SECRET, url)
    assert tokens.token() == "tok-1"
    assert seen == [None]
    assert mocked.calls[0].request.url == url


def test_non_loopback_http_refused() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        TokenProvider(CLIENT_ID, SECRET, "http://auth.example/token", retry=FAST)


def test_repr_and_pickle(settings: Settings, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, body=token_json("tok-secret-text"))
    tokens = provider(settings)
    tokens.token()
    assert "tok-secret-text" not in repr(tokens)
    assert SECRET not in repr(tokens)
    assert "tok-secret-text" not in repr(tokens._current)
    import pickle

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(tokens)


def test_concurrent_cold_start_fetches_once(
    settings: Settings, mocked: responses.RequestsMock
) -> None:
    def slow(request: Any) -> tuple[int, dict[str, str], str]:
        time.sleep(0.2)  # widen the race window
        return 200, {}, token_json()

    mocked.add_callback(responses.POST, TOKEN_URL, callback=slow)
    tokens = provider(settings)
    start = threading.Barrier(32)
    seen: set[str] = set()
    lock = threading.Lock()

    def work() -> None:
        start.wait()
        for _ in range(300):
            text = tokens.token()
            with lock:
                seen.add(text)

    threads = [threading.Thread(target=work) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tokens.fetch_count == 1
    assert len(mocked.calls) == 1
    assert len(seen) == 1
