"""A query, built and validated once: selectors, a time range, labels and pull options.

Every public data call (:class:`raadata.Client` methods, :func:`raadata.get_series`) turns
its arguments into a :class:`Query` before the first request, so bad input is a
``ValueError``/``TypeError`` that names the argument. Time arguments: naive means UTC,
ranges are half-open ``[start, end)``, ``since``/``last`` are durations (``"6hours"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypedDict

import pandas as pd

from raadata._planning import ASSUMED_HZ, Pull
from raadata._resolve import LABEL_KINDS, LabelKind, OnDenied
from raadata._selectors import Selector, parse_selectors
from raadata._timerange import TimeInput, TimeRange, parse_duration, resolve_range

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_TARGET_POINTS",
    "Query",
    "QueryOptions",
    "SelectorInput",
    "Shape",
    "check_choice",
    "measurements_pull",
    "parse_aggregations",
    "positive_int",
    "statistics_pull",
]

Shape = Literal["wide", "long"]
SelectorInput = str | Selector | Iterable[str | Selector]
AGGREGATIONS = ("avg", "min", "max", "count", "sum", "stddev", "first", "last")
DEFAULT_TARGET_POINTS = 500_000
"""Points aimed at per response: large enough to amortise a round trip, well under limits."""


class QueryOptions(TypedDict, total=False):
    """Options every data call takes (keyword-only).

    ``domain``: the domain of bare expressions. ``labels``: column labels, the ids in the
    queried domain (``"domain"``), the UUIDs (``"uuid"``) or the metadata names
    (``"name"``). ``on_denied``: a selector the token's scopes do not cover fails the call
    (``"raise"``, default) or is skipped with a :class:`raadata.ScopeWarning` (``"skip"``).
    ``max_workers``: concurrent requests (default: the client's).
    ``progress``: a progress bar (``None``: when a person is watching). ``target_points``:
    points aimed at per response. ``refresh``: with a cache, fetch everything again and
    store it (default: fetch only what the cache lacks). The time range another way than
    ``start``/``end`` (one family at a time, all UTC): ``since``/``last`` durations, or
    ``year``/``month``/``day``.
    """

    domain: str | None
    labels: LabelKind
    on_denied: OnDenied
    max_workers: int | None
    progress: bool | None
    target_points: int
    refresh: bool
    since: str | timedelta
    last: str | timedelta
    year: int
    month: int
    day: int


_TIME_KEYS = ("since", "last", "year", "month", "day")


def positive_int(name: str, value: object) -> int:
    """``value`` if it is a positive ``int`` (not a bool), else a ``ValueError``/``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    """A ``ValueError`` unless ``value`` is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


@dataclass(frozen=True)
class Query:
    """Validated arguments of one data call. ``time_range`` is UTC, half-open."""

    selectors: tuple[Selector, ...]
    time_range: TimeRange
    labels: LabelKind = "domain"
    on_denied: OnDenied = "raise"
    max_workers: int | None = None
    progress: bool | None = None
    target_points: int = DEFAULT_TARGET_POINTS
    refresh: bool = False

    @classmethod
    def build(
        cls,
        selectors: SelectorInput,
        start: TimeInput | None,
        end: TimeInput | None,
        options: QueryOptions,
        *,
        now: pd.Timestamp | None = None,
    ) -> Query:
        """Check every argument (no request is made); ``now`` anchors ``since``/``last``."""
        unknown = set(options) - set(QueryOptions.__annotations__)
        if unknown:
            raise TypeError(f"unexpected keyword arguments {sorted(unknown)}")
        labels = options.get("labels", "domain")
        check_choice("labels", labels, LABEL_KINDS)
        on_denied = options.get("on_denied", "raise")
        check_choice("on_denied", on_denied, ("raise", "skip"))
        max_workers = options.get("max_workers")
        if max_workers is not None:
            positive_int("max_workers", max_workers)
        refresh = options.get("refresh", False)
        if not isinstance(refresh, bool):
            raise TypeError(f"refresh must be True or False, got {refresh!r}")
        parsed = parse_selectors(selectors, options.get("domain"))
        when = {key: options[key] for key in _TIME_KEYS if key in options}  # type: ignore[literal-required]
        time_range = resolve_range(
            start, end, now=pd.Timestamp.now(tz="UTC") if now is None else now, **when
        )
        return cls(
            selectors=tuple(parsed),
            time_range=time_range,
            labels=labels,
            on_denied=on_denied,
            max_workers=max_workers,
            progress=options.get("progress"),
            target_points=positive_int("target_points", options.get("target_points",
                                                                     DEFAULT_TARGET_POINTS)),
            refresh=refresh,
        )


def parse_aggregations(aggregations: str | Iterable[str]) -> tuple[str, ...]:
    """Aggregation names, lower-cased, duplicates dropped, order kept (``"avg,max"`` too)."""
    if isinstance(aggregations, str):
        names: list[object] = list(aggregations.split(","))
    elif isinstance(aggregations, Iterable):
        names = list(aggregations)
    else:
        raise TypeError(f"aggregations must be a str or strings, not {type(aggregations).__name__}")
    bad = [name for name in names if not isinstance(name, str)]
    if bad:
        raise TypeError(f"aggregations must be strings, got {bad[0]!r}")
    cleaned = tuple(dict.fromkeys(str(n).strip().lower() for n in names if str(n).strip()))
    if not cleaned:
        raise ValueError(f"give at least one aggregation, e.g. 'avg' (one of {AGGREGATIONS})")
    unknown = [name for name in cleaned if name not in AGGREGATIONS]
    if unknown:
        raise ValueError(f"unknown aggregation {unknown}: choose from {', '.join(AGGREGATIONS)}")
    return cleaned


def measurements_pull(target_points: int) -> Pull:
    """A raw-points pull: windows on whole seconds, 1 Hz per series assumed at first."""
    return Pull("measurements", pd.Timedelta(seconds=1), ASSUMED_HZ,
                positive_int("target_points", target_points))


def statistics_pull(
    aggregations: str | Iterable[str], window: str | timedelta, target_points: int
) -> Pull:
    """An aggregate pull: windows on the aggregation grid, its row rate known exactly."""
    aggs = parse_aggregations(aggregations)
    step = parse_duration(window, name="window")
    return Pull("statistics", step, len(aggs) / step.total_seconds(),
                positive_int("target_points", target_points), aggregations=aggs)
