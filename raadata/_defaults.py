"""The module-level entry point: :func:`get_series` through a default client.

The default client is ``Client.from_env()``, kept while the ``RAADATA_*`` environment stays
the same, so that a notebook keeps its token and metadata cache across calls.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Unpack

import pandas as pd

from raadata._client import Client
from raadata._query import QueryOptions, SelectorInput, Shape
from raadata._timerange import TimeInput
from raadata._views import ColumnStyle

__all__ = ["default_client", "get_series"]

_default: dict[tuple[tuple[str, str], ...], Client] = {}
_default_lock = threading.Lock()


def default_client(cache: bool | None = None) -> Client:
    """``Client.from_env(cache=cache)``, kept while the ``RAADATA_*`` environment (and
    ``cache``) stays the same.

    Reusing it keeps the token and the metadata cache across calls in a notebook; a client
    made for an older environment is closed when the environment changes.
    """
    key = (*sorted((k, v) for k, v in os.environ.items() if k.startswith("RAADATA_")),
           ("cache", str(cache)))
    with _default_lock:
        if key not in _default:
            for old in _default.values():
                old.close()
            _default.clear()
            _default[key] = Client.from_env(cache=cache)
        return _default[key]


def get_series(
    selectors: SelectorInput,
    start: TimeInput | None = None,
    end: TimeInput | None = None,
    *,
    client: Client | None = None,
    shape: Shape = "wide",
    window: str | timedelta | None = None,
    aggregations: str | Iterable[str] | None = None,
    complete: bool = False,
    columns: ColumnStyle = "flat",
    tz: str | None = None,
    categorical: bool = False,
    cache: bool | None = None,
    **options: Unpack[QueryOptions],
) -> pd.DataFrame:
    """Raw points of the selected series over ``[start, end)`` (UTC) as a DataFrame.

    Wide by default (UTC ``DatetimeIndex`` named ``timestamp``, one column per series);
    ``shape="long"`` for ``timestamp, series, id, value``. ``window="1hour",
    aggregations="avg"`` downsamples on the server. Takes every option of
    :meth:`Client.measurements`. Uses ``client`` or ``Client.from_env()``; ``cache=True``
    (or ``RAADATA_CACHE=1``) keeps what was fetched on disk and fetches only what is
    missing next time (``refresh=True`` fetches all again).
    """
    if client is not None and cache is not None:
        raise ValueError("pass cache= to the Client you give, not to get_series")
    return (client or default_client(cache)).measurements(
        selectors, start, end, shape=shape, window=window, aggregations=aggregations,
        complete=complete, columns=columns, tz=tz, categorical=categorical, **options,
    )
