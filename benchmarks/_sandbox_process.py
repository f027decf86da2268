"""Run the sandbox in a child process, so the client's time and memory are measured alone."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass(frozen=True)
class Remote:
    """Where the child's sandbox listens, and its whole-fleet client."""

    api_url: str
    base_url: str
    environment: str
    token_url: str
    client_id: str
    client_secret: str
    one_hz_series: list[str]
    connection: Connection

    def set(self, **faults: Any) -> None:
        """Set fault attributes (e.g. ``latency=0.1``) in the child's sandbox."""
        self.connection.send(("set", faults))
        self.connection.recv()

    def client_kwargs(self) -> dict[str, str]:
        """Arguments for ``raadata.Client``."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "environment": self.environment,
            "api_url": self.api_url,
            "token_url": self.token_url,
        }


def _child(connection: Connection, options: dict[str, Any]) -> None:
    from raadata.sandbox import serve

    with serve(**options) as sb:
        connection.send(
            {
                "api_url": sb.api_url,
                "base_url": sb.base_url,
                "environment": sb.environment,
                "token_url": sb.token_url,
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "one_hz_series": [s.ids["raalabs"] for s in sb.fleet.series if s.interval_s == 1],
            }
        )
        while True:
            command, arguments = connection.recv()
            if command == "stop":
                return
            for name, value in arguments.items():
                setattr(sb.faults, name, value)
            connection.send("ok")


@contextmanager
def sandbox_process(**options: Any) -> Iterator[Remote]:
    """A sandbox in a child process for the ``with`` block."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(theirs, options), daemon=True
    )
    process.start()
    try:
        yield Remote(connection=ours, **ours.recv())
    finally:
        ours.send(("stop", None))
        process.join(10)
