"""How the sandbox answers the points the public docs leave open (prism-api.md §8).

By default every switch is off and the sandbox answers each [ours] point one way. Each switch
makes it behave like another server the docs equally allow, so that the client is tested
against all of them. Every switch may be set at any time (``sb.compat.inclusive_to = True``),
passed to ``serve(compat={...})``, or given on ``raadata sandbox`` (``--compat NAME=VALUE``).

- ``inclusive_to``: ``to`` is inclusive: a point stamped exactly at ``to`` comes back (for
  statistics, a window starting at ``to``, computed from the data up to ``to``).
- ``formats``: the wire formats offered for data (a tuple of ``json``, ``ndjson``,
  ``parquet``); ``refuse_with``: how a format not offered is refused: ``"406"``,
  ``"400-format"`` (400 "Unsupported format"), ``"400-media"`` (400 "Unsupported media
  type") or ``"415"``.
- ``post_query``: ``"yes"``, or ``"404"``/``"405"``: ``POST /{kind}/query`` does not exist
  (``GET /{kind}/id/{uuid,uuid,...}`` always works).
- ``too_large``: how a response over the point limit is refused: ``"413"``, ``"400"`` or
  ``"500"`` (with a message saying it is too large), or ``"500-silent"`` (a bare 500).
- ``statistics_shape``: ``"ours"`` (NDJSON long columns; JSON objects keyed
  ``"<uuid>:<agg>"``), ``"object"`` (NDJSON too in the documented ``"<uuid>:<agg>"`` shape,
  one object per timestamp) or ``"long"`` (JSON too in long columns).
- ``domain_ids``: ``id`` in data responses is the series' id in the queried domain instead
  of its UUID (its ``raalabs`` id when the query named series by UUID).
- ``timestamps``: ``"micro"`` (``…00.000000Z``), ``"seconds"`` (``…00Z``, no fraction) or
  ``"offset"`` (``…00.000000+00:00``) in JSON and NDJSON.
- ``shuffle``: rows of data responses in a (deterministic) random order.
- ``wildcard_denied``: a selector that matches series the token may not read is 403, even
  when it matches readable ones too (instead of leaving those out silently).
- ``hang``: seconds a data request waits before its answer starts (a hanging endpoint);
  ``trickle``: seconds between bytes of a data response's body (a trickling endpoint).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["REFUSALS", "Compat"]

REFUSALS = {
    "406": (406, "cannot answer in format {fmt!r}; available: {available}"),
    "400-format": (400, "Unsupported format {fmt!r}"),
    "400-media": (400, "Unsupported media type"),
    "415": (415, "Unsupported Media Type: {fmt}"),
}
_TOO_LARGE = {
    "413": (413, "{what}, more than the limit of {limit}; ask for a shorter time range or "
                 "fewer series"),
    "400": (400, "Response too large: {what} (limit {limit} points)"),
    "500": (500, "Internal error: too many points requested ({what}, limit {limit})"),
    "500-silent": (500, "internal server error"),
}
_STAMP = re.compile(rb'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z"')


@dataclass
class Compat:
    """The switches (see the module docstring); defaults are the sandbox's own answers."""

    inclusive_to: bool = False
    formats: tuple[str, ...] = ("json", "ndjson", "parquet")
    refuse_with: str = "406"
    post_query: str = "yes"
    too_large: str = "413"
    statistics_shape: str = "ours"
    domain_ids: bool = False
    timestamps: str = "micro"
    shuffle: bool = False
    wildcard_denied: bool = False
    hang: float = 0.0
    trickle: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.check()

    def check(self) -> None:
        """A ``ValueError`` for a switch set to something it does not know."""
        choices = {"refuse_with": tuple(REFUSALS), "post_query": ("yes", "404", "405"),
                   "too_large": tuple(_TOO_LARGE), "statistics_shape": ("ours", "object", "long"),
                   "timestamps": ("micro", "seconds", "offset")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"compat {name} must be one of {allowed}, "
                                 f"got {getattr(self, name)!r}")
        self.formats = tuple(self.formats)
        if not self.formats or not set(self.formats) <= {"json", "ndjson", "parquet"}:
            raise ValueError(f"compat formats must name json, ndjson or parquet: {self.formats}")

    def update(self, **switches: Any) -> None:
        """Set several switches at once (``TypeError`` for an unknown name)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(switches) - known)
        if unknown:
            raise TypeError(f"unknown compat switch(es) {unknown}; known: {sorted(known)}")
        for name, value in switches.items():
            setattr(self, name, tuple(value.split(",")) if name == "formats" and
                    isinstance(value, str) else value)
        self.check()

    def reset(self) -> None:
        """Every switch back to the sandbox's own answers."""
        self.update(**{f.name: f.default for f in fields(self)})

    def refusal(self, fmt: str) -> tuple[int, str]:
        """(status, message) refusing ``fmt``."""
        status, text = REFUSALS[self.refuse_with]
        return status, text.format(fmt=fmt, available=", ".join(self.formats))

    def too_large_error(self, what: str, limit: int) -> tuple[int, str]:
        """(status, message) refusing a response over the point limit."""
        status, text = _TOO_LARGE[self.too_large]
        return status, text.format(what=what, limit=limit)

    def end(self, end_us: int) -> int:
        """The exclusive end the data is cut at for a request ending at ``end_us``."""
        return end_us + 1 if self.inclusive_to else end_us

    def reorder(self, table: pa.Table, seed: int) -> pa.Table:
        """Rows shuffled (deterministically) when ``shuffle`` is on."""
        if not self.shuffle or table.num_rows < 2:
            return table
        order = np.random.default_rng(seed).permutation(table.num_rows)
        return table.take(pa.array(order))

    def stamp_text(self, body: list[bytes | memoryview]) -> list[bytes | memoryview]:
        """JSON/NDJSON body with timestamps in the chosen spelling."""
        if self.timestamps == "micro":
            return body
        replacement = rb'\1Z"' if self.timestamps == "seconds" else rb'\1.\2+00:00"'
        return [_STAMP.sub(replacement, bytes(part)) for part in body]
