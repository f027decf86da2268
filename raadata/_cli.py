"""The ``raadata`` command line: demo, sandbox, whoami, metadata, get, latest, stats, export,
cache.

Configuration is the library's: flags first, then ``RAADATA_*`` environment variables,
then the profile file. The secret never travels as a plain flag (process lists show
flags): use ``RAADATA_CLIENT_SECRET``, ``RAADATA_CLIENT_SECRET_FILE``,
``--client-secret-file`` or ``--prompt-secret``. Errors print one line and exit 1;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click
import pandas as pd

from raadata._errors import RaadataError
from raadata._version import __version__
from raadata._views import check_tz, with_tz

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


def make_client(ctx: click.Context, cache: bool | None = None) -> Any:
    """A Client from the group's flags, the environment and the profile."""
    from raadata._client import Client

    options = dict(ctx.find_root().obj or {})
    overrides = {
        key: options[key]
        for key in ("environment", "api_url", "token_url", "api_version", "client_id")
        if options.get(key)
    }
    if options.get("prompt_secret"):
        overrides["client_secret"] = click.prompt("Client secret", hide_input=True, err=True)
    elif options.get("client_secret_file"):
        overrides["client_secret_file"] = options["client_secret_file"]
    return Client.from_env(
        profile=options.get("profile"),
        max_workers=options.get("workers", 8),
        progress=options.get("progress"),
        cache=cache if cache is not None else options.get("cache"),
        **overrides,
    )


def query_options(function: F) -> F:
    """SELECTOR... and --start/--end/--since/--last/--domain/--labels, passed on as ``query``.

    Times are UTC and ranges half-open [start, end). ``query`` holds the keyword arguments
    of ``Client.measurements``/``statistics``/``export`` that these name.
    """

    @functools.wraps(function)
    def with_query(*args: Any, **kwargs: Any) -> Any:
        query = {key: kwargs.pop(key) for key in ("domain", "labels")}
        query.update({key: _instant(kwargs.pop(key)) for key in ("start", "end")})
        query["selectors"] = list(kwargs.pop("selectors"))
        for key in ("since", "last", "year", "month", "day"):
            value = kwargs.pop(key)
            if value is not None:
                query[key] = value
        return function(*args, query=query, **kwargs)

    decorators = [
        click.argument("selectors", nargs=-1, required=True),
        click.option("--start", help="Start (inclusive), ISO 8601 or epoch seconds; UTC."),
        click.option("--end", help="End (exclusive); default now."),
        click.option("--since", help="Duration back from now, e.g. 6hours, 1day."),
        click.option("--last", help="Duration back from the end of the last full day."),
        click.option("--year", type=int, help="A calendar year (UTC), e.g. 2025."),
        click.option("--month", type=click.IntRange(1, 12), help="A month of --year."),
        click.option("--day", type=click.IntRange(1, 31), help="A day of --month."),
        click.option("--domain", help="Domain for selectors given without one."),
        click.option(
            "--labels",
            type=click.Choice(["domain", "uuid", "name"]),
            default="domain",
            show_default=True,
            help="Column labels.",
        ),
    ]
    decorated: Any = with_query
    for decorator in reversed(decorators):
        decorated = decorator(decorated)
    return cast(F, decorated)


def _instant(text: str | None) -> str | float | None:
    """A command-line time: nine or more digits are Unix seconds, anything else ISO 8601."""
    if text is not None and re.fullmatch(r"\d{9,}(\.\d+)?", text.strip()):
        return float(text)
    return text


def aggregate_options(function: F) -> F:
    """--aggregations and --window of statistics."""
    function = click.option(
        "--window", default="1m", show_default=True, help="Window, e.g. 1m, 1hour, 1day."
    )(function)
    return click.option(
        "--aggregations",
        default="avg",
        show_default=True,
        help="Comma-separated: avg,min,max,count,sum,stddev,first,last.",
    )(function)


