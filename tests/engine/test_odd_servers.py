"""The client against server behaviour the sandbox never shows (mocked with ``responses``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import responses

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
