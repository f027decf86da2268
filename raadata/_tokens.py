"""What a token says: its lifetime, claims and scopes, and the caller's identity.

Pure functions of a token response (no I/O). The lifetime is ``expires_in``, else the JWT
``exp``, else 3600 s; the token is re-fetched ``min(60 s, lifetime / 2)`` before it ends.
Clock readings (``mono``) are ``time.monotonic`` seconds; ``wall`` and JWT times are Unix
seconds; datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from raadata._config import Secret
from raadata._display import html_table

__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_MARGIN",
    "Identity",
    "Token",
    "claims_of",
    "refresh_margin",
    "scopes_of",
    "token_from",
    "token_lifetime",
]

DEFAULT_LIFETIME = 3600.0  # seconds, when neither expires_in nor the JWT exp says
MAX_MARGIN = 60.0  # seconds before expiry at which the token is re-fetched (capped at half)


@dataclass(frozen=True)
class Identity:
    """Who the client is: id, scopes from the token's claims, and when the token expires.

    Times are timezone-aware UTC. The token text is never part of this object.
    """

    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    issued_at: datetime | None = None
    issuer: str | None = None

    @property
    def expires_in(self) -> float:
        """Seconds until the current token expires (negative once it has)."""
        return (self.expires_at - datetime.now(UTC)).total_seconds()

    def __str__(self) -> str:
        scopes = " ".join(self.scopes) or "(none in the token)"
        return (f"client {self.client_id}; scopes {scopes}; "
                f"token expires {self.expires_at:%Y-%m-%d %H:%M:%S} UTC")

    def _repr_html_(self) -> str:
        return html_table(f"raadata client {self.client_id}", [
            ("scopes", " ".join(self.scopes) or "(none in the token)"),
            ("token expires (UTC)", f"{self.expires_at:%Y-%m-%d %H:%M:%S}"),
            ("issuer", self.issuer or "-"),
        ])


@dataclass(frozen=True)
class Token:
    """A fetched token: its text (a :class:`Secret`), claims and when to re-fetch it."""

    text: Secret
    claims: Mapping[str, Any] = field(repr=False)
    refresh_at: float  # clock reading after which a new token is fetched
    expires_mono: float  # clock reading at which the token ends
    lifetime: float  # seconds
    expires_at: datetime
    issued_at: datetime | None


def claims_of(text: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(text, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}  # an opaque token: no claims to show
    return claims if isinstance(claims, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def token_lifetime(response: Mapping[str, Any], claims: Mapping[str, Any], now: float) -> float:
    """Seconds the token lives: ``expires_in``, else the JWT ``exp``, else 3600.

    From ``exp`` the shorter of ``exp - iat`` and ``exp - now`` (``now``: Unix seconds),
    ignoring non-positive candidates (clock skew).
    """
    expires_in = _number(response.get("expires_in"))
    if expires_in is not None and expires_in > 0:
        return expires_in
    exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
    if exp is not None:
        candidates = [c for c in (exp - now, exp - iat if iat is not None else None)
                      if c is not None and c > 0]
        if candidates:
            return min(candidates)
    return DEFAULT_LIFETIME


def refresh_margin(lifetime: float) -> float:
    """Seconds before expiry to re-fetch: ``min(60, lifetime / 2)``."""
    return min(MAX_MARGIN, lifetime / 2)


def scopes_of(claims: Mapping[str, Any]) -> tuple[str, ...]:
    raw = claims.get("scope") or claims.get("scp")
    if isinstance(raw, str):
        return tuple(raw.split())
    if isinstance(raw, list | tuple):
        return tuple(str(s) for s in raw)
    return ()


def token_from(text: Secret, response: Mapping[str, Any], mono: float, wall: float) -> Token:
    """The token ``text`` of a token ``response`` received at clock reading ``mono`` and
    Unix time ``wall``."""
    claims = claims_of(text.reveal())
    lifetime = token_lifetime(response, claims, wall)
    exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
    expires_at = (datetime.fromtimestamp(exp, UTC) if exp is not None
                  else datetime.fromtimestamp(wall, UTC) + timedelta(seconds=lifetime))
    issued_at = datetime.fromtimestamp(iat, UTC) if iat is not None else None
    return Token(text, claims, mono + lifetime - refresh_margin(lifetime), mono + lifetime,
                 lifetime, expires_at, issued_at)
