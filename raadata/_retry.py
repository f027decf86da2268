"""Retry policy: which failures are retried, how long to wait between tries, when to stop.

Retried (:func:`is_transient`): 429 (:class:`~raadata._errors.RateLimitedError`), 500, 502,
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

:func:`retry_wait` and :func:`retry_stop` turn a policy into tenacity's ``wait`` and
``stop`` callables.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import requests
from tenacity import RetryCallState

from raadata._errors import RateLimitedError, ServerError, TransportError

__all__ = ["RetryPolicy", "is_transient", "retry_stop", "retry_wait"]


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
    """True for failures worth retrying: 429, 500/502/503/504, lost connections."""
    if isinstance(exc, RateLimitedError):
        return True
    if isinstance(exc, ServerError):
        return exc.status in (500, 502, 503, 504)
    return isinstance(exc, TransportError) and _retryable_cause(exc.__cause__)


def _retryable_cause(cause: BaseException | None) -> bool:
    """True for connection failures worth retrying (not TLS errors, not read timeouts)."""
    if isinstance(cause, requests.exceptions.SSLError | requests.ReadTimeout):
        return False
    return isinstance(cause, requests.ConnectionError | requests.exceptions.ChunkedEncodingError)


def retry_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """A tenacity ``wait`` for ``policy`` that honours ``retry_after`` on the exception."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        hint = float(hint) if isinstance(hint, int | float) else None
        return policy.wait(state.attempt_number, hint)

    return wait


def retry_stop(policy: RetryPolicy) -> Callable[[RetryCallState], bool]:
    """A tenacity ``stop`` for ``policy`` (attempts, and the summed waits)."""

    def stop(state: RetryCallState) -> bool:
        return policy.should_stop(state.attempt_number, state.idle_for, state.upcoming_sleep)

    return stop
