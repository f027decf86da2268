"""Ship physics of the sandbox fleet, a closed-form function of time.

Each vessel shuttles between two ports: a cycle of 5-7 days starts with a port call (16-24 h:
main engine stopped, auxiliary load up, bunkering in its middle), then departs (a 2 h speed-up
during which it turns 180 degrees), sails, and slows down over 2 h before the next port call.
Shaft power follows the propeller law (speed through the water cubed), fuel flow is SFOC times
power, torque is P/(2 pi n), heading is continuous, tanks fall at sea and are refilled in port,
and the sea temperature is seasonal. Times ``t`` are seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import numpy.typing as npt

__all__ = ["F64", "State", "sfoc", "state", "value"]

F64 = npt.NDArray[np.float64]

_CYCLE_S = (6 * 86_400.0, 7 * 86_400.0, 5 * 86_400.0)
_PORT_S = (20 * 3600.0, 24 * 3600.0, 16 * 3600.0)
_SHIFT_S = (5 * 3600.0, 31 * 3600.0, 59 * 3600.0)
_RAMP_S = 2 * 3600.0
_V_DESIGN = 14.0  # kn at MCR (speed through water)
_MCR_KW = 12_000.0  # main engine maximum continuous rating
_N_MCR = 95.0  # rpm at MCR
_TANK_FULL = 900.0  # m3 after bunkering
_RHO_HFO = 0.98  # t/m3


def _smooth(x: F64) -> F64:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class State:
    """A vessel's state at times ``t`` (s), each part computed once and only when asked."""

    def __init__(self, vi: int, t: F64):
        self.vi, self.t, self.scale = vi, t, 1.0 + 0.08 * vi
        self.port, self.sea = _PORT_S[vi], _CYCLE_S[vi] - _PORT_S[vi]

    @cached_property
    def k(self) -> F64:
        """The cycle's number."""
        return np.floor((self.t + _SHIFT_S[self.vi]) / _CYCLE_S[self.vi])

    @cached_property
    def tau(self) -> F64:
        """Seconds into the cycle; the port call is ``[0, port)``."""
        return self.t + _SHIFT_S[self.vi] - self.k * _CYCLE_S[self.vi]

    @cached_property
    def ramp(self) -> F64:
        """0 in port, 1 at sea, smooth in between."""
        tau = self.tau
        return _smooth((tau - self.port) / _RAMP_S) * _smooth((_CYCLE_S[self.vi] - tau) / _RAMP_S)

    @cached_property
    def stw(self) -> F64:
        """Speed through water (kn)."""
        t, vi = self.t, self.vi
        return _V_DESIGN * self.ramp * (0.82 + 0.1 * np.sin(2 * np.pi * t / 39_600.0 + vi)
                                        + 0.05 * np.sin(2 * np.pi * t / 151_200.0 + 2 * vi))

    @cached_property
    def weather(self) -> F64:
        """Added resistance factor (1 = calm)."""
        return 1.0 + 0.05 * np.sin(2 * np.pi * self.t / 32_400.0 + 3 * self.vi)

    @cached_property
    def sog(self) -> F64:
        """Speed over ground (kn): through the water plus a 12.42 h tidal current."""
        current = 0.3 * np.sin(2 * np.pi * self.t / 44_712.0 + self.vi) * self.ramp
        return np.maximum(self.stw + current, 0.0)

    @cached_property
    def power(self) -> F64:
        """Shaft power (kW), by the propeller law."""
        return self.scale * _MCR_KW * (self.stw / _V_DESIGN) ** 3 * self.weather

    @cached_property
    def rpm(self) -> F64:
        """Shaft speed (rpm), proportional to SOG, a little up in weather."""
        return _N_MCR * self.sog / _V_DESIGN * (1.0 + 0.3 * (self.weather - 1.0))

    @cached_property
    def load(self) -> F64:
        """Main engine load (share of MCR)."""
        return self.power / (self.scale * _MCR_KW)


