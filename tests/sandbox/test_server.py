"""The server as a whole: parallel requests, clean shutdown, settings, the client() shortcut,
and the wall between the sandbox and the client code."""

from __future__ import annotations

import ast
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

import raadata
from raadata.sandbox import Sandbox, serve
from raadata.sandbox.messages import Request, Response

from .conftest import NOW, POWER_PATH, Http

DATA = f"measurements/raalabs/{POWER_PATH}"
RANGE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:10:00Z"}
PACKAGE = Path(raadata.__file__).parent


def test_requests_are_served_in_parallel(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests must be inside the handler at once, or the barrier breaks."""
    barrier = threading.Barrier(2, timeout=10)
    handle = sb._api.handle

    def meeting(request: Request) -> Response:
        if "measurements" in request.target:
            barrier.wait()
        return handle(request)

    monkeypatch.setattr(sb._api, "handle", meeting)
    with requests.Session() as session:
        token = Http(sb, session).token()

    def fetch(_: int) -> int:
        with requests.Session() as s:
            return Http(sb, s).get(DATA, params=RANGE, token=token).status_code

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(fetch, range(2))) == [200, 200]


def test_keep_alive_and_a_clean_shutdown() -> None:
    with serve(now=NOW) as sb, requests.Session() as session:
        http = Http(sb, session)
        for _ in range(3):
            assert http.get(DATA, params=RANGE).status_code == 200
        assert len(session.get_adapter(sb.api_url).poolmanager.pools) == 1
        port, server = sb.port, sb._server
        assert server is not None
        assert len(server.httpd._workers) == 1
    # the connection the session kept open was closed with the server, and the port is free
    assert not server._thread.is_alive()
    assert not server.httpd._workers
    with serve(port=port) as again:
        assert again.port == port


def test_urls_and_names(sb: Sandbox) -> None:
    assert sb.api_url == f"http://127.0.0.1:{sb.port}"
    assert sb.environment == "sandbox"
    assert sb.base_url == f"{sb.api_url}/sandbox"
    assert sb.token_url == f"{sb.api_url}/oauth2/token"
    assert sb.client_id == "sandbox-fleet"
    assert sb.clients["sandbox-fleet"].scopes == ("prism/read:*",)
    assert sb.clients["sandbox-vessel"].scopes == ("prism/read:IMO1000001",)
    assert sb.client_secret not in repr(sb)


def test_another_environment_name() -> None:
    with serve(environment="acme", now=NOW) as sb, requests.Session() as s:
        assert sb.base_url.endswith("/acme")
        assert Http(sb, s).get(DATA, params=RANGE).status_code == 200


def test_the_clock_can_be_fixed_moved_and_released(sb: Sandbox) -> None:
    assert sb.now == datetime(2025, 1, 2, tzinfo=UTC)
    sb.now = datetime(2025, 3, 1, 12, 30)  # naive means UTC
    assert sb.now == datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert sb.clock() == sb.now
    sb.now = None
    assert sb.now is None
    assert abs((sb.clock() - datetime.now(UTC)).total_seconds()) < 60
    with pytest.raises(ValueError, match="ISO"):
        sb.now = "tomorrow"


def test_settings_refuse_nonsense(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="point_limit"):
        sb.point_limit = -1
    with pytest.raises(ValueError, match="token_ttl"):
        sb.token_ttl = -5


def test_a_sandbox_that_is_not_started() -> None:
    sb = Sandbox(port=0)
    assert "not started" in repr(sb)
    sb.close()  # harmless


class FakeClient:
    def __init__(self, **options: Any) -> None:
        self.options = options


def test_client_shortcut_configures_a_raadata_client(sb: Sandbox,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raadata, "Client", FakeClient, raising=False)
    client = sb.client(timeout=5)
    assert client.options == {
        "client_id": "sandbox-fleet", "client_secret": sb.client_secret,
        "environment": "sandbox", "api_url": sb.api_url, "token_url": sb.token_url,
        "timeout": 5,
    }
    vessel = sb.client(client_id="sandbox-vessel")
    assert vessel.options["client_secret"] == sb.clients["sandbox-vessel"].client_secret


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_sandbox_imports_nothing_of_the_client() -> None:
    for path in (PACKAGE / "sandbox").glob("*.py"):
        ours = {n for n in imports_of(path) if n == "raadata" or n.startswith("raadata.")}
        assert all(n.startswith("raadata.sandbox") for n in ours), (path.name, ours)


def test_the_client_code_does_not_import_the_sandbox() -> None:
    # the CLI registers `raadata sandbox` and the demo runs one: they are not client code
    for path in PACKAGE.glob("*.py"):
        if path.name in ("_cli.py", "_demo.py", "testing.py"):
            continue
        assert not any(n.startswith("raadata.sandbox") for n in imports_of(path)), path.name


def test_a_huge_request_body_is_refused_with_json(sb: Sandbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from raadata.sandbox import server

    with requests.Session() as s:
        http = Http(sb, s)
        http.token()
        monkeypatch.setattr(server, "MAX_BODY", 10)
        r = http.post("measurements/query", json=["raalabs/IMO1000001/ME ShaftPower"])
    assert r.status_code == 413
    assert set(r.json()) == {"error"}
    assert r.headers["x-request-id"]


def test_http_servers_own_errors_are_json_too(sb: Sandbox) -> None:
    with requests.Session() as s:
        r = s.options(f"{sb.base_url}/measurements/raalabs/x/y")
        assert r.status_code == 501
        assert set(r.json()) == {"error"}
        assert r.headers["x-request-id"]
        r = s.head(f"{sb.base_url}/measurements/raalabs/x/y")
        assert r.status_code == 501
        assert r.content == b""
