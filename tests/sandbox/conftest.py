"""Fixtures for the sandbox's conformance tests: a sandbox and plain ``requests`` access.

These tests never use raadata's client code: the server is checked on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
import requests

from raadata.sandbox import Sandbox, serve
from raadata.sandbox.clock import format_us, to_us

NOW = "2025-01-02T00:00:00Z"
"""The fixed server clock of these tests."""
POWER = "IMO1000001/ME ShaftPower"
POWER_PATH = "IMO1000001/ME%20ShaftPower"


class Http:
    """Plain-requests access to one sandbox, with a token per client (fetched once)."""

    def __init__(self, sb: Sandbox, session: requests.Session) -> None:
        self.sb, self.session = sb, session
        self._tokens: dict[str, str] = {}

    def token(self, client_id: str = "sandbox-fleet", fresh: bool = False) -> str:
        if fresh or client_id not in self._tokens:
            secret = self.sb.clients[client_id].client_secret
            with self.session.post(self.sb.token_url, auth=(client_id, secret),
                                   data={"grant_type": "client_credentials"}) as r:
                assert r.status_code == 200, r.text
                self._tokens[client_id] = r.json()["access_token"]
        return self._tokens[client_id]

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, token: str | None = None,
                client_id: str = "sandbox-fleet", auth: bool = True,
                **kwargs: Any) -> requests.Response:
        """``path`` relative to the base URL (already percent-encoded), or a full URL."""
        url = path if path.startswith("http") else f"{self.sb.base_url}/{path}"
        all_headers = {"Authorization": f"Bearer {token or self.token(client_id)}"} if auth else {}
        all_headers.update(headers or {})
        with self.session.request(method, url, params=params, headers=all_headers,
                                  **kwargs) as r:
            _ = r.content
        return r

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """A sandbox whose clock stands at NOW."""
    with serve(now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def http(sb: Sandbox) -> Iterator[Http]:
    with requests.Session() as session:
        yield Http(sb, session)


def expected_rows(sb: Sandbox, uuid: str, start: str, end: str) -> list[dict[str, Any]]:
    """What the API must return for one series over [start, end) (capped at the clock)."""
    stop = min(to_us(end), to_us(sb.clock()))
    ticks = sb.fleet.ticks_us(uuid, to_us(start), stop)
    values = sb.fleet.values(uuid, ticks)
    return [
        {"id": uuid, "timestamp": format_us(int(t)), "value": None if np.isnan(v) else float(v)}
        for t, v in zip(ticks, values, strict=True)
    ]


def uuid_of(sb: Sandbox, raalabs: str) -> str:
    """The UUID of the series with this raalabs id."""
    return next(s.uuid for s in sb.fleet.series if s.ids["raalabs"] == raalabs)