def output_options(function: F) -> F:
    """--format, --out, and how CSV and tables look (--tz, --excel, --sep, --decimal,
    --decimals)."""
    options = [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True, help="Output format."),
        click.option("--out", "-o", type=click.Path(dir_okay=False),
                     help="Write to this file instead of stdout."),
        click.option("--tz", help="Show times in this IANA zone, e.g. Europe/Oslo (input "
                                  "stays UTC); with --excel, as local times without offset."),
        click.option("--excel", is_flag=True,
                     help="CSV for spreadsheets: one header row with units, ';' between "
                          "fields, times without offset (in --tz, else UTC), a BOM."),
        click.option("--sep", help="CSV field separator (default ',', ';' with --excel)."),
        click.option("--decimal", type=click.Choice([".", ","]), default=".",
                     show_default=True, help="CSV decimal mark."),
        click.option("--decimals", type=click.IntRange(0, 17),
                     help="Round values to this many decimals."),
    ]
    for option in reversed(options):
        function = option(function)

    @functools.wraps(function)
    def with_output(*args: Any, **kwargs: Any) -> Any:
        keys = ("fmt", "out", "tz", "excel", "sep", "decimal", "decimals")
        output = Output(**{key: kwargs.pop(key) for key in keys})
        return function(*args, output=output, **kwargs)

    return cast(F, with_output)


@dataclass(frozen=True)
class Output:
    """Where and how a frame is written (see :func:`output_options`)."""

    fmt: str = "table"
    out: str | None = None
    tz: str | None = None
    excel: bool = False
    sep: str | None = None
    decimal: str = "."
    decimals: int | None = None


def emit(frame: pd.DataFrame, output: Output) -> None:
    """Print or write a frame in the chosen format."""
    try:
        _emit(frame, output)
    except OSError as error:
        raise click.FileError(output.out or "-", hint=error.strerror or str(error)) from error


def _for_spreadsheets(frame: pd.DataFrame, output: Output) -> pd.DataFrame:
    """One header row with units, local times without offset, values rounded."""
    units = frame.attrs.get("units", {})
    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        names = [" ".join(str(level) for level in column) for column in frame.columns]
        series = [str(column[0]) for column in frame.columns]
    else:
        names = series = [str(column) for column in frame.columns]
    if units and "series" not in frame.columns:  # wide: units into the header
        names = [f"{name} [{units[key]}]" if key in units else name
                 for name, key in zip(names, series, strict=True)]
    frame.columns = pd.Index(names)
    if isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is not None:
        frame.index = frame.index.tz_localize(None)
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_localize(None)
    return frame


def _emit(frame: pd.DataFrame, output: Output) -> None:
    fmt, out = output.fmt, output.out
    if output.tz:
        frame = with_tz(frame, check_tz(output.tz))
    if output.decimals is not None:
        frame = frame.round(output.decimals)
    if fmt == "parquet":
        if not out:
            raise click.UsageError("--format parquet needs --out FILE")
        frame.to_parquet(out)
    elif fmt == "csv":
        if output.excel:
            frame = _for_spreadsheets(frame, output)
        sep = output.sep or (";" if output.excel else ",")
        if sep == output.decimal:
            raise click.UsageError(f"--sep and --decimal are both {sep!r}: pick different ones")
        text = frame.to_csv(sep=sep, decimal=output.decimal,
                            date_format="%Y-%m-%d %H:%M:%S" if output.excel else None)
        if output.excel:
            text = "\ufeff" + text  # a BOM: spreadsheets then read the file as UTF-8
    elif fmt == "json":
        if isinstance(frame.columns, pd.MultiIndex):  # series x aggregation, as the API names them
            frame = frame.set_axis([":".join(map(str, c)) for c in frame.columns], axis=1)
        text = frame.to_json(orient="table", date_format="iso", indent=1)
    else:
        text = frame.to_string(max_rows=60, max_cols=12)
    if fmt != "parquet":
        if out:
            Path(out).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=not text.endswith("\n"))
    if out:
        click.echo(f"wrote {len(frame):,} rows to {out}", err=True)


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


from raadata import _cli_files  # noqa: E402, F401  (export, demo, cache: registered on main)
from raadata.sandbox.cli import sandbox_command  # noqa: E402  (kept apart from the client code)

main.add_command(sandbox_command, name="sandbox")
