"""The exception tree and error_for_response."""

from __future__ import annotations

import pickle

import pytest
import requests

from raadata import _errors as errors
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
    error_for_response,
    parse_retry_after,
)


def _response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None,
    url: str = "https://prism.example/env/measurements/x",
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body
    resp.headers.update(headers or {})
    resp.url = url
    resp.reason = "Reason"
    return resp


def test_tree() -> None:
    assert issubclass(ConfigurationError, RaadataError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(TransportError, RaadataError)
    for cls in (BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError,
                NotAcceptableError, ResponseTooLargeError, RateLimitedError, ServerError):
        assert issubclass(cls, ApiError)
        assert issubclass(cls, RaadataError)
    assert "PermissionDeniedError    403" in (errors.__doc__ or "")


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError),
     (404, NotFoundError), (406, NotAcceptableError), (415, NotAcceptableError),
     (413, ResponseTooLargeError), (429, RateLimitedError), (500, ServerError),
     (502, ServerError), (503, ServerError), (504, ServerError), (418, ApiError)],
)
def test_error_for_response_classes(status: int, cls: type[ApiError]) -> None:
    err = error_for_response(_response(status, b'{"error": "nope"}'), "get")
    assert type(err) is cls
    assert err.status == status
    assert err.method == "GET"
    assert err.message == "nope"


def test_error_fields_and_str() -> None:
    resp = _response(
        429, b'{"error": "slow down"}', {"x-request-id": "req-1", "Retry-After": "2"},
    )
    err = error_for_response(resp, "POST")
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 2.0
    assert err.request_id == "req-1"
    assert err.url == "https://prism.example/env/measurements/x"
    text = str(err)
    assert text.startswith("429: slow down")
    assert "POST https://prism.example/env/measurements/x" in text
    assert "request id req-1" in text


def test_non_json_body_is_tolerated() -> None:
    err = error_for_response(_response(502, b"<html>\n  Bad   gateway </html>"), "GET")
    assert isinstance(err, ServerError)
    assert err.message == "<html> Bad gateway </html>"
    empty = error_for_response(_response(503), "GET")
    assert empty.message == "Reason"
    huge = error_for_response(_response(500, b"x" * 5000), "GET")
    assert len(huge.message) <= 500


def test_structured_error_and_description() -> None:
    err = error_for_response(
        _response(400, b'{"error": "invalid_client", "error_description": "bad secret"}'), "POST"
    )
    assert err.message == "invalid_client: bad secret"
    obj = error_for_response(_response(400, b'{"error": {"code": 7}}'), "GET")
    assert obj.message == '{"code": 7}'


def test_url_loses_userinfo() -> None:
    err = ApiError("x", status=500, method="GET", url="https://user:pw@host:8443/a?b=1")
    assert err.url == "https://host:8443/a?b=1"
    assert "pw" not in str(err)


def test_pickle_round_trip() -> None:
    err = RateLimitedError("slow", status=429, method="GET", url="https://h/x", request_id="r",
                           retry_after=3.0)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is RateLimitedError
    assert (back.status, back.method, back.url, back.request_id, back.retry_after) == (
        429, "GET", "https://h/x", "r", 3.0)
    assert str(back) == str(err)
    timeout = ResponseTooLargeError("read timed out", method="GET", url="https://h/x")
    assert pickle.loads(pickle.dumps(timeout)).status is None


def test_retry_after_parsing() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(date, now=1445412470.0) == pytest.approx(10.0)