def state(vi: int, t: F64) -> State:
    """The state of vessel ``vi`` at ``t`` (s since the epoch)."""
    return State(vi, t)


def sfoc(load: F64) -> F64:
    """Specific fuel oil consumption (g/kWh): 168 at 80 % load, up to ~197 at low load."""
    return 168.0 + 45.0 * (load - 0.8) ** 2


def value(tag: str, vi: int, t: F64, noise: F64) -> F64:
    """The value of ``tag`` on vessel ``vi`` at ``t`` (s), with measurement noise in [-1, 1)."""
    s = state(vi, t)
    if tag == "ME ShaftPower":
        return s.power * (1.0 + 0.002 * noise)
    if tag == "ME ShaftSpeed":
        return s.rpm * (1.0 + 0.001 * noise)
    if tag == "ME ShaftTorque":  # kNm = kW / (rad/s)
        omega = 2 * np.pi * s.rpm / 60.0
        return np.where(omega > 1e-6, s.power / np.maximum(omega, 1e-6), 0.0) * (
            1.0 + 0.002 * noise)
    if tag == "ME FuelMassFlow":  # kg/h = g/kWh * kW / 1000
        return sfoc(s.load) * s.power / 1000.0 * (1.0 + 0.002 * noise)
    if tag == "Nav SOG":
        return s.sog + 0.05 * noise * s.ramp
    if tag == "Nav Heading":
        turn = 180.0 * _smooth((s.tau - s.port) / _RAMP_S)
        course = 40.0 + 70.0 * vi + 180.0 * s.k + turn
        meander = (12.0 * np.sin(2 * np.pi * t / 25_200.0 + vi) * s.ramp
                   + 4.0 * np.sin(2 * np.pi * t / 8_280.0) * s.ramp)
        return course + meander + 0.2 * noise
    in_port = s.ramp < 0.01
    if tag in ("AE1 Power", "AE2 Power"):
        base = 420.0 if tag == "AE1 Power" else 380.0
        hotel = np.where(in_port, 2.0 * base, base) * (1.0 + 0.08 * vi)
        return hotel * (1.0 + 0.05 * np.sin(2 * np.pi * t / 7_200.0 + vi)) + 10.0 * noise
    if tag == "ME LubOil Pressure":
        return (1.0 + 3.4 * _smooth(s.load * 5.0)) * (1.0 + 0.01 * noise)
    if tag == "ME Exhaust Temp":
        return 45.0 + 320.0 * _smooth(s.load * 3.0) * (0.75 + 0.25 * s.load) + 2.0 * noise
    if tag == "SW Temp":  # seasonal: warmest mid-August (day 19585 = 2023-08-16)
        day = t / 86_400.0
        return (11.0 + 2.0 * vi + 6.0 * np.cos(2 * np.pi * (day - 19_585.0) / 365.25)
                + 0.3 * np.sin(2 * np.pi * day) + 0.05 * noise)
    if tag == "HFO Tank1 Level":
        return _tank(vi, s) * (1.0 + 0.08 * vi) + 0.2 * noise
    raise KeyError(tag)


def _tank(vi: int, s: State) -> F64:
    """Tank volume (m3): full after bunkering mid-port, falling with fuel burnt at sea.

    The burn is the mean sea consumption times the time under way (closed form), so it
    falls faster at speed; in port the level holds until bunkering refills it over 2 h.
    """
    tau, port, sea = s.tau, s.port, s.sea
    rate = sfoc(np.full(1, 0.55))[0] * 0.55 * _MCR_KW / 1e6 / _RHO_HFO / 3600.0  # m3/s
    under_way = np.clip(tau - port, 0.0, None)
    level_at_sea = _TANK_FULL - rate * under_way
    arrived = _TANK_FULL - rate * sea
    bunker = _smooth((tau - port / 2.0) / 7_200.0)
    in_port_level = arrived + (_TANK_FULL - arrived) * bunker
    level: F64 = np.where(tau < port, in_port_level, level_at_sea)
    return level


