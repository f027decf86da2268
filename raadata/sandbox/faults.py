"""Faults that tests switch on at run time, and counters of what the server did.

Faults apply to API requests (``measurements``, ``statistics``, ``metadata``), in this order:
added ``latency``; the next ``script``-ed status; a 429 on every ``rate_limit_every``-th
request; a random ``error_status`` with probability ``error_rate`` (seeded, so a run repeats).
``drop_every`` cuts every Nth successful data response (measurements, statistics) short: the
headers (with the full Content-Length) and part of the body are sent, then the connection is
closed. The token endpoint only follows a script with ``target="token"``. 429 and 503 carry
``Retry-After: retry_after`` (whole seconds, rounded up).

    sb.faults.script([503, 503])          # the next two API requests answer 503
    sb.faults.rate_limit_every = 3        # requests 3, 6, 9, … answer 429
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Literal

Target = Literal["api", "token"]


class Faults:
    """The fault switches; every attribute may be set at any time, from any thread.

    - ``latency``: seconds added to every API request (not the token endpoint).
    - ``rate_limit_every``: every Nth API request answers 429 (0 = never).
    - ``retry_after``: seconds announced in Retry-After of 429 and 503.
    - ``error_rate``, ``error_status``: the probability that an API request answers
      ``error_status`` (500 by default), drawn from a generator seeded with ``seed``.
    - ``drop_every``: every Nth successful data response is cut short (0 = never).
    """

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.latency = 0.0
        self.rate_limit_every = 0
        self.retry_after = 1.0
        self.error_rate = 0.0
        self.error_status = 500
        self.drop_every = 0
        self._scripts: dict[str, deque[int]] = {"api": deque(), "token": deque()}
        self._api_requests = 0
        self._data_responses = 0
        self._random = random.Random(seed)

    def reset(self) -> None:
        """Switch every fault off, forget scripts and counters, reseed the generator."""
        with self._lock:
            self.latency, self.rate_limit_every, self.retry_after = 0.0, 0, 1.0
            self.error_rate, self.error_status, self.drop_every = 0.0, 500, 0
            for script in self._scripts.values():
                script.clear()
            self._api_requests = self._data_responses = 0
            self._random = random.Random(self._seed)

    def __repr__(self) -> str:
        on = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"Faults({', '.join(f'{k}={v!r}' for k, v in on.items())})"

    def script(self, statuses: Iterable[int], target: Target = "api") -> None:
        """The next requests to ``target`` answer these statuses, in order (added to any
        script already pending). A status below 400 lets that request through unharmed."""
        if target not in self._scripts:
            raise ValueError("target must be 'api' or 'token'")
        with self._lock:
            self._scripts[target].extend(int(s) for s in statuses)

    @property
    def retry_after_header(self) -> str:
        """The Retry-After header value: whole seconds, rounded up."""
        return str(max(0, math.ceil(self.retry_after)))

    def next_status(self, target: Target) -> int | None:
        """Called once per request: the fault status to answer with, or None (no fault)."""
        with self._lock:
            script = self._scripts[target]
            if script:
                status = script.popleft()
                return status if status >= 400 else None
            if target != "api":
                return None
            self._api_requests += 1
            if self.rate_limit_every and self._api_requests % self.rate_limit_every == 0:
                return 429
            if self.error_rate and self._random.random() < self.error_rate:
                return self.error_status
            return None

    def should_drop(self) -> bool:
        """Called once per successful data response: True if this one is to be cut short."""
        with self._lock:
            self._data_responses += 1
            return bool(self.drop_every) and self._data_responses % self.drop_every == 0


class Stats:
    """Counters: ``requests`` and ``responses`` per endpoint, ``tokens_issued``, and
    ``max_concurrent``: the most data requests (measurements, statistics) being answered at
    once (the high-water mark; see :meth:`answering`).

    Endpoints: ``"token"``, ``"measurements"``, ``"statistics"``, ``"metadata"`` and
    ``"other"`` (unknown paths). ``responses`` is keyed by ``(endpoint, status)``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.responses: Counter[tuple[str, int]] = Counter()
        self.tokens_issued = 0
        self.concurrent = 0
        self.max_concurrent = 0

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count one data request as being answered for the ``with`` block."""
        with self._lock:
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            yield
        finally:
            with self._lock:
                self.concurrent -= 1

    def count(self, endpoint: str, status: int) -> None:
        """Record one request to ``endpoint`` answered with ``status``."""
        with self._lock:
            self.requests[endpoint] += 1
            self.responses[endpoint, status] += 1
            if endpoint == "token" and status == 200:
                self.tokens_issued += 1

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self.requests.clear()
            self.responses.clear()
            self.max_concurrent = self.concurrent
            self.tokens_issued = 0

    def __repr__(self) -> str:
        return (f"Stats(requests={dict(self.requests)}, tokens_issued={self.tokens_issued})")
