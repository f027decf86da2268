"""Pulls as Dask DataFrames, for fleets and years beyond one process (``raadata[dask]``).

    import raadata.dask
    frame = raadata.dask.read_measurements("raalabs/*/ME ShaftPower", "2024-01-01", "2025-01-01")
    frame.loc["2024-06-01":"2024-06-02"].groupby("series")["value"].mean().compute()

See :func:`read_measurements`, :func:`read_statistics`, and :func:`export` (an export whose
units run as tasks on the cluster).
"""

from raadata._dask import export, read_measurements, read_statistics

__all__ = ["export", "read_measurements", "read_statistics"]
