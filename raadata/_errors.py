"""The raadata exception tree: one root, a short tree, API errors that say what failed.

::

    RaadataError
    ├── ConfigurationError (also ValueError)  missing/contradictory settings
    ├── ExportConflictError (also ValueError) the output holds another export or writer
    ├── TransportError                        connection failure / timeout after retries
    └── ApiError(status, method, url, message, request_id)
        ├── BadRequestError          400
        ├── AuthenticationError      401, or credentials rejected at the token endpoint
        ├── PermissionDeniedError    403
        ├── NotFoundError            404
        ├── NotAcceptableError       406, 415
        ├── ResponseTooLargeError    413 (and 502/504/read timeout when split_on_too_large)
        ├── ResponseFormatError      2xx with a body that cannot be read as asked
        ├── RateLimitedError         429 (retry_after)
        └── ServerError              5xx

Messages never hold secrets or tokens: URLs lose any user-info part and server text passes
through :func:`raadata._redaction.redact`.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from raadata._redaction import redact

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "CacheError",
    "ConfigurationError",
    "ExportConflictError",
    "InsecureFileWarning",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RaadataError",
    "RateLimitedError",
    "ResponseFormatError",
    "ResponseTooLargeError",
    "ScopeWarning",
    "ServerError",
    "StorageError",
    "TransportError",
    "describe",
    "error_for_response",
    "parse_retry_after",
    "safe_url",
]

_MAX_MESSAGE = 500  # characters of server text kept in an exception
_CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,63}")  # an OAuth-style error code, e.g. invalid_client


class RaadataError(Exception):
    """Root of every exception raadata raises on purpose.

    ``retried`` is True once a retry loop has given up on this error, so that an outer
    loop (a data request fetching a token) does not retry it again.
    """

    retried: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        """A pickle carries the message (and ``retried``) only: never an attribute a library
        may have hung on the error (a request, its headers), which could hold a credential."""
        return (_rebuild_plain, (type(self), tuple(str(arg) for arg in self.args), self.retried))


def _rebuild_plain(cls: type[RaadataError], args: tuple[str, ...], retried: bool) -> Exception:
    error = cls(*args)
    error.retried = retried
    return error


class ScopeWarning(UserWarning):
    """Some series were left out because the token's scopes do not cover them."""


class InsecureFileWarning(UserWarning):
    """A secret or profile file may be read by group or others (``chmod 600`` it); set
    ``RAADATA_STRICT_PERMISSIONS=1`` to refuse such files instead."""


class ConfigurationError(RaadataError, ValueError):
    """A setting is missing or contradictory; the message names it and how to provide it."""


class ExportConflictError(RaadataError, ValueError):
    """The output directory holds something else (files raadata did not write, a different
    export, an unreadable sidecar) or another writer holds it; the message says how to go on."""


class CacheError(RaadataError):
    """A file of the local cache could not be read (clear it: ``raadata cache clear``)."""


class StorageError(RaadataError):
    """The export's destination could not be read or written (disk full, permissions, the
    object store refused); the message names the file and the system's reason."""


class TransportError(RaadataError):
    """The request never got an HTTP answer (connection failure, timeout) after retries."""


