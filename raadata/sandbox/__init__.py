"""A local Prism API and auth server for notebooks, demos and tests (no credentials needed).

    from raadata.sandbox import serve

    with serve(now="2025-01-02T00:00:00Z") as sb:
        sb.api_url, sb.token_url, sb.client_id, sb.client_secret
        client = sb.client()            # a raadata.Client pointed at the sandbox

It serves prism-api.md on 127.0.0.1: the token endpoint (``sb.token_url``) and the data API
under ``sb.base_url`` (``{api_url}/{environment}``), with a deterministic synthetic fleet
(``sb.fleet``; see ``raadata.sandbox.fleet``), built-in clients with different scopes
(``sb.clients``), faults that tests switch on (``sb.faults``) and request counters
(``sb.stats``). From a shell: ``raadata sandbox``; in pytest: the ``raadata_sandbox``
fixture of the opt-in plugin ``raadata.testing``. The client code never imports this package.

Modules: ``clock`` (instants), ``fleet`` (series and their data), ``tokens`` (clients, JWTs),
``query`` (selectors, time ranges), ``data`` (Arrow tables), ``encode`` (bodies), ``faults``
(faults and counters), ``api`` (HTTP semantics), ``server`` (HTTP plumbing), ``cli``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from raadata.sandbox.api import API_VERSIONS, Api, Settings
from raadata.sandbox.clock import Instant, to_datetime, to_us
from raadata.sandbox.compat import Compat
from raadata.sandbox.faults import Faults, Stats
from raadata.sandbox.fleet import Fleet, SeriesSpec, Vessel, default_fleet
from raadata.sandbox.server import ServerThread
from raadata.sandbox.tokens import BUILTIN_SCOPES, Authority, BuiltinClient

__all__ = [
    "API_VERSIONS",
    "BuiltinClient",
    "Compat",
    "Faults",
    "Fleet",
    "Sandbox",
    "SeriesSpec",
    "Stats",
    "Vessel",
    "default_fleet",
    "serve",
]

FLEET_CLIENT = "sandbox-fleet"
"""The built-in client that may read the whole fleet (``sb.client_id``)."""


class Sandbox:
    """A sandbox server: configuration, the URLs to reach it, and run-time switches.

    Use ``serve(...)`` (or ``with Sandbox(...) as sb``) to run one. Options:
    ``port`` (0 = a free port), ``host`` (loopback by default), ``token_ttl`` (seconds),
    ``now`` (the server's clock for data: None = the wall clock, else a fixed instant; a
    datetime (naive = UTC) or ISO string), ``point_limit`` (413 above it), ``seed`` (fleet
    values and random faults), ``secrets`` (client id → secret; random otherwise),
    ``environment`` (the path segment), ``fleet`` (another Fleet), ``compat`` (a mapping of
    :class:`~raadata.sandbox.compat.Compat` switches: how the points the docs leave open are
    answered, e.g. ``{"inclusive_to": True, "formats": ("json",)}``; settable later as
    ``sb.compat``) and the fault switches of ``Faults`` (``latency``, ``rate_limit_every``,
    ``retry_after``, ``error_rate``, ``error_status``, ``drop_every``).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        token_ttl: float = 3600,
        now: Instant | None = None,
        point_limit: int = 1_000_000,
        seed: int = 0,
        secrets: Mapping[str, str] | None = None,
        environment: str = "sandbox",
        fleet: Fleet | None = None,
        compat: Mapping[str, Any] | None = None,
        **faults: Any,
    ) -> None:
        self.fleet = default_fleet(seed) if fleet is None else fleet
        self.compat = Compat()
        """How the points the docs leave open are answered (see ``raadata.sandbox.compat``)."""
        self.compat.update(**(compat or {}))
        self.faults = Faults(seed)
        for name, value in faults.items():
            if name.startswith("_") or not hasattr(self.faults, name) or callable(
                    getattr(self.faults, name)):
                raise TypeError(f"unknown sandbox option {name!r}")
            setattr(self.faults, name, value)
        self.stats = Stats()
        self.environment = environment
        self.host, self._port = host, port
        self._authority = Authority(BUILTIN_SCOPES, secrets, int(token_ttl))
        self._settings = Settings(point_limit=point_limit)
        self.now = now
        self._api = Api(self.fleet, self._authority, self.faults, self.stats, self._settings,
                        environment, self.compat)
        self._server: ServerThread | None = None

    # -- running ----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving in a background thread (once)."""
        if self._server is None:
            self._server = ServerThread(self.host, self._port, self._api)
            self._server.start()
        return self

    def close(self) -> None:
        """Stop serving and close every connection."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.api_url if self._server else "not started"
        return f"<Sandbox {where} environment={self.environment!r}>"

    # -- where and who ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port served (the real one once started)."""
        return self._server.port if self._server else self._port

    @property
    def api_url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:PORT`` (no environment segment)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``{api_url}/{environment}``: the data endpoints follow it."""
        return f"{self.api_url}/{self.environment}"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint, on the same server."""
        return f"{self.api_url}/oauth2/token"

    @property
    def clients(self) -> dict[str, BuiltinClient]:
        """The built-in clients by id, with their current secrets."""
        return self._authority.clients

    @property
    def client_id(self) -> str:
        """The whole-fleet client's id, ``"sandbox-fleet"``."""
        return FLEET_CLIENT

    @property
    def client_secret(self) -> str:
        """The whole-fleet client's current secret."""
        return self._authority.clients[FLEET_CLIENT].client_secret

    def client(self, **kwargs: Any) -> Any:
        """A ``raadata.Client`` for this sandbox (the whole-fleet client unless told).

        ``kwargs`` go to ``Client``; a ``client_id`` of a built-in client brings its secret.
        """
        client_cls = importlib.import_module("raadata").Client
        client_id = kwargs.pop("client_id", FLEET_CLIENT)
        known = self.clients.get(client_id)
        options: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": kwargs.pop("client_secret", known.client_secret if known else None),
            "environment": self.environment, "api_url": self.api_url,
            "token_url": self.token_url,
        }
        options.update(kwargs)
        return client_cls(**options)

    # -- run-time switches ------------------------------------------------------------------

    def rotate_secret(self, client_id: str = FLEET_CLIENT) -> str:
        """Give a client a new secret and return it; the old secret is refused at once
        (401 invalid_client) and tokens issued before fail with 401 on the API."""
        return self._authority.rotate_secret(client_id)

    def revoke_tokens(self) -> None:
        """Every token issued so far fails with 401 on the API; new tokens work."""
        self._authority.revoke_all()

    @property
    def token_ttl(self) -> int:
        """Lifetime of newly issued tokens, seconds (token times use the wall clock)."""
        return self._authority.ttl

    @token_ttl.setter
    def token_ttl(self, seconds: float) -> None:
        self._authority.ttl = int(seconds)

    @property
    def now(self) -> datetime | None:
        """The server's data clock: None = the wall clock, else the fixed "now" (UTC).

        Data exists up to (not including) now; ``since``/``last`` and the default range
        count back from it. Set a datetime (naive = UTC), ISO string, or None.
        """
        us = self._settings.now_us
        return None if us is None else to_datetime(us)

    @now.setter
    def now(self, value: Instant | None) -> None:
        self._settings.now_us = None if value is None else to_us(value)

    def clock(self) -> datetime:
        """The server's current "now" (the fixed one, or the wall clock)."""
        return to_datetime(self._settings.clock_us())

    @property
    def point_limit(self) -> int:
        """The most points a response may hold (413 above it)."""
        return self._settings.point_limit

    @point_limit.setter
    def point_limit(self, value: int) -> None:
        if value < 0:
            raise ValueError("point_limit must be >= 0")
        self._settings.point_limit = int(value)


@contextmanager
def serve(**options: Any) -> Iterator[Sandbox]:
    """Run a sandbox in a background thread for the ``with`` block; yields the Sandbox.

    Options as for ``Sandbox`` (e.g. ``port=0, host="127.0.0.1", token_ttl=3600, now=None,
    point_limit=1_000_000, seed=0``).
    """
    sandbox = Sandbox(**options)
    with sandbox:
        yield sandbox
