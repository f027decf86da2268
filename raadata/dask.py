"""Pulls as Dask DataFrames, for fleets and years beyond one process (``raadata[dask]``).

    import raadata.dask
    frame = raadata.dask.read_measurements("raalabs/*/ME ShaftPower", "2024-01-01", "2025-01-01")
    frame.loc["2024-06-01":"2024-06-02"].groupby("series")["value"].mean().compute()

See :func:`read_measurements` and :func:`read_statistics`.
"""

from raadata._dask import read_measurements, read_statistics

__all__ = ["read_measurements", "read_statistics"]
