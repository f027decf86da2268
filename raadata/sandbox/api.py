"""The sandbox's HTTP semantics, without sockets: a ``Request`` in, a ``Response`` out.

Routes (prism-api.md): ``POST /oauth2/token``; ``GET /{environment}/{endpoint}/{domain}/
{expression}`` for measurements, statistics and metadata; ``POST /{environment}/{endpoint}
/query`` for measurements and statistics. Anything else is 404 ``{"error": "..."}``.

An API request is checked in this order: route (404), faults (latency, 429, 5xx), token
(401), ``x-api-version`` (400), query parameters (400), output format (400, 406), body (415,
400), selectors (404 unknown domain or nothing matched, 403 nothing readable), time range
(400), point limit (413). Every response has ``x-request-id``; API responses echo the
``x-api-version`` used.

Scopes: a selector keeps only the series the token may read; if it matched series but none
readable, 403; if it matched nothing at all, 404. In a POST body every selector must match
(100 selectors at most); series named twice are returned once. Rows are ordered by series
UUID, then time.

The point limit: measurements refuse a response of more points than ``point_limit``;
statistics refuse one of more rows (an upper bound: per series min(points, windows) x
aggregations) than ``point_limit``, or one that would scan more than ``SCAN_FACTOR x
point_limit`` raw points.

Metadata: a JSON object keyed by each series' id in the queried domain, written pair by pair,
so that two series sharing an id repeat the key. ``verbose=true`` adds ``verboseId``, a more
readable id, where the domain has one (``maker``, ``vis-3-8a``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from raadata.sandbox import data, encode
from raadata.sandbox.clock import wall_clock_us
from raadata.sandbox.compat import Compat
from raadata.sandbox.faults import Faults, Stats, Target
from raadata.sandbox.fleet import DOMAINS, Fleet, SeriesSpec
from raadata.sandbox.messages import (
    HttpError,
    Request,
    Response,
    client_credentials,
    negotiate,
    single_values,
)
from raadata.sandbox.query import (
    DEFAULT_WINDOW,
    TIME_PARAMETERS,
    QueryError,
    Selector,
    match,
    parse_aggregations,
    parse_duration,
    selector_from_path,
    selector_from_text,
    time_range,
)
from raadata.sandbox.tokens import Authority, InvalidClient, InvalidToken, TokenClaims

log = logging.getLogger("raadata.sandbox")

API_VERSIONS = ("2025-10-31", "2025-04-30")
"""Versions the sandbox accepts in ``x-api-version``; the first is the latest (the default)."""
TOKEN_PATH = "/oauth2/token"
MAX_SELECTORS = 100
SCAN_FACTOR = 50
ENDPOINTS = ("measurements", "statistics", "metadata")
_PARAMETERS = {
    "measurements": TIME_PARAMETERS | {"format"},
    "statistics": TIME_PARAMETERS | {"format", "aggregation", "window"},
    "metadata": frozenset({"format", "verbose"}),
}
_REASONS = {429: "too many requests", 500: "internal server error",
            502: "bad gateway", 503: "service unavailable", 504: "gateway timeout"}


@dataclass
class Settings:
    """What may change while serving: the data clock and the point limit."""

    now_us: int | None = None
    """The server's "now" in µs since the epoch; None = the wall clock."""
    point_limit: int = 1_000_000

    def clock_us(self) -> int:
        """The server's current "now" (µs since the epoch)."""
        return wall_clock_us() if self.now_us is None else self.now_us


