"""Shared pieces of the ``raadata`` command-line tests: a sandbox, its environment, runners.

Every test runs hermetically: inherited ``RAADATA_*`` variables are removed and
``RAADATA_CONFIG`` points at a file that does not exist, so neither the developer's shell
nor their profile file can change what a command sees. The sandbox runs in the test
process; commands reach it through ``RAADATA_*`` variables, in-process (click's
``CliRunner``) or as real processes (``python -m raadata`` and the console script).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from raadata._cli import main
from raadata.sandbox import Sandbox
from raadata.sandbox.tokens import Authority

REPO = Path(__file__).resolve().parents[2]
POWER = "raalabs/IMO1000001/ME ShaftPower"
START, END = "2025-01-01T00:00", "2025-01-01T00:10"
RANGE = ["--start", START, "--end", END]
COMMANDS = ("demo", "sandbox", "whoami", "metadata", "get", "latest", "stats", "export", "cache")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}")
SCRIPT = Path(sys.executable).parent / "raadata"
"""The console script installed next to the interpreter running the tests (the venv's)."""

INVOCATIONS: dict[str, list[str]] = {
    "module": [sys.executable, "-m", "raadata"],
    "script": [str(SCRIPT)],
}
"""How a real process starts raadata: ``python -m raadata`` and the console script."""


@pytest.fixture(params=sorted(INVOCATIONS))
def invocation(request: pytest.FixtureRequest) -> list[str]:
    """The argv prefix of each way to start the command (the script only if installed)."""
    name: str = request.param
    return console_script() if name == "script" else list(INVOCATIONS[name])


def console_script() -> list[str]:
    """The argv prefix of the console script; skips the test if it is not installed."""
    if not SCRIPT.exists():
        pytest.skip(f"no console script at {SCRIPT} (raadata not installed in this venv)")
    return [str(SCRIPT)]


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No inherited RAADATA_* settings and no profile file; child processes inherit this."""
    for name in list(os.environ):
        if name.startswith("RAADATA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAADATA_CONFIG", str(tmp_path / "no-such-config.toml"))


@pytest.fixture
def issued_tokens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token any in-process sandbox issues during the test, in order."""
    tokens: list[str] = []
    original = Authority.issue

    def issue(self: Authority, client_id: str, client_secret: str) -> dict[str, Any]:
        response = original(self, client_id, client_secret)
        tokens.append(response["access_token"])
        return response

    monkeypatch.setattr(Authority, "issue", issue)
    return tokens


def sandbox_env(sb: Sandbox, client_id: str = "sandbox-fleet", *,
                secret: bool = True) -> dict[str, str]:
    """``RAADATA_*`` settings for one of the sandbox's built-in clients."""
    env = {
        "RAADATA_API_URL": sb.api_url,
        "RAADATA_TOKEN_URL": sb.token_url,
        "RAADATA_ENVIRONMENT": sb.environment,
        "RAADATA_CLIENT_ID": client_id,
    }
    if secret:
        env["RAADATA_CLIENT_SECRET"] = sb.clients[client_id].client_secret
    return env


def invoke(args: Sequence[str], env: Mapping[str, str | None] | None = None,
           input: str | None = None) -> Result:
    """Run ``raadata ARGS`` in this process with click's runner (stdout/stderr apart)."""
    return CliRunner().invoke(main, list(args), env=env, input=input)


def run(argv: Sequence[str], env: Mapping[str, str | None] | None = None, *,
        input: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a real process with the (hermetic) environment plus ``env`` (None values are left
    out); never raises on exit.

    A new session means no controlling terminal, so a hidden prompt reads stdin instead of
    waiting on /dev/tty when the tests run from a shell.
    """
    extra = {name: value for name, value in (env or {}).items() if value is not None}
    full = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    return subprocess.run(list(argv), env=full, input=input, cwd=cwd, capture_output=True,
                          text=True, timeout=120, start_new_session=True,
                          stdin=None if input is not None else subprocess.DEVNULL)


def one_error_line(stderr: str) -> str:
    """The single ``error: ...`` line a failing command printed (asserts there is one)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def assert_no_credentials(text: str, sb: Sandbox, tokens: Sequence[str] = ()) -> None:
    """No secret of any built-in client, no issued token and nothing JWT-shaped in ``text``."""
    for client in sb.clients.values():
        assert client.client_secret not in text, f"the secret of {client.client_id} leaked"
    for token in tokens:
        assert token not in text, "an access token leaked"
    assert not JWT.search(text), f"something JWT-shaped in the output: {JWT.search(text)}"
