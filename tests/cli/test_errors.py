"""Failures print one ``error: ...`` line on stderr and exit 1; ``--debug`` shows the
traceback instead. Nothing of the credentials is ever in the output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from raadata import PermissionDeniedError
from raadata.sandbox import Sandbox

from .conftest import (
    INVOCATIONS,
    POWER,
    RANGE,
    assert_no_credentials,
    invoke,
    one_error_line,
    run,
    sandbox_env,
)

Env = dict[str, str | None]
REVERSED = ["--start", "2025-01-02", "--end", "2025-01-01"]


def fleet(sb: Sandbox, tmp: Path) -> Env:
    return {**sandbox_env(sb)}


def vessel(sb: Sandbox, tmp: Path) -> Env:
    """The limited client: it may read IMO1000001 only."""
    return {**sandbox_env(sb, "sandbox-vessel")}



def without(*names: str) -> Callable[[Sandbox, Path], Env]:
    def env(sb: Sandbox, tmp: Path) -> Env:
        return {name: value for name, value in sandbox_env(sb).items() if name not in names}
    return env


def both_secrets(sb: Sandbox, tmp: Path) -> Env:
    (tmp / "secret").write_text(sb.client_secret)
    return {**sandbox_env(sb), "RAADATA_CLIENT_SECRET_FILE": str(tmp / "secret")}


def missing_secret_file(sb: Sandbox, tmp: Path) -> Env:
    return {**sandbox_env(sb, secret=False),
            "RAADATA_CLIENT_SECRET_FILE": str(tmp / "no-such-secret")}


def wrong_secret(sb: Sandbox, tmp: Path) -> Env:
    return {**sandbox_env(sb), "RAADATA_CLIENT_SECRET": "wrong-secret-" + "x" * 20}


def plain_http(sb: Sandbox, tmp: Path) -> Env:
    return {**sandbox_env(sb), "RAADATA_API_URL": "http://prism.example.com"}


CASES: dict[str, tuple[list[str], Callable[[Sandbox, Path], Env], str]] = {
    # name: (arguments, environment, part of the message)
    "bad selector": (["get", "bogus", *RANGE], fleet, "invalid selector 'bogus': no domain"),
    "unknown domain": (["metadata", "nope/x"], fleet, "unknown domain 'nope'"),
    "too many levels": (["stats", "raalabs/a/b/c", *RANGE], fleet, "exactly 2 levels"),
    "reversed range (get)": (["get", POWER, *REVERSED], fleet, "must be after start"),
    "reversed range (stats)": (["stats", POWER, *REVERSED], fleet, "must be after start"),
    "reversed range (export)": (["export", POWER, *REVERSED, "--out", "x"], fleet,
                                "must be after start"),
    "two kinds of range": (["get", POWER, "--start", "2025-01-01", "--since", "1hour"], fleet,
                           "one way only"),
    "bad duration": (["get", POWER, "--since", "soon"], fleet, "since='soon'"),
    "unknown aggregation": (["stats", POWER, *RANGE, "--aggregations", "avg,median"], fleet,
                            "unknown aggregation ['median']"),
    "ambiguous window": (["stats", POWER, *RANGE, "--window", "1M"], fleet, "ambiguous unit"),
    "bad partition key": (["export", POWER, *RANGE, "--out", "x", "--partition-by", "ship"],
                          fleet, "partition_by"),
    "no client id": (["whoami"], without("RAADATA_CLIENT_ID"), "no client id"),
    "no secret": (["get", POWER, *RANGE], without("RAADATA_CLIENT_SECRET"), "no client secret"),
    "no environment": (["metadata", POWER], without("RAADATA_ENVIRONMENT"), "no environment"),
    "two secrets": (["whoami"], both_secrets, "both RAADATA_CLIENT_SECRET and"),
    "unreadable secret file": (["whoami"], missing_secret_file, "cannot read the client secret"),
    "wrong secret": (["whoami"], wrong_secret, "401: the token endpoint rejected"),
    "plain http": (["whoami"], plain_http, "plain http://"),
    "not found": (["get", "raalabs/IMO1000009/*", *RANGE], fleet, "404: no time series"),
    "403 get": (["get", "raalabs/IMO1000002/ME ShaftPower", *RANGE], vessel,
                "403: not allowed to read 'raalabs/IMO1000002/ME ShaftPower'"),
    "403 metadata": (["metadata", "raalabs/IMO1000002/*"], vessel, "403: not allowed"),
    "403 stats": (["stats", "raalabs/IMO1000002/ME ShaftPower", *RANGE], vessel,
                  "403: not allowed"),
    "403 export": (["export", "raalabs/IMO1000002/*", *RANGE, "--out", "x"], vessel,
                   "403: not allowed"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_error_line_and_exit_1(case: str, sandbox: Sandbox, issued_tokens: list[str],
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args, make_env, message = CASES[case]
    monkeypatch.chdir(tmp_path)
    result = invoke(args, make_env(sandbox, tmp_path))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert message in one_error_line(result.stderr)
    assert_no_credentials(result.output, sandbox, issued_tokens)
    assert not (tmp_path / "x").exists()  # a failed export leaves no directory behind


def test_the_limited_client_still_reads_its_own_vessel(sandbox: Sandbox) -> None:
    result = invoke(["get", POWER, *RANGE, "--format", "csv"], vessel(sandbox, Path()))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("timestamp,IMO1000001/ME ShaftPower\n")


def test_debug_raises_the_exception_itself(sandbox: Sandbox) -> None:
    result = invoke(["--debug", "get", "raalabs/IMO1000002/ME ShaftPower", *RANGE],
                    vessel(sandbox, Path()))
    assert result.exit_code == 1
    assert isinstance(result.exception, PermissionDeniedError)
    assert "error: " not in result.stderr


@pytest.mark.parametrize(("args", "usage"), [
    (["get", POWER, *RANGE, "--format", "parquet"], "--format parquet needs --out FILE"),
    (["get", POWER, "--format", "xml"], "Invalid value for '--format'"),
    (["--client-secret-file", "/no/such/file", "whoami"], "'--client-secret-file'"),
    (["--workers", "0", "whoami"], "'--workers'"),
    (["get"], "Missing argument 'SELECTORS...'"),
    (["frobnicate"], "No such command 'frobnicate'"),
])
def test_usage_errors_exit_2(args: list[str], usage: str, sandbox: Sandbox) -> None:
    result = invoke(args, sandbox_env(sandbox))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert usage in result.stderr


# -- as real processes --------------------------------------------------------------------

PROCESS_CASES = ["bad selector", "no secret", "reversed range (get)", "403 get"]


@pytest.mark.parametrize("case", PROCESS_CASES)
def test_one_error_line_from_a_process(case: str, invocation: list[str], sandbox: Sandbox,
                                       issued_tokens: list[str], tmp_path: Path) -> None:
    args, make_env, message = CASES[case]
    done = run([*invocation, *args], make_env(sandbox, tmp_path))
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert message in one_error_line(done.stderr)
    assert_no_credentials(done.stderr, sandbox, issued_tokens)


def test_debug_prints_a_traceback_from_a_process(sandbox: Sandbox,
                                                 issued_tokens: list[str]) -> None:
    done = run([*INVOCATIONS["module"], "--debug", "get", "raalabs/IMO1000002/ME ShaftPower",
                *RANGE], vessel(sandbox, Path()))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("Traceback (most recent call last):")
    last = done.stderr.rstrip().splitlines()[-1]
    assert last.startswith("raadata._errors.PermissionDeniedError: 403: not allowed to read")
    assert "error: " not in done.stderr
    assert_no_credentials(done.stderr, sandbox, issued_tokens)
