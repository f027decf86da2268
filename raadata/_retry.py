"""Retry policy: which failures are retried, how long to wait between tries, when to stop.

Retried (:func:`is_transient`): 429 (:class:`~raadata._errors.RateLimitedError`), a body
that cannot be read (:class:`~raadata._errors.ResponseFormatError`), 500, 502,
503 and 504 (:class:`~raadata._errors.ServerError`), and a
:class:`~raadata._errors.TransportError` whose cause is a ``requests.ConnectionError``
(connection refused, reset or lost, connect timeout) or a broken chunked body. Not retried:
other statuses (401 gets its own single re-fetch of the token in :mod:`raadata._http`, 403 is
final), TLS errors (``SSLError``) and ``requests.ReadTimeout`` (no answer within the read
timeout would most likely repeat). Which *requests* are retried is the caller's choice:
:mod:`raadata._http` retries reads only, :mod:`raadata._auth` the token request.

Waits (:meth:`RetryPolicy.wait`): exponential backoff with jitter, uniform in ``[b/2, b]``
where ``b = min(backoff_max, backoff_initial * 2**(n-1))`` before retry ``n``, so that many
threads failing together do not come back together. A ``Retry-After`` hint from the server
(``retry_after`` on the exception) replaces the backoff, plus up to 10 % jitter (at most 1 s).

Bounds (:meth:`RetryPolicy.should_stop`): at most ``max_attempts`` attempts in all, and no
retry whose wait would push the summed waits past ``max_total_wait`` seconds.

One loop for every caller: :func:`call_with_retries` (built on tenacity) is used by the
token exchange and by the transport alike. An error it gives up on is marked ``retried``,
so that an outer loop (a data request that fetched a token) does not retry it again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception

from raadata._errors import (
    ApiError,
    RaadataError,
    RateLimitedError,
    ResponseFormatError,
    ServerError,
    TransportError,
)

__all__ = ["RetryEvent", "RetryPolicy", "call_with_retries", "is_transient"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryEvent:
    """A retry about to happen: the failed ``attempt`` (1-based), its HTTP ``status``
    (``None`` for a connection failure), a short ``reason`` and the ``wait`` in seconds."""

    attempt: int
    status: int | None
    reason: str
    wait: float


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry transient failures (all times in seconds).

    The wait before retry ``n`` (1-based) is exponential with jitter: uniform in
    ``[b/2, b]`` where ``b = min(backoff_max, backoff_initial * 2**(n-1))``. A
    ``Retry-After`` hint replaces it (plus up to 10 % jitter, at most 1 s). Retrying stops
    after ``max_attempts`` attempts, or when the next wait would push the summed waits
    past ``max_total_wait``.
    """

    max_attempts: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_total_wait: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if min(self.backoff_initial, self.backoff_max, self.max_total_wait) < 0:
            raise ValueError("retry waits must not be negative")

    def wait(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        uniform = (rng or random).uniform
        if retry_after is not None:
            return retry_after + uniform(0.0, min(1.0, 0.1 * retry_after))
        base = min(self.backoff_max, self.backoff_initial * 2.0 ** (attempt - 1))
        return uniform(base / 2, base)

    def should_stop(self, attempt: int, waited: float, next_wait: float) -> bool:
        """True when no further attempt should be made after ``attempt`` attempts."""
        return attempt >= self.max_attempts or waited + next_wait > self.max_total_wait


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: 429, 500/502/503/504, lost connections; never an
    error that a retry loop has already given up on."""
    if isinstance(exc, RaadataError) and exc.retried:
        return False
    if isinstance(exc, RateLimitedError | ResponseFormatError):
        return True
    if isinstance(exc, ServerError):
        return exc.status in (500, 502, 503, 504)
    return isinstance(exc, TransportError) and _retryable_cause(exc.__cause__)


def _retryable_cause(cause: BaseException | None) -> bool:
    """True for connection failures worth retrying (not TLS errors, not read timeouts)."""
    if isinstance(cause, requests.exceptions.SSLError | requests.ReadTimeout):
        return False
    return isinstance(cause, requests.ConnectionError | requests.exceptions.ChunkedEncodingError)


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None],
    on_retry: Callable[[RetryEvent], None] | None = None,
) -> T:
    """``attempt()`` until it succeeds or fails for good, retrying transient failures.

    Waits follow ``policy`` (honouring ``retry_after`` on the error). ``what`` names the
    request in log lines; ``on_retry`` is called before each wait. The error that ends the
    loop is raised without the loop's frames, marked ``retried``, with a note saying how
    many attempts were made when there was more than one.
    """
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        return attempt()

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        status = exc.status if isinstance(exc, ApiError) else None
        event = RetryEvent(state.attempt_number, status, _reason(exc), state.upcoming_sleep)
        log.info("%s failed (%s); retry %d in %.1f s", what, event.reason, event.attempt,
                 event.wait)
        if on_retry is not None:
            on_retry(event)

    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=_wait(policy),
        stop=_stop(policy),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(counted)
    except RaadataError as exc:
        error = exc
    if attempts > 1:
        error.add_note(f"raadata: {what} gave up after {attempts} attempts")
    error.retried = True
    raise error.with_traceback(None)  # the loop's frames dropped; the cause is kept


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.status} {exc.message}".strip()
    return str(exc) if exc is not None else "unknown"


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """A tenacity ``wait`` for ``policy`` that honours ``retry_after`` on the exception."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = exc.retry_after if isinstance(exc, ApiError) else None
        return policy.wait(state.attempt_number, hint)

    return wait


def _stop(policy: RetryPolicy) -> Callable[[RetryCallState], bool]:
    """A tenacity ``stop`` for ``policy`` (attempts, and the summed waits)."""

    def stop(state: RetryCallState) -> bool:
        return policy.should_stop(state.attempt_number, state.idle_for, state.upcoming_sleep)

    return stop
