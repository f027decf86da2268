"""Options, client and output shared by the ``raadata`` commands."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import pandas as pd

from raadata._views import check_tz, with_tz

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "csv", "parquet", "json")


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
