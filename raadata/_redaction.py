"""Redaction: secrets and tokens never reach log records, exception text or reprs.

What is masked (by :func:`redact`, with ``***``):

* every text passed to :func:`remember_secret`: the client secret (each
  :class:`~raadata._config.Secret` registers itself) and each access token as it arrives;
* the credentials of ``Authorization: Basic ...``/``Bearer ...`` headers, wherever they
  appear (dict reprs, raw headers, prose); the scheme word is kept;
* the values of ``access_token``, ``refresh_token``, ``id_token``, ``client_secret``,
  ``password`` and ``token`` fields in JSON, dict reprs and form bodies;
* anything shaped like a JWT.

Where it applies:

* **logs, at any level**: :func:`install_log_redaction` (called by each
  :class:`~raadata._auth.TokenProvider`) puts a filter on the ``requests_oauthlib``,
  ``oauthlib``, ``urllib3``, ``requests`` and ``raadata`` loggers and every existing logger
  under them, which rewrites each record's message before any handler sees it;
* **exception text**: :class:`~raadata._errors.ApiError` messages and the one-line reasons of
  transport failures pass through :func:`redact`;
* **reprs**: objects holding credentials mask them in their own ``repr`` (``Secret``,
  ``Settings``, ``TokenProvider``, the bearer auth) and refuse to be pickled.

Why: requests-oauthlib logs the Basic credentials and the token response at DEBUG, urllib3
and requests may log headers, and servers echo request details in error bodies. A user who
turns on DEBUG logging, or pastes a traceback into a ticket, must not hand out the client
secret or a live token.

This module depends on nothing else in raadata, so any module may use it.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["HeaderValue", "basic_blobs", "install_log_redaction", "redact", "remember_secret"]

_MASK = "***"
_PATTERNS = [
    # Authorization headers in dict reprs, raw headers or prose: keep the scheme only.
    (re.compile(r"\b([Bb][Aa][Ss][Ii][Cc]|[Bb][Ee][Aa][Rr][Ee][Rr])\s+"
                r"(?![a-z]+(?:[\s'\",;)]|$))[A-Za-z0-9._~+/=-]{8,}"),
     r"\1 " + _MASK),
    # Credential-bearing fields in JSON, dict reprs and form bodies.
    (re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|id_token|client_secret|password|token)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\"'&,}\s]+"),
     r"\1" + _MASK),
    # Anything shaped like a JWT.
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), _MASK),
]
_KNOWN: dict[str, None] = {}  # secret/token texts seen in this process, newest last
_KNOWN_MAX = 256
_KNOWN_LOCK = threading.Lock()
_REDACTED_LOGGERS = ("requests_oauthlib", "oauthlib", "urllib3", "requests", "raadata")


# --- text ------------------------------------------------------------------------------------

def remember_secret(value: str) -> None:
    """Have :func:`redact` mask ``value`` wherever it appears (secrets, tokens, Basic blobs)."""
    if len(value) < 4:  # too short to mask without mangling ordinary text
        return
    with _KNOWN_LOCK:
        _KNOWN.pop(value, None)
        _KNOWN[value] = None
        while len(_KNOWN) > _KNOWN_MAX:
            del _KNOWN[next(iter(_KNOWN))]


def redact(text: str) -> str:
    """``text`` with known secrets, tokens, JWTs and Authorization credentials masked."""
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, _MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class HeaderValue(str):
    """An ``Authorization`` header value that keeps its credentials out of reprs.

    It is a ``str``, so requests and urllib3 send it as it is; but ``repr`` (what tracebacks
    rendered with locals, debuggers and dict reprs show) keeps only the scheme word. Frames
    of the HTTP stack that hold the headers of a failed request show ``'Bearer ***'``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(self.masked())

    def masked(self) -> str:
        """The scheme word and the mask: ``'Bearer ***'``."""
        return self.split(" ", 1)[0] + " " + _MASK

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        # A pickle (of a request hung on an error, say, which tblib -- installed by
        # dask.distributed -- pickles with the error's cause) carries the mask only.
        return (str, (self.masked(),))

    def __copy__(self) -> HeaderValue:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> HeaderValue:
        return self


def basic_blobs(client_id: str, secret: str) -> list[str]:
    """Every spelling of the HTTP Basic credentials of ``client_id``/``secret`` a server may
    echo: as requests sends them, and with both parts form-encoded first (RFC 6749 2.3.1)."""
    from base64 import b64encode
    from urllib.parse import quote_plus

    pairs = {f"{client_id}:{secret}", f"{quote_plus(client_id)}:{quote_plus(secret)}"}
    return [b64encode(pair.encode("latin-1", "replace")).decode() for pair in pairs]


# --- logging ---------------------------------------------------------------------------------

class _RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets, tokens and credentials masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's business, not ours
            return True
        record.msg, record.args = redact(message), None
        return True


_FILTER = _RedactingFilter()
_FILTER_LOCK = threading.Lock()


def install_log_redaction() -> None:
    """Mask secrets in records of requests-oauthlib, oauthlib, urllib3, requests, raadata.

    Logger filters only see records logged on that very logger, so the filter goes on
    every existing logger under those names. Idempotent; called by each TokenProvider.
    """
    with _FILTER_LOCK:
        names = [n for n in list(logging.root.manager.loggerDict)
                 if n.split(".")[0] in _REDACTED_LOGGERS]
        for name in {*_REDACTED_LOGGERS, *names}:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
