"""The ``raadata`` command line: demo, sandbox, whoami, metadata, get, latest, stats, export,
cache.

Configuration is the library's: flags first, then ``RAADATA_*`` environment variables,
then the profile file. The secret never travels as a plain flag (process lists show
flags): use ``RAADATA_CLIENT_SECRET``, ``RAADATA_CLIENT_SECRET_FILE``,
``--client-secret-file`` or ``--prompt-secret``. Errors print one line and exit 1;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from raadata._cli_files import cache, demo, export
from raadata._cli_options import (
    Output,
    aggregate_options,
    emit,
    make_client,
    output_options,
    query_options,
)
from raadata._errors import RaadataError
from raadata._version import __version__

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "csv", "parquet", "json")


class Command(click.Group):
    """Turns raadata's errors and bad arguments (``ValueError``) into one ``error: ...`` line
    and exit code 1; anything else is a bug and keeps its traceback. Ctrl-C exits at once
    with code 130, without waiting for requests in flight."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (RaadataError, ValueError) as error:
            if ctx.params.get("debug"):
                raise
            click.echo(f"error: {error}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            interrupted(ctx.invoked_subcommand)


def interrupted(command: str | None) -> NoReturn:
    """Leave now: a second Ctrl-C is ignored, and threads with requests in flight are not
    waited for (an export's finished units are committed; the rest is fetched again)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    advice = ": run the same command again to resume" if command == "export" else ""
    click.echo(f"\ninterrupted{advice}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


@click.group(cls=Command)
@click.version_option(__version__, prog_name="raadata")
@click.option("--profile", help="Named profile from the raadata config file.")
@click.option("--environment", help="Prism environment (path segment); RAADATA_ENVIRONMENT.")
@click.option("--api-url", help="API root; RAADATA_API_URL.")
@click.option("--token-url", help="OAuth token endpoint; RAADATA_TOKEN_URL.")
@click.option("--api-version", help="x-api-version to pin; RAADATA_API_VERSION.")
@click.option("--client-id", help="OAuth client id; RAADATA_CLIENT_ID.")
@click.option(
    "--client-secret-file",
    type=click.Path(exists=True, dir_okay=False),
    help="File holding the client secret; RAADATA_CLIENT_SECRET_FILE.",
)
@click.option("--prompt-secret", is_flag=True, help="Ask for the client secret (hidden input).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Concurrent requests.",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bars (default: on a terminal)."
)
@click.option("--cache/--no-cache", default=None,
              help="Keep fetched data in the local cache and fetch only what it lacks "
                   "(default: RAADATA_CACHE; folder RAADATA_CACHE_DIR).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def main(ctx: click.Context, /, **options: Any) -> None:
    """raadata: Raa Labs (Prism) time series into pandas and Parquet.

    \b
    Try it with no credentials:
      raadata demo
    """
    ctx.obj = options


@main.command()
@click.pass_context
def whoami(ctx: click.Context) -> None:
    """Who the configured credentials are: client id, scopes, token expiry.

    Never prints the token or the secret.

    \b
    Example:
      RAADATA_CLIENT_ID=... RAADATA_CLIENT_SECRET_FILE=~/.raa-secret raadata whoami
    """
    client = make_client(ctx)
    with client:
        identity = client.whoami()
        click.echo(f"client id:   {identity.client_id}")
        click.echo(f"scopes:      {' '.join(identity.scopes) or '(none)'}")
        click.echo(f"expires at:  {identity.expires_at.isoformat()}")
        click.echo(f"api:         {client.transport.base_url}")


@main.command()
@click.argument("selectors", nargs=-1, required=True)
@click.option("--domain", help="Domain for selectors given without one.")
@click.option("--verbose", is_flag=True, help="Ask for readable ids where the domain has them.")
@output_options
@click.pass_context
def metadata(
    ctx: click.Context,
    selectors: Sequence[str],
    domain: str | None,
    verbose: bool,
    output: Output,
) -> None:
    """Metadata of the series the selectors name, one row per series.

    \b
    Example:
      raadata metadata "raalabs/IMO1000001/*"
    """
    with make_client(ctx) as client:
        emit(client.metadata(list(selectors), domain=domain, verbose=verbose), output)


@main.command()
@click.pass_context
@query_options
@click.option("--shape", type=click.Choice(["wide", "long"]), default="wide", show_default=True)
@click.option("--window", help="Downsample on the server: window per row, e.g. 1hour.")
@click.option("--aggregations", help="With --window: avg,min,max,count,... (default avg).")
@output_options
@click.option("--dry-run", is_flag=True, help="Print the plan (series, requests); fetch no data.")
def get(
    ctx: click.Context,
    query: dict[str, Any],
    shape: str,
    window: str | None,
    aggregations: str | None,
    output: Output,
    dry_run: bool,
) -> None:
    """Raw measurements over [start, end) (UTC) as a table, CSV, JSON or Parquet file.

    \b
    Example:
      raadata get "raalabs/IMO1000001/ME ShaftPower" --since 6hours --format csv -o power.csv
      raadata get "raalabs/*/ME ShaftPower" --year 2025 --month 1 --window 1day \\
          --format csv --excel --tz Europe/Oslo --decimal , -o january.csv
      raadata get "raalabs/*/*" --start 2025-01-01 --end 2026-01-01 --dry-run
    """
    with make_client(ctx) as client:
        if dry_run:
            query.pop("labels")
            click.echo(str(client.plan(**query)))
            return
        frame = client.measurements(**query, shape=shape, window=window,
                                    aggregations=aggregations)
        emit(frame, output)
        click.echo(client.last_report.summary().splitlines()[0], err=True)


@main.command()
@click.pass_context
@click.argument("selectors", nargs=-1, required=True)
@click.option("--lookback", default="1day", show_default=True,
              help="How far back from now to look for the last reading.")
@click.option("--domain", help="Domain for selectors given without one.")
@output_options
def latest(
    ctx: click.Context, selectors: Sequence[str], lookback: str, domain: str | None,
    output: Output,
) -> None:
    """The last reading of each series (timestamp, value, unit) within --lookback.

    \b
    Example:
      raadata latest "raalabs/*/ME ShaftPower" --lookback 6hours --tz Europe/Oslo
    """
    with make_client(ctx) as client:
        emit(client.latest(list(selectors), lookback=lookback, domain=domain), output)


@main.command()
@click.pass_context
@query_options
@aggregate_options
@click.option("--shape", type=click.Choice(["wide", "long"]), default="wide", show_default=True)
@output_options
def stats(
    ctx: click.Context,
    query: dict[str, Any],
    aggregations: str,
    window: str,
    shape: str,
    output: Output,
) -> None:
    """Aggregates per epoch-aligned UTC window over [start, end).

    \b
    Example:
      raadata stats "raalabs/*/ME ShaftPower" --since 1day --window 1hour --aggregations avg,max
    """
    with make_client(ctx) as client:
        frame = client.statistics(**query, aggregations=aggregations, window=window, shape=shape)
        emit(frame, output)


for command in (export, demo, cache):
    main.add_command(command)
from raadata.sandbox.cli import sandbox_command  # noqa: E402  (kept apart from the client code)

main.add_command(sandbox_command, name="sandbox")
