"""``raadata export``, ``raadata demo`` and ``raadata cache``: the commands that write files.

:mod:`raadata._cli` adds them to its group.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import click
import pandas as pd

from raadata._cli_options import aggregate_options, make_client, query_options


@click.command()
@click.pass_context
@query_options
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    help="Dataset folder, or an object store URL such as s3://bucket/prefix (created; "
         "resumed if it holds the same export).",
)
@click.option("--stats", "statistics", is_flag=True, help="Export aggregates instead of points.")
@aggregate_options
@click.option(
    "--partition-by",
    default="vessel,date",
    show_default=True,
    help="Comma-separated subset of vessel,date.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a raadata export made with other arguments (deletes only raadata's files).",
)
@click.option(
    "--on-series-change",
    type=click.Choice(["fetch", "refuse"]),
    default="fetch",
    show_default=True,
    help="On resume, series that appeared or vanished: fetch their days again, or stop.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["parquet", "delta"]),
    default="parquet",
    show_default=True,
    help="A Parquet dataset, or a Delta Lake table (needs raadata[delta]).",
)
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option of the object store in --out (repeatable), e.g. "
         "endpoint_url=http://127.0.0.1:9000; credentials come from the store's environment.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run the units as tasks on this Dask scheduler (tcp://host:8786; needs "
         "raadata[dask]); --out must be reachable from every worker.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Fetch nothing: check every file of the export (SHA-256); exit 1 if any is damaged.",
)
def export(
    ctx: click.Context,
    query: dict[str, Any],
    out: str,
    statistics: bool,
    aggregations: str,
    window: str,
    partition_by: str,
    overwrite: bool,
    on_series_change: str,
    format_: str,
    storage_options: tuple[str, ...],
    scheduler: str | None,
    verify: bool,
) -> None:
    """Export to a partitioned Parquet dataset; re-run the same command to resume.

    Writes only into a new or empty folder or one of its own exports; one export at a
    time per folder. A re-run checks the finished files and repairs damaged ones.

    \b
    Example:
      raadata export "raalabs/*/*" --start 2025-01-01 --end 2025-02-01 --out fleet-jan
      raadata export "raalabs/*/*" --start 2025-01-01 --end 2025-02-01 --out fleet-jan --verify
      raadata export "raalabs/*/*" --start 2025-01-01 --end 2025-02-01 \\
          --out s3://lake/raadata/fleet --format delta
    """
    keys = [key.strip() for key in partition_by.split(",") if key.strip()]
    options = {}
    for item in storage_options:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--storage-option")
        options[name.strip()] = value
    with make_client(ctx) as client, _on(scheduler):
        run: Any = client.export
        if scheduler:
            from raadata import dask as raadata_dask

            run = functools.partial(raadata_dask.export, client=client)
        query = {**query, ("destination" if scheduler else "path"): out}
        result = run(
            **query,
            statistics=statistics,
            aggregations=aggregations,
            window=window,
            partition_by=keys,
            overwrite=overwrite,
            on_series_change=cast(Any, on_series_change),
            verify_only=verify,
            format=cast(Any, format_),
            storage_options=options or None,
        )
        click.echo(str(result))
        if verify:
            click.echo("verified: every file intact" if result.complete
                       else f"damaged or missing: {len(result.damaged)} units")
            ctx.exit(0 if result.complete else 1)
        click.echo(result.report.summary().splitlines()[0])


@contextlib.contextmanager
def _on(scheduler: str | None) -> Iterator[None]:
    """Connected to the Dask scheduler at ``scheduler`` for the block (nothing if None)."""
    if not scheduler:
        yield
        return
    try:
        from distributed import Client as DaskClient
    except ImportError:
        raise click.UsageError('--scheduler needs `pip install "raadata[dask]"`') from None
    with DaskClient(scheduler):  # type: ignore[no-untyped-call]
        yield


@click.command()
@click.option(
    "--out",
    "-o",
    default="raadata-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to write the demo dataset.",
)
@click.option(
    "--hours",
    default=24,
    show_default=True,
    type=click.IntRange(1, 24 * 31),
    help="How much fleet data to pull.",
)
def demo(out: str, hours: int) -> None:
    """Start the built-in sandbox, pull fleet data into a DataFrame and a Parquet dataset.

    Needs no credentials and no network: everything runs on 127.0.0.1.

    \b
    Example:
      raadata demo --hours 6
    """
    from raadata._demo import run_demo

    run_demo(Path(out), hours=hours, echo=click.echo)


@click.group()
def cache() -> None:
    """The local cache of fetched data (see --cache): what it holds, and cleaning it up.

    \b
    Example:
      raadata cache info
    """


@cache.command("info")
@click.pass_context
def cache_info(ctx: click.Context) -> None:
    """Where the cache is and what it holds.

    \b
    Example:
      raadata cache info
    """
    with make_client(ctx, cache=True) as client:
        info = client.cache.info()
        click.echo(f"folder:     {client.cache.path}")
        click.echo(f"size:       {info.bytes:,} bytes")
        click.echo(f"series:     {info.series}, in {info.intervals} stored intervals")
        if info.oldest_us is not None and info.newest_us is not None:
            oldest = pd.Timestamp(info.oldest_us, unit="us", tz="UTC")
            newest = pd.Timestamp(info.newest_us, unit="us", tz="UTC")
            click.echo(f"covers:     {oldest} to {newest} (UTC)")


@cache.command("prune")
@click.option("--max-bytes", type=click.IntRange(0), help="Keep at most this many bytes.")
@click.option("--older-than", help="Drop data fetched longer ago than this, e.g. 30days.")
@click.pass_context
def cache_prune(ctx: click.Context, max_bytes: int | None, older_than: str | None) -> None:
    """Delete the oldest data until the cache fits, and leftovers of crashed writes.

    \b
    Example:
      raadata cache prune --max-bytes 2000000000 --older-than 90days
    """
    from raadata._timerange import parse_duration

    age = parse_duration(older_than, name="--older-than").total_seconds() if older_than else None
    with make_client(ctx, cache=True) as client:
        freed = client.cache.prune(max_bytes=max_bytes, older_than=age)
        click.echo(f"freed {freed:,} bytes; {client.cache.info().bytes:,} bytes left")


@cache.command("clear")
@click.pass_context
def cache_clear(ctx: click.Context) -> None:
    """Delete everything cached for the configured API, environment and API version.

    \b
    Example:
      raadata cache clear
    """
    with make_client(ctx, cache=True) as client:
        freed = client.cache.info().bytes
        client.cache.clear()
        click.echo(f"cleared {client.cache.path} ({freed:,} bytes)")
