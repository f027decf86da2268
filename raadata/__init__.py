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

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "Identity",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RaadataError",
    "RateLimitedError",
    "ResponseTooLargeError",
    "ServerError",
    "Settings",
    "TransportError",
    "__version__",
]
