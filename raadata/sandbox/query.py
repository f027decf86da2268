"""What a request asks for: selectors (``{domain}/{expression}``), time ranges, statistics.

Pure functions; a malformed request raises ``QueryError`` whose text becomes the 400 body.

Selectors (prism-api.md §3): the expression's levels are separated by ``/`` and empty levels
count; ``*`` matches within one level only (a glob: ``ME*`` matches ``ME ShaftPower``), never
across ``/``. In the ``id`` domain the expression is a comma-separated list of UUIDs.

Time ranges (§5), as µs since the epoch, half-open ``[start, end)``; "now" is the server's
clock: ``from``/``to`` (ISO 8601; ``from`` alone runs to now), ``from_epoch``/``to_epoch``
(Unix seconds, decimals allowed), ``since`` (a duration back from now), ``last`` (a duration
back from the end of the last full UTC day), ``year``/``month``/``day`` (a UTC calendar period;
``month`` needs ``year``, ``day`` needs ``month``). None of them: the last hour. Mixing
families, ``to`` without ``from`` and ``to`` before ``from`` are errors.

Durations: ``<integer><unit>``, unit ``s|sec|second(s)``, ``m|min|minute(s)``,
``h|hour(s)``, ``d|day(s)``, ``w|week(s)``; zero is refused.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

from raadata.sandbox.clock import US_PER_DAY, US_PER_S, parse_iso
from raadata.sandbox.fleet import DOMAINS, Fleet, SeriesSpec


class QueryError(ValueError):
    """A request the API cannot make sense of (400); the text is the API's error message."""


# -- durations ---------------------------------------------------------------------------

_UNIT_S = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86_400),
}
_DURATION = re.compile(r"([0-9]+)([a-z]+)")


def parse_duration(text: str, what: str = "duration") -> int:
    """``"6hours"`` → µs. QueryError if malformed, of an unknown unit, or zero."""
    m = _DURATION.fullmatch(text)
    if m is None or m.group(2) not in _UNIT_S:
        raise QueryError(
            f"invalid {what} {text!r}: expected <integer><unit>, unit one of "
            "s, sec, second(s), m, min, minute(s), h, hour(s), d, day(s), w, week(s)"
        )
    us = int(m.group(1)) * _UNIT_S[m.group(2)] * US_PER_S
    if us <= 0:
        raise QueryError(f"invalid {what} {text!r}: must be positive")
    return us


# -- time ranges -------------------------------------------------------------------------

_FAMILY = {
    "from": "from/to", "to": "from/to", "from_epoch": "from_epoch/to_epoch",
    "to_epoch": "from_epoch/to_epoch", "since": "since", "last": "last",
    "year": "year/month/day", "month": "year/month/day", "day": "year/month/day",
}
TIME_PARAMETERS = frozenset(_FAMILY)
DEFAULT_RANGE_US = 3600 * US_PER_S
_EPOCH = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_MAX_US = 253_402_300_800 * US_PER_S  # 10000-01-01


def _iso(name: str, text: str) -> int:
    try:
        return parse_iso(text)
    except ValueError:
        pass
    if "T" in text and " " in text:  # a '+' of an offset that the query string made a space
        try:
            return parse_iso(text.replace(" ", "+"))
        except ValueError:
            pass
    raise QueryError(f"invalid {name} {text!r}: expected an ISO 8601 instant such as "
                     "2025-01-01T00:00:00.000000Z")


def _epoch(name: str, text: str) -> int:
    if not _EPOCH.fullmatch(text):
        raise QueryError(f"invalid {name} {text!r}: expected Unix seconds")
    try:
        us = int(Decimal(text) * US_PER_S)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        raise QueryError(f"invalid {name} {text!r}: expected Unix seconds") from None
    if not -_MAX_US < us < _MAX_US:
        raise QueryError(f"invalid {name} {text!r}: out of range")
    return us


