"""The HTTP layer: one requests.Session per client, retries, error mapping, 401 re-fetch.

Reads (GET, and POST to a ``.../query`` endpoint, which only reads) are retried on 429,
500, 502, 503, 504 and connection failures with exponential backoff and jitter, honouring
``Retry-After`` (see :mod:`raadata._retry`). A 401 drops the token and the request is sent
once more with a fresh one; 403 is never retried. The bearer token is attached only to
requests for the API's own origin, also across redirects.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import NoReturn
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from raadata._auth import TokenProvider
from raadata._config import Secret, Settings
from raadata._errors import (
    AuthenticationError,
    PermissionDeniedError,
    ResponseTooLargeError,
    TransportError,
    describe,
    error_for_response,
)
from raadata._redaction import HeaderValue
from raadata._retry import RetryEvent, RetryPolicy, call_with_retries
from raadata._urls import Origin, origin
from raadata._version import __version__

__all__ = ["USER_AGENT", "Transport"]

log = logging.getLogger(__name__)

USER_AGENT = f"raadata/{__version__}"
_SPLIT_STATUSES = (413, 502, 504)
_TOO_LARGE = re.compile(
    r"too (large|big|many)|exceed|payload|response size|point limit|limit of \d", re.I
)
"""What a 400 or 500 says when the server refuses a response for its size."""


class _BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer`` only when the request goes to the API origin."""

    def __init__(self, token: Secret, api_origin: Origin) -> None:
        self._token = token
        self._origin = api_origin

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url and origin(request.url) == self._origin:
            request.headers["Authorization"] = HeaderValue(f"Bearer {self._token.reveal()}")
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


class _ApiSession(requests.Session):
    """A Session that drops Authorization on any redirect leaving the API origin."""

    def __init__(self, api_origin: Origin) -> None:
        super().__init__()
        self.api_origin = api_origin

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        if prepared_request.url and origin(prepared_request.url) != self.api_origin:
            prepared_request.headers.pop("Authorization", None)
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]


def _is_read(method: str, path: str) -> bool:
    """GET/HEAD, or POST to a read-only ``.../query`` endpoint."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    return method == "POST" and urlsplit(path).path.rstrip("/").split("/")[-1] == "query"


class _DeadlineExceeded(requests.ReadTimeout):
    """The whole answer (headers and body) took longer than the attempt's deadline."""


def _read_body(response: requests.Response, deadline: float) -> None:
    """Read a streamed body into ``response.content``, giving up at ``deadline`` (monotonic
    seconds): a server that trickles its body is cut off, not waited for byte by byte."""
    chunks = []
    try:
        while True:
            if time.monotonic() > deadline:
                response.close()
                raise _DeadlineExceeded("deadline exceeded while reading the body")
            chunk = response.raw.read1(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ConnectionError(exc) from exc
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]


def _is_read_timeout(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ReadTimeout):
        return True  # no response headers in time
    inner = exc.args[0] if exc.args else None  # the body stalled (requests wraps urllib3's)
    return isinstance(exc, requests.ConnectionError) and isinstance(
        inner, urllib3.exceptions.ReadTimeoutError
    )


