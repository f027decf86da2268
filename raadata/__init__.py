"""raadata: maritime sensor time series from the Raa Labs API (Prism) into pandas and Parquet.

The public surface is what this module exports (``__all__``); every other module is
private. ``Client`` and ``get_series`` load pandas and pyarrow on first use, so that
``import raadata`` (and its errors) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raadata._errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    CacheError,
    ConfigurationError,
    ExportConflictError,
    InsecureFileWarning,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    RaadataError,
    RateLimitedError,
    ResponseFormatError,
    ResponseTooLargeError,
    ScopeWarning,
    ServerError,
    StorageError,
    TransportError,
)
from raadata._version import __version__

if TYPE_CHECKING:
    from raadata._client import Client
    from raadata._config import Settings
    from raadata._defaults import get_series
    from raadata._export_types import ExportResult
    from raadata._pulls import Plan
    from raadata._query import QueryOptions
    from raadata._report import PullReport
    from raadata._resolve import SeriesInfo
    from raadata._tokens import Identity

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "CacheError",
    "Client",
    "ConfigurationError",
    "ExportConflictError",
    "ExportResult",
    "Identity",
    "InsecureFileWarning",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "PullReport",
    "QueryOptions",
    "RaadataError",
    "RateLimitedError",
    "ResponseFormatError",
    "ResponseTooLargeError",
    "ScopeWarning",
    "SeriesInfo",
    "ServerError",
    "Settings",
    "StorageError",
    "TransportError",
    "__version__",
    "get_series",
]

_LAZY = {
    "Client": "raadata._client",
    "get_series": "raadata._defaults",
    "Identity": "raadata._tokens",
    "Settings": "raadata._config",
    "ExportResult": "raadata._export_types",
    "Plan": "raadata._pulls",
    "QueryOptions": "raadata._query",
    "PullReport": "raadata._report",
    "SeriesInfo": "raadata._resolve",
}


def __getattr__(name: str) -> Any:
    """Load the heavy public names (pandas, pyarrow behind them) on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'raadata' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
