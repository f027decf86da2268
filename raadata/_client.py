"""raadata.Client: configuration, the HTTP transport and the caller's identity."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NoReturn

from raadata._auth import Identity
from raadata._config import Secret, Settings, settings_from
from raadata._http import Transport
from raadata._timeseries import TimeSeriesAPI

__all__ = ["Client"]


class Client(TimeSeriesAPI):
    """A connection to Prism for one client id.

    Arguments not given are filled from ``RAADATA_*`` environment variables and then from
    the profile file, when the client is created (never at import). ``timeout`` is seconds,
    or (connect, read) seconds. ``max_workers`` bounds concurrent requests; ``progress``
    shows progress bars (``None``: when a person is watching). Use it as a context manager
    or call :meth:`close`. A client is thread-safe; it cannot be pickled (it holds
    credentials): create one per process, e.g. with :meth:`from_env`.
    """

    settings: Settings
    transport: Transport
    max_workers: int
    progress: bool | None

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        *,
        environment: str | None = None,
        api_url: str | None = None,
        token_url: str | None = None,
        api_version: str | None = None,
        timeout: float | tuple[float, float] | None = None,
        max_workers: int = 8,
        progress: bool | None = None,
        profile: str | None = None,
    ) -> None:
        settings = settings_from(
            os.environ, client_id=client_id, client_secret=client_secret,
            environment=environment, api_url=api_url, token_url=token_url,
            api_version=api_version, timeout=timeout, profile=profile,
        )
        self._setup(settings, max_workers, progress)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        profile: str | None = None,
        *,
        max_workers: int = 8,
        progress: bool | None = None,
        **overrides: Any,
    ) -> Client:
        """A client configured from ``env`` (default ``os.environ``) and the profile file.

        ``overrides`` take the same names as :func:`raadata._config.settings_from`.
        """
        settings = settings_from(os.environ if env is None else env, profile=profile, **overrides)
        return cls.from_settings(settings, max_workers=max_workers, progress=progress)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, max_workers: int = 8, progress: bool | None = None
    ) -> Client:
        """A client for ready-made :class:`~raadata._config.Settings`."""
        client = cls.__new__(cls)
        client._setup(settings, max_workers, progress)
        return client

    def _setup(self, settings: Settings, max_workers: int, progress: bool | None) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be a positive int, got {max_workers!r}")
        self.settings = settings
        self.max_workers = max_workers
        self.progress = progress
        # two connections per worker: data requests plus metadata look-ups running beside them
        self.transport = Transport(settings, pool_size=max(16, 2 * max_workers))
        self._init_timeseries()

    def whoami(self) -> Identity:
        """Client id, scopes (from the token's claims) and token expiry; fetches a token
        if needed. Never shows the token itself."""
        return self.transport.tokens.info()

    def access_token(self) -> str:
        """The current bearer token text. It is a credential: do not print or log it."""
        return self.transport.tokens.token()

    def close(self) -> None:
        """Close pooled connections; the client should not be used afterwards."""
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.settings
        return (f"{type(self).__name__}(client_id={s.client_id!r}, "
                f"environment={s.environment!r}, api_url={s.api_url!r})")

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a raadata.Client holds credentials and open connections and cannot be pickled; "
            "create one in each process instead (e.g. raadata.Client.from_env())"
        )
