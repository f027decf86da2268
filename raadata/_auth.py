"""Access tokens: the OAuth 2 client-credentials exchange and one shared, thread-safe token.

The exchange uses requests-oauthlib's ``OAuth2Session`` with oauthlib's
``BackendApplicationClient`` (Basic auth, ``grant_type=client_credentials``). Its refresh
machinery is not used (it needs a refresh token, which client credentials never get:
requests-oauthlib issue #260), and the session is only touched under a lock, because it
keeps the token being fetched in shared state. The lifetime (:mod:`raadata._tokens`) is
``expires_in``, else the JWT ``exp``, else 3600 s; the token is re-fetched
``min(60 s, lifetime / 2)`` before it ends.

requests-oauthlib logs Basic credentials and tokens at DEBUG; each provider installs the
log filter of :mod:`raadata._redaction`, which masks them, and registers each token it
receives there. Transient failures of the token request are retried per
:mod:`raadata._retry` (:data:`TOKEN_RETRY`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn

import requests
from oauthlib.oauth2 import BackendApplicationClient, InsecureTransportError, OAuth2Error
from requests_oauthlib import OAuth2Session

from raadata._config import Secret, Settings
from raadata._errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    RateLimitedError,
    ServerError,
    TransportError,
    describe,
    error_for_response,
)
from raadata._redaction import (
    HeaderValue,
    basic_blobs,
    install_log_redaction,
    remember_secret,
)
from raadata._retry import RetryPolicy, call_with_retries
from raadata._tokens import Identity, Token, scopes_of, token_from
from raadata._urls import checked_url, is_loopback_url
from raadata._version import __version__

__all__ = ["TokenProvider"]

log = logging.getLogger(__name__)

TOKEN_RETRY = RetryPolicy(max_attempts=5, backoff_initial=0.5, backoff_max=10.0,
                          max_total_wait=60.0)
_REJECTED = {"invalid_client", "unauthorized_client", "invalid_grant", "access_denied"}


class _BasicAuth(requests.auth.AuthBase):
    """HTTP Basic credentials for the token request, masked in every repr on the way."""

    def __init__(self, client_id: str, secret: Secret) -> None:
        self._client_id, self._secret = client_id, secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        blob = basic_blobs(self._client_id, self._secret.reveal())[0]  # requests' spelling
        request.headers["Authorization"] = HeaderValue(f"Basic {blob}")
        return request

    def __repr__(self) -> str:
        return f"_BasicAuth({self._client_id!r}, ***)"


# --- the token exchange ----------------------------------------------------------------------

class _TokenSession(OAuth2Session):  # type: ignore[misc]
    """OAuth2Session that may use plain http for a loopback token URL (the sandbox).

    The one seam around oauthlib: it refuses ``http://`` token URLs through a process-wide
    switch (``OAUTHLIB_INSECURE_TRANSPORT``). For a loopback URL, :meth:`fetch_token` lets
    oauthlib build the request under the ``https://`` spelling and :meth:`request` sends it
    to the real URL; every other URL passes through untouched.
    """

    _loopback_url: str | None = None

    def fetch_token(self, token_url: str, **kwargs: Any) -> Any:
        if not (token_url.lower().startswith("http://") and is_loopback_url(token_url)):
            return super().fetch_token(token_url, **kwargs)
        self._loopback_url = token_url
        try:
            return super().fetch_token("https://" + token_url[len("http://"):], **kwargs)
        finally:
            self._loopback_url = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if self._loopback_url is None:
            response: requests.Response = super().request(method, url, *args, **kwargs)
            return response
        for key in ("withhold_token", "client_id", "client_secret"):
            kwargs.pop(key, None)
        return requests.Session.request(self, method, self._loopback_url, *args, **kwargs)


class TokenProvider:
    """One access token for a client, shared by all its threads.

    :meth:`token` returns a valid token, fetching one (under a lock, so exactly one fetch
    however many threads ask) when there is none or it is within the margin of expiry.
    :meth:`invalidate` drops a token the API refused (401) unless another thread has
    already replaced it. Once the token endpoint rejects the id/secret, every later call
    raises that :class:`AuthenticationError` without asking the server again.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: Secret | str,
        token_url: str,
        *,
        timeout: float | tuple[float, float] = (10.0, 30.0),
        session_factory: Callable[[], OAuth2Session] | None = None,
        retry: RetryPolicy = TOKEN_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        install_log_redaction()
        self.client_id = client_id
        self._secret = client_secret if isinstance(client_secret, Secret) else Secret(client_secret)
        for blob in basic_blobs(client_id, self._secret.reveal()):  # a server may echo it
            remember_secret(blob)
        try:
            self.token_url = checked_url(token_url)
        except ValueError as exc:
            raise ConfigurationError(f"token_url {token_url!r} {exc}") from None
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._clock = clock
        self._session_factory = session_factory or self._default_session
        self._session: OAuth2Session | None = None
        self._lock = threading.Lock()
        self._current: Token | None = None
        self._rejected: AuthenticationError | None = None
        self._fetch_count = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> TokenProvider:
        """A provider for ``settings`` (token fetch read timeout: at most 30 s)."""
        connect, read = settings.timeout
        kwargs.setdefault("timeout", (connect, min(read, 30.0)))
        return cls(settings.client_id, settings.client_secret, settings.token_url, **kwargs)

    def __repr__(self) -> str:
        state = "rejected" if self._rejected else ("has token" if self._current else "no token")
        return (f"TokenProvider(client_id={self.client_id!r}, token_url={self.token_url!r}, "
                f"{state}, fetches={self._fetch_count})")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a TokenProvider holds credentials and cannot be pickled")

    @property
    def fetch_count(self) -> int:
        """Requests sent to the token endpoint so far (each attempt counts)."""
        return self._fetch_count

    def token(self) -> str:
        """A token valid for at least the margin (``min(60 s, lifetime/2)``); may fetch."""
        return self.bearer().reveal()

    def bearer(self) -> Secret:
        """:meth:`token`, held masked (so no frame of a traceback shows it)."""
        current = self._current
        if current is not None and self._clock() < current.refresh_at:
            return current.text
        with self._lock:
            return self._refresh_locked().text

    def invalidate(self, token: Secret | str) -> bool:
        """Forget ``token`` after the API refused it; False if it was already replaced."""
        token = token if isinstance(token, Secret) else Secret(token)
        with self._lock:
            if self._current is not None and self._current.text == token:
                self._current = None
                return True
            return False

    def info(self) -> Identity:
        """Who this client is (fetches a token if there is none); never the token text."""
        current = self._current
        if current is None or self._clock() >= current.refresh_at:
            with self._lock:
                current = self._refresh_locked()
        claims = current.claims
        issuer = claims.get("iss")
        return Identity(
            client_id=self.client_id,
            scopes=scopes_of(claims),
            expires_at=current.expires_at,
            issued_at=current.issued_at,
            issuer=issuer if isinstance(issuer, str) else None,
        )

    def close(self) -> None:
        """Close the token session's connections."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    # -- internals (call with the lock held) ---------------------------------------------------

    def _refresh_locked(self) -> Token:
        current = self._current
        now = self._clock()
        if current is not None and now < current.refresh_at:
            return current  # another thread fetched while we waited for the lock
        if self._rejected is not None:
            raise self._copy(self._rejected)
        try:
            fresh = self._fetch()
        except AuthenticationError as exc:
            self._rejected = exc
            raise
        except (TransportError, ApiError) as exc:
            if current is not None and now < current.expires_mono - 1.0:
                # the old token still works: use it and try again a little later
                log.warning("token refresh failed (%s); using the current token a while longer",
                            exc)
                postponed = min(10.0, (current.expires_mono - now) / 2)
                self._current = replace(current, refresh_at=now + postponed)
                return self._current
            raise
        self._current = fresh
        return fresh

    @staticmethod
    def _copy(exc: AuthenticationError) -> AuthenticationError:
        return AuthenticationError(exc.message, status=exc.status, method=exc.method,
                                   url=exc.url, request_id=exc.request_id)

    def _default_session(self) -> OAuth2Session:
        session = _TokenSession(client=BackendApplicationClient(client_id=self.client_id))
        session.headers["User-Agent"] = f"raadata/{__version__}"
        return session

    def _session_locked(self) -> OAuth2Session:
        if self._session is None:
            session = self._session_factory()
            session.register_compliance_hook("access_token_response", self._check_response)
            self._session = session
        return self._session

    def _fetch(self) -> Token:
        return call_with_retries(self._fetch_once, self.retry, what="token request",
                                 sleep=self._sleep)

    def _fetch_once(self) -> Token:
        session = self._session_locked()
        self._fetch_count += 1
        sent_mono, sent_wall = self._clock(), time.time()
        try:
            response: dict[str, Any] = session.fetch_token(
                self.token_url,
                auth=_BasicAuth(self.client_id, self._secret),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            exc.__suppress_context__ = True  # urllib3's chain below it repeats the same story
            raise TransportError(
                f"token endpoint {self.token_url} unreachable: {describe(exc)}"
            ) from exc
        except InsecureTransportError:
            raise ConfigurationError(
                f"token_url {self.token_url!r} must use https:// (http only for loopback hosts)"
            ) from None
        except (OAuth2Error, ValueError) as exc:
            raise AuthenticationError(
                f"the token endpoint answered without a usable token: {exc}",
                method="POST", url=self.token_url,
            ) from None
        return self._make_token(response, sent_mono, sent_wall)

    def _make_token(self, response: dict[str, Any], mono: float, wall: float) -> Token:
        """The token of a token response. The raw text leaves ``response`` (which callers'
        frames and oauthlib's session still hold) for a :class:`Secret` at once."""
        if not isinstance(response.get("access_token"), str) or not response["access_token"]:
            raise AuthenticationError("the token endpoint answered without an access_token",
                                      method="POST", url=self.token_url)
        text = Secret(response["access_token"])  # also registered for redaction
        response["access_token"] = "***"
        token_type = str(response.get("token_type", "Bearer"))
        if token_type.lower() != "bearer":
            raise AuthenticationError(f"unsupported token type {token_type!r} (want Bearer)",
                                      method="POST", url=self.token_url)
        token = token_from(text, response, mono, wall)
        log.debug("fetched a token for %s living %.0f s", self.client_id, token.lifetime)
        return token

    def _check_response(self, response: requests.Response) -> requests.Response:
        """access_token_response hook: map an error status before oauthlib parses the body."""
        if response.ok:
            return response
        error = error_for_response(response, "POST")
        if isinstance(error, RateLimitedError | ServerError):
            raise error
        if error.status == 401 or error.code in _REJECTED:
            message = (f"the token endpoint rejected client id {self.client_id!r}: the credentials "
                       "were rejected and may have been rotated; check RAADATA_CLIENT_ID and "
                       f"RAADATA_CLIENT_SECRET (server said: {error.message})")
        else:
            message = f"the token request was refused: {error.message}"
        raise AuthenticationError(message, status=error.status, method="POST",
                                  url=self.token_url, request_id=error.request_id)
