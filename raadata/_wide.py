"""Wide frames built request by request: each finished request becomes a small grid (its
instants x its series) at once; the final frame joins the grids on time. Pure numpy and
pandas (no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from raadata._frames import id_codes, runs
from raadata._memory import trim_heap

__all__ = ["WideBuilder"]

_Ints = np.ndarray[Any, np.dtype[np.int64]]
_Floats = np.ndarray[Any, np.dtype[np.float64]]

_TRIM_EVERY = 64 << 20
"""Bytes of blocks freed between trims of the heap while a grid fills."""
_MAX_LATTICE_GAPS = 4
"""Instants are found on a lattice (no sort) when it has at most this many slots per point."""


def _instants_and_rows(stamps: _Ints) -> tuple[_Ints, _Ints]:
    """µs stamps -> (their sorted distinct instants, each stamp's position among them).

    When the stamps sit on a lattice (multiples of a common step from the earliest, at most
    :data:`_MAX_LATTICE_GAPS` slots per stamp: regular sampling, gaps and all), instants
    are marked on the lattice in one pass; otherwise they are sorted and searched.
    """
    low = stamps.min()
    offsets = stamps - low
    step = int(np.gcd.reduce(offsets)) or 1
    slots = int(offsets.max()) // step + 1
    if slots > _MAX_LATTICE_GAPS * len(stamps) + 1024:
        ordered = np.sort(stamps, kind="stable")  # timsort: fast on runs of rising times
        distinct = np.ones(len(ordered), dtype=bool)
        distinct[1:] = ordered[1:] != ordered[:-1]
        instants = ordered[distinct]
        return instants, np.searchsorted(instants, stamps)
    if step > 1:
        offsets //= step
    present = np.zeros(slots, dtype=bool)
    present[offsets] = True
    rank = np.cumsum(present, dtype=np.int64)
    np.take(rank, offsets, out=offsets)
    offsets -= 1
    return low + np.flatnonzero(present).astype(np.int64) * step, offsets


def _grid(
    stamps: _Ints, codes: np.ndarray[Any, np.dtype[np.int32]], width: int, values: _Floats
) -> tuple[_Ints, _Floats]:
    """Points (µs since the epoch, column code, value) -> (sorted instants, values grid).

    The grid has one row per distinct instant and ``width`` columns, NaN where no point is,
    in column-major order (each series contiguous, as pandas keeps a frame's columns).
    When a (timestamp, column) pair repeats, the first point wins.
    """
    if not len(stamps):
        return np.empty(0, np.int64), np.full((0, width), np.nan, order="F")
    instants, rows = _instants_and_rows(stamps)
    columns = np.full((width, len(instants)), np.nan)  # one contiguous row per series
    starts, ends = runs([codes], stamps)
    if len(np.unique(codes[starts])) == len(starts):
        # the API's order: each series in one run of rising times, so no pair repeats
        for start, end in zip(starts, ends, strict=True):
            columns[codes[start], rows[start:end]] = values[start:end]
    else:
        cells = codes.astype(np.int64) * len(instants) + rows
        np.put(columns, cells[::-1], values[::-1])  # put applies in order: backwards, first wins
    return instants, columns.T  # (instants x series), column-major


@dataclass
class _Block:
    """One request's points as a grid: ``instants`` x ``uuids``, from ``start`` (µs)."""

    start: int
    uuids: tuple[str, ...]
    instants: _Ints
    grid: _Floats


class WideBuilder:
    """Builds a wide frame request by request, while later requests are still in flight.

    Each request's points are shaped at once into a small grid (its instants x its series,
    in label order) and kept as a block. :meth:`frame` joins them on the union of all
    instants: blocks of one set of series are copied into one grid (each freed as it is
    placed); a set of series fetched in one request over all the instants keeps its block
    as it is (no copy).
    """

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = labels
        self._blocks: list[_Block] = []
        self.rows: dict[str, int] = {}
        """Points received per series UUID."""

    def add(self, uuids: tuple[str, ...], start: pd.Timestamp, table: pa.Table) -> None:
        """One finished request: ``table`` holds some of ``uuids`` over a window from ``start``."""
        uuids = tuple(sorted(uuids, key=lambda uuid: self._labels.get(uuid, uuid)))
        codes = id_codes(table["id"], pa.array(uuids, pa.string()))
        for uuid, rows in zip(uuids, np.bincount(codes, minlength=len(uuids)), strict=True):
            if rows:
                self.rows[uuid] = self.rows.get(uuid, 0) + int(rows)
        stamps = table["timestamp"].cast(pa.int64()).to_numpy()
        instants, grid = _grid(stamps, codes, len(uuids), table["value"].to_numpy())
        self._blocks.append(_Block(start.value, uuids, instants, grid))

    def frame(self, uom: Mapping[str, str] | None = None) -> pd.DataFrame:
        """The wide frame of everything added (the blocks are consumed: call it once)."""
        blocks = sorted(self._blocks, key=lambda block: block.start)
        self._blocks = []
        instants = _union([block.instants for block in blocks])
        index = pd.DatetimeIndex(instants.astype("datetime64[us]"), name="timestamp")
        groups = _groups(blocks)
        del blocks  # each group's list is now the only holder: blocks are freed as placed
        parts = [self._part(group, instants) for group in groups]
        if not parts:
            parts = [pd.DataFrame(np.empty((len(instants), 0)), columns=pd.Index([], dtype="str"))]
        wide = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
        wide = wide.iloc[:, np.argsort(wide.columns.to_numpy(), kind="stable")]
        wide.index = index.tz_localize("UTC")
        wide.columns.name = "series"
        wide.attrs["units"] = {
            self._labels.get(key, key): unit for key, unit in (uom or {}).items()
        }
        return wide

    def _part(self, blocks: list[_Block], instants: _Ints) -> pd.DataFrame:
        """The columns of one set of series over all ``instants`` (``blocks`` consumed)."""
        label = self._labels.get
        uuids = sorted({u for block in blocks for u in block.uuids}, key=lambda u: label(u, u))
        names = [label(uuid, uuid) for uuid in uuids]  # in order: joining parts moves no data
        if len(blocks) == 1 and len(blocks[0].instants) == len(instants):
            grid = blocks.pop().grid  # already over every instant: used as it is
        else:
            grid = _joined(blocks, instants, {uuid: at for at, uuid in enumerate(uuids)})
        return pd.DataFrame(grid, columns=pd.Index(names, dtype="str"), copy=False)


def _groups(blocks: list[_Block]) -> list[list[_Block]]:
    """Blocks grouped by their set of series, in time order; one group if sets overlap
    (a request split by series)."""
    groups: dict[tuple[str, ...], list[_Block]] = {}
    for block in blocks:
        groups.setdefault(block.uuids, []).append(block)
    owners = [uuid for uuids in groups for uuid in uuids]
    return list(groups.values()) if len(owners) == len(set(owners)) else [list(blocks)]


def _joined(blocks: list[_Block], instants: _Ints, column_of: Mapping[str, int]) -> _Floats:
    """One grid (``instants`` x the series) from blocks in time order, each freed as placed."""
    if _stacks(blocks, len(column_of)):
        return _stacked(blocks, instants, len(column_of))
    grid = np.full((len(instants), len(column_of)), np.nan, order="F")  # columns contiguous
    last: dict[str, int] = {}  # the latest instant placed per series
    blocks.reverse()
    while blocks:  # earliest window first
        block = blocks.pop()
        if not len(block.instants):
            continue
        columns = np.fromiter((column_of[u] for u in block.uuids), np.intp, len(block.uuids))
        fresh = all(last.get(u, -(2**63)) < block.instants[0] for u in block.uuids)
        _place(grid, np.searchsorted(instants, block.instants), columns, block.grid, fresh)
        for uuid in block.uuids:
            last[uuid] = max(last.get(uuid, -(2**63)), int(block.instants[-1]))
    return grid


def _stacks(blocks: Sequence[_Block], width: int) -> bool:
    """Whether blocks in time order each hold all ``width`` series (in one column order)
    and each begins after the one before ends: windows of one batch."""
    spans = [(block.instants[0], block.instants[-1]) for block in blocks if len(block.instants)]
    return all(len(block.uuids) == width and block.uuids == blocks[0].uuids for block in blocks
               ) and all(later[0] > earlier[1] for earlier, later in pairwise(spans))


def _stacked(blocks: list[_Block], instants: _Ints, width: int) -> _Floats:
    """Blocks that :func:`_stacks` one under the other, each freed as placed; only the rows
    no block covers are filled with NaN (the grid's memory is touched once). The heap is
    trimmed as blocks are freed, so that they and the grid are not all resident at once."""
    grid = np.empty((len(instants), width), order="F")  # columns contiguous
    done = 0  # rows [0, done) are written
    freed = 0  # bytes of blocks freed since the heap was last trimmed
    blocks.reverse()
    while blocks:  # earliest window first
        block = blocks.pop()
        if not len(block.instants):
            continue
        first, last = (int(row) for row in np.searchsorted(instants, block.instants[[0, -1]]))
        grid[done:first] = np.nan
        if last - first + 1 == len(block.instants):
            grid[first:last + 1] = block.grid
        else:  # other batches' instants in between
            grid[first:last + 1] = np.nan
            grid[np.searchsorted(instants, block.instants)] = block.grid
        done = last + 1
        freed += block.grid.nbytes
        del block
        if freed >= _TRIM_EVERY:
            trim_heap()
            freed = 0
    grid[done:] = np.nan
    return grid


def _union(parts: Sequence[_Ints]) -> _Ints:
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
    grid: _Floats,
    rows: np.ndarray[Any, Any],
    columns: np.ndarray[Any, Any],
    block: _Floats,
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
