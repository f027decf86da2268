"""pytest plugin: fixtures that give a test a running sandbox. Opt in to it::

    pytest -p raadata.testing              # on the command line, or in a conftest.py:
    pytest_plugins = ["raadata.testing"]

It is not registered as an entry point, so pytest runs of projects that merely have raadata
installed load nothing of it.

- ``raadata_sandbox``: a fresh sandbox per test (fast to start: a few milliseconds).
  Options for ``raadata.sandbox.serve`` come from the marker of the same name::

      @pytest.mark.raadata_sandbox(now="2025-01-02T00:00:00Z", point_limit=10_000)
      def test_my_pipeline(raadata_sandbox):
          client = raadata_sandbox.client()
          ...

- ``raadata_sandbox_session``: one sandbox shared by the whole session (default options);
  a test that switches faults or settings on it should switch them back
  (``sb.faults.reset()``, ``sb.stats.reset()``).

Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from raadata.sandbox import Sandbox


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "raadata_sandbox(**options): options of the raadata_sandbox fixture's server "
        "(see raadata.sandbox.serve)",
    )


@pytest.fixture
def raadata_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running sandbox for this test; options from ``@pytest.mark.raadata_sandbox(...)``."""
    from raadata.sandbox import serve

    marker = request.node.get_closest_marker("raadata_sandbox")
    options = dict(marker.kwargs) if marker else {}
    with serve(**options) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def raadata_sandbox_session() -> Iterator[Sandbox]:
    """One running sandbox (default options) shared by every test of the session."""
    from raadata.sandbox import serve

    with serve() as sandbox:
        yield sandbox