class Api:
    """Answers requests for one sandbox (its fleet, clients, faults, counters, settings)."""

    def __init__(self, fleet: Fleet, authority: Authority, faults: Faults, stats: Stats,
                 settings: Settings, environment: str = "sandbox",
                 compat: Compat | None = None) -> None:
        self.fleet, self.authority, self.faults = fleet, authority, faults
        self.stats, self.settings, self.environment = stats, settings, environment
        self.compat = compat or Compat()
        self.closing = threading.Event()
        """Set when the server stops: hanging and trickling answers give up."""

    def handle(self, request: Request) -> Response:
        """Answer one request (never raises)."""
        endpoint = "other"
        try:
            path, _, query = request.target.partition("?")
            segments = urlsplit(path).path.split("/")[1:]
            if "/" + "/".join(segments) == TOKEN_PATH:
                endpoint = "token"
                response = self._token(request)
            elif len(segments) >= 2 and segments[1] in ENDPOINTS:
                if segments[0] != self.environment:
                    raise HttpError(404, f"unknown environment {segments[0]!r}")
                endpoint = segments[1]
                if endpoint in ("measurements", "statistics"):
                    with self.stats.answering():
                        response = self._api(request, endpoint, segments[2:], query)
                else:
                    response = self._api(request, endpoint, segments[2:], query)
            else:
                raise HttpError(404, f"unknown endpoint: {request.method} {path}")
        except HttpError as e:
            response = e.response()
        except Exception:  # a bug: answer 500 like a server would, and say so in the log
            log.exception("sandbox: error while answering %s %s", request.method,
                          request.target.partition("?")[0])
            response = HttpError(500, "internal server error").response()
        response.headers["x-request-id"] = str(uuid.uuid4())
        self.stats.count(endpoint, response.status)
        return response

    # -- faults -----------------------------------------------------------------------------

    def _fault(self, target: Target) -> None:
        status = self.faults.next_status(target)
        if status is None:
            return
        headers = {"Retry-After": self.faults.retry_after_header} if status in (429, 503) else {}
        reason = _REASONS.get(status, "injected fault")
        if target == "token":
            code = "temporarily_unavailable" if status in (429, 503) else "server_error"
            raise HttpError(status, code, headers, error_description=reason)
        raise HttpError(status, reason, headers)

    # -- token endpoint ---------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            raise HttpError(405, "invalid_request", {"Allow": "POST"},
                            error_description="the token endpoint takes POST")
        self._fault("token")
        ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise HttpError(400, "invalid_request",
                            error_description="the body must be application/x-www-form-urlencoded")
        form = single_values(parse_qs(request.body.decode("utf-8", "replace"),
                                       keep_blank_values=True), "invalid_request")
        grant = form.get("grant_type")
        if grant is None:
            raise HttpError(400, "invalid_request", error_description="missing grant_type")
        if grant != "client_credentials":
            raise HttpError(400, "unsupported_grant_type",
                            error_description="only client_credentials is supported")
        client_id, secret = client_credentials(request.header("authorization"), form)
        try:
            token = self.authority.issue(client_id, secret)
        except InvalidClient:
            raise HttpError(401, "invalid_client",
                            {"WWW-Authenticate": 'Basic realm="raadata-sandbox"'},
                            error_description="unknown client or wrong secret") from None
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        return Response(200, encode.json_body(token), encode.JSON, headers)

    # -- data API ---------------------------------------------------------------------------

    def _api(self, request: Request, endpoint: str, rest: list[str], query: str) -> Response:
        post = request.method == "POST" and rest == ["query"] and endpoint != "metadata"
        if not post and (request.method != "GET" or rest == ["query"]):
            raise HttpError(404, f"unknown endpoint: {request.method} /{endpoint}/"
                                 + "/".join(rest))
        if post and self.compat.post_query != "yes":  # a server without POST /query
            status = int(self.compat.post_query)
            raise HttpError(status, f"{'not found' if status == 404 else 'method not allowed'}: "
                                    f"POST /{endpoint}/query")
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)
        if endpoint != "metadata" and self.compat.hang > 0:
            self.closing.wait(self.compat.hang)
        self._fault("api")
        claims = self._authorize(request)
        version = request.header("x-api-version") or API_VERSIONS[0]
        if version not in API_VERSIONS:
            raise HttpError(400, f"unsupported x-api-version {version!r}; supported: "
                                 + ", ".join(API_VERSIONS))
        try:
            response = self._answer(request, endpoint, rest, query, claims, post)
        except QueryError as e:
            raise HttpError(400, str(e), {"x-api-version": version}) from None
        except HttpError as e:
            e.headers["x-api-version"] = version
            raise
        response.headers["x-api-version"] = version
        return response

    def _authorize(self, request: Request) -> TokenClaims:
        challenge = {"WWW-Authenticate": 'Bearer realm="prism"'}
        scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HttpError(401, "missing bearer token", challenge)
        try:
            return self.authority.verify(token.strip())
        except InvalidToken as e:
            challenge["WWW-Authenticate"] += f', error="invalid_token", error_description="{e}"'
            raise HttpError(401, str(e), challenge) from None

    def _answer(self, request: Request, endpoint: str, rest: list[str], query: str,
                claims: TokenClaims, post: bool) -> Response:
        params = single_values(parse_qs(query, keep_blank_values=True), None)
        unknown = sorted(set(params) - _PARAMETERS[endpoint])
        if unknown:
            raise QueryError(f"unknown query parameter(s) for {endpoint}: {', '.join(unknown)}")
        compat = self.compat
        allowed = ("json",) if endpoint == "metadata" else compat.formats
        try:
            fmt = negotiate(params.get("format"), request.header("accept"), allowed)
        except HttpError as refused:
            if endpoint == "metadata" or refused.status != 406:
                raise
            wanted = params.get("format") or request.header("accept") or "?"
            raise HttpError(*compat.refusal(wanted)) from None
        selectors = self._post_selectors(request) if post else [selector_from_path(rest)]
        specs, hidden = self._select(selectors, claims)
        if endpoint == "metadata":
            return self._metadata(selectors[0], specs, params, hidden)
        now = self.settings.clock_us()
        start, end = time_range(params, now)
        end = compat.end(max(start, min(end, now)))
        limit = self.settings.point_limit
        if endpoint == "measurements":
            n = data.points(self.fleet, specs, start, end)
            if n > limit:
                raise _too_large(compat, f"the response would hold {n} points", limit)
            table = self._ids(data.measurements(self.fleet, specs, start, end), selectors)
            body = encode.measurements_body(compat.reorder(table, start), fmt)
        else:
            aggregations = parse_aggregations(params.get("aggregation"))
            window = parse_duration(params.get("window", DEFAULT_WINDOW), "window")
            rows = data.statistics_rows(self.fleet, specs, start, end, window, len(aggregations))
            if rows > limit:
                raise _too_large(compat, f"the response would hold up to {rows} rows", limit)
            scanned = data.points(self.fleet, specs, start, end)
            if scanned > SCAN_FACTOR * limit:
                raise _too_large(compat, f"the statistics would scan {scanned} points",
                                 SCAN_FACTOR * limit)
            table = data.statistics(self.fleet, specs, start, end, window, aggregations)
            table = compat.reorder(self._ids(table, selectors), start)
            body = encode.statistics_body(table, fmt, compat.statistics_shape)
        if fmt != "parquet":
            body = compat.stamp_text(body)
        return Response(200, body, encode.FORMATS[fmt], drop=self.faults.should_drop(),
                        trickle=compat.trickle)

    def _ids(self, table: Any, selectors: Sequence[Selector]) -> Any:
        """With ``compat.domain_ids``, the ``id`` column in the queried domain (``raalabs``
        when the query named series by UUID or in several domains)."""
        if not self.compat.domain_ids:
            return table
        domains = {s.domain for s in selectors}
        domain = domains.pop() if len(domains) == 1 and "id" not in domains else "raalabs"
        return data.with_domain_ids(self.fleet, table, domain)

    def _post_selectors(self, request: Request) -> list[Selector]:
        ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise HttpError(415, "the body must be a JSON array with Content-Type: "
                                 "application/json")
        try:
            items = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise QueryError("the body is not valid JSON") from None
        if not isinstance(items, list) or not items:
            raise QueryError('the body must be a non-empty JSON array of "{domain}/'
                             '{expression}" strings')
        if len(items) > MAX_SELECTORS:
            raise QueryError(f"at most {MAX_SELECTORS} selectors per request, got {len(items)}")
        return [selector_from_text(item) for item in items]

    def _select(self, selectors: Sequence[Selector],
                claims: TokenClaims) -> tuple[list[SeriesSpec], int]:
        """The readable series the selectors name, and how many matches were left out."""
        chosen: dict[str, SeriesSpec] = {}
        hidden = 0
        for selector in selectors:
            try:
                found = match(self.fleet, selector)
            except KeyError:
                raise HttpError(404, f"unknown domain {selector.domain!r}; known: "
                                     + ", ".join(DOMAINS)) from None
            if not found:
                raise HttpError(404, f"no time series matches {selector.text!r}")
            readable = [s for s in found if claims.may_read(s.imo)]
            if not readable or (self.compat.wildcard_denied and len(readable) < len(found)):
                raise HttpError(403, f"not allowed to read {selector.text!r}")
            hidden += len(found) - len(readable)
            chosen.update((s.uuid, s) for s in readable)
        return sorted(chosen.values(), key=lambda s: s.uuid), hidden

    def _metadata(self, selector: Selector, specs: Sequence[SeriesSpec],
                  params: Mapping[str, str], hidden: int) -> Response:
        verbose = params.get("verbose", "false").lower()
        if verbose not in ("true", "false"):
            raise QueryError(f"invalid verbose {params['verbose']!r}: expected true or false")
        pairs = [(s.ids[selector.domain], self._record(s, selector.domain, verbose == "true"))
                 for s in specs]
        headers = {"x-unreadable-matches": str(hidden)} if hidden else {}
        return Response(200, encode.pairs_body(pairs), encode.JSON, headers)

    def _record(self, spec: SeriesSpec, domain: str, verbose: bool) -> dict[str, Any]:
        vessel = self.fleet.vessel(spec.imo)
        record: dict[str, Any] = {
            "name": spec.name, "description": spec.description, "source": spec.source,
            "scale": 1.0, "uom": spec.uom,
            "mapsTo": {d: i for d, i in spec.ids.items() if d != "id"},
            "rangeHigh": spec.signal.high, "rangeLow": spec.signal.low,
            "timeSeriesId": spec.uuid, "vesselImo": vessel.number, "vesselName": vessel.name,
        }
        if verbose and domain in spec.verbose_ids:
            record["verboseId"] = spec.verbose_ids[domain]
        return record


def _too_large(compat: Compat, what: str, limit: int) -> HttpError:
    return HttpError(*compat.too_large_error(what, limit))