class ApiError(RaadataError):
    """The API (or the token endpoint) answered with an error status.

    ``status`` is the HTTP status (``None`` for a timeout mapped to
    :class:`ResponseTooLargeError`), ``url`` has no credentials, ``message`` is the
    server's ``error`` text (with ``error_description`` if any), ``code`` the bare
    ``error`` value when it is a short code such as ``invalid_client``, ``request_id`` the
    ``x-request-id`` response header, ``retry_after`` the ``Retry-After`` hint in seconds and
    ``hint`` what raadata adds for the reader (shown after the rest).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
        request_id: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = redact(message)
        self.hint = hint
        self.status = status
        self.method = method
        self.url = safe_url(url) if url else url
        self.request_id = request_id
        self.code = code
        self.retry_after = retry_after
        super().__init__(self.message)

    def __str__(self) -> str:
        where = " ".join(p for p in (self.method, self.url) if p)
        parts = [f"{self.status}" if self.status is not None else "", self.message]
        text = ": ".join(p for p in parts if p)
        extra = [where] if where else []
        if self.request_id:
            extra.append(f"request id {self.request_id}")
        text = f"{text} ({', '.join(extra)})" if extra else text
        return f"{text}; {self.hint}" if self.hint else text

    def _kwargs(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "method": self.method,
            "url": self.url,
            "request_id": self.request_id,
            "code": self.code,
            "retry_after": self.retry_after,
            "hint": self.hint,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self._kwargs()))


def _rebuild(cls: type[ApiError], message: str, kwargs: dict[str, Any]) -> ApiError:
    return cls(message, **kwargs)


class BadRequestError(ApiError):
    """400: the request was malformed or failed validation."""


class AuthenticationError(ApiError):
    """401, or the token endpoint rejected the client id/secret."""


class PermissionDeniedError(ApiError):
    """403: authenticated, but the client's scopes do not allow this request."""


class NotFoundError(ApiError):
    """404: unknown endpoint, or the selector matched no series at all."""


class NotAcceptableError(ApiError):
    """406 (Accept cannot be met) or 415 (missing/wrong Content-Type)."""


class ResponseTooLargeError(ApiError):
    """413, or 502/504/read timeout on a request made with ``split_on_too_large``."""


class ResponseFormatError(ApiError):
    """A 2xx response whose body is not what was asked for (truncated, malformed, another
    format, values that are not numbers); ``message`` says what was wrong."""


class RateLimitedError(ApiError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""


class ServerError(ApiError):
    """5xx: the server failed. ``retry_after`` is the server's hint in seconds, if any."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    406: NotAcceptableError,
    413: ResponseTooLargeError,
    415: NotAcceptableError,
    429: RateLimitedError,
}


def safe_url(url: str) -> str:
    """``url`` without a ``user:password@`` part."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def describe(exc: BaseException) -> str:
    """A one-line reason for a requests/urllib3 failure (the innermost cause)."""
    reason: object = exc
    for _ in range(5):
        inner = reason.args[0] if isinstance(reason, BaseException) and reason.args else None
        inner = getattr(inner, "reason", inner)
        if not isinstance(inner, BaseException) or inner is reason:
            break
        reason = inner
    text = str(reason)
    if ">: " in text:  # "<urllib3.connection.HTTPConnection object at 0x..>: Failed to ..."
        text = text.split(">: ", 1)[1]
    return redact(f"{type(reason).__name__}: {text}" if text else type(reason).__name__)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _server_message(resp: requests.Response) -> tuple[str, str | None]:
    """The server's message, and its ``error`` code when that is a short token."""
    text = resp.text if resp.content else ""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    code = None
    if isinstance(body, dict) and "error" in body:
        error = body["error"]
        message = error if isinstance(error, str) else json.dumps(error)
        if isinstance(error, str) and _CODE_RE.fullmatch(error):
            code = error
        description = body.get("error_description")
        if isinstance(description, str) and description:
            message = f"{message}: {description}"
    else:
        message = " ".join(text.split()) or (resp.reason or "")
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return message, code


def error_for_response(resp: requests.Response, method: str) -> ApiError:
    """The :class:`ApiError` subclass for a non-2xx response (the body must be read).

    Reads the server's ``{"error": ...}`` text (a non-JSON body is used as-is, shortened)
    and the ``x-request-id`` header.
    """
    status = resp.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method.upper(),
        "url": resp.url or (resp.request.url if resp.request is not None else None),
        "request_id": resp.headers.get("x-request-id"),
    }
    message, kwargs["code"] = _server_message(resp)
    kwargs["retry_after"] = parse_retry_after(resp.headers.get("Retry-After"))
    return cls(message, **kwargs)

