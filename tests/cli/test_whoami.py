"""``raadata whoami``: who the credentials are, from every way to give the secret; never the
secret, never the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from raadata.sandbox import Sandbox

from .conftest import INVOCATIONS, assert_no_credentials, invoke, run, sandbox_env


def fields(stdout: str) -> dict[str, str]:
    """``{"client id": ..., "scopes": ..., "expires at": ..., "api": ...}``."""
    return {key.strip(): value.strip()
            for key, value in (line.split(":", 1) for line in stdout.splitlines())}


def check_identity(stdout: str, sb: Sandbox, client_id: str, scopes: str) -> None:
    shown = fields(stdout)
    assert shown == {"client id": client_id, "scopes": scopes,
                     "expires at": shown["expires at"], "api": sb.base_url}
    expires = datetime.fromisoformat(shown["expires at"])
    assert expires.utcoffset() == timedelta(0)
    now = datetime.now(UTC)
    assert now + timedelta(minutes=58) < expires <= now + timedelta(hours=1, seconds=5)


def write_secret(path: Path, secret: str) -> Path:
    path.write_text(secret + "\n")  # a trailing newline, as editors leave it
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(("client_id", "scopes"), [
    ("sandbox-fleet", "prism/read:*"),
    ("sandbox-vessel", "prism/read:IMO1000001"),
])
def test_secret_from_the_environment(sandbox: Sandbox, issued_tokens: list[str], client_id: str,
                                     scopes: str) -> None:
    result = invoke(["whoami"], sandbox_env(sandbox, client_id))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    check_identity(result.stdout, sandbox, client_id, scopes)
    assert len(issued_tokens) == 1  # it did fetch a token, and shows none of it
    assert_no_credentials(result.output, sandbox, issued_tokens)


def test_secret_file_from_the_environment(sandbox: Sandbox, issued_tokens: list[str],
                                          tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "secret", sandbox.client_secret)
    env = {**sandbox_env(sandbox, secret=False), "RAADATA_CLIENT_SECRET_FILE": str(secret)}
    result = invoke(["whoami"], env)
    assert result.exit_code == 0, result.output
    check_identity(result.stdout, sandbox, "sandbox-fleet", "prism/read:*")
    assert_no_credentials(result.output, sandbox, issued_tokens)


def test_secret_file_flag(sandbox: Sandbox, issued_tokens: list[str], tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "secret", sandbox.client_secret)
    result = invoke(["--client-secret-file", str(secret), "whoami"],
                    sandbox_env(sandbox, secret=False))
    assert result.exit_code == 0, result.output
    check_identity(result.stdout, sandbox, "sandbox-fleet", "prism/read:*")
    assert_no_credentials(result.output, sandbox, issued_tokens)


def test_secret_file_flag_wins_over_the_environment(sandbox: Sandbox, tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "secret", sandbox.client_secret)
    env = {**sandbox_env(sandbox), "RAADATA_CLIENT_SECRET": "not-the-secret"}
    result = invoke(["--client-secret-file", str(secret), "whoami"], env)
    assert result.exit_code == 0, result.output


def test_flags_override_the_environment(sandbox: Sandbox) -> None:
    env = {**sandbox_env(sandbox), "RAADATA_CLIENT_ID": "somebody-else",
           "RAADATA_ENVIRONMENT": "elsewhere"}
    vessel_secret = sandbox.clients["sandbox-vessel"].client_secret
    env["RAADATA_CLIENT_SECRET"] = vessel_secret
    result = invoke(["--client-id", "sandbox-vessel", "--environment", "sandbox", "whoami"], env)
    assert result.exit_code == 0, result.output
    check_identity(result.stdout, sandbox, "sandbox-vessel", "prism/read:IMO1000001")


def test_prompted_secret_is_not_echoed(sandbox: Sandbox, issued_tokens: list[str]) -> None:
    result = invoke(["--prompt-secret", "whoami"], sandbox_env(sandbox, secret=False),
                    input=sandbox.client_secret + "\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Client secret:")  # the prompt never goes to stdout
    check_identity(result.stdout, sandbox, "sandbox-fleet", "prism/read:*")
    assert_no_credentials(result.output, sandbox, issued_tokens)


def test_as_a_process_with_a_secret_file(sandbox: Sandbox, issued_tokens: list[str],
                                         tmp_path: Path, invocation: list[str]) -> None:
    secret = write_secret(tmp_path / "secret", sandbox.client_secret)
    env = {**sandbox_env(sandbox, secret=False), "RAADATA_CLIENT_SECRET_FILE": str(secret)}
    done = run([*invocation, "whoami"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    check_identity(done.stdout, sandbox, "sandbox-fleet", "prism/read:*")
    assert len(issued_tokens) == 1
    assert_no_credentials(done.stdout + done.stderr, sandbox, issued_tokens)


def test_as_a_process_with_a_prompted_secret(sandbox: Sandbox, issued_tokens: list[str]) -> None:
    done = run([*INVOCATIONS["module"], "--prompt-secret", "whoami"],
               sandbox_env(sandbox, secret=False), input=sandbox.client_secret + "\n")
    assert done.returncode == 0, done.stderr
    check_identity(done.stdout, sandbox, "sandbox-fleet", "prism/read:*")
    assert "Client secret:" in done.stderr  # the prompt never goes to stdout
    assert_no_credentials(done.stdout + done.stderr, sandbox, issued_tokens)


def test_profile_file_with_a_secret_file(sandbox: Sandbox, issued_tokens: list[str],
                                         tmp_path: Path) -> None:
    """A named profile holds everything but the secret, which it names a file for."""
    secret = write_secret(tmp_path / "secret", sandbox.client_secret)
    config = tmp_path / "config.toml"
    config.write_text(
        "[profile.sandbox]\n"
        f'environment = "{sandbox.environment}"\n'
        f'client_id = "{sandbox.client_id}"\n'
        f'api_url = "{sandbox.api_url}"\n'
        f'token_url = "{sandbox.token_url}"\n'
        f'client_secret_file = "{secret}"\n'
    )
    result = invoke(["--profile", "sandbox", "whoami"], {"RAADATA_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    check_identity(result.stdout, sandbox, "sandbox-fleet", "prism/read:*")
    assert_no_credentials(result.output, sandbox, issued_tokens)

    missing = invoke(["--profile", "prod", "whoami"], {"RAADATA_CONFIG": str(config)})
    assert missing.exit_code == 1
    assert missing.stderr == "error: no [profile.prod] in " + str(config) + (
        " (profiles there: sandbox); set RAADATA_PROFILE or pass profile=\n")
