"""No frame of any error the transport or the token exchange raises holds a credential.

Every error is rendered as IPython's verbose mode and ``pytest --showlocals`` render it
(``traceback.TracebackException(..., capture_locals=True)``, the whole cause chain) and
searched for the secret, the Basic blob (every spelling) and every token issued. Real HTTP
against the sandbox, so urllib3's and http.client's frames are in the chains.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
import responses

from raadata import Client, RaadataError
from raadata._redaction import basic_blobs
from raadata._retry import RetryPolicy
from raadata.sandbox import Sandbox, serve

from .leakcheck import assert_clean, debug_everything, exception_texts, needles

FAST = RetryPolicy(max_attempts=2, backoff_initial=0.01)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with serve(point_limit=50_000) as sb:
        yield sb


def fast_client(sandbox: Sandbox, **kwargs: object) -> Client:
    client: Client = sandbox.client(progress=False, timeout=(2, 1), **kwargs)
    client.transport.retry = FAST
    client.transport.tokens.retry = FAST
    return client


Scenario = Callable[[Sandbox, Client], object]

SCENARIOS: dict[str, Scenario] = {
    "403": lambda sb, c: c.measurements("raalabs/IMO1000002/ME ShaftPower", "2025-01-01",
                                        "2025-01-01T01:00"),
    "404": lambda sb, c: c.metadata("raalabs/IMO9999999/Nothing"),
    "500 after retries": lambda sb, c: (setattr(sb.faults, "error_rate", 1.0),
                                        c.metadata("raalabs/*/*")),
    "401 twice (revoked, then a rotated secret)": lambda sb, c: (
        sb.revoke_tokens(), sb.rotate_secret("sandbox-vessel"),
        c.metadata("raalabs/*/*")),
    "read timeout": lambda sb, c: (sb.compat.update(hang=5.0),
                                   c.measurements("raalabs/IMO1000001/ME ShaftPower",
                                                  "2025-01-01", "2025-01-01T00:10")),
    "unreadable body": lambda sb, c: (sb.faults.script([200]),
                                      c.transport.request("GET", "measurements/nothing")),
    "connection refused": lambda sb, c: (sb.close(), c.metadata("raalabs/*/*")),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_frame_holds_a_credential(sandbox: Sandbox, name: str) -> None:
    client = fast_client(sandbox, client_id="sandbox-vessel")
    secret = sandbox.clients["sandbox-vessel"].client_secret
    tokens = [client.access_token()]
    with debug_everything() as logs, pytest.raises(RaadataError) as info:
        SCENARIOS[name](sandbox, client)
    current = client.transport.tokens._current
    if current is not None:
        tokens.append(current.text.reveal())
    forbidden = [*needles("sandbox-vessel", secret, tokens), *basic_blobs("sandbox-vessel", secret)]
    assert_clean([*exception_texts(info.value), logs.getvalue()], forbidden)


def test_an_echoed_basic_blob_is_masked_in_any_case() -> None:
    client_id, secret = "client-abc", "s3cret/with+odd=chars"
    blobs = basic_blobs(client_id, secret)
    assert len(blobs) == 2  # the form-encoded spelling differs for this secret
    with responses.RequestsMock() as mocked:
        for scheme in ("Basic", "basic", "BASIC"):
            for blob in blobs:
                mocked.post("https://auth.test/token", status=400, json={
                    "error": "invalid_request",
                    "error_description": f"bad header Authorization: {scheme} {blob} ({blob})"})
        client = Client(client_id=client_id, client_secret=secret, environment="e",
                        api_url="https://api.test", token_url="https://auth.test/token")
        client.transport.tokens.retry = FAST
        for _ in range(6):
            with pytest.raises(RaadataError) as info:
                client.access_token()
            assert_clean(exception_texts(info.value), [secret, *blobs])
            client.transport.tokens._rejected = None  # ask again: the next spelling


def test_cli_debug_run_shows_no_credential(sandbox: Sandbox) -> None:
    env = {"RAADATA_CLIENT_ID": "sandbox-vessel",
           "RAADATA_CLIENT_SECRET": sandbox.clients["sandbox-vessel"].client_secret,
           "RAADATA_ENVIRONMENT": sandbox.environment, "RAADATA_API_URL": sandbox.api_url,
           "RAADATA_TOKEN_URL": sandbox.token_url, "PATH": "/usr/bin:/bin"}
    code = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); "
            "from raadata._cli import main; main(prog_name='raadata')")
    run = subprocess.run([sys.executable, "-c", code, "--debug", "get",
                          "raalabs/IMO1000002/ME ShaftPower", "--start", "2025-01-01",
                          "--end", "2025-01-01T00:10"],
                         env=env, capture_output=True, text=True)
    assert run.returncode != 0  # a 403, with its traceback (--debug)
    assert "Traceback" in run.stderr
    assert "PermissionDeniedError" in run.stderr
    assert "Obtained token" in run.stderr  # DEBUG logging of the exchange was on
    with sandbox.client(client_id="sandbox-vessel", progress=False) as client:
        token = client.access_token()
    secret = env["RAADATA_CLIENT_SECRET"]
    forbidden = [*needles("sandbox-vessel", secret, []), *basic_blobs("sandbox-vessel", secret)]
    assert_clean([run.stdout, run.stderr], forbidden)
    assert token not in run.stderr  # a fresh token; the run's own is masked as a JWT shape
    logging.getLogger().handlers.clear()
