"""``raadata sandbox``: run the sandbox as a process until Ctrl-C.

It prints the URLs, the built-in clients' credentials (throwaway secrets, made at random per
start) and ``export RAADATA_...`` lines for a shell, then serves, logging one line per
request to stderr unless ``--quiet``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import signal
import sys
import threading
from dataclasses import fields
from typing import Any

import click

LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in LOOPBACK_NAMES


@click.command("sandbox")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port; 0 picks a free one.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Loopback unless you mean to share it.")
@click.option("--token-ttl", default=3600, show_default=True, type=click.IntRange(min=0),
              help="Lifetime of access tokens, seconds.")
@click.option("--point-limit", default=1_000_000, show_default=True,
              type=click.IntRange(min=0), help="Most points in one response (413 above).")
@click.option("--now", default=None,
              help="Fix the server's clock, ISO 8601 (e.g. 2025-01-02T00:00:00Z); "
                   "default: the wall clock.")
@click.option("--latency", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds added to every API request.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the fleet's values and of random faults.")
@click.option("--duration", default=None, type=click.FloatRange(min=0),
              help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
@click.option("--compat", "compat", multiple=True, metavar="NAME=VALUE",
              help="Answer an open point of the docs another way (repeatable): "
                   "inclusive_to=1, formats=json,ndjson, refuse_with=406|400-format|"
                   "400-media|415, post_query=yes|404|405, too_large=413|400|500|500-silent, "
                   "statistics_shape=ours|object|long, domain_ids=1, "
                   "timestamps=micro|seconds|offset, shuffle=1, wildcard_denied=1, "
                   "hang=SECONDS, trickle=SECONDS_PER_BYTE.")
def sandbox_command(port: int, host: str, token_ttl: int, point_limit: int, now: str | None,
                    latency: float, seed: int, duration: float | None, quiet: bool,
                    compat: tuple[str, ...]) -> None:
    """Run a local Prism API + token server with a synthetic fleet (no credentials needed).

    \b
    Example:
      raadata sandbox --port 8765 --now 2025-01-02T00:00:00Z
      raadata sandbox --compat inclusive_to=1 --compat formats=json --compat post_query=405
      # then, in another shell, paste the export lines it prints and use raadata as usual
    """
    from raadata.sandbox import serve
    from raadata.sandbox.clock import parse_iso

    if now is not None:
        try:
            parse_iso(now)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--now") from None
    if not _is_loopback(host):
        click.echo(f"warning: listening on {host}: anyone who can reach this machine can use "
                   "the sandbox", err=True)
    switches = _compat_switches(compat)
    handler = _request_log(quiet)
    stop = threading.Event()
    previous = _stop_on_sigterm(stop)
    try:
        with serve(port=port, host=host, token_ttl=token_ttl, point_limit=point_limit, now=now,
                   latency=latency, seed=seed, compat=switches) as sb:
            _describe(sb)
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait(duration)
        click.echo("sandbox stopped")
    finally:
        logging.getLogger("raadata.sandbox").removeHandler(handler)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _compat_switches(items: tuple[str, ...]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs -> Compat switches (numbers and booleans parsed)."""
    from raadata.sandbox.compat import Compat

    defaults = Compat()
    switches: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not hasattr(defaults, name.strip()):
            raise click.BadParameter(f"{item!r} is not NAME=VALUE with a known NAME",
                                     param_hint="--compat")
        name, default = name.strip(), getattr(defaults, name.strip())
        if isinstance(default, bool):
            switches[name] = value.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, float):
            try:
                switches[name] = float(value)
            except ValueError:
                raise click.BadParameter(f"{name} takes seconds, not {value!r}",
                                         param_hint="--compat") from None
        else:
            switches[name] = value.strip()
    try:
        Compat().update(**switches)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--compat") from None
    return switches


def _describe(sb: Any) -> None:
    clock = "wall clock" if sb.now is None else sb.now.isoformat().replace("+00:00", "Z")
    lines = [
        f"raadata sandbox serving on {sb.api_url} (Ctrl-C to stop)",
        f"  api_url      {sb.api_url}",
        f"  environment  {sb.environment}",
        f"  base_url     {sb.base_url}",
        f"  token_url    {sb.token_url}",
        f"  now          {clock}",
        f"  fleet        {len(sb.fleet.vessels)} vessels, {len(sb.fleet.series)} series, "
        "data from 2024-01-01T00:00:00Z",
        "  clients (throwaway secrets, new at every start):",
    ]
    changed = {f.name: getattr(sb.compat, f.name) for f in fields(sb.compat)
               if getattr(sb.compat, f.name) != f.default}
    if changed:
        lines.insert(-1, "  compat       " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    for client in sb.clients.values():
        lines.append(f"    {client.client_id:<16} secret {client.client_secret}   "
                     f"scope {' '.join(client.scopes)}")
    lines += [
        "# for raadata in another shell:",
        f"export RAADATA_API_URL={sb.api_url}",
        f"export RAADATA_TOKEN_URL={sb.token_url}",
        f"export RAADATA_ENVIRONMENT={sb.environment}",
        f"export RAADATA_CLIENT_ID={sb.client_id}",
        f"export RAADATA_CLIENT_SECRET={sb.client_secret}",
    ]
    for line in lines:
        click.echo(line)
    sys.stdout.flush()


def _request_log(quiet: bool) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("raadata.sandbox")
    if not quiet:
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    return handler


def _stop_on_sigterm(stop: threading.Event) -> Any:
    """Make SIGTERM stop the server like Ctrl-C (only possible in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop.set())
