"""Export units as Delta Lake transactions (``format="delta"``, extra ``raadata[delta]``).

Each unit is appended in its own Delta transaction carrying the application transaction
``raadata-<unit id>`` at version 1, so the table's log itself says which units are in:
a re-run after a crash between the commit and raadata's marker sees the transaction and
does not commit the unit twice. Concurrent writers are as safe as delta-rs makes them
(conditional put on S3). Partition columns are ``vessel`` and ``date`` as for Parquet;
the series' names and units go into the table's description (``raadata`` JSON).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from raadata._dataset import UnitKey
from raadata._errors import StorageError

__all__ = ["DeltaUnits"]

_S3FS_TO_DELTA = {"key": "AWS_ACCESS_KEY_ID", "secret": "AWS_SECRET_ACCESS_KEY",
                  "token": "AWS_SESSION_TOKEN", "endpoint_url": "AWS_ENDPOINT_URL"}


def delta_options(storage_options: Mapping[str, Any]) -> dict[str, str]:
    """fsspec-style ``storage_options`` (s3fs's names) as delta-rs reads them; the store's
    environment (``AWS_*``) applies as well. Plain-http endpoints (e.g. MinIO on a laptop)
    are allowed as the user asked for them."""
    options = {_S3FS_TO_DELTA.get(k, k): str(v) for k, v in storage_options.items()
               if not isinstance(v, Mapping)}
    region = (storage_options.get("client_kwargs") or {}).get("region_name")
    if region:
        options["AWS_REGION"] = str(region)
    endpoint = options.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL", "")
    if endpoint.startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    return options


class DeltaUnits:
    """The Delta table an export appends its units to."""

    def __init__(self, url: str, storage_options: Mapping[str, Any],
                 partition_by: Sequence[str]) -> None:
        try:
            import deltalake
        except ImportError:
            raise StorageError('format="delta" needs `pip install "raadata[delta]"`') from None
        self._deltalake = deltalake
        self.url = url
        self.options = delta_options(storage_options)
        self.partition_by = list(partition_by)

    def _table(self) -> Any:
        try:
            return self._deltalake.DeltaTable(self.url, storage_options=self.options)
        except self._deltalake.exceptions.TableNotFoundError:
            return None
        except Exception as exc:
            raise StorageError(f"cannot read the Delta table {self.url}: {exc}") from None

    def committed(self, keys: Sequence[UnitKey]) -> set[UnitKey]:
        """The units whose transaction is in the table's log."""
        table = self._table()
        if table is None:
            return set()
        return {key for key in keys if table.transaction_version(_app_id(key)) is not None}

    def commit(self, key: UnitKey, table: pa.Table, description: Mapping[str, Any]) -> int:
        """Append ``table`` (long form) as the unit's one transaction; its row count."""
        values = {"vessel": key.vessel, "date": key.day}
        for name in self.partition_by:
            table = table.append_column(name, pa.array([values[name]] * table.num_rows,
                                                       pa.string()))
        properties = self._deltalake.CommitProperties(
            app_transactions=[self._deltalake.Transaction(app_id=_app_id(key), version=1)])
        try:
            self._deltalake.write_deltalake(
                self.url, table, mode="append", partition_by=self.partition_by or None,
                storage_options=self.options, commit_properties=properties,
                description=json.dumps(description, sort_keys=True),
            )
        except Exception as exc:
            raise StorageError(f"cannot write to the Delta table {self.url}: {exc}") from None
        return int(table.num_rows)


def _app_id(key: UnitKey) -> str:
    return f"raadata-{key.id}"
