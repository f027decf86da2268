"""``raadata sandbox``: in-process with click's runner, and as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

from raadata.sandbox.cli import _is_loopback, sandbox_command

from .conftest import NOW, POWER_PATH

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_in_process_prints_urls_credentials_and_exports() -> None:
    from raadata._cli import main

    result = CliRunner().invoke(main, ["sandbox", "--port", "0", "--duration", "0", "--quiet",
                                       "--now", NOW, "--token-ttl", "60"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    exports = dict(line.removeprefix("export ").split("=", 1)
                   for line in out.splitlines() if line.startswith("export "))
    assert set(exports) == {"RAADATA_API_URL", "RAADATA_TOKEN_URL", "RAADATA_ENVIRONMENT",
                            "RAADATA_CLIENT_ID", "RAADATA_CLIENT_SECRET"}
    assert exports["RAADATA_API_URL"].startswith("http://127.0.0.1:")
    assert exports["RAADATA_TOKEN_URL"] == exports["RAADATA_API_URL"] + "/oauth2/token"
    assert exports["RAADATA_ENVIRONMENT"] == "sandbox"
    assert exports["RAADATA_CLIENT_ID"] == "sandbox-fleet"
    assert "sandbox-vessel" in out
    assert "prism/read:IMO1000001" in out
    assert "2025-01-02T00:00:00Z" in out
    assert out.rstrip().endswith("sandbox stopped")


@pytest.mark.parametrize(("args", "message"), [
    (["--now", "someday"], "--now"),
    (["--port", "70000"], "--port"),
    (["--token-ttl", "-1"], "--token-ttl"),
    (["--compat", "nosuch=1"], "is not NAME=VALUE with a known NAME"),
    (["--compat", "inclusive_to"], "is not NAME=VALUE with a known NAME"),
    (["--compat", "formats=xml"], "--compat"),
    (["--compat", "trickle=slow"], "--compat"),
])
def test_in_process_refuses_bad_options(args: list[str], message: str) -> None:
    result = CliRunner().invoke(sandbox_command, [*args, "--duration", "0"])
    assert result.exit_code == 2
    assert message in result.output


def test_compat_switches_are_parsed_and_shown() -> None:
    from raadata._cli import main

    result = CliRunner().invoke(main, [
        "sandbox", "--port", "0", "--duration", "0", "--quiet", "--compat", "inclusive_to=yes",
        "--compat", "formats=json,ndjson", "--compat", "trickle=0.5", "--compat",
        "post_query=405"])
    assert result.exit_code == 0, result.output
    shown = next(line for line in result.stdout.splitlines() if "compat" in line)
    assert shown.split(None, 1)[1] == ("inclusive_to=True, formats=('json', 'ndjson'), "
                                       "post_query=405, trickle=0.5")


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0")
    assert not _is_loopback("192.168.1.10")
    assert not _is_loopback("example.org")


@pytest.mark.parametrize(("command", "stop"), [
    (["-c", "from raadata._cli import main; main()", "sandbox"], signal.SIGINT),
    (["-m", "raadata.sandbox"], signal.SIGTERM),
])
def test_as_a_process_until_interrupted(command: list[str], stop: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": REPO, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen([sys.executable, *command, "--port", "0", "--now", NOW],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        try:
            exports = {}
            for line in proc.stdout:
                if line.startswith("export "):
                    key, value = line.removeprefix("export ").strip().split("=", 1)
                    exports[key] = value
                if "RAADATA_CLIENT_SECRET" in exports:
                    break
            with requests.Session() as s:
                with s.post(exports["RAADATA_TOKEN_URL"],
                            auth=(exports["RAADATA_CLIENT_ID"], exports["RAADATA_CLIENT_SECRET"]),
                            data={"grant_type": "client_credentials"}) as r:
                    token = r.json()["access_token"]
                url = (f"{exports['RAADATA_API_URL']}/{exports['RAADATA_ENVIRONMENT']}"
                       f"/measurements/raalabs/{POWER_PATH}")
                with s.get(url, params={"since": "5s"},
                           headers={"Authorization": f"Bearer {token}"}) as r:
                    assert r.status_code == 200
                    assert len(r.json()) == 5
            proc.send_signal(stop)
            rest, log = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, log
        assert "sandbox stopped" in rest
        assert "GET /sandbox/measurements/raalabs/IMO1000001/ME%20ShaftPower -> 200" in log
