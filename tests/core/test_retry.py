"""The one retry loop: backoff with jitter, Retry-After, what is transient, when to stop."""

from __future__ import annotations

import random

import pytest
import requests

from raadata import BadRequestError, RateLimitedError, ServerError, TransportError
from raadata._retry import RetryEvent, RetryPolicy, call_with_retries, is_transient


def test_retry_policy_waits() -> None:
    policy = RetryPolicy(backoff_initial=0.5, backoff_max=4.0, max_attempts=6, max_total_wait=10)
    rng = random.Random(1)
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0)]:
        waits = [policy.wait(attempt, rng=rng) for _ in range(50)]
        assert all(base / 2 <= w <= base for w in waits)
        assert len(set(waits)) > 1  # jittered
    assert 2.0 <= policy.wait(1, retry_after=2.0, rng=rng) <= 2.2
    assert policy.wait(1, retry_after=0.0, rng=rng) == 0.0
    assert 30 <= policy.wait(1, retry_after=30.0, rng=rng) <= 31
    assert policy.should_stop(6, 0, 0)
    assert not policy.should_stop(5, 0, 1)
    assert policy.should_stop(2, 9.5, 1)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def flaky(errors: list[BaseException], result: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return calls, attempt


def test_transient_failures_are_retried_with_the_waits_of_the_policy() -> None:
    waits: list[float] = []
    events: list[RetryEvent] = []
    calls, attempt = flaky([ServerError("busy", status=503),
                            RateLimitedError("slow down", status=429, retry_after=2.0)])
    got = call_with_retries(attempt, RetryPolicy(backoff_initial=0.5), what="GET x",  # type: ignore[arg-type]
                            sleep=waits.append, on_retry=events.append)
    assert got == "ok"
    assert len(calls) == 3
    assert 0.25 <= waits[0] <= 0.5
    assert 2.0 <= waits[1] <= 2.2  # Retry-After honoured
    assert [event.wait for event in events] == waits


def test_a_permanent_failure_is_not_retried() -> None:
    calls, attempt = flaky([BadRequestError("no", status=400)])
    with pytest.raises(BadRequestError):
        call_with_retries(attempt, RetryPolicy(), what="GET x", sleep=lambda _: None)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_giving_up_marks_the_error_and_says_how_often() -> None:
    errors: list[BaseException] = [ServerError("down", status=500) for _ in range(5)]
    calls, attempt = flaky(errors)
    with pytest.raises(ServerError) as info:
        call_with_retries(attempt, RetryPolicy(max_attempts=3, backoff_initial=0.01),  # type: ignore[arg-type]
                          what="GET x", sleep=lambda _: None)
    assert len(calls) == 3
    assert info.value.retried
    assert not is_transient(info.value)  # an outer loop does not retry it again
    assert any("3 attempts" in note for note in getattr(info.value, "__notes__", []))


def test_what_is_transient() -> None:
    lost = TransportError("lost")
    lost.__cause__ = requests.ConnectionError("reset")
    tls = TransportError("tls")
    tls.__cause__ = requests.exceptions.SSLError("bad certificate")
    assert is_transient(lost)
    assert not is_transient(tls)
    assert is_transient(ServerError("x", status=502))
    assert not is_transient(ServerError("x", status=501))
    assert not is_transient(ValueError("bug"))
