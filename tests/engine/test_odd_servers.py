"""The client against server behaviour the sandbox never shows (mocked with ``responses``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import responses

import raadata
from raadata import Client
from raadata._decode import MEASUREMENTS_SCHEMA, PARQUET
from tests.core.conftest import API, CLIENT_ID, ENVIRONMENT, SECRET, TOKEN_URL, token_json

UUID = "0b0e5b52-9e4c-4a57-8d4b-6d1c0a3f2e11"
BASE = f"{API}/{ENVIRONMENT}"


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(
        CLIENT_ID, SECRET, environment=ENVIRONMENT, api_url=API, token_url=TOKEN_URL, progress=False
    ) as c:
        yield c


def parquet(rows: list[tuple[str, str, float]]) -> bytes:
    ids, stamps, values = zip(*rows, strict=True)
    table = pa.table(
        {
            "id": list(ids),
            "timestamp": pa.array(list(stamps)).cast(pa.timestamp("us", "UTC")),
            "value": list(values),
        },
        schema=MEASUREMENTS_SCHEMA,
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_exact_duplicates_are_dropped_and_counted(client: Client) -> None:
    rows = [
        (UUID, "2025-01-01T00:00:00Z", 1.0),
        (UUID, "2025-01-01T00:00:00Z", 1.0),  # the server repeats itself
        (UUID, "2025-01-01T00:00:01Z", 2.0),
        (UUID, "2025-01-01T00:00:02Z", float("nan")),
        (UUID, "2025-01-01T00:00:02Z", float("nan")),  # NaN equals NaN here
    ]
    metadata = {
        "IMO1234567/ME ShaftPower": {"timeSeriesId": UUID, "uom": "kW", "vesselImo": "1234567"}
    }
    with responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, body=token_json())
        mocked.get(f"{BASE}/metadata/raalabs/IMO1234567/ME%20ShaftPower", body=json.dumps(metadata))
        mocked.post(f"{BASE}/measurements/query", body=parquet(rows), content_type=PARQUET)
        frame = client.measurements(
            "raalabs/IMO1234567/ME ShaftPower",
            "2025-01-01T00:00",
            "2025-01-01T00:00:03",
            shape="long",
        )
    report = client.last_report
    assert report is not None
    assert report.duplicates == 2
    assert len(frame) == 3
    assert frame["value"].isna().sum() == 1
    assert report.rows_per_series == {"IMO1234567/ME ShaftPower": 3}
    assert frame.attrs["units"] == {"IMO1234567/ME ShaftPower": "kW"}


METADATA = {"IMO1234567/ME ShaftPower": {"timeSeriesId": UUID, "uom": "kW",
                                         "vesselImo": "1234567"}}


@pytest.mark.parametrize(
    ("body", "content_type", "what"),
    [
        (b"<html><body>maintenance</body></html>", "text/html", "Content-Type"),
        (parquet([(UUID, "2025-01-01T00:00:00Z", 1.0)])[:-20], PARQUET, "Parquet"),
        (b'{"rows": []}', "application/json", "expected a JSON array"),
        (b'[{"id": "' + UUID.encode() + b'", "timestamp": "2025-01-01T00:00:00Z", '
         b'"value": "high"}]', "application/json", "JSON"),
        (b'[{"id": "' + UUID.encode() + b'", "timestamp": "99999-01-01T00:00:00Z", '
         b'"value": 1}]', "application/json", "JSON"),
        (b"", "application/json", "blank"),
    ],
)
def test_unreadable_bodies_are_response_format_errors_after_retries(
    client: Client, body: bytes, content_type: str, what: str
) -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, body=token_json())
        mocked.get(f"{BASE}/metadata/raalabs/IMO1234567/ME%20ShaftPower", body=json.dumps(METADATA))
        data = mocked.post(f"{BASE}/measurements/query", body=body, content_type=content_type,
                           headers={"x-request-id": "rq-7"})
        with pytest.raises(raadata.ResponseFormatError, match=what) as caught:
            client.measurements("raalabs/IMO1234567/ME ShaftPower", "2025-01-01T00:00",
                                "2025-01-01T00:00:03")
    error = caught.value
    assert isinstance(error, raadata.RaadataError)
    assert error.request_id == "rq-7"
    assert error.status == 200
    assert "/measurements/query" in (error.url or "")
    assert data.call_count == 3  # retried like a transient fault, a bounded number of times


def test_rows_outside_the_window_or_of_other_series_are_dropped_and_counted(
    client: Client,
) -> None:
    other = "11111111-2222-4333-8444-555555555555"
    rows = [
        (UUID, "2024-12-31T23:59:59Z", 0.0),  # before the window
        (UUID, "2025-01-01T00:00:00Z", 1.0),
        (other, "2025-01-01T00:00:01Z", 9.0),  # nobody asked for it
        (UUID, "2025-01-01T00:00:02Z", 2.0),
        (UUID, "2025-01-01T00:00:03Z", 3.0),  # at the exclusive end
    ]
    with responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, body=token_json())
        mocked.get(f"{BASE}/metadata/raalabs/IMO1234567/ME%20ShaftPower", body=json.dumps(METADATA))
        mocked.post(f"{BASE}/measurements/query", body=parquet(rows), content_type=PARQUET)
        frame = client.measurements("raalabs/IMO1234567/ME ShaftPower", "2025-01-01T00:00",
                                    "2025-01-01T00:00:03")
    assert frame["IMO1234567/ME ShaftPower"].tolist() == [1.0, 2.0]
    report = client.last_report
    assert report is not None
    assert (report.outside_window, report.unrequested) == (2, 1)
    assert "outside the requested window" in report.summary()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"year": 2**63}, ValueError),
        ({"year": 2025, "month": 13}, ValueError),
        ({"aggregations": ["avg", None]}, TypeError),
        ({"aggregations": 5}, TypeError),
        ({"window": "fortnight"}, ValueError),
        ({"target_points": 0}, ValueError),
        ({"max_workers": "8"}, TypeError),
    ],
)
def test_bad_arguments_fail_before_any_request(
    client: Client, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False), pytest.raises(error):
        client.statistics("raalabs/IMO1234567/ME ShaftPower", **kwargs)  # type: ignore[arg-type]
