"""Resolving selectors to the series the token may read, through the metadata endpoint.

Metadata answers are keyed by the id in the queried domain and carry each series' UUID
(``timeSeriesId``); data requests then name series by UUID, so a wildcard is expanded once
and a domain id shared by two series yields both.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from raadata._decode import JSON, decode_metadata
from raadata._errors import PermissionDeniedError, ScopeWarning
from raadata._http import Transport
from raadata._selectors import Selector

LabelKind = Literal["domain", "uuid", "name"]
LABEL_KINDS: tuple[str, ...] = ("domain", "uuid", "name")
OnDenied = Literal["raise", "skip"]


@dataclass(frozen=True)
class SeriesInfo:
    """One readable series: its UUID, its id in the queried domain, and its metadata."""

    uuid: str
    domain: str
    domain_id: str
    vessel: str | None
    name: str | None
    uom: str | None
    metadata: Mapping[str, Any]

    def label(self, kind: LabelKind) -> str:
        """The column label: the domain id (default), the UUID, or the metadata name."""
        if kind == "uuid":
            return self.uuid
        if kind == "name":
            return self.name or self.domain_id
        return self.domain_id


def series_from_metadata(
    entries: Iterable[tuple[str, Mapping[str, Any]]], domain: str
) -> list[SeriesInfo]:
    """SeriesInfo for each metadata entry; entries without a UUID use their key (id domain)."""
    found = []
    for key, fields in entries:
        imo = fields.get("vesselImo")
        found.append(
            SeriesInfo(
                uuid=str(fields.get("timeSeriesId") or key),
                domain=domain,
                domain_id=key,
                vessel=f"IMO{imo}" if imo and not str(imo).startswith("IMO") else imo,
                name=fields.get("name"),
                uom=fields.get("uom"),
                metadata=fields,
            )
        )
    return found


class MetadataCache:
    """Metadata answers per selector path, kept for the life of a client."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, bool], list[tuple[str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bool]) -> list[tuple[str, dict[str, Any]]] | None:
        """The cached entries, or ``None``."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, bool], entries: list[tuple[str, dict[str, Any]]]) -> None:
        """Remember entries for a selector."""
        with self._lock:
            self._entries[key] = entries


def fetch_metadata(
    transport: Transport, selector: Selector, cache: MetadataCache, *, verbose: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """The raw metadata entries of one selector (repeated keys kept), cached."""
    key = (selector.path, verbose)
    cached = cache.get(key)
    if cached is not None:
        return cached
    params = {"verbose": "true"} if verbose else None
    response = transport.request(
        "GET", f"metadata/{selector.url_path()}", params=params, accept=JSON
    )
    entries = decode_metadata(response.content)
    cache.put(key, entries)
    return entries


def resolve(
    transport: Transport,
    selectors: Sequence[Selector],
    cache: MetadataCache,
    *,
    max_workers: int = 4,
    on_denied: OnDenied = "raise",
) -> list[SeriesInfo]:
    """Every readable series the selectors name, first occurrence of each UUID kept.

    A selector the token may not read raises :class:`PermissionDeniedError`, or with
    ``on_denied="skip"`` is left out with a :class:`ScopeWarning` (unless all are denied).
    """

    def lookup(selector: Selector) -> list[tuple[str, dict[str, Any]]] | None:
        try:
            return fetch_metadata(transport, selector, cache)
        except PermissionDeniedError:
            if on_denied == "raise":
                raise
            return None

    with ThreadPoolExecutor(max(1, min(max_workers, len(selectors)))) as pool:
        answers = list(pool.map(lookup, selectors))
    denied = [str(s) for s, entries in zip(selectors, answers, strict=True) if entries is None]
    if denied and len(denied) == len(selectors):
        fetch_metadata(transport, selectors[0], cache)  # every one denied: the error itself
    if denied:
        warnings.warn(
            f"skipped {len(denied)} selector(s) your scopes do not cover: {', '.join(denied)}",
            ScopeWarning, stacklevel=4,
        )
    seen: dict[str, SeriesInfo] = {}
    for selector, entries in zip(selectors, answers, strict=True):
        if entries is None:
            continue
        for info in series_from_metadata(entries, selector.domain):
            seen.setdefault(info.uuid, info)
    return list(seen.values())