class Transport:
    """Sends requests to ``{api_url}/{environment}/...`` with auth, retries and error mapping.

    ``pool_size`` is the number of connections kept per host (size it to the number of
    threads that fetch at once). ``retry`` bounds retries of reads.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        pool_size: int = 16,
        retry: RetryPolicy | None = None,
        tokens: TokenProvider | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self.settings = settings
        self.base_url = settings.base_url
        self.retry = retry or RetryPolicy()
        self.tokens = tokens or TokenProvider.from_settings(settings)
        self._sleep = sleep
        self._origin = origin(self.base_url)
        self.session: requests.Session = _ApiSession(self._origin)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({
            "User-Agent": USER_AGENT,
            "x-api-version": settings.api_version,
            "Accept": "application/json",
        })

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_version={self.settings.api_version!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Transport holds credentials and connections and cannot be pickled")

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close pooled connections (API and token endpoint)."""
        self.session.close()
        self.tokens.close()

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (relative to ``base_url``, already percent-encoded)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        accept: str | None = None,
        split_on_too_large: bool = False,
        on_retry: Callable[[RetryEvent], None] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send one request and return the read response (2xx), retrying reads.

        Non-2xx after retries raises an :class:`~raadata._errors.ApiError` subclass; no
        answer raises :class:`~raadata._errors.TransportError`. With ``split_on_too_large``,
        413/502/504 and read timeouts raise :class:`~raadata._errors.ResponseTooLargeError`
        at once. ``on_retry`` is called before each retry's sleep. ``timeout`` in seconds.
        """
        method = method.upper()
        call = _Call(self, method, self.url(path), params, json, accept, split_on_too_large,
                     timeout if timeout is not None else self.settings.timeout)
        if not _is_read(method, path):
            return call()
        return call_with_retries(call, self.retry, what=f"{method} {call.url}",
                                 sleep=self._sleep, on_retry=on_retry)


class _Call:
    """One logical request: each call is an attempt (with at most one 401 re-fetch)."""

    def __init__(
        self,
        transport: Transport,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        json: object,
        accept: str | None,
        split: bool,
        timeout: float | tuple[float, float],
    ) -> None:
        self.transport, self.method, self.url = transport, method, url
        self.params, self.json, self.split, self.timeout = params, json, split, timeout
        self.headers = {"Accept": accept} if accept else {}
        read = timeout[1] if isinstance(timeout, tuple) else timeout
        self.deadline = max(transport.settings.deadline or 0.0, read)

    def __call__(self) -> requests.Response:
        token = self.transport.tokens.bearer()
        response = self._send(token)
        if response.status_code == 401:
            self.transport.tokens.invalidate(token)
            response = self._send(self.transport.tokens.bearer())
            if response.status_code == 401:
                error = error_for_response(response, self.method)
                raise AuthenticationError(
                    f"{error.message} (refused a freshly fetched token too)",
                    status=401, method=self.method, url=error.url, request_id=error.request_id,
                )
        if response.ok:
            return response
        error = error_for_response(response, self.method)
        if isinstance(error, PermissionDeniedError):  # say what the caller may read
            scopes = " ".join(self.transport.tokens.info().scopes) or "(none in the token)"
            error.hint = f"your token's scopes: {scopes} (raadata whoami shows them)"
        if self.split and (response.status_code in _SPLIT_STATUSES or (
                response.status_code in (400, 500) and _TOO_LARGE.search(error.message))):
            raise ResponseTooLargeError(
                f"{error.message} (response too large? split the request)",
                status=error.status, method=self.method, url=error.url,
                request_id=error.request_id,
            )
        raise error

    def _send(self, token: Secret) -> requests.Response:
        transport = self.transport
        started = time.monotonic()
        try:
            response = transport.session.request(
                self.method, self.url, params=self.params, json=self.json, headers=self.headers,
                timeout=self.timeout, auth=_BearerAuth(token, transport._origin), stream=True,
            )
            _read_body(response, started + self.deadline)
        except requests.RequestException as exc:
            self._raise_transport(exc)
        log.debug("%s %s -> %d (%.2f s)", self.method, response.url, response.status_code,
                  time.monotonic() - started)
        return response

    def _raise_transport(self, exc: requests.RequestException) -> NoReturn:
        url = self.url
        if _is_read_timeout(exc):
            read = self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout
            what = (f"the answer took longer than the deadline of {self.deadline:g} s"
                    if isinstance(exc, _DeadlineExceeded)
                    else f"no complete answer within the read timeout of {read} s")
            if self.split:
                raise ResponseTooLargeError(f"{what}; split the request",
                                            method=self.method, url=url) from exc
            raise TransportError(f"{self.method} {url}: {what}") from exc
        exc.__suppress_context__ = True  # urllib3's chain below it repeats the same story
        raise TransportError(f"{self.method} {url}: {describe(exc)}") from exc