def _int(name: str, text: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", text) or not low <= int(text) <= high:
        raise QueryError(f"invalid {name} {text!r}: expected an integer from {low} to {high}")
    return int(text)


def _calendar(params: Mapping[str, str]) -> tuple[int, int]:
    if "year" not in params:
        raise QueryError("'month' and 'day' need 'year'")
    year = _int("year", params["year"], 1970, 9998)
    if "month" not in params:
        if "day" in params:
            raise QueryError("'day' needs 'month'")
        return _ymd(year, 1, 1), _ymd(year + 1, 1, 1)
    month = _int("month", params["month"], 1, 12)
    if "day" not in params:
        return _ymd(year, month, 1), _ymd(year + month // 12, month % 12 + 1, 1)
    day = _int("day", params["day"], 1, calendar.monthrange(year, month)[1])
    start = _ymd(year, month, day)
    return start, start + US_PER_DAY


def _ymd(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0)) * US_PER_S


def time_range(params: Mapping[str, str], now_us: int) -> tuple[int, int]:
    """The ``[start, end)`` (µs) that the time parameters in ``params`` name (others ignored)."""
    given = [p for p in params if p in _FAMILY]
    families = sorted({_FAMILY[p] for p in given})
    if not families:
        return now_us - DEFAULT_RANGE_US, now_us
    if len(families) > 1:
        raise QueryError(f"time parameters of different kinds cannot be mixed: {', '.join(given)}")
    family = families[0]
    if family == "since":
        return now_us - parse_duration(params["since"], "since"), now_us
    if family == "last":
        end = now_us // US_PER_DAY * US_PER_DAY
        return end - parse_duration(params["last"], "last"), end
    if family == "year/month/day":
        return _calendar(params)
    lo_name, hi_name = ("from", "to") if family == "from/to" else ("from_epoch", "to_epoch")
    parse = _iso if family == "from/to" else _epoch
    if lo_name not in params:
        raise QueryError(f"'{hi_name}' needs '{lo_name}'")
    start = parse(lo_name, params[lo_name])
    end = parse(hi_name, params[hi_name]) if hi_name in params else now_us
    if end < start:
        raise QueryError(f"'{hi_name}' is before '{lo_name}'")
    return start, end


# -- statistics --------------------------------------------------------------------------

AGGREGATIONS = ("avg", "min", "max", "count", "sum", "stddev", "first", "last")
DEFAULT_WINDOW = "1m"


def parse_aggregations(text: str | None) -> tuple[str, ...]:
    """``"avg,max"`` → ``("avg", "max")`` (duplicates dropped); ``None`` → ``("avg",)``."""
    if text is None:
        return ("avg",)
    names = [a.strip() for a in text.split(",")]
    bad = [a for a in names if a not in AGGREGATIONS]
    if bad or not names:
        raise QueryError(f"invalid aggregation {','.join(bad)!r}: expected a comma-separated "
                         f"list of {', '.join(AGGREGATIONS)}")
    return tuple(dict.fromkeys(names))


# -- selectors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """A parsed ``{domain}/{expression}``: the expression split into decoded levels."""

    domain: str
    levels: tuple[str, ...]

    @property
    def text(self) -> str:
        """The selector as ``{domain}/{expression}`` (for messages)."""
        return "/".join((self.domain, *self.levels))


def selector_from_path(segments: Sequence[str]) -> Selector:
    """URL path segments after the endpoint (each still percent-encoded) → a Selector."""
    if len(segments) < 2 or segments == ["", ""] or not segments[0]:
        raise QueryError("the path must end in {domain}/{expression}")
    return _selector(unquote(segments[0]), tuple(unquote(s) for s in segments[1:]))


def selector_from_text(text: object) -> Selector:
    """A POST body item, ``"{domain}/{expression}"`` (not percent-encoded) → a Selector."""
    if not isinstance(text, str) or "/" not in text:
        raise QueryError(f"invalid selector {text!r}: expected \"{{domain}}/{{expression}}\"")
    domain, _, expression = text.partition("/")
    return _selector(domain, tuple(expression.split("/")))


def _selector(domain: str, levels: tuple[str, ...]) -> Selector:
    if levels in ((), ("",)):
        raise QueryError(f"missing expression after domain {domain!r}")
    return Selector(domain, levels)


def _level_matcher(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def match(fleet: Fleet, selector: Selector) -> list[SeriesSpec]:
    """The fleet's series that ``selector`` names, in fleet order (scopes not applied).

    KeyError if the domain is not one of ``DOMAINS``.
    """
    if selector.domain not in DOMAINS:
        raise KeyError(selector.domain)
    if selector.domain == "id":
        if len(selector.levels) != 1:
            return []
        names = [name.strip() for name in selector.levels[0].split(",")]
        if not any("*" in name for name in names):  # plain UUIDs: looked up, not scanned
            return fleet.in_order(names)
        patterns = [_level_matcher(name) for name in names]
        return [s for s in fleet.series if any(p.fullmatch(s.uuid) for p in patterns)]
    matchers = [_level_matcher(level) for level in selector.levels]
    found = []
    for spec in fleet.series:
        sid = spec.ids.get(selector.domain)
        if sid is None:
            continue
        levels = sid.split("/")
        if len(levels) == len(matchers) and all(
            m.fullmatch(level) for m, level in zip(matchers, levels, strict=True)
        ):
            found.append(spec)
    return found
