"""Each response checked against its request: the kept rows keep the decoded tables' types."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from raadata._checks import check_rows
from raadata._decode import MEASUREMENTS_SCHEMA

START, END = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-01-02", tz="UTC")


def response(ids: list[str], seconds: list[int]) -> pa.Table:
    stamps = [START + pd.Timedelta(seconds=s) for s in seconds]
    return pa.table({"id": pa.array(ids).dictionary_encode(),
                     "timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
                     "value": [float(s) for s in seconds]}).cast(MEASUREMENTS_SCHEMA)


def test_domain_ids_renamed_to_uuids_keep_the_dictionary_type() -> None:
    mixed = response(["IMO1/a", "IMO1/a", "u2", "stranger"], [0, 1, 2, 3])
    checked = check_rows(mixed, ["u1", "u2"], START, END, {"IMO1/a": "u1"})
    assert checked.table.schema == MEASUREMENTS_SCHEMA  # concatenates with other responses
    assert checked.table["id"].to_pylist() == ["u1", "u1", "u2"]
    assert (checked.renamed, checked.unrequested) == (2, 1)
    plain = check_rows(response(["u1"], [5]), ["u1", "u2"], START, END, {"IMO1/a": "u1"})
    assert pa.concat_tables([checked.table, plain.table]).num_rows == 4


def test_rows_outside_the_window_are_dropped_and_counted() -> None:
    late = response(["u1", "u1", "u1"], [-1, 0, 86_400])  # before, at the start, at the end
    checked = check_rows(late, ["u1"], START, END)
    assert checked.table["value"].to_pylist() == [0.0]
    assert checked.outside == 2
