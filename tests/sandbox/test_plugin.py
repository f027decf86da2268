"""The pytest plugin's fixtures, as users get them (registered through the pytest11 entry point)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from raadata.sandbox import Sandbox


def test_function_fixture_with_defaults(raadata_sandbox: Sandbox) -> None:
    assert raadata_sandbox.now is None
    assert raadata_sandbox.point_limit == 1_000_000
    with requests.get(raadata_sandbox.base_url + "/metadata/raalabs/x/y", timeout=10) as r:
        assert r.status_code == 401


@pytest.mark.raadata_sandbox(now="2025-01-02T00:00:00Z", point_limit=5, token_ttl=60)
def test_function_fixture_takes_options_from_the_marker(raadata_sandbox: Sandbox) -> None:
    assert raadata_sandbox.now == datetime(2025, 1, 2, tzinfo=UTC)
    assert raadata_sandbox.point_limit == 5
    assert raadata_sandbox.token_ttl == 60


def test_session_fixture_is_shared(raadata_sandbox_session: Sandbox,
                                   raadata_sandbox: Sandbox) -> None:
    assert raadata_sandbox_session.port != raadata_sandbox.port
    with requests.post(raadata_sandbox_session.token_url,
                       auth=(raadata_sandbox_session.client_id,
                             raadata_sandbox_session.client_secret),
                       data={"grant_type": "client_credentials"}, timeout=10) as r:
        assert r.status_code == 200
