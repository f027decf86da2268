"""Where credentials may go: one URL parser, the HTTP stack's own, decides.

requests sends each request to the host that urllib3's :func:`~urllib3.util.parse_url`
finds, so the loopback rule and the bearer token's origin check use that parser too, never
:mod:`urllib.parse`: the two disagree on URLs such as ``http://192.0.2.2\\.localhost``
(urllib3: host ``192.0.2.2``; ``urlsplit``: ``192.0.2.2\\.localhost``). URLs that parsers
may read differently are refused outright: a backslash, whitespace or control character
anywhere; ``@`` (user-info) or a percent escape before the path; a ``:`` without a port; a
host that is not a DNS name, an IPv4 address or a bracketed IPv6 address. The scheme and
host are case-insensitive and normalised to lower case.

Plain ``http://`` is allowed only for ``localhost``, ``127.0.0.0/8`` and ``[::1]`` (the
sandbox), never for other names (``*.localhost`` included), which a resolver may send
anywhere.
"""

from __future__ import annotations

import ipaddress
import re

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

__all__ = ["Origin", "checked_url", "is_loopback_url", "origin"]

Origin = tuple[str, str, int | None]
"""(scheme, host, port) of a URL, lower case, with the scheme's default port filled in."""

_AUTHORITY_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
_NAME_RE = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_DEFAULT_PORTS = {"http": 80, "https": 443}
PLAIN_HTTP = ("uses plain http://, which is allowed only for loopback hosts: localhost, "
              "127.0.0.0/8 and [::1] (not *.localhost or other names); use https://")


def checked_url(url: str) -> str:
    """``url`` checked and normalised: lower-case scheme and host, no trailing ``/``.

    Raises :class:`ValueError` with the reason (a phrase to follow the URL, e.g.
    ``"contains a backslash"``) for anything but an http(s) URL that every parser reads
    the same way, and for plain ``http://`` to a host that is not loopback.
    """
    parts = _parse(url)
    if parts.scheme == "http" and not _is_loopback_host(parts.host or ""):
        raise ValueError(PLAIN_HTTP)
    path = (parts.path or "").rstrip("/") or None
    return str(Url(scheme=parts.scheme, host=parts.host, port=parts.port, path=path).url)


def is_loopback_url(url: str) -> bool:
    """True if ``url`` passes :func:`checked_url`'s checks and its host is ``localhost``,
    in ``127.0.0.0/8`` or ``[::1]``."""
    try:
        return _is_loopback_host(_parse(url).host or "")
    except ValueError:
        return False


def origin(url: str) -> Origin:
    """(scheme, host, port) as urllib3 reads ``url``; ``("", "", None)`` if it cannot."""
    try:
        parts = parse_url(url)
    except LocationParseError:
        return "", "", None
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.host or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def _parse(url: str) -> Url:
    """urllib3's reading of ``url``, refusing what other parsers could read differently."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValueError("contains whitespace or a control character")
    if "\\" in url:
        raise ValueError("contains a backslash")
    match = _AUTHORITY_RE.match(url)
    if match is None:
        raise ValueError("is not an http(s) URL")
    authority = match.group(1)
    if "@" in authority:
        raise ValueError("must not contain credentials or '@' before the path")
    if "%" in authority:
        raise ValueError("must not have a percent escape in the host")
    if authority.endswith(":"):
        raise ValueError("has a ':' but no port after the host")
    if "?" in url or "#" in url:
        raise ValueError("must not have a query or fragment")
    try:
        parts = parse_url(url)
    except LocationParseError as exc:
        raise ValueError(f"cannot be parsed ({exc})") from None
    scheme, host = (parts.scheme or "").lower(), (parts.host or "").lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("is not an http(s) URL")
    if not _valid_host(host):
        raise ValueError(
            "has no host, or one that is not a DNS name, an IPv4 address or a bracketed "
            "IPv6 address"
        )
    return Url(scheme=scheme, host=host, port=parts.port, path=parts.path)


def _valid_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    return _NAME_RE.fullmatch(host) is not None


def _is_loopback_host(host: str) -> bool:
    """``localhost``, an address in ``127.0.0.0/8`` or ``[::1]``; nothing else."""
    if host == "localhost":
        return True
    try:
        if host.startswith("["):
            return ipaddress.IPv6Address(host[1:-1]) == ipaddress.IPv6Address("::1")
        return ipaddress.IPv4Address(host) in _LOOPBACK_V4
    except ValueError:
        return False
