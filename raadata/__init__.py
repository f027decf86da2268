"""raadata: maritime sensor time series from the Raa Labs API (Prism) into pandas and Parquet."""

from raadata._version import __version__
from raadata.auth import Identity
from raadata.client import Client
from raadata.config import Settings
from raadata.errors import (
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
from raadata.export import ExportConflictError, ExportResult
from raadata.report import PullReport
from raadata.resolve import SeriesInfo
from raadata.timeseries import Plan, get_series

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
