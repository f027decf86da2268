"""The pytest plugin raadata.testing: its fixtures, and that it loads only when asked for."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests

from raadata.sandbox import Sandbox


def test_function_fixture_with_defaults(raadata_sandbox: Sandbox) -> None:
    assert raadata_sandbox.now is None
    assert raadata_sandbox.point_limit == 1_000_000
    with requests.get(raadata_sandbox.base_url + "/metadata/raalabs/x/y", timeout=10) as r:
        assert r.status_code == 401


@pytest.mark.raadata_sandbox(now="2025-01-02T00:00:00Z", point_limit=5, token_ttl=60)
def test_function_fixture_takes_options_from_the_marker(raadata_sandbox: Sandbox) -> None:
    assert raadata_sandbox.now == datetime(2025, 1, 2, tzinfo=UTC)
    assert raadata_sandbox.point_limit == 5
    assert raadata_sandbox.token_ttl == 60


INNER = """
import sys

def test_one(raadata_sandbox_session):
    print("PORT", raadata_sandbox_session.port)

def test_two(raadata_sandbox_session, raadata_sandbox):
    assert raadata_sandbox.port != raadata_sandbox_session.port
    print("PORT", raadata_sandbox_session.port)
"""


def test_session_fixture_is_one_sandbox_for_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["raadata.testing"]')
    pytester.makepyfile(INNER)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    ports = re.findall(r"PORT (\d+)", result.stdout.str())
    assert len(ports) == 2
    assert ports[0] == ports[1]


def test_opt_in_from_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(INNER)
    result = pytester.runpytest_subprocess("-p", "raadata.testing", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_nothing_is_loaded_without_opting_in(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import sys

def test_raadata_is_not_imported():
    assert not [name for name in sys.modules if name.split(".")[0] == "raadata"]
    assert "pyarrow" not in sys.modules and "pandas" not in sys.modules

def test_no_fixture(raadata_sandbox):
    pass
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'raadata_sandbox' not found*"])
