"""The sandbox's HTTP messages: requests, responses, errors as answers, and the parts of
parsing that are plain HTTP (repeated parameters, client credentials, content negotiation).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from raadata.sandbox import encode
from raadata.sandbox.query import QueryError

__all__ = ["HttpError", "Request", "Response", "client_credentials", "negotiate",
           "single_values"]


@dataclass
class Request:
    """An HTTP request: method, target (path and query, as sent), headers, body."""

    method: str
    target: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header's value, by case-insensitive name."""
        name = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == name), None)


@dataclass
class Response:
    """An HTTP response; ``drop`` asks the server to cut the body short (a fault)."""

    status: int
    body: encode.Body
    content_type: str = encode.JSON
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    trickle: float = 0.0
    """Seconds to wait between bytes of the body (a trickling server)."""


class HttpError(Exception):
    """Answer with ``status`` and ``{"error": message}`` (plus ``headers``)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None,
                 **extra: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.headers, self.extra = dict(headers or {}), extra

    def response(self) -> Response:
        body = encode.json_body({"error": self.message, **self.extra})
        return Response(self.status, body, encode.JSON, self.headers)


def single_values(parsed: Mapping[str, list[str]], oauth_error: str | None) -> dict[str, str]:
    """parse_qs output → one value per name; a repeated name is a 400."""
    repeated = sorted(k for k, v in parsed.items() if len(v) > 1)
    if repeated:
        text = f"parameter(s) given more than once: {', '.join(repeated)}"
        if oauth_error:
            raise HttpError(400, oauth_error, error_description=text)
        raise QueryError(text)
    return {k: v[0] for k, v in parsed.items()}


def client_credentials(authorization: str | None, form: Mapping[str, str]) -> tuple[str, str]:
    """The client id and secret from HTTP Basic or, failing that, the form (RFC 6749 §2.3.1)."""
    unauthorized = HttpError(401, "invalid_client",
                             {"WWW-Authenticate": 'Basic realm="raadata-sandbox"'},
                             error_description="client authentication failed")
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode(
                "utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized from None
        if not sep:
            raise unauthorized
        client_id, secret = unquote_plus(user), unquote_plus(password)
        if form.get("client_id", client_id) != client_id or "client_secret" in form:
            raise HttpError(400, "invalid_request", error_description="client credentials "
                            "given both in the Authorization header and in the body")
        return client_id, secret
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    raise unauthorized


def negotiate(fmt: str | None, accept: str | None, allowed: Sequence[str]) -> str:
    """The output format: ``format`` if given, else the best match of ``Accept``, else json.

    400 for an unknown ``format``; 406 when neither can be met.
    """
    if fmt is not None:
        if fmt not in encode.FORMATS:
            raise QueryError(f"invalid format {fmt!r}: expected one of "
                             + ", ".join(encode.FORMATS))
        if fmt not in allowed:
            raise HttpError(406, f"format {fmt!r} is not available here; available: "
                                 + ", ".join(allowed))
        return fmt
    if not accept or not accept.strip():
        return allowed[0]
    by_type = {t: f for f, t in encode.FORMATS.items() if f in allowed}
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate(accept.split(",")):
        media, *options = (part.strip() for part in item.split(";"))
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, media.lower()))
    for _, _, media in sorted(ranked):
        if media in ("*/*", "application/*"):
            return allowed[0]
        if media in by_type:
            return by_type[media]
    raise HttpError(406, f"cannot answer with any of Accept: {accept}; available: "
                         + ", ".join(by_type))
