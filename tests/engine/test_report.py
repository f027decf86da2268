"""The pull report (raadata._report): counters, summary, dict and pickling."""

from __future__ import annotations

import json
import pickle
import threading

import pyarrow as pa

from raadata._checks import Checked
from raadata._report import PullReport


def test_counters_from_many_threads() -> None:
    report = PullReport(kind="measurements", series=2)

    def work() -> None:
        for _ in range(1000):
            report.add_response(10, "application/vnd.apache.parquet; x=1")
            report.add_retry(429)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert report.requests == report.retries == report.rate_limited == 4000
    assert report.bytes == 40_000
    assert report.wire_formats == {"application/vnd.apache.parquet": 4000}


def test_summary_dict_and_pickle() -> None:
    report = PullReport(kind="statistics", series=3, points=1234, elapsed=2.0, cached=100)
    report.add_checked(2, Checked(pa.table({"x": [1]}), outside=1, unrequested=4, renamed=0))
    report.rows_per_series = {"b": 2, "a": 1}
    text = report.summary()
    assert text.startswith("statistics: 1,234 points from 3 series in 2.00 s (617 points/s)")
    assert "rows dropped: 1 outside the requested window, 4 of series not asked for" in text
    assert "from the local cache: 100 points" in text
    assert text.splitlines()[-2:] == ["  a: 1", "  b: 2"]
    data = report.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["duplicates"] == 2
    back = pickle.loads(pickle.dumps(report))
    assert back.as_dict() == data
    back.add_retry(None)  # its lock came back too
    assert "<table" in report._repr_html_()
    assert repr(report).startswith("PullReport(statistics: 1,234 points")
