"""Shared helpers for the core (config/auth/http/client) tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import responses

from raadata._config import Settings, settings_from
from raadata._retry import RetryPolicy

API = "https://prism.test"
TOKEN_URL = "https://auth.test/oauth2/token"
ENVIRONMENT = "acme"
CLIENT_ID = "client-abc"
SECRET = "sup3r-s3cret-VALUE"
FAST = RetryPolicy(max_attempts=4, backoff_initial=0.001, backoff_max=0.01, max_total_wait=5.0)


def make_jwt(lifetime: float = 3600, **claims: Any) -> str:
    """A signed-looking JWT with the sandbox's claims (signature is not checked by us)."""
    now = int(time.time())
    body = {"iss": "https://auth.test", "sub": CLIENT_ID, "client_id": CLIENT_ID,
            "scope": "prism/read:IMO1000001 prism/read:IMO1000002", "iat": now,
            "exp": now + int(lifetime), "jti": str(time.monotonic_ns()), **claims}
    return jwt.encode(body, "k" * 32, algorithm="HS256")


def token_json(token: str | None = None, expires_in: float | None = 3600, **extra: Any) -> str:
    body: dict[str, Any] = {"access_token": token or make_jwt(), "token_type": "Bearer", **extra}
    if expires_in is not None:
        body["expires_in"] = expires_in
    return json.dumps(body)


@pytest.fixture
def settings() -> Settings:
    return settings_from({}, client_id=CLIENT_ID, client_secret=SECRET, environment=ENVIRONMENT,
                         api_url=API, token_url=TOKEN_URL)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
