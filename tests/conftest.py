"""Fixtures for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def private_umask() -> Iterator[None]:
    """Files the tests write (secrets, profiles) are private, as a careful user's are; the
    tests of the permission check loosen them on purpose."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)
