"""Every response checked against the request that asked for it, before it reaches a frame,
a file or a cache (pure, no I/O).

A data request names some series (UUIDs) over a half-open window ``[start, end)``. A server
the docs allow may answer with more: a point stamped exactly at ``end`` (``to`` read as
inclusive), rows of series nobody asked for, or its own domain ids instead of UUIDs. Rows
outside the window (for statistics: windows starting outside it) and rows of series not in
the request are dropped and counted; ids that the client knows under another name (the
series' id in the queried domain) are mapped back to the UUID.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Checked", "check_rows"]


@dataclass(frozen=True)
class Checked:
    """A response's rows that belong to its request, and how many did not.

    ``outside``: rows stamped outside ``[start, end)``; ``unrequested``: rows of series not
    in the request; ``renamed``: rows whose id was mapped back to a UUID.
    """

    table: pa.Table
    outside: int = 0
    unrequested: int = 0
    renamed: int = 0


def check_rows(
    table: pa.Table,
    uuids: Sequence[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    aliases: Mapping[str, str] | None = None,
) -> Checked:
    """Keep the rows of ``table`` (``id``, ``timestamp``, ...) that the request asked for.

    ``aliases`` maps other names of a series (e.g. ``IMO1000001/ME ShaftPower``) to its
    UUID. Row order is kept. Instants are UTC; the window is half-open.
    """
    if table.num_rows == 0:
        return Checked(table)
    wanted = pa.array(list(uuids), pa.string())
    ids = table["id"]
    renamed = 0
    seen = pc.unique(ids)
    if aliases and not pc.all(pc.is_in(seen, value_set=wanted)).as_py():
        known = [name for name in seen.to_pylist() if name in aliases and name not in uuids]
        if known:
            names = pa.array(known, pa.string())
            targets = pa.array([aliases[name] for name in known], pa.string())
            position = pc.index_in(ids, value_set=names)
            renamed = len(ids) - position.null_count
            ids = pc.if_else(pc.is_valid(position), targets.take(position.fill_null(0)),
                             ids.cast(pa.string()))
            if pa.types.is_dictionary(table["id"].type):  # keep the decoded tables' type
                ids = pc.dictionary_encode(ids).cast(table["id"].type)
            table = table.set_column(table.schema.get_field_index("id"), "id", ids)
            seen = pc.unique(ids)
    keep = None
    unrequested = 0
    if not pc.all(pc.is_in(seen, value_set=wanted)).as_py():
        keep = pc.is_in(ids, value_set=wanted)
        unrequested = table.num_rows - pc.sum(keep).as_py()
    stamps = table["timestamp"]
    bounds = pc.min_max(stamps)
    low = pa.scalar(start, type=stamps.type)
    high = pa.scalar(end, type=stamps.type)
    outside = 0
    if bounds["min"].as_py() < start or bounds["max"].as_py() >= end:
        inside = pc.and_(pc.greater_equal(stamps, low), pc.less(stamps, high))
        keep = inside if keep is None else pc.and_(keep, inside)
        outside = table.num_rows - unrequested - pc.sum(pc.and_(
            pc.is_in(ids, value_set=wanted), inside)).as_py()
    if keep is None:
        return Checked(table, renamed=renamed)
    return Checked(table.filter(keep), outside, unrequested, renamed)
