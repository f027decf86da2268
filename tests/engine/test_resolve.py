"""Selectors to readable series through metadata (raadata._resolve), against the sandbox."""

from __future__ import annotations

import pytest

from raadata import Client, NotFoundError, PermissionDeniedError, ScopeWarning
from raadata._resolve import MetadataCache, resolve
from raadata._selectors import parse_selectors
from raadata.sandbox import Sandbox


def test_first_occurrence_kept_and_metadata_asked_once(sandbox: Sandbox) -> None:
    cache = MetadataCache()
    selectors = parse_selectors(["raalabs/IMO1000001/ME ShaftPower", "raalabs/IMO1000001/*"])
    with sandbox.client(progress=False) as client:
        first = resolve(client.transport, selectors, cache)
        asked = sandbox.stats.requests["metadata"]
        again = resolve(client.transport, selectors, cache)
    assert first == again
    assert sandbox.stats.requests["metadata"] == asked  # the cache answered
    assert first[0].label("domain") == "IMO1000001/ME ShaftPower"
    assert len({info.uuid for info in first}) == len(first)
    assert {info.vessel for info in first} == {"IMO1000001"}
    assert first[0].uom == "kW"


def test_denied_selectors_raise_or_are_skipped_with_a_warning(sandbox: Sandbox) -> None:
    selectors = parse_selectors(["raalabs/IMO1000001/ME ShaftPower",
                                 "raalabs/IMO1000002/ME ShaftPower"])
    with sandbox.client(client_id="sandbox-vessel", progress=False) as client:
        with pytest.raises(PermissionDeniedError):
            resolve(client.transport, selectors, MetadataCache())
        with pytest.warns(ScopeWarning, match="IMO1000002"):
            kept = resolve(client.transport, selectors, MetadataCache(), on_denied="skip")
        assert [info.vessel for info in kept] == ["IMO1000001"]
        with pytest.raises(PermissionDeniedError):  # all denied: the error, not an empty list
            resolve(client.transport, selectors[1:], MetadataCache(), on_denied="skip")


def test_a_selector_matching_nothing_is_not_found(sandbox: Sandbox) -> None:
    with sandbox.client(progress=False) as client, pytest.raises(NotFoundError):
        client.series("raalabs/IMO9999999/*")


def test_client_series_is_the_public_face(sandbox: Sandbox) -> None:
    with sandbox.client(progress=False) as client:
        assert isinstance(client, Client)
        infos = client.series("raalabs/*/ME ShaftPower")
    assert sorted(info.vessel for info in infos) == ["IMO1000001", "IMO1000002", "IMO1000003"]
