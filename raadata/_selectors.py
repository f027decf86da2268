"""Selectors: which series a request names, as ``{domain}/{expression}`` (prism-api.md §3).

A selector is a domain (a naming scheme) and an expression in it, e.g.
``raalabs/IMO1234567/ME ShaftPower``. Expressions are ``/``-separated levels; ``*`` is a glob
within one level (never across ``/``). Everything here is pure: selectors are parsed and
validated before any request, and wrong input raises ``ValueError``/``TypeError`` with an
example of a good selector.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["DOMAINS", "Selector", "parse_selector", "parse_selectors"]

DOMAINS: tuple[str, ...] = ("id", "raalabs", "jsmea", "parameters", "maker", "vis-3-8a")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IMO = re.compile(r"IMO[0-9]+")


@dataclass(frozen=True)
class _Shape:
    """How many levels an expression in a domain has, and a good example of one."""

    min_levels: int
    max_levels: int | None  # None: no upper bound
    empty_levels: bool  # whether levels after the first may be empty
    example: str
    describe: str


_SHAPES: dict[str, _Shape] = {
    "raalabs": _Shape(2, 2, False, "IMO1234567/ME ShaftPower", "exactly 2 levels (IMO/tag)"),
    "parameters": _Shape(
        3, 3, False, "IMO1234567/ME Power/ME ShaftPower", "exactly 3 levels (IMO/group/name)"
    ),
    "maker": _Shape(3, 3, False, "IMO1234567/Maker/12345", "exactly 3 levels (IMO/maker/tag)"),
    "jsmea": _Shape(
        8,
        9,
        True,
        "IMO1234567/jsmea_mac/MainEngine/DrivingShaft/Output//Power/",
        "8 levels including the IMO (empty levels stay as empty segments)",
    ),
    "vis-3-8a": _Shape(
        2,
        None,
        True,
        "IMO1234567/913/S130.1-1/S121/sec/406i/H233/meta/qty-power",
        "at least 2 levels (IMO/VIS path)",
    ),
}
_ID_EXAMPLE = "ba529839-8179-40e2-b3fb-5da01a8d76e8"


def _example(domain: str) -> str:
    """A good selector in ``domain``, for error messages."""
    expression = _ID_EXAMPLE if domain == "id" else _SHAPES[domain].example
    return f"{domain}/{expression}"


def _invalid(path: str, problem: str, domain: str | None) -> ValueError:
    good = _example(domain if domain is not None and domain in DOMAINS else "raalabs")
    return ValueError(f"invalid selector {path!r}: {problem}; example of a good one: {good!r}")


def _check_domain(domain: str) -> str:
    """Return ``domain`` in canonical (lower) case, or raise listing the valid domains."""
    canonical = domain.strip().lower()
    if canonical not in DOMAINS:
        raise ValueError(
            f"unknown domain {domain!r}; valid domains are: {', '.join(DOMAINS)} "
            f"(e.g. {_example('raalabs')!r})"
        )
    return canonical


def _is_uuid_list(text: str) -> bool:
    return all(_UUID.fullmatch(part.strip()) for part in text.split(","))


@dataclass(frozen=True, order=True)
class Selector:
    """One validated ``{domain}/{expression}``; ``expression`` is raw (not percent-encoded).

    Construction validates the expression against the domain's shape (raises ``ValueError``).
    In the ``id`` domain the expression is normalised to lower-case, comma-joined UUIDs.
    """

    domain: str
    expression: str

    def __post_init__(self) -> None:
        if not isinstance(self.domain, str) or not isinstance(self.expression, str):
            raise TypeError("Selector domain and expression must be str")
        domain = _check_domain(self.domain)
        object.__setattr__(self, "domain", domain)
        if domain == "id":
            object.__setattr__(self, "expression", _validate_ids(self.expression))
        else:
            _validate_levels(domain, self.expression)

    @property
    def levels(self) -> tuple[str, ...]:
        """The ``/``-separated levels of the expression (empty levels kept)."""
        return tuple(self.expression.split("/"))

    @property
    def has_wildcard(self) -> bool:
        """Whether any level holds a ``*`` glob (so the selector may match many series)."""
        return "*" in self.expression

    @property
    def path(self) -> str:
        """``domain/expression`` as it goes in a ``POST .../query`` body (unencoded)."""
        return f"{self.domain}/{self.expression}"

    def url_path(self) -> str:
        """``domain/expression`` for a URL: each level percent-encoded on its own.

        Spaces become ``%20``; ``*`` and ``,`` stay readable; empty levels are kept.
        """
        return "/".join(quote(level, safe="*,") for level in (self.domain, *self.levels))

    def __str__(self) -> str:
        return self.path


def _validate_ids(expression: str) -> str:
    """Check comma-separated UUIDs; return them stripped, lower-case, comma-joined."""
    path = f"id/{expression}"
    if "*" in expression:
        raise _invalid(path, "wildcards are not allowed in the id domain", "id")
    parts = [part.strip() for part in expression.split(",")]
    for part in parts:
        if not _UUID.fullmatch(part):
            shown = "an empty item" if not part else repr(part)
            raise _invalid(path, f"{shown} is not a UUID (8-4-4-4-12 hex digits)", "id")
    return ",".join(part.lower() for part in parts)


def _validate_levels(domain: str, expression: str) -> None:
    """Check the level count, empty levels and the IMO level of a non-``id`` expression."""
    path = f"{domain}/{expression}"
    shape = _SHAPES[domain]
    levels = expression.split("/")
    too_many = shape.max_levels is not None and len(levels) > shape.max_levels
    if len(levels) < shape.min_levels or too_many:
        raise _invalid(
            path, f"{domain} expressions have {shape.describe}, got {len(levels)}", domain
        )
    first, rest = levels[0], levels[1:]
    if not first.strip():
        raise _invalid(path, "the first level (the vessel, e.g. IMO1234567) is empty", domain)
    if not shape.empty_levels and any(not level.strip() for level in rest):
        raise _invalid(path, "empty level (only jsmea and vis-3-8a allow empty levels)", domain)
    if "*" not in first and not _IMO.fullmatch(first):
        raise _invalid(
            path,
            f"the first level {first!r} must be 'IMO' followed by digits or contain a '*' wildcard",
            domain,
        )


def parse_selector(text: str | Selector, domain: str | None = None) -> Selector:
    """Parse one selector.

    ``text`` is ``"domain/expression"`` when it starts with a known domain and ``/``;
    otherwise it is a bare expression in ``domain`` (a default, used only for bare
    expressions). A bare UUID, or comma-separated UUIDs, means the ``id`` domain.
    Surrounding whitespace is ignored; the domain name is case-insensitive.
    """
    if isinstance(text, Selector):
        return text
    if not isinstance(text, str):
        raise TypeError(
            f"a selector must be a str or Selector, not {type(text).__name__}; "
            f"e.g. {_example('raalabs')!r}"
        )
    stripped = text.strip()
    if not stripped:
        raise _invalid(text, "the selector is empty", domain)
    head, slash, rest = stripped.partition("/")
    if slash and head.lower() in DOMAINS:
        return Selector(head.lower(), rest)
    if _is_uuid_list(stripped):
        return Selector("id", stripped)
    if domain is not None:
        return Selector(_check_domain(domain), stripped)
    if slash and not _IMO.fullmatch(head) and "*" not in head:
        raise ValueError(
            f"invalid selector {text!r}: unknown domain {head!r}; valid domains are: "
            f"{', '.join(DOMAINS)} (e.g. {_example('raalabs')!r})"
        )
    raise ValueError(
        f"invalid selector {text!r}: no domain; start it with one of {', '.join(DOMAINS)} "
        f"(e.g. {_example('raalabs')!r}) or pass domain="
    )


def parse_selectors(
    selectors: str | Selector | Iterable[str | Selector], domain: str | None = None
) -> list[Selector]:
    """Parse one selector or many; order is kept and exact duplicates are dropped.

    A single ``str`` is one selector (never iterated character by character).
    Raises ``ValueError`` when no selector is given.
    """
    if isinstance(selectors, str | Selector):
        items: Iterable[object] = [selectors]
    elif isinstance(selectors, bytes | bytearray) or not isinstance(selectors, Iterable):
        raise TypeError(
            "selectors must be a str, a Selector or an iterable of them, "
            f"not {type(selectors).__name__}"
        )
    else:
        items = selectors
    parsed: dict[Selector, None] = {}
    for item in items:
        if not isinstance(item, str | Selector):
            raise TypeError(
                f"each selector must be a str or Selector, not {type(item).__name__} ({item!r})"
            )
        parsed.setdefault(parse_selector(item, domain))
    if not parsed:
        raise ValueError(f"no selectors given; e.g. [{_example('raalabs')!r}]")
    return list(parsed)
