"""The public functions against every server the docs allow (the sandbox's compat switches),
compared point for point with the default half-open Parquet sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import raadata
from raadata import Client
from raadata._retry import RetryPolicy
from raadata.sandbox import Sandbox, serve

NOW = "2025-01-03T00:00:00Z"
RANGE = ("2025-01-01T00:00:00Z", "2025-01-01T06:00:00Z")
SELECTORS = ["raalabs/IMO1000001/*", "raalabs/IMO1000002/ME ShaftPower"]
TARGET = 20_000  # points per request: several requests, cut at window edges
JSON_ONLY = ("json",)

VARIANTS: dict[str, dict[str, Any]] = {
    "inclusive to": {"inclusive_to": True},
    "json only, 406": {"formats": JSON_ONLY, "refuse_with": "406"},
    "json only, 400 unsupported format": {"formats": JSON_ONLY, "refuse_with": "400-format"},
    "json only, 400 unsupported media type": {"formats": JSON_ONLY, "refuse_with": "400-media"},
    "json + ndjson, 415": {"formats": ("json", "ndjson"), "refuse_with": "415"},
    "no POST /query (404)": {"post_query": "404"},
    "no POST /query (405)": {"post_query": "405"},
    "too large as 400": {"too_large": "400"},
    "too large as 500": {"too_large": "500"},
    "statistics NDJSON as objects": {"formats": ("json", "ndjson"),
                                     "statistics_shape": "object"},
    "statistics JSON in long columns": {"formats": JSON_ONLY, "statistics_shape": "long"},
    "domain ids in responses": {"domain_ids": True, "formats": JSON_ONLY},
    "timestamps without fraction": {"formats": ("json", "ndjson"), "timestamps": "seconds"},
    "timestamps with +00:00": {"formats": JSON_ONLY, "timestamps": "offset"},
    "rows in any order": {"shuffle": True},
    "everything at once": {"inclusive_to": True, "formats": JSON_ONLY, "refuse_with": "415",
                           "post_query": "405", "too_large": "500", "shuffle": True,
                           "timestamps": "offset", "statistics_shape": "long"},
}


def pull_all(client: Client, out: Path) -> dict[str, Any]:
    """Every public shape of the same data."""
    options: dict[str, Any] = {"target_points": TARGET}
    export = client.export(SELECTORS, *RANGE, out, **options)
    return {
        "wide": client.measurements(SELECTORS, *RANGE, **options),
        "long": client.measurements(SELECTORS, *RANGE, shape="long", **options),
        "statistics": client.statistics(SELECTORS, *RANGE, window="10min",
                                         aggregations=["avg", "max", "count"],
                                         target_points=500),
        "metadata": client.metadata(SELECTORS),
        "export": pd.read_parquet(out).sort_values(["series", "timestamp"])
        .reset_index(drop=True).drop(columns=["date", "vessel"]),
        "export_rows": export.rows,
    }


def same(got: dict[str, Any], want: dict[str, Any]) -> None:
    for name in ("wide", "long", "statistics", "metadata", "export"):
        got[name].attrs, want[name].attrs = {}, {}
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    assert got["export_rows"] == want["export_rows"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with serve(now=NOW, point_limit=30_000) as sb, sb.client(progress=False) as client:
        return pull_all(client, tmp_path_factory.mktemp("reference") / "out")


@pytest.fixture(scope="module")
def variant_sandbox() -> Iterator[Sandbox]:
    with serve(now=NOW, point_limit=30_000) as sb:
        yield sb


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_documented_server_gives_the_same_data(
    name: str, variant_sandbox: Sandbox, reference: dict[str, Any], tmp_path: Path
) -> None:
    sb = variant_sandbox
    sb.compat.reset()
    sb.compat.update(**VARIANTS[name])
    with sb.client(progress=False) as client:
        got = pull_all(client, tmp_path / "out")
        report = client.last_report
    sb.compat.reset()
    same(got, reference)
    assert report is not None
    if VARIANTS[name].get("inclusive_to"):
        assert report.outside_window > 0  # the extra rows came and were dropped
    if "post_query" in VARIANTS[name]:
        assert set(report.endpoints) == {"GET id"}


def test_a_cold_client_without_parquet_succeeds_with_8_workers(
    variant_sandbox: Sandbox, reference: dict[str, Any]
) -> None:
    sb = variant_sandbox
    sb.compat.reset()
    sb.compat.update(formats=("json",), refuse_with="400-media")
    sb.faults.latency = 0.05  # keep many first requests in flight together
    try:
        with sb.client(progress=False, max_workers=8) as client:
            frame = client.measurements(SELECTORS, *RANGE, target_points=2_000)
            report = client.last_report
    finally:
        sb.faults.reset()
        sb.compat.reset()
    assert report is not None
    assert report.requests > 16
    assert set(report.wire_formats) == {"application/json"}
    pd.testing.assert_frame_equal(frame.drop(columns=[]), reference["wide"], check_like=True,
                                  obj="wide")


def test_a_silent_500_is_a_clear_server_error(variant_sandbox: Sandbox) -> None:
    sb = variant_sandbox
    sb.compat.reset()
    sb.compat.update(too_large="500-silent")
    try:
        with sb.client(progress=False) as client:
            client.transport.retry = RetryPolicy(max_attempts=2, backoff_initial=0.01)
            with pytest.raises(raadata.ServerError) as caught:
                client.measurements(SELECTORS, *RANGE, target_points=10_000_000)
    finally:
        sb.compat.reset()
    error = caught.value
    assert error.status == 500
    assert error.request_id
    assert "/measurements/query" in (error.url or "")
    assert "internal server error" in str(error)


def test_a_hanging_endpoint_fails_with_a_transport_error(variant_sandbox: Sandbox) -> None:
    sb = variant_sandbox
    sb.compat.reset()
    sb.compat.update(hang=30.0)
    started = time.monotonic()
    try:
        with sb.client(progress=False, timeout=(2.0, 0.4)) as client, \
                pytest.raises(raadata.TransportError, match=r"read timeout of 0\.4 s"):
            client.measurements("raalabs/IMO1000001/ME ShaftPower", *RANGE)
    finally:
        sb.compat.reset()
    assert time.monotonic() - started < 30  # gave up long before the server answered


def test_a_trickling_endpoint_is_cut_off_at_the_deadline(variant_sandbox: Sandbox) -> None:
    sb = variant_sandbox
    sb.compat.reset()
    sb.compat.update(trickle=0.02)
    try:
        with sb.client(progress=False, timeout=(2.0, 1.0), deadline=1.0) as client, \
                pytest.raises(raadata.TransportError, match="deadline of 1 s"):
            client.measurements("raalabs/IMO1000001/ME ShaftPower", *RANGE)
    finally:
        sb.compat.reset()


def test_a_wildcard_answered_with_403_is_a_clear_error(variant_sandbox: Sandbox) -> None:
    sb = variant_sandbox
    sb.compat.reset()
    sb.compat.update(wildcard_denied=True)
    try:
        with sb.client(client_id="sandbox-vessel", progress=False) as client, \
                pytest.raises(raadata.PermissionDeniedError, match="scopes"):
            client.measurements("raalabs/*/ME ShaftPower", *RANGE)
    finally:
        sb.compat.reset()
