"""Secrets, tokens and Basic credentials never reach DEBUG logs, reprs, errors or pickles."""

from __future__ import annotations

import logging
import pickle

import pytest
import requests
import responses

from raadata import Client, RaadataError

from .conftest import API, CLIENT_ID, ENVIRONMENT, SECRET, TOKEN_URL, make_jwt, token_json
from .leakcheck import assert_clean, debug_everything, exception_texts, needles

DATA = f"{API}/{ENVIRONMENT}/measurements/raalabs/IMO1000001/ME%20ShaftPower"
PATH = "measurements/raalabs/IMO1000001/ME%20ShaftPower"
ENV = {"RAADATA_CLIENT_ID": CLIENT_ID, "RAADATA_CLIENT_SECRET": SECRET,
       "RAADATA_ENVIRONMENT": ENVIRONMENT, "RAADATA_API_URL": API,
       "RAADATA_TOKEN_URL": TOKEN_URL}


def test_nothing_leaks_at_debug() -> None:
    issued = [make_jwt(), make_jwt(), "opaque-token-" + "Z" * 24]
    errors: list[BaseException] = []
    shown: list[str] = []
    with debug_everything() as logs, responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, body=token_json(issued[0]))
        mocked.post(TOKEN_URL, body=token_json(issued[1], expires_in=None))
        mocked.post(TOKEN_URL, body=token_json(issued[2]))
        mocked.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
        mocked.get(DATA, json=[])
        mocked.get(DATA, status=401, json={"error": "expired token"})
        mocked.get(DATA, status=503, headers={"Retry-After": "0"}, json={"error": "busy"})
        mocked.get(DATA, json=[])
        mocked.get(DATA, status=401, json={"error": "revoked"})
        mocked.get(DATA, status=401, json={"error": "revoked"})
        mocked.get(DATA, status=403, json={"error": "forbidden"})
        mocked.get(DATA, body=requests.exceptions.SSLError("bad certificate"))
        mocked.get(DATA, status=401, json={"error": "revoked"})

        client = Client.from_env(ENV)
        shown += [repr(client), str(client), repr(client.settings), str(client.settings),
                  repr(client.transport), repr(client.transport.tokens)]
        identity = client.whoami()
        shown += [repr(identity), str(identity), pickle.dumps(identity).decode("latin-1")]
        client.transport.request("GET", PATH)  # 200
        client.transport.request("GET", PATH)  # 401 -> token 2 -> 503 -> 200
        for _ in range(4):  # 401 twice; 403; TLS error; 401 -> rotated secret
            try:
                client.transport.request("GET", PATH)
            except RaadataError as exc:
                errors.append(exc)
        shown += [repr(client.transport.tokens)]
        logging.getLogger("raadata._http").debug("headers %s", {"Authorization":
                                                               f"Bearer {issued[2]}"})
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationError", "PermissionDeniedError", "TransportError", "AuthenticationError"]
    assert "may have been rotated" in str(errors[-1])
    text = logs.getvalue()
    # the libraries did log the exchange at DEBUG (so the test is meaningful) ...
    assert "Request headers were" in text
    assert "Obtained token" in text
    assert "Basic ***" in text
    # ... and nothing secret got through
    forbidden = needles(CLIENT_ID, SECRET, issued)
    assert_clean([text, *shown], forbidden)
    for error in errors:
        assert_clean(exception_texts(error), forbidden)
    with pytest.raises(TypeError):
        pickle.dumps(client)
    with pytest.raises(TypeError):
        pickle.dumps(client.settings)
