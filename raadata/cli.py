"""The ``raadata`` command line."""

import click

from raadata._version import __version__


@click.group()
@click.version_option(__version__, prog_name="raadata")
def main() -> None:
    """raadata: Raa Labs time series into pandas and Parquet."""
