"""The token endpoint and bearer-token checks, over real HTTP (and curl, as documented)."""

from __future__ import annotations

import json
import shutil
import subprocess

import jwt
import pytest
import requests

from raadata.sandbox import Sandbox, serve
from raadata.sandbox.tokens import Authority, InvalidClient, InvalidToken

from .conftest import NOW, POWER_PATH, Http

DATA = f"measurements/raalabs/{POWER_PATH}"
RANGE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:00:03Z"}
GRANT = {"grant_type": "client_credentials"}


def token_request(sb: Sandbox, **kwargs: object) -> requests.Response:
    with requests.post(sb.token_url, timeout=10, **kwargs) as r:  # type: ignore[arg-type]
        _ = r.content
    return r


def test_token_with_http_basic_as_documented(sb: Sandbox) -> None:
    r = token_request(sb, auth=(sb.client_id, sb.client_secret), data=GRANT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["x-request-id"]
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert set(claims) == {"iss", "sub", "client_id", "scope", "iat", "exp", "jti"}
    assert claims["sub"] == claims["client_id"] == "sandbox-fleet"
    assert claims["scope"] == "prism/read:*"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_token_with_credentials_in_the_form_body(sb: Sandbox) -> None:
    vessel = sb.clients["sandbox-vessel"]
    r = token_request(sb, data={**GRANT, "client_id": vessel.client_id,
                                "client_secret": vessel.client_secret})
    assert r.status_code == 200
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "prism/read:IMO1000001"


def test_basic_auth_with_the_client_id_repeated_in_the_body_is_fine(sb: Sandbox) -> None:
    r = token_request(sb, auth=(sb.client_id, sb.client_secret),
                      data={**GRANT, "client_id": sb.client_id})
    assert r.status_code == 200


@pytest.mark.parametrize(("kwargs", "status", "error"), [
    ({"auth": ("sandbox-fleet", "wrong"), "data": GRANT}, 401, "invalid_client"),
    ({"auth": ("nobody", "x"), "data": GRANT}, 401, "invalid_client"),
    ({"data": GRANT}, 401, "invalid_client"),
    ({"data": {**GRANT, "client_id": "sandbox-fleet"}}, 401, "invalid_client"),
    ({"headers": {"Authorization": "Basic !!!"}, "data": GRANT}, 401, "invalid_client"),
    ({"auth": "FLEET", "data": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
    ({"auth": "FLEET", "data": {"grant_type": "authorization_code"}}, 400,
     "unsupported_grant_type"),
    ({"auth": "FLEET", "data": {}}, 400, "invalid_request"),
    ({"auth": "FLEET", "json": GRANT}, 400, "invalid_request"),
    ({"auth": "FLEET", "data": "grant_type=client_credentials&grant_type=client_credentials",
      "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400, "invalid_request"),
    ({"auth": "FLEET", "data": {**GRANT, "client_id": "sandbox-vessel"}}, 400, "invalid_request"),
])
def test_token_errors(sb: Sandbox, kwargs: dict[str, object], status: int, error: str) -> None:
    if kwargs.get("auth") == "FLEET":
        kwargs = {**kwargs, "auth": (sb.client_id, sb.client_secret)}
    r = token_request(sb, **kwargs)
    assert r.status_code == status
    assert r.json()["error"] == error
    assert r.headers["x-request-id"]
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_token_endpoint_takes_only_post(sb: Sandbox) -> None:
    with requests.get(sb.token_url, timeout=10) as r:
        assert r.status_code == 405
        assert r.json()["error"] == "invalid_request"


def test_the_documented_curl_calls(sb: Sandbox) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    out = subprocess.run(
        [curl, "-sS", "-X", "POST", sb.token_url, "-u", f"{sb.client_id}:{sb.client_secret}",
         "-d", "grant_type=client_credentials"],
        capture_output=True, text=True, timeout=30, check=True).stdout
    token = json.loads(out)["access_token"]
    url = (f"{sb.base_url}/{DATA}?from=2025-01-01T00:00:00.000000Z"
           "&to=2025-01-01T00:00:02.000000Z")
    out = subprocess.run(
        [curl, "-sS", "--fail-with-body", url, "-H", f"Authorization: Bearer {token}"],
        capture_output=True, text=True, timeout=30, check=True).stdout
    rows = json.loads(out)
    assert [r["timestamp"] for r in rows] == ["2025-01-01T00:00:00.000000Z",
                                              "2025-01-01T00:00:01.000000Z"]
    assert set(rows[0]) == {"id", "timestamp", "value"}


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Basic abc", "Bearer not.a.jwt", "Token abc",
])
def test_api_refuses_missing_or_invalid_tokens(http: Http, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    r = http.get(DATA, params=RANGE, headers=headers, auth=False)
    assert r.status_code == 401
    assert set(r.json()) == {"error"}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.headers["x-request-id"]


def test_bearer_scheme_is_case_insensitive(http: Http) -> None:
    r = http.get(DATA, params=RANGE, headers={"Authorization": f"bearer {http.token()}"},
                 auth=False)
    assert r.status_code == 200


def test_a_token_from_another_sandbox_is_refused(http: Http) -> None:
    with serve(now=NOW) as other, requests.Session() as session:
        foreign = Http(other, session).token()
    r = http.get(DATA, params=RANGE, token=foreign)
    assert r.status_code == 401


def test_an_expired_token_gets_401(http: Http, sb: Sandbox) -> None:
    sb.token_ttl = 0  # expired from the moment it is issued
    r = token_request(sb, auth=(sb.client_id, sb.client_secret), data=GRANT)
    assert r.json()["expires_in"] == 0
    denied = http.get(DATA, params=RANGE, token=r.json()["access_token"])
    assert denied.status_code == 401
    assert denied.json() == {"error": "token expired"}


def test_token_ttl_can_be_set_at_run_time(sb: Sandbox) -> None:
    sb.token_ttl = 5
    r = token_request(sb, auth=(sb.client_id, sb.client_secret), data=GRANT)
    assert r.json()["expires_in"] == 5
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 5


def test_rotating_a_secret_refuses_the_old_secret_and_older_tokens(http: Http,
                                                                  sb: Sandbox) -> None:
    old_secret, old_token = sb.client_secret, http.token()
    other_token = http.token("sandbox-vessel")
    new_secret = sb.rotate_secret("sandbox-fleet")
    assert new_secret != old_secret
    assert sb.client_secret == new_secret == sb.clients["sandbox-fleet"].client_secret
    r = token_request(sb, auth=(sb.client_id, old_secret), data=GRANT)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
    assert http.get(DATA, params=RANGE, token=old_token).status_code == 401
    assert http.get(DATA, params=RANGE, token=other_token).status_code == 200
    assert http.get(DATA, params=RANGE, token=http.token(fresh=True)).status_code == 200


def test_revoking_tokens_refuses_every_token_issued_so_far(http: Http, sb: Sandbox) -> None:
    old = [http.token(), http.token("sandbox-vessel")]
    sb.revoke_tokens()
    for token in old:
        r = http.get(DATA, params=RANGE, token=token)
        assert (r.status_code, r.json()) == (401, {"error": "token revoked"})
    assert http.get(DATA, params=RANGE, token=http.token(fresh=True)).status_code == 200


def test_secrets_can_be_fixed_at_start() -> None:
    with serve(secrets={"sandbox-vessel": "s3cret"}) as sb:
        assert sb.clients["sandbox-vessel"].client_secret == "s3cret"
        assert token_request(sb, auth=("sandbox-vessel", "s3cret"), data=GRANT).ok
    with pytest.raises(ValueError, match="unknown clients"):
        Sandbox(secrets={"nobody": "x"})


def test_secrets_are_random_per_start_and_hidden_from_reprs() -> None:
    with serve() as a, serve() as b:
        assert a.client_secret != b.client_secret
        assert a.client_secret not in repr(a.clients) + repr(a)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_authority_expiry_is_exp_exclusive() -> None:
    clock = FakeClock()
    authority = Authority(ttl=60, clock=clock)
    secret = authority.clients["sandbox-fleet"].client_secret
    token = authority.issue("sandbox-fleet", secret)["access_token"]
    claims = authority.verify(token)
    assert claims.expires_at == 1_000_060
    assert claims.may_read("IMO1000003")
    clock.now = 1_000_059.999
    authority.verify(token)
    clock.now = 1_000_060.0
    with pytest.raises(InvalidToken, match="expired"):
        authority.verify(token)


def test_authority_scopes_and_bad_input() -> None:
    authority = Authority()
    vessel = authority.clients["sandbox-vessel"]
    claims = authority.verify(authority.issue(vessel.client_id, vessel.client_secret)
                              ["access_token"])
    assert claims.may_read("IMO1000001")
    assert not claims.may_read("IMO1000002")
    with pytest.raises(InvalidClient):
        authority.issue("sandbox-vessel", "")
    with pytest.raises(ValueError, match="token_ttl"):
        authority.ttl = -1
    assert authority.issued == 1
