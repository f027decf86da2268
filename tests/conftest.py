"""Fixtures for every test: the sandbox plugin, and isolation from the developer's setup."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from raadata import Client
    from raadata.sandbox import Sandbox

pytest_plugins = ["raadata.testing", "pytester"]


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ``RAADATA_*`` variable, profile file or cache of the developer reaches a test, and
    files the tests write (secrets, profiles) are private, as a careful user's are (the
    tests of the permission check loosen them on purpose)."""
    for name in list(os.environ):
        if name.startswith("RAADATA_"):
            monkeypatch.delenv(name)
    home = Path(tmp_path_factory.mktemp("home"))
    for name in ("HOME", "USERPROFILE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def sandbox(raadata_sandbox: Sandbox) -> Sandbox:
    """A fresh sandbox for this test (the plugin's; options from its marker). Modules that
    share one sandbox define their own, module-scoped."""
    return raadata_sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    """A client of this test's sandbox (the fleet client), without progress bars."""
    with sandbox.client(progress=False) as c:
        yield c
