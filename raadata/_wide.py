"""Wide frames built request by request: each finished request becomes a small grid (its
instants x its series) at once, and the final frame is one grid allocated in column order and
filled block by block. Pure numpy and pandas (no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from raadata._frames import id_codes

__all__ = ["WideBuilder"]


def _grid(
    stamps: np.ndarray[Any, np.dtype[np.int64]],
    codes: np.ndarray[Any, np.dtype[np.intp]],
    width: int,
    values: np.ndarray[Any, np.dtype[np.float64]],
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """Points (µs since the epoch, column code, value) -> (sorted instants, values grid).

    The grid has one row per distinct instant and ``width`` columns, NaN where no point is,
    in column-major order (each series contiguous, as pandas keeps a frame's columns).
    When a (timestamp, column) pair repeats, the first point wins. A stable sort (timsort)
    finds the instants: fast on the API's order, runs of rising times per series.
    """
    ordered = np.sort(stamps, kind="stable")
    distinct = np.ones(len(ordered), dtype=bool)
    distinct[1:] = ordered[1:] != ordered[:-1]
    instants = ordered[distinct]
    columns = np.full((width, len(instants)), np.nan)  # one contiguous row per series
    cells = codes * len(instants) + np.searchsorted(instants, stamps)
    np.put(columns, cells[::-1], values[::-1])  # put applies in order: backwards, first wins
    return instants, columns.T  # (instants x series), column-major


def _table_points(
    table: pa.Table, uuids: pa.Array
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.intp]], Any]:
    """A measurements table as numpy: µs stamps, positions of ids in ``uuids``, values."""
    codes = id_codes(table["id"], uuids)
    stamps = table["timestamp"].cast(pa.int64()).to_numpy()
    return stamps, codes.astype(np.intp), table["value"].to_numpy()


class WideBuilder:
    """Builds a wide frame request by request, while later requests are still in flight.

    Each request's points are shaped at once into a small grid (its instants x its series)
    and kept as a block; :meth:`frame` allocates the final grid once, in column order, and
    copies each block into place, freeing it as it goes. Windows of one set of series do
    not overlap, so rows are found by binary search in the union of all instants.
    """

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = labels
        self._blocks: list[tuple[int, tuple[str, ...], Any, Any]] = []
        self.rows: dict[str, int] = {}
        """Points received per series UUID."""

    def add(self, uuids: tuple[str, ...], start: pd.Timestamp, table: pa.Table) -> None:
        """One finished request: ``table`` holds some of ``uuids`` over a window from ``start``."""
        stamps, codes, values = _table_points(table, pa.array(uuids, pa.string()))
        for uuid, rows in zip(uuids, np.bincount(codes, minlength=len(uuids)), strict=True):
            if rows:
                self.rows[uuid] = self.rows.get(uuid, 0) + int(rows)
        instants, grid = _grid(stamps, codes, len(uuids), values)
        self._blocks.append((start.value, uuids, instants, grid))

    def frame(self, uom: Mapping[str, str] | None = None) -> pd.DataFrame:
        """The wide frame of everything added (the blocks are consumed: call it once)."""
        blocks = sorted(self._blocks, key=lambda block: block[0], reverse=True)
        self._blocks = []
        uuids = list(dict.fromkeys(uuid for block in blocks for uuid in block[1]))
        names = [self._labels.get(uuid, uuid) for uuid in uuids]
        order = sorted(range(len(names)), key=names.__getitem__)
        column_of = {uuids[at]: position for position, at in enumerate(order)}
        instants = _union([block[2] for block in reversed(blocks)])
        grid = np.full((len(instants), len(uuids)), np.nan, order="F")  # columns contiguous
        last: dict[str, int] = {}  # the latest instant placed per series
        while blocks:  # earliest window first; each block freed once placed
            _, block_uuids, block_instants, block_grid = blocks.pop()
            if not len(block_instants):
                continue
            columns = np.fromiter((column_of[u] for u in block_uuids), np.intp, len(block_uuids))
            fresh = all(last.get(u, -(2**63)) < block_instants[0] for u in block_uuids)
            _place(grid, np.searchsorted(instants, block_instants), columns, block_grid, fresh)
            for uuid in block_uuids:
                last[uuid] = max(last.get(uuid, -(2**63)), int(block_instants[-1]))
        index = pd.DatetimeIndex(instants.astype("datetime64[us]"), name="timestamp")
        labels = pd.Index([names[at] for at in order], name="series", dtype="str")
        wide = pd.DataFrame(grid, index=index.tz_localize("UTC"), columns=labels, copy=False)
        wide.attrs["units"] = {
            self._labels.get(key, key): unit for key, unit in (uom or {}).items()
        }
        return wide


def _union(parts: Sequence[np.ndarray[Any, np.dtype[np.int64]]]) -> np.ndarray[Any, Any]:
    """The sorted distinct instants of sorted parts; cheap when they follow each other."""
    if not parts:
        return np.empty(0, np.int64)
    joined = np.concatenate(parts)
    if len(joined) < 2 or bool(np.all(joined[1:] > joined[:-1])):
        return joined
    joined.sort(kind="stable")  # timsort merges the sorted runs (np.unique hashes: slower)
    distinct = np.ones(len(joined), dtype=bool)
    distinct[1:] = joined[1:] != joined[:-1]
    return joined[distinct]


def _place(
    grid: np.ndarray[Any, Any],
    rows: np.ndarray[Any, Any],
    columns: np.ndarray[Any, Any],
    block: np.ndarray[Any, Any],
    fresh: bool,
) -> None:
    """Copy a block into ``grid`` at ``rows`` x ``columns`` (slices where they are runs).

    Unless the cells are ``fresh`` (never written), values already there win and the block
    only fills their gaps (NaN): the first value of a (time, series) pair is kept.
    """
    row_run = int(rows[-1] - rows[0]) == len(rows) - 1
    column_run = int(columns[-1] - columns[0]) == len(columns) - 1 and bool(
        np.all(np.diff(columns) == 1)
    )
    r: slice | np.ndarray[Any, Any] = slice(int(rows[0]), int(rows[-1]) + 1) if row_run else rows
    c: slice | np.ndarray[Any, Any] = (
        slice(int(columns[0]), int(columns[-1]) + 1) if column_run else columns
    )
    target: Any = np.ix_(rows, columns) if not (row_run or column_run) else (r, c)
    if fresh:
        grid[target] = block
    else:
        current = grid[target]
        grid[target] = np.where(np.isnan(current), block, current)
