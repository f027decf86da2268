"""The synthetic fleet: shape, determinism, time grid, outages, NaNs (pure, no server)."""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np
import pytest

from raadata.sandbox.clock import US_PER_S, to_us
from raadata.sandbox.fleet import (
    DATA_START_US,
    DOMAINS,
    NAMESPACE,
    SHARED_PARAMETERS_ID,
    Fleet,
    default_fleet,
)

FLEET = default_fleet()


def test_vessels_and_series_cover_what_the_issue_asks() -> None:
    assert [v.imo for v in FLEET.vessels] == ["IMO1000001", "IMO1000002", "IMO1000003"]
    assert all(v.name for v in FLEET.vessels)
    per_vessel = Counter(s.imo for s in FLEET.series)
    assert all(per_vessel[v.imo] >= 10 for v in FLEET.vessels)
    intervals = Counter(s.interval_s for s in FLEET.series)
    assert set(intervals) == {1, 5, 10, 30, 60}
    assert intervals[1] >= 12
    assert all(1 <= s.interval_s <= 60 for s in FLEET.series)


def test_every_domain_is_used_and_raalabs_covers_all() -> None:
    for spec in FLEET.series:
        assert spec.ids["id"] == spec.uuid
        assert spec.ids["raalabs"] == f"{spec.imo}/{spec.tag}"
        assert set(spec.ids) <= set(DOMAINS)
        assert all(i.startswith(spec.imo + "/") for d, i in spec.ids.items() if d != "id")
    used = Counter(d for s in FLEET.series for d in s.ids)
    assert set(used) == set(DOMAINS)
    assert used["jsmea"] < len(FLEET.series)  # not every signal is mapped
    assert used["vis-3-8a"] < len(FLEET.series)


def test_jsmea_ids_have_the_documented_shape() -> None:
    spec = FLEET.get(uuid_for("IMO1000001/ME ShaftPower"))
    assert spec.ids["jsmea"] == "IMO1000001/jsmea_mac/MainEngine/DrivingShaft/Output//Power/"
    for s in FLEET.series:
        if "jsmea" in s.ids:
            assert len(s.ids["jsmea"].split("/")) == 8  # the IMO and 7 levels


def test_uuids_are_stable_uuid5() -> None:
    spec = FLEET.series[0]
    assert spec.uuid == str(uuid.uuid5(NAMESPACE, "IMO1000001/ME ShaftPower"))
    assert spec.uuid == "b9723c91-e702-5585-8d09-876871a58413"
    assert len({s.uuid for s in FLEET.series}) == len(FLEET.series)
    assert default_fleet(seed=7).series[0].uuid == spec.uuid


def test_exactly_one_pair_shares_a_domain_id() -> None:
    shared = [(d, i) for (d, i), n in Counter(
        (d, i) for s in FLEET.series for d, i in s.ids.items()).items() if n > 1]
    assert shared == [("parameters", SHARED_PARAMETERS_ID)]
    pair = [s.tag for s in FLEET.series if s.ids["parameters"] == SHARED_PARAMETERS_ID]
    assert pair == ["AE1 Power", "AE2 Power"]


def test_get_unknown_uuid_raises_key_error() -> None:
    with pytest.raises(KeyError):
        FLEET.get("00000000-0000-0000-0000-000000000000")


def uuid_for(raalabs: str) -> str:
    return next(s.uuid for s in FLEET.series if s.ids["raalabs"] == raalabs)


@pytest.mark.parametrize("interval", [1, 5, 10, 30, 60])
def test_timestamps_sit_on_an_epoch_aligned_grid_in_a_half_open_range(interval: int) -> None:
    spec = next(s for s in FLEET.series if s.interval_s == interval)
    start, end = "2025-01-01T00:00:00.5Z", "2025-01-01T01:00:00Z"
    ts = FLEET.timestamps(spec.uuid, start, end)
    assert ts.dtype == np.dtype("datetime64[us]")
    us = ts.astype(np.int64)
    assert (us % (interval * US_PER_S) == 0).all()
    assert us[0] >= to_us(start)
    assert us[-1] < to_us(end)
    assert (np.diff(us) > 0).all()
    assert to_us(end) - interval * US_PER_S == us[-1]


def test_data_starts_on_2024_01_01() -> None:
    spec = FLEET.series[0]
    assert len(FLEET.timestamps(spec.uuid, "2023-12-31T00:00:00Z", "2024-01-01T00:00:00Z")) == 0
    ts = FLEET.ticks_us(spec.uuid, "2023-12-31T23:00:00Z", "2024-01-01T00:00:05Z")
    assert list(ts) == [DATA_START_US + i * US_PER_S for i in range(5)]


def test_outages_remove_hours_every_few_days() -> None:
    for vessel in FLEET.vessels:
        spec = next(s for s in FLEET.series if s.imo == vessel.imo and s.interval_s == 60)
        start = to_us("2025-01-01T00:00:00Z")
        ts = FLEET.ticks_us(spec.uuid, start, start + 10 * 86_400 * US_PER_S)
        gaps = np.diff(ts)[np.diff(ts) > 60 * US_PER_S]
        assert len(gaps) >= 2
        assert set(gaps) == {vessel.outage_duration_s * US_PER_S + 60 * US_PER_S}


def test_count_equals_the_number_of_timestamps() -> None:
    rng = np.random.default_rng(1)
    for i in range(400):
        spec = FLEET.series[i % len(FLEET.series)]
        a = DATA_START_US + int(rng.integers(-3 * 86_400, 400 * 86_400)) * US_PER_S \
            + int(rng.integers(0, US_PER_S))
        b = a + int(rng.integers(-10, 12 * 86_400)) * US_PER_S + int(rng.integers(0, US_PER_S))
        assert FLEET.count(spec.uuid, a, b) == len(FLEET.ticks_us(spec.uuid, a, b))


def test_values_are_a_pure_function_of_series_and_timestamp() -> None:
    spec = FLEET.series[0]
    ts = FLEET.timestamps(spec.uuid, "2025-01-01T00:00:00Z", "2025-01-01T06:00:00Z")
    values = FLEET.values(spec.uuid, ts)
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, FLEET.values(spec.uuid, ts))
    np.testing.assert_array_equal(values[100:110], FLEET.values(spec.uuid, ts[100:110]))
    np.testing.assert_array_equal(values, FLEET.values(spec.uuid, ts.astype(np.int64)))
    np.testing.assert_array_equal(values, Fleet(FLEET.vessels, FLEET.series).values(spec.uuid, ts))
    other = default_fleet(seed=1).values(spec.uuid, ts)
    assert not np.array_equal(values, other, equal_nan=True)
    finite = values[~np.isnan(values)]
    assert (finite == np.round(finite, spec.signal.decimals)).all()
    assert spec.signal.low <= finite.min()
    assert finite.max() <= spec.signal.high


def test_a_small_deterministic_fraction_of_values_is_nan() -> None:
    spec = FLEET.series[0]
    ts = FLEET.timestamps(spec.uuid, "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z")
    fraction = np.isnan(FLEET.values(spec.uuid, ts)).mean()
    assert 0.0003 < fraction < 0.003
