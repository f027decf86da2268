"""The sandbox fleet obeys ship physics: propeller law, SFOC, torque, port calls, tanks."""

from __future__ import annotations

import numpy as np
import pytest

from raadata.sandbox import fleet as fleet_mod
from raadata.sandbox import physics
from raadata.sandbox.clock import US_PER_S, to_us
from raadata.sandbox.fleet import default_fleet
from raadata.sandbox.physics import F64

FLEET = default_fleet()
IMOS = [v.imo for v in FLEET.vessels]
START, DAYS = to_us("2025-01-01T00:00:00Z"), 8


def _grid(step_s: int, days: int = DAYS, start: int = START) -> np.ndarray:
    return start + np.arange(0, days * 86_400, step_s, dtype=np.int64) * US_PER_S


def _series(imo: str, tag: str, us: np.ndarray) -> F64:
    spec = next(s for s in FLEET.series if s.imo == imo and s.tag == tag)
    return FLEET.values(spec.uuid, us)


def _at_sea(imo: str, us: np.ndarray) -> np.ndarray:
    vi = IMOS.index(imo)
    return np.asarray(physics.state(vi, us / US_PER_S).ramp > 0.99)


@pytest.mark.parametrize("imo", IMOS)
def test_propeller_law_sfoc_and_torque(imo: str) -> None:
    us = _grid(60)
    power, rpm, torque, fuel, sog = (_series(imo, t, us) for t in (
        "ME ShaftPower", "ME ShaftSpeed", "ME ShaftTorque", "ME FuelMassFlow", "Nav SOG"))
    sea = _at_sea(imo, us)
    ok = sea & np.isfinite(power + rpm + torque + fuel + sog)
    assert ok.sum() > 1000
    assert np.corrcoef(power[ok], sog[ok] ** 3)[0, 1] > 0.9
    assert np.corrcoef(rpm[ok], sog[ok])[0, 1] > 0.9
    sfoc = fuel[ok] / power[ok] * 1000.0  # g/kWh
    assert sfoc.min() >= 165.0
    assert sfoc.max() <= 200.0
    assert sfoc.max() - sfoc.min() > 1.0  # varies with load
    implied = power[ok] * 60.0 / (2 * np.pi * rpm[ok])  # kW / (rad/s) = kNm
    assert np.abs(torque[ok] / implied - 1.0).max() < 0.01


def test_sfoc_lowest_near_80_percent_load() -> None:
    load = np.linspace(0.0, 1.0, 101)
    sfoc = physics.sfoc(load)
    assert 0.75 <= load[np.argmin(sfoc)] <= 0.85
    assert sfoc.min() >= 165.0
    assert sfoc.max() <= 200.0


@pytest.mark.parametrize("imo", IMOS)
def test_port_calls(imo: str) -> None:
    us = _grid(60)
    vi = IMOS.index(imo)
    port = np.asarray(physics.state(vi, us / US_PER_S).ramp < 0.01)
    sea = _at_sea(imo, us)
    assert port.sum() > 60
    assert sea.sum() > 60
    sog, power, ae1 = (_series(imo, t, us) for t in ("Nav SOG", "ME ShaftPower", "AE1 Power"))
    assert np.nanmax(sog[port]) < 0.5
    assert np.nanmax(power[port]) < 1.0
    assert np.nanmean(ae1[port]) > 1.5 * np.nanmean(ae1[sea])


@pytest.mark.parametrize("imo", IMOS)
def test_heading_continuous(imo: str) -> None:
    us = _grid(5)
    heading = _series(imo, "Nav Heading", us)
    assert np.nanmin(heading) >= 0.0
    assert np.nanmax(heading) < 360.0
    step = np.diff(heading)
    step = (step + 180.0) % 360.0 - 180.0  # the 0/360 wrap is not a jump
    assert np.nanmax(np.abs(step)) < 2.0  # deg per 5 s
    assert np.nanmax(heading) - np.nanmin(heading) > 90.0  # it does turn


@pytest.mark.parametrize("imo", IMOS)
def test_tank_falls_at_sea_and_jumps_at_bunkering(imo: str) -> None:
    us = _grid(60)
    level = _series(imo, "HFO Tank1 Level", us)
    sea = _at_sea(imo, us)
    hourly = level[::60]
    rises = np.diff(hourly)
    at_sea_steps = sea[::60][1:] & sea[::60][:-1]
    assert np.nanmax(rises[at_sea_steps]) < 0.5
    assert np.nanmean(rises[at_sea_steps]) < -0.1
    assert np.nanmax(rises) > 20.0  # bunkering


def test_sea_temperature_seasonal() -> None:
    winter, summer = _grid(3600, 7, to_us("2025-02-01")), _grid(3600, 7, to_us("2025-08-10"))
    for imo in IMOS:
        assert (np.nanmean(_series(imo, "SW Temp", summer))
                > np.nanmean(_series(imo, "SW Temp", winter)) + 8.0)


@pytest.mark.parametrize("spec", FLEET.series, ids=lambda s: f"{s.imo}/{s.tag}")
def test_same_value_whatever_the_range(spec: fleet_mod.SeriesSpec) -> None:
    start, end = to_us("2025-03-01T00:00:00Z"), to_us("2025-03-31T00:00:00Z")
    long_ts = FLEET.ticks_us(spec.uuid, start, end)
    long = FLEET.values(spec.uuid, long_ts)
    pick = long_ts[len(long_ts) // 3]
    short_ts = FLEET.ticks_us(spec.uuid, pick, pick + 3600 * US_PER_S)
    short = FLEET.values(spec.uuid, short_ts)
    i = len(long_ts) // 3
    np.testing.assert_array_equal(short, long[i:i + len(short)])


def test_physics_over_http() -> None:
    """Points fetched over HTTP equal the pure function and obey the propeller law."""
    import raadata
    from raadata.sandbox import serve

    with serve(now="2025-03-01T00:00:00Z") as sandbox, sandbox.client() as client:
        df = raadata.get_series(
            ["raalabs/IMO1000001/ME ShaftPower", "raalabs/IMO1000001/Nav SOG"],
            "2025-02-01T00:00:00Z", "2025-02-04T00:00:00Z", client=client)
    assert len(df) > 100_000
    power = df.filter(like="ShaftPower").iloc[:, 0].to_numpy(dtype=float)
    sog = df.filter(like="SOG").iloc[:, 0].to_numpy(dtype=float)
    us = df.index.tz_convert(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    np.testing.assert_array_equal(
        power, _series("IMO1000001", "ME ShaftPower", us))
    ok = np.isfinite(power + sog) & _at_sea("IMO1000001", us)
    assert np.corrcoef(power[ok], sog[ok] ** 3)[0, 1] > 0.9
