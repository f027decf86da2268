"""Auth and HTTP against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.server
import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from raadata import AuthenticationError, Client, PermissionDeniedError
from raadata._config import settings_from
from raadata._http import Transport
from raadata._retry import RetryEvent
from raadata._tokens import refresh_margin
from raadata.sandbox import serve

from .leakcheck import assert_clean, debug_everything, exception_texts, needles

PATH = "measurements/raalabs/IMO1000001/ME%20ShaftPower"
OTHER_VESSEL = "measurements/raalabs/IMO1000002/ME%20ShaftPower"
WINDOW = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:01:00Z"}


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with serve(token_ttl=3600) as server:
        yield server


@pytest.fixture
def fresh(sb: Any) -> Any:
    sb.faults.reset()
    sb.stats.reset()
    sb.token_ttl = 3600
    return sb


def make_client(sb: Any, client_id: str | None = None, **kwargs: Any) -> Client:
    """A client for the sandbox, configured only from arguments (no env, no profile)."""
    client_id = client_id or sb.client_id
    secret = sb.client_secret if client_id == sb.client_id else sb.clients[client_id].client_secret
    return Client.from_env({}, client_id=client_id, client_secret=secret,
                           environment=sb.environment, api_url=sb.api_url,
                           token_url=sb.token_url, **kwargs)


def get(client: Client, path: str = PATH, **kwargs: Any) -> Any:
    return client.transport.request("GET", path, params=WINDOW, **kwargs)


def test_whoami(fresh: Any) -> None:
    with make_client(fresh, "sandbox-vessel") as client:
        identity = client.whoami()
        assert identity.client_id == "sandbox-vessel"
        assert identity.scopes == ("prism/read:IMO1000001",)
        assert 3500 < identity.expires_in <= 3600
        assert get(client).status_code == 200


REQUESTS_PER_THREAD = 25  # the race is at the first request; later ones reuse the token


def test_cold_start_32_threads_one_token(fresh: Any) -> None:
    settings = settings_from({}, client_id=fresh.client_id, client_secret=fresh.client_secret,
                             environment=fresh.environment, api_url=fresh.api_url,
                             token_url=fresh.token_url)
    transport = Transport(settings, pool_size=32)
    barrier = threading.Barrier(32)

    def work(_: int) -> int:
        barrier.wait()
        done = 0
        for _ in range(REQUESTS_PER_THREAD):
            transport.request("GET", "metadata/raalabs/IMO1000001/*")
            done += 1
        return done

    with transport, ThreadPoolExecutor(32) as pool:
        total = sum(pool.map(work, range(32)))
    assert total == 32 * REQUESTS_PER_THREAD
    assert transport.tokens.fetch_count == 1
    assert fresh.stats.tokens_issued == 1
    assert fresh.stats.requests["token"] == 1
    assert fresh.stats.requests["metadata"] == 32 * REQUESTS_PER_THREAD


class SharedClock:
    """Wall and monotonic time for the sandbox's token authority and the client at once,
    moved forward by the test (so 15.5 s of token lifetimes pass in well under a second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._wall0, self._mono0 = time.time(), time.monotonic()

    def time(self) -> float:
        with self._lock:
            return self._wall0 + self._offset

    def monotonic(self) -> float:
        with self._lock:
            return self._mono0 + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def test_short_lived_tokens_during_a_long_pull(
    fresh: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ttl, step, steps = 4, 0.5, 31  # 15.5 s of token time
    clock = SharedClock()
    monkeypatch.setattr(fresh._authority, "_clock", clock.time)
    monkeypatch.setattr("raadata._auth.time.time", clock.time)
    fresh.token_ttl = ttl
    errors: list[BaseException] = []
    stop = threading.Event()
    with make_client(fresh) as client:
        client.transport.tokens._clock = clock.monotonic

        def work() -> None:
            while not stop.is_set():
                try:
                    get(client)
                except Exception as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for _ in range(steps):
            time.sleep(0.02)  # requests in flight on the four threads meanwhile
            clock.advance(step)
        stop.set()
        for t in threads:
            t.join()
        fetches = client.transport.tokens.fetch_count
    assert errors == []  # no 401 (nor anything else) reached the caller
    period = ttl - refresh_margin(ttl)  # a new token every lifetime - margin seconds
    expected = 1 + math.floor(step * steps / period)
    assert abs(fetches - expected) <= 1
    assert fresh.stats.tokens_issued == fetches
    assert fresh.stats.requests["measurements"] > steps  # the threads did work throughout


def test_revoked_token_refetched_once(fresh: Any) -> None:
    with make_client(fresh) as client:
        get(client)
        fresh.revoke_tokens()
        assert get(client).status_code == 200
        assert client.transport.tokens.fetch_count == 2
    assert fresh.stats.tokens_issued == 2
    assert fresh.stats.responses["measurements", 401] == 1


def test_revocation_under_concurrency_refetches_once(fresh: Any) -> None:
    with make_client(fresh) as client:
        get(client)
        fresh.revoke_tokens()
        with ThreadPoolExecutor(16) as pool:
            assert all(r.status_code == 200 for r in pool.map(lambda _: get(client), range(64)))
        assert client.transport.tokens.fetch_count == 2


def test_rotated_secret_fails_after_one_attempt(fresh: Any) -> None:
    with make_client(fresh, "sandbox-vessel") as client:
        get(client)
        fresh.rotate_secret("sandbox-vessel")
        before = fresh.stats.requests["token"]

        def attempt(_: int) -> BaseException | None:
            try:
                get(client)
            except AuthenticationError as exc:
                return exc
            return None

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(attempt, range(32)))
        assert all(isinstance(o, AuthenticationError) for o in outcomes)
        assert "may have been rotated" in str(outcomes[0])
        assert fresh.stats.requests["token"] - before == 1  # no retry storm
        assert fresh.stats.responses["token", 401] == 1


def test_403_not_retried(fresh: Any) -> None:
    with make_client(fresh, "sandbox-vessel") as client:
        with pytest.raises(PermissionDeniedError) as info:
            get(client, OTHER_VESSEL)
        assert info.value.status == 403
        assert info.value.request_id
    assert fresh.stats.requests["measurements"] == 1


def test_429_retry_after_waits(fresh: Any) -> None:
    fresh.faults.retry_after = 2
    fresh.faults.script([429])
    events: list[RetryEvent] = []
    with make_client(fresh) as client:
        client.whoami()
        started = time.monotonic()
        assert get(client, on_retry=events.append).status_code == 200
        assert time.monotonic() - started >= 2.0
    assert [e.status for e in events] == [429]
    assert fresh.stats.responses["measurements", 429] == 1


def test_503_then_200(fresh: Any) -> None:
    fresh.faults.retry_after = 0
    fresh.faults.script([503, 200])
    with make_client(fresh) as client:
        assert get(client).status_code == 200
    assert fresh.stats.responses["measurements", 503] == 1
    assert fresh.stats.responses["measurements", 200] == 1


def test_token_endpoint_503_retried(fresh: Any) -> None:
    fresh.faults.retry_after = 0
    fresh.faults.script([503], target="token")
    with make_client(fresh) as client:
        assert get(client).status_code == 200
        assert client.transport.tokens.fetch_count == 2
    assert fresh.stats.tokens_issued == 1


def test_dropped_connections_retried(fresh: Any) -> None:
    fresh.faults.drop_every = 2
    with make_client(fresh) as client:
        for _ in range(4):
            assert len(get(client).json()) > 0


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []  # noqa: RUF012 - shared on purpose, reset by the test
    redirect_to = ""

    def do_GET(self) -> None:
        self.seen.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _server(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.HTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def test_cross_origin_redirect_carries_no_authorization(fresh: Any) -> None:
    class Target(_Recorder):
        seen: list[dict[str, str]] = []  # noqa: RUF012

    class Redirector(_Recorder):
        seen: list[dict[str, str]] = []  # noqa: RUF012

    target, redirector = _server(Target), _server(Redirector)
    Redirector.redirect_to = f"http://localhost:{target.server_address[1]}"
    try:
        client = Client.from_env({}, client_id=fresh.client_id,
                                 client_secret=fresh.client_secret, environment="env",
                                 api_url=f"http://127.0.0.1:{redirector.server_address[1]}",
                                 token_url=fresh.token_url)
        with client:
            assert client.transport.request("GET", "measurements/x").json() == []
    finally:
        for server in (target, redirector):
            server.shutdown()
            server.server_close()
    assert Redirector.seen[0]["authorization"].startswith("Bearer ")
    assert Target.seen[0]["path"] == "/env/measurements/x"
    assert "authorization" not in Target.seen[0]


def test_nothing_leaks_at_debug_over_real_http(fresh: Any) -> None:
    tokens: list[str] = []
    errors: list[BaseException] = []
    shown: list[str] = []
    with debug_everything() as logs:
        client = make_client(fresh, "sandbox-vessel")
        secret = fresh.clients["sandbox-vessel"].client_secret
        get(client)
        tokens.append(client.access_token())
        fresh.revoke_tokens()
        get(client)
        tokens.append(client.access_token())
        shown += [repr(client), str(client.whoami()), repr(client.transport.tokens),
                  repr(client.settings)]
        try:
            get(client, OTHER_VESSEL)
        except PermissionDeniedError as exc:
            errors.append(exc)
        fresh.rotate_secret("sandbox-vessel")
        try:
            get(client)
        except AuthenticationError as exc:
            errors.append(exc)
        client.close()
    text = logs.getvalue()
    assert "urllib3.connectionpool DEBUG" in text  # real HTTP logging was on
    assert "Request headers were" in text
    assert len(errors) == 2
    forbidden = needles("sandbox-vessel", secret, tokens)
    assert_clean([text, *shown], forbidden)
    for error in errors:
        assert_clean(exception_texts(error), forbidden)
