"""How a finished frame is presented: display time zone, fleet-shaped columns, complete
statistics windows, latest values. Pure functions on pandas frames (no I/O).

Time semantics are unchanged by any of these: instants stay the same, ``tz`` only changes
how they are shown; statistics windows are epoch-aligned and stamped with their start.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from raadata._pulls import Started
from raadata._query import Shape, check_choice
from raadata._resolve import SeriesInfo

__all__ = [
    "ColumnStyle",
    "View",
    "check_tz",
    "complete_windows",
    "fleet_columns",
    "latest_rows",
    "vessel_names",
    "with_tz",
]

ColumnStyle = Literal["flat", "fleet"]


@dataclass(frozen=True)
class View:
    """How a call shows its frame: ``shape``, ``columns`` (wide frames only), the display
    zone ``tz`` and categorical ids (long frames). Checked when made, before any request."""

    shape: Shape = "wide"
    columns: ColumnStyle = "flat"
    tz: str | None = None
    categorical: bool = False

    def __post_init__(self) -> None:
        check_choice("shape", self.shape, ("wide", "long"))
        check_choice("columns", self.columns, ("flat", "fleet"))
        check_tz(self.tz)

    @property
    def fleet(self) -> bool:
        return self.columns == "fleet" and self.shape == "wide"

    def present(self, frame: pd.DataFrame, started: Started) -> pd.DataFrame:
        """The finished frame: fleet columns, display zone, vessel names and the report."""
        if self.fleet:
            frame = fleet_columns(frame, started.labels, started.series)
        frame = with_tz(frame, self.tz)
        frame.attrs["vessels"] = vessel_names(started.series)
        frame.attrs["report"] = started.report.as_dict()
        return frame


def check_tz(tz: object) -> str | None:
    """``tz`` if it names an IANA time zone (or ``None``), else a ``ValueError``/``TypeError``."""
    if tz is None:
        return None
    if not isinstance(tz, str):
        raise TypeError(f"tz must be an IANA time zone name such as 'Europe/Oslo', not {tz!r}")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {tz!r}: give an IANA name such as 'Europe/Oslo' or 'UTC'"
        ) from None
    return tz


def with_tz(frame: pd.DataFrame, tz: str | None) -> pd.DataFrame:
    """The same instants shown in ``tz``: the index (wide) or ``timestamp`` column (long)."""
    if tz is None:
        return frame
    if isinstance(frame.index, pd.DatetimeIndex):
        frame.index = frame.index.tz_convert(tz)
    if "timestamp" in frame.columns:
        frame["timestamp"] = frame["timestamp"].dt.tz_convert(tz)
    return frame


def vessel_names(series: Sequence[SeriesInfo]) -> dict[str, str]:
    """IMO -> vessel name, from the metadata the series were resolved with."""
    names: dict[str, str] = {}
    for info in series:
        name = info.metadata.get("vesselName")
        if info.vessel and isinstance(name, str) and name:
            names.setdefault(info.vessel, name)
    return names


def _split(label: str, info: SeriesInfo | None) -> tuple[str, str]:
    """(vessel IMO, the label without its vessel prefix: ``IMO…/`` or ``<vessel name> / ``)."""
    vessel = (info.vessel if info else None) or "?"
    name = info.metadata.get("vesselName") if info else None
    for prefix in (f"{vessel}/", f"{vessel} / ", f"{name} / "):
        if label.startswith(prefix):
            return vessel, label[len(prefix):]
    return vessel, label


def fleet_columns(
    frame: pd.DataFrame, labels: Mapping[str, str], series: Sequence[SeriesInfo]
) -> pd.DataFrame:
    """A wide frame's series columns as two levels ``(vessel, tag)``.

    ``labels`` maps UUID -> label. The tag is the label without its ``IMO…/`` prefix, so
    ``df.xs("ME ShaftPower", level="tag", axis=1)`` gives that tag on every vessel. A
    statistics frame with a ``(series, aggregation)`` index gets ``(vessel, tag,
    aggregation)``.
    """
    by_label = {labels[info.uuid]: info for info in series if info.uuid in labels}
    columns = frame.columns
    tuples: list[tuple[str, ...]]
    if isinstance(columns, pd.MultiIndex):
        tuples = [(*_split(str(s), by_label.get(str(s))), a) for s, a in columns]
        names = ["vessel", "tag", "aggregation"]
    else:
        tuples = [_split(str(s), by_label.get(str(s))) for s in columns]
        names = ["vessel", "tag"]
    frame.columns = pd.MultiIndex.from_tuples(tuples, names=names)
    return frame


def complete_windows(
    long: pd.DataFrame,
    labels: Mapping[str, str],
    aggregations: Sequence[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    window: pd.Timedelta,
) -> pd.DataFrame:
    """A long statistics frame with a row for every (series, aggregation, window).

    Windows are the epoch-aligned ones starting in ``[start, end)`` (UTC). A window with no
    data has ``count`` 0 and NaN for every other aggregation, so the frame's shape depends
    only on the query, never on which series had data.
    """
    first = start.ceil(window)
    stamps = pd.date_range(first, end, freq=window, inclusive="left").as_unit("us")
    ids = {label: uuid for uuid, label in labels.items()}
    series = sorted(ids)
    grid = pd.MultiIndex.from_product(
        [series, list(aggregations), stamps], names=["series", "aggregation", "timestamp"]
    )
    keyed = long.set_index(["series", "aggregation", "timestamp"])
    keyed = keyed[~keyed.index.duplicated(keep="first")]
    full = keyed.reindex(grid)
    full["id"] = full.index.get_level_values("series").map(ids)
    is_count = full.index.get_level_values("aggregation") == "count"
    full.loc[is_count, "value"] = full.loc[is_count, "value"].fillna(0.0)
    full = full.reset_index()[["timestamp", "series", "id", "aggregation", "value"]]
    full["value"] = full["value"].astype(np.float64)
    full.attrs = dict(long.attrs)
    return full


def latest_rows(long: pd.DataFrame, uom: Mapping[str, str]) -> pd.DataFrame:
    """One row per series: its last reading that is not missing (``timestamp``, ``value``,
    ``unit``), indexed by series label, in label order; series with none are left out."""
    present = long[long["value"].notna()]
    last = present.groupby("series", sort=True).tail(1).set_index("series")
    frame = last[["timestamp", "value"]].copy()
    frame["unit"] = [uom.get(label) for label in frame.index]
    return frame.sort_index()
