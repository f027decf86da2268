"""The sandbox's OAuth 2.0 client-credentials authority: built-in clients, JWTs, rotation.

Tokens are HS256 JWTs (PyJWT) signed with a key made at random per authority, with the claims
``iss``, ``sub`` (= client id), ``client_id``, ``scope`` (space-separated), ``iat``, ``exp``
and ``jti``. Token times use the machine's wall clock (not the sandbox's data clock "now"), so
that a real client judges expiry by its own clock correctly. ``exp = iat + ttl`` in whole
seconds; a token is expired from ``exp`` on.

The authority remembers which tokens it issued, so that rotating a client's secret or revoking
every token makes tokens issued before that fail, while new ones work.

Scopes are per vessel: ``prism/read:IMO1000001``, or ``prism/read:*`` for the whole fleet.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

ISSUER = "raadata-sandbox"
READ_ALL = "prism/read:*"
READ_PREFIX = "prism/read:"

BUILTIN_SCOPES: dict[str, tuple[str, ...]] = {
    "sandbox-fleet": (READ_ALL,),
    "sandbox-vessel": (READ_PREFIX + "IMO1000001",),
}
"""The built-in clients: one reads the whole fleet, one only vessel IMO1000001."""


@dataclass(frozen=True)
class BuiltinClient:
    """A client the sandbox knows: id, secret (hidden from repr) and scopes."""

    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class TokenClaims:
    """What a valid access token says: who, may read what, and until when (Unix seconds)."""

    client_id: str
    scopes: tuple[str, ...]
    expires_at: int
    jti: str

    def may_read(self, imo: str) -> bool:
        """True if the token's scopes cover vessel ``imo`` (``"IMO1000001"``)."""
        return READ_ALL in self.scopes or READ_PREFIX + imo in self.scopes


class InvalidClient(Exception):
    """Token endpoint: unknown client id or wrong secret (401 ``invalid_client``)."""


class InvalidToken(Exception):
    """Data API: a token that is malformed, badly signed, expired or revoked (401)."""


class Authority:
    """Issues and checks access tokens for a set of clients. Thread-safe.

    ``ttl`` (seconds) applies to tokens issued after it is set. ``clock`` returns Unix seconds
    (a float); tests may pass a fake one.
    """

    def __init__(
        self,
        scopes: Mapping[str, Iterable[str]] | None = None,
        secrets_: Mapping[str, str] | None = None,
        ttl: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        scopes = BUILTIN_SCOPES if scopes is None else scopes
        given = dict(secrets_ or {})
        unknown = set(given) - set(scopes)
        if unknown:
            raise ValueError(f"secrets given for unknown clients: {sorted(unknown)}")
        self._clients = {
            cid: BuiltinClient(cid, given.get(cid) or secrets.token_urlsafe(24), tuple(sc))
            for cid, sc in scopes.items()
        }
        self.ttl = ttl
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._live: dict[str, tuple[str, int]] = {}  # jti -> (client id, exp), usable tokens
        self._lock = threading.Lock()
        self.issued = 0

    @property
    def ttl(self) -> int:
        """Lifetime of new tokens, seconds (0 makes tokens that are expired at once)."""
        return self._ttl

    @ttl.setter
    def ttl(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("token_ttl must be >= 0 seconds")
        self._ttl = int(seconds)

    @property
    def clients(self) -> dict[str, BuiltinClient]:
        """The clients, by id, with their current secrets."""
        with self._lock:
            return dict(self._clients)

    def issue(self, client_id: str, client_secret: str) -> dict[str, Any]:
        """Check the credentials and return the token response (RFC 6749 §5.1 fields)."""
        with self._lock:
            client = self._clients.get(client_id)
            if client is None or not hmac.compare_digest(
                client.client_secret.encode(), client_secret.encode()
            ):
                raise InvalidClient("unknown client or wrong secret")
            now = int(self._clock())
            jti = uuid.uuid4().hex
            claims = {
                "iss": ISSUER, "sub": client_id, "client_id": client_id,
                "scope": " ".join(client.scopes), "iat": now, "exp": now + self._ttl, "jti": jti,
            }
            if len(self._live) >= 10_000:  # forget expired tokens now and then
                self._live = {j: ce for j, ce in self._live.items() if ce[1] > now}
            self._live[jti] = (client_id, now + self._ttl)
            self.issued += 1
        token = jwt.encode(claims, self._key, algorithm="HS256")
        return {"access_token": token, "token_type": "Bearer", "expires_in": self._ttl}

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; InvalidToken (with a reason) otherwise."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=["HS256"], issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False,
                         "require": ["exp", "iat", "jti", "sub", "scope"]},
            )
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid token") from None
        if self._clock() >= claims["exp"]:
            raise InvalidToken("token expired")
        with self._lock:
            if self._live.get(claims["jti"], ("", 0))[0] != claims["sub"]:
                raise InvalidToken("token revoked")
        return TokenClaims(claims["sub"], tuple(claims["scope"].split()), claims["exp"],
                           claims["jti"])

    def rotate_secret(self, client_id: str) -> str:
        """Give the client a new secret; the old one and tokens issued so far stop working."""
        with self._lock:
            client = self._clients[client_id]
            new = secrets.token_urlsafe(24)
            self._clients[client_id] = BuiltinClient(client_id, new, client.scopes)
            self._live = {j: ce for j, ce in self._live.items() if ce[0] != client_id}
            return new

    def revoke_all(self) -> None:
        """Every token issued so far stops working (new ones work)."""
        with self._lock:
            self._live.clear()
