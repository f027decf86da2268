"""raadata: maritime sensor time series from the Raa Labs API (Prism) into pandas and Parquet."""

from raadata._version import __version__

__all__ = ["__version__"]
