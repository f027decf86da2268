"""Redaction: secrets, tokens, Basic blobs and JWTs masked in text, logs and header reprs."""

from __future__ import annotations

import copy
import logging
import pickle

from raadata import ServerError
from raadata._redaction import (
    HeaderValue,
    basic_blobs,
    install_log_redaction,
    redact,
    remember_secret,
)


def test_redaction() -> None:
    remember_secret("very-secret-value")
    assert "very-secret-value" not in redact("secret: very-secret-value.")
    assert redact("{'Authorization': 'Basic Y2xpZW50OnNlY3JldA=='}") == (
        "{'Authorization': 'Basic ***'}")
    assert redact('{"access_token": "tok-1", "expires_in": 5}') == (
        '{"access_token": "***", "expires_in": 5}')
    assert redact("a.eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln b") == "a.*** b"
    assert redact("a basic idea; token_type Bearer") == "a basic idea; token_type Bearer"
    err = ServerError("echo very-secret-value", status=500)
    assert "very-secret-value" not in str(err)


def test_header_values_keep_only_their_scheme_in_reprs() -> None:
    header = HeaderValue("Bearer abc.def.ghi-secret")
    assert header == "Bearer abc.def.ghi-secret"  # sent as it is
    assert repr(header) == "'Bearer ***'"
    assert "ghi-secret" not in repr({"Authorization": header})


def test_header_values_pickle_masked_and_copy_as_they_are() -> None:
    """Whatever pickles an error's cause (tblib, installed by dask.distributed, does) pickles
    the request hung on it; the header's pickle carries the mask only."""
    header = HeaderValue("Bearer abc.def.ghi-secret")
    dumped = pickle.dumps({"Authorization": header})
    assert b"ghi-secret" not in dumped
    assert pickle.loads(dumped) == {"Authorization": "Bearer ***"}
    assert copy.copy(header) is header
    assert copy.deepcopy(header) is header


def test_basic_blobs_cover_both_spellings() -> None:
    blobs = basic_blobs("id", "a+b/c")
    assert len(blobs) == 2
    for blob in blobs:
        remember_secret(blob)
        assert blob not in redact(f"header basic {blob} echoed")


def test_log_records_are_redacted() -> None:
    import raadata._http  # noqa: F401  (its logger exists before the filter goes on)

    install_log_redaction()
    remember_secret("log-secret-123")
    logger = logging.getLogger("raadata._http")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("sent %s", {"client_secret": "log-secret-123"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert records
    assert "log-secret-123" not in records[0].getMessage()
