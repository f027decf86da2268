"""raadata: maritime sensor time series from the Raa Labs API (Prism) into pandas and Parquet."""

from raadata._auth import Identity
from raadata._client import Client
from raadata._config import Settings
from raadata._errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    RaadataError,
    RateLimitedError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
)
from raadata._export import ExportConflictError, ExportResult
from raadata._report import PullReport
from raadata._resolve import SeriesInfo
from raadata._timeseries import Plan, get_series
from raadata._version import __version__

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ExportConflictError",
    "ExportResult",
    "Identity",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "PullReport",
    "RaadataError",
    "RateLimitedError",
    "ResponseTooLargeError",
    "SeriesInfo",
    "ServerError",
    "Settings",
    "TransportError",
    "__version__",
    "get_series",
]
