"""The sandbox's synthetic fleet: vessels, their series, and every series' data.

Pure and deterministic: no server, no clock, no randomness beyond ``seed``. A series has a
stable UUID (uuid5 of ``IMO/tag``), a sample interval of 1-60 s and an id in several naming
domains (``SeriesSpec.ids``, without the domain prefix).

Time semantics: samples sit on a grid aligned to the Unix epoch, one every ``interval_s``
seconds, from 2024-01-01T00:00:00Z (``DATA_START``) on; a range ``[start, end)`` is half-open.
Each vessel has periodic outages (a few hours every few days) with no samples at all. The
server additionally cuts every range at its own "now". A value is a pure function of
(series, timestamp): ``fleet.values(uuid, ts)`` gives what the API serves for those stamps,
a small deterministic fraction of them NaN (served as null). The values obey ship physics:
voyages and port calls, the propeller law, SFOC-based fuel flow, torque = P/(2πn), continuous
heading, tanks that fall at sea and are refilled in port, and a seasonal sea temperature.

    >>> fleet = default_fleet()
    >>> spec = fleet.series[0]
    >>> ts = fleet.timestamps(spec.uuid, "2025-01-01T00:00:00Z", "2025-01-01T00:00:10Z")
    >>> len(ts), fleet.count(spec.uuid, "2025-01-01T00:00:00Z", "2025-01-01T00:00:10Z")
    (10, 10)
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from raadata.sandbox import physics
from raadata.sandbox.clock import US_PER_S, Instant, to_us
from raadata.sandbox.physics import F64

DOMAINS = ("id", "raalabs", "jsmea", "parameters", "maker", "vis-3-8a")
"""The naming domains (prism-api.md §3), in the order ``mapsTo`` lists them."""

DATA_START_US = to_us("2024-01-01T00:00:00Z")
"""The first instant with data (µs since the epoch)."""

NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_URL, "https://github.com/raadata/raadata/sandbox")
"""uuid5 namespace of the series UUIDs: ``uuid5(NAMESPACE, "IMO1000001/ME ShaftPower")``."""

NAN_ONE_IN = 1024
"""About one value in this many is NaN (decided by a hash of series and timestamp)."""

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Vessel:
    """A vessel and its outages: no data in ``[offset + k*period, offset + k*period + duration)``.

    Outage times are seconds relative to the Unix epoch, ``k`` any integer.
    """

    imo: str
    name: str
    outage_period_s: int
    outage_duration_s: int
    outage_offset_s: int

    @property
    def number(self) -> str:
        """The IMO number without the ``IMO`` prefix (``"1000001"``), as metadata shows it."""
        return self.imo.removeprefix("IMO")


@dataclass(frozen=True)
class Signal:
    """A series' value range and rounding: values are clipped to ``[low, high]`` (metadata's
    ``rangeLow``/``rangeHigh``) and rounded to ``decimals``. The values themselves come from
    the vessel physics (``raadata.sandbox.physics``); ``base``, ``amplitude``, ``period_s``
    and ``noise`` are kept as descriptive figures of the series and do not make values.
    """

    base: float
    amplitude: float
    period_s: float
    noise: float
    decimals: int
    low: float
    high: float


@dataclass(frozen=True, eq=False)
class SeriesSpec:
    """One time series of the fleet.

    ``ids`` maps each domain the series is named in to its id there, without the domain
    prefix (``ids["raalabs"] == "IMO1000001/ME ShaftPower"``); ``"id"`` maps to the UUID.
    ``verbose_ids`` holds the more readable ids that metadata shows with ``verbose=true``.
    """

    uuid: str
    imo: str
    tag: str
    interval_s: int
    uom: str
    name: str
    description: str
    ids: dict[str, str]
    signal: Signal = field(repr=False)
    source: str = field(default="sandbox", repr=False)
    verbose_ids: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class _Tag:
    tag: str
    interval_s: int
    uom: str
    name: str
    parameters: str
    maker: str
    jsmea: str | None
    vis: str | None
    signal: Signal


def _sig(base: float, amp: float, period_h: float, noise: float, dec: int,
         low: float = 0.0, high: float = 1e9) -> Signal:
    return Signal(float(base), float(amp), period_h * 3600.0, float(noise), dec, float(low),
                  float(high))


_TAGS = (
    _Tag("ME ShaftPower", 1, "kW", "Main engine shaft power", "ME Power/ME ShaftPower",
         "MAN-ES", "jsmea_mac/MainEngine/DrivingShaft/Output//Power/",
         "411.1/C101.31/meta/qty-power", _sig(9000, 3000, 6, 120, 1, 0, 15000)),
    _Tag("ME ShaftSpeed", 1, "rpm", "Main engine shaft speed", "ME Power/ME ShaftSpeed",
         "MAN-ES", "jsmea_mac/MainEngine/DrivingShaft/Output//Speed/",
         "411.1/C101.31/meta/qty-revolution", _sig(85, 15, 6, 0.5, 2, 0, 120)),
    _Tag("ME ShaftTorque", 1, "kNm", "Main engine shaft torque", "ME Power/ME ShaftTorque",
         "MAN-ES", "jsmea_mac/MainEngine/DrivingShaft/Output//Torque/",
         None, _sig(1000, 300, 6, 20, 1, 0, 2000)),
    _Tag("ME FuelMassFlow", 1, "kg/h", "Main engine fuel mass flow", "ME Fuel/ME FuelMassFlow",
         "MAN-ES", "jsmea_mac/MainEngine/FuelOilSystem/Inlet/FO/MassFlow/",
         "411.1/C101.63/S206/meta/cnt-fuel.oil/qty-mass.flow", _sig(1700, 500, 6, 30, 1, 0, 4000)),
    _Tag("Nav SOG", 5, "knot", "Speed over ground", "Navigation/SOG",
         "Kongsberg", "jsmea_nav/GNSS/Ship/Motion//SpeedOverGround/",
         "1021.1i/meta/qty-speed", _sig(14, 3, 6, 0.3, 2, 0, 25)),
    _Tag("Nav Heading", 5, "deg", "True heading", "Navigation/Heading",
         "Kongsberg", None, None, _sig(180, 170, 24, 3, 1, 0, 359.9)),
    _Tag("AE1 Power", 10, "kW", "Auxiliary engine 1 power", "AE Power/AE1 Power",
         "Wartsila", "jsmea_mac/GeneratorEngine1/Generator/Output//Power/",
         "511.11-1/C101/meta/qty-power", _sig(600, 200, 2, 25, 1, 0, 1200)),
    _Tag("AE2 Power", 10, "kW", "Auxiliary engine 2 power", "AE Power/AE2 Power",
         "Wartsila", "jsmea_mac/GeneratorEngine2/Generator/Output//Power/",
         "511.11-2/C101/meta/qty-power", _sig(550, 180, 3, 25, 1, 0, 1200)),
    _Tag("ME LubOil Pressure", 30, "bar", "Main engine lube oil inlet pressure",
         "ME Lubrication/ME LO Pressure", "MAN-ES",
         "jsmea_mac/MainEngine/LubOilSystem/Inlet/LO/Pressure/", None,
         _sig(4.2, 0.3, 12, 0.05, 3, 0, 10)),
    _Tag("ME Exhaust Temp", 10, "degC", "Main engine exhaust gas outlet temperature",
         "ME Exhaust/ME EG Temp", "MAN-ES",
         "jsmea_mac/MainEngine/ExhaustGas/Outlet/EG/Temperature/", None,
         _sig(340, 40, 6, 4, 1, 0, 600)),
    _Tag("SW Temp", 60, "degC", "Sea water temperature", "Environment/SW Temp",
         "ABB", None, None, _sig(12, 4, 24, 0.1, 2, -2, 35)),
    _Tag("HFO Tank1 Level", 60, "m3", "Heavy fuel oil tank 1 volume", "Tanks/HFO1 Level",
         "ABB", None, None, _sig(600, 250, 168, 0.5, 2, 0, 1000)),
)

_VESSELS = (
    Vessel("IMO1000001", "Nordic Aurora", 3 * 86_400, 2 * 3600, 10 * 3600),
    Vessel("IMO1000002", "Polar Tern", 4 * 86_400, 3 * 3600, 27 * 3600),
    Vessel("IMO1000003", "Saga Fjord", 5 * 86_400, 4 * 3600, 53 * 3600),
)

SHARED_PARAMETERS_ID = "IMO1000001/AE Power/AE Power"
"""The ``parameters`` id that two series of IMO1000001 share (AE1 Power and AE2 Power)."""

_VIS_NAMES = {
    "411.1": "Propulsion engine", "C101.31": "Crankshaft", "C101.63": "Fuel supply",
    "S206": "Fuel oil system", "1021.1i": "Navigation sensors", "511.11-1": "Generator set 1",
    "511.11-2": "Generator set 2", "C101": "Reciprocating engine", "meta": "meta",
}


def _spec(vessel_index: int, vessel: Vessel, tag_index: int, t: _Tag) -> SeriesSpec:
    raalabs = f"{vessel.imo}/{t.tag}"
    uuid = str(uuidlib.uuid5(NAMESPACE, raalabs))
    maker_tag = str(10_000 * (vessel_index + 1) + 100 + tag_index)
    ids = {"id": uuid, "raalabs": raalabs}
    if t.jsmea is not None:
        ids["jsmea"] = f"{vessel.imo}/{t.jsmea}"
    ids["parameters"] = f"{vessel.imo}/{t.parameters}"
    if vessel.imo == "IMO1000001" and t.tag in ("AE1 Power", "AE2 Power"):
        ids["parameters"] = SHARED_PARAMETERS_ID  # two series, one id (a real-world quirk)
    ids["maker"] = f"{vessel.imo}/{t.maker}/{maker_tag}"
    verbose = {"maker": f"{vessel.imo}/{t.maker}/{t.name}"}
    if t.vis is not None:
        ids["vis-3-8a"] = f"{vessel.imo}/{t.vis}"
        readable = "/".join(_VIS_NAMES.get(level, level) for level in t.vis.split("/"))
        verbose["vis-3-8a"] = f"{vessel.imo}/{readable}"
    scale = 1.0 if t.uom == "deg" else 1.0 + 0.08 * vessel_index  # headings stay in [0, 360)
    signal = Signal(t.signal.base * scale, t.signal.amplitude * scale, t.signal.period_s,
                    t.signal.noise, t.signal.decimals, t.signal.low, t.signal.high * scale)
    return SeriesSpec(
        uuid=uuid, imo=vessel.imo, tag=t.tag, interval_s=t.interval_s, uom=t.uom, name=t.name,
        description=f"{t.name} on {vessel.name} ({t.uom}, sampled every {t.interval_s} s)",
        ids=ids, signal=signal, source=f"sandbox/{t.maker}", verbose_ids=verbose,
    )


# splitmix64, vectorised: a good 64-bit mix that numpy can do without Python loops.
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _mix_int(x: int) -> int:
    return int(_mix(np.array([x & 0xFFFF_FFFF_FFFF_FFFF], dtype=np.uint64))[0])


class Fleet:
    """Vessels and series, with the data of every series (see the module docstring)."""

    def __init__(self, vessels: Iterable[Vessel], series: Iterable[SeriesSpec], seed: int = 0):
        self.vessels: tuple[Vessel, ...] = tuple(vessels)
        self.series: list[SeriesSpec] = list(series)
        self.seed = seed
        self._by_uuid = {s.uuid: s for s in self.series}
        self._position = {s.uuid: at for at, s in enumerate(self.series)}
        self._vessel = {v.imo: v for v in self.vessels}
        if len(self._by_uuid) != len(self.series):
            raise ValueError("series UUIDs must be unique")
        self._keys = {
            s.uuid: _mix_int(uuidlib.UUID(s.uuid).int ^ (seed * 0x9E3779B97F4A7C15))
            for s in self.series
        }

    def __repr__(self) -> str:
        return f"Fleet({len(self.vessels)} vessels, {len(self.series)} series, seed={self.seed})"

    def get(self, uuid: str) -> SeriesSpec:
        """The series with this UUID (KeyError if none)."""
        return self._by_uuid[uuid]

    def in_order(self, uuids: Iterable[str]) -> list[SeriesSpec]:
        """The series of these UUIDs (unknown ones left out, each once), in fleet order."""
        found = {self._position[u] for u in uuids if u in self._position}
        return [self.series[at] for at in sorted(found)]

    def vessel(self, imo: str) -> Vessel:
        """The vessel with this IMO (``"IMO1000001"``; KeyError if none)."""
        return self._vessel[imo]

    # -- time grid -----------------------------------------------------------------------

    def ticks_us(self, uuid: str, start: Instant | int, end: Instant | int) -> I64:
        """Sample times in ``[start, end)`` as int64 µs since the epoch (outages removed)."""
        spec, vessel = self._by_uuid[uuid], self._vessel[self._by_uuid[uuid].imo]
        step = spec.interval_s * US_PER_S
        lo, hi = max(to_us(start), DATA_START_US), to_us(end)
        first, stop = -(-lo // step), -(-hi // step)
        if stop <= first:
            return np.empty(0, dtype=np.int64)
        ticks = np.arange(first, stop, dtype=np.int64) * step
        period, duration, offset = (x * US_PER_S for x in (
            vessel.outage_period_s, vessel.outage_duration_s, vessel.outage_offset_s))
        return ticks[(ticks - offset) % period >= duration]

    def timestamps(self, uuid: str, start: Instant | int, end: Instant | int
                   ) -> npt.NDArray[np.datetime64]:
        """Sample times in ``[start, end)`` as ``datetime64[us]`` (UTC), outages removed.

        ``start``/``end``: datetimes (naive = UTC), numpy datetime64, ISO strings or int µs.
        """
        return self.ticks_us(uuid, start, end).view("datetime64[us]")

    def count(self, uuid: str, start: Instant | int, end: Instant | int) -> int:
        """``len(self.timestamps(uuid, start, end))`` without making the timestamps."""
        spec, vessel = self._by_uuid[uuid], self._vessel[self._by_uuid[uuid].imo]
        step = spec.interval_s * US_PER_S
        lo, hi = max(to_us(start), DATA_START_US), to_us(end)
        if hi <= lo:
            return 0
        total = -(-hi // step) - -(-lo // step)
        period, duration, offset = (x * US_PER_S for x in (
            vessel.outage_period_s, vessel.outage_duration_s, vessel.outage_offset_s))
        k = np.arange((lo - offset - duration) // period, (hi - offset) // period + 1,
                      dtype=np.int64)
        a = np.maximum(offset + k * period, lo)
        b = np.minimum(offset + k * period + duration, hi)
        inside = np.maximum(-(-b // step) - -(-a // step), 0)
        return int(total - inside[b > a].sum())

    # -- values --------------------------------------------------------------------------

    def values(self, uuid: str, timestamps: Any) -> F64:
        """The series' values at ``timestamps`` (datetime64 array or int64 µs), float64.

        A pure function of (series, timestamp, fleet seed), defined at any instant; NaN
        about once in ``NAN_ONE_IN`` stamps. Outages are a matter of ``timestamps``, not of
        values. The physics is in ``raadata.sandbox.physics`` (shared by all series of a vessel).
        """
        arr = np.asarray(timestamps)
        if arr.dtype.kind == "M":
            us = arr.astype("datetime64[us]").astype(np.int64)
        else:
            us = arr.astype(np.int64)
        spec = self._by_uuid[uuid]
        sig = spec.signal
        key = self._keys[uuid]
        h = _mix(us.astype(np.uint64) * _GOLDEN ^ np.uint64(key))
        noise = (h >> np.uint64(11)).astype(np.float64) * (2.0 / 2**53) - 1.0
        vi = next(i for i, v in enumerate(self.vessels) if v.imo == spec.imo)
        v = physics.value(spec.tag, vi, us.astype(np.float64) / US_PER_S, noise)
        if spec.tag != "Nav Heading":
            v = np.clip(v, sig.low, sig.high)
        v = v.round(sig.decimals)
        if spec.tag == "Nav Heading":
            v %= 360.0
        v[(h & np.uint64(NAN_ONE_IN - 1)) == 0] = np.nan
        return v


@cache
def default_fleet(seed: int = 0) -> Fleet:
    """The standard sandbox fleet: 3 vessels x 12 series (36), 12 of them at 1 s.

    Intervals 1, 5, 10, 30 and 60 s; ``jsmea`` and ``vis-3-8a`` cover only some series;
    on IMO1000001 "AE1 Power" and "AE2 Power" share the ``parameters`` id
    ``IMO1000001/AE Power/AE Power``.
    """
    series = [_spec(vi, v, ti, t) for vi, v in enumerate(_VESSELS) for ti, t in enumerate(_TAGS)]
    return Fleet(_VESSELS, series, seed=seed)
