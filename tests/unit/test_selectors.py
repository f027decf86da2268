"""Selectors: parsing, validation, paths and URL encoding (prism-api.md §3)."""

from __future__ import annotations

from typing import Any

import pytest

from raadata._selectors import DOMAINS, Selector, parse_selector, parse_selectors

U1 = "ba529839-8179-40e2-b3fb-5da01a8d76e8"
U2 = "0f0e0d0c-0b0a-4908-8706-050403020100"
JSMEA = "IMO1234567/jsmea_mac/MainEngine/DrivingShaft/Output//Power/"
VIS = "IMO1234567/913/S130.1-1/S121/sec/406i/H233/meta/qty-power"


@pytest.mark.parametrize(
    ("text", "domain", "expected"),
    [
        ("raalabs/IMO1234567/ME ShaftPower", None, ("raalabs", "IMO1234567/ME ShaftPower")),
        ("IMO1234567/ME ShaftPower", "raalabs", ("raalabs", "IMO1234567/ME ShaftPower")),
        ("  raalabs/IMO1234567/ME ShaftPower \n", None, ("raalabs", "IMO1234567/ME ShaftPower")),
        ("RaaLabs/IMO1/x", None, ("raalabs", "IMO1/x")),
        ("IMO1/x", "RAALABS", ("raalabs", "IMO1/x")),
        ("*/ME ShaftPower", "raalabs", ("raalabs", "*/ME ShaftPower")),
        ("raalabs/IMO1234567/ME* Shaft*", None, ("raalabs", "IMO1234567/ME* Shaft*")),
        ("raalabs/IMO*/*", None, ("raalabs", "IMO*/*")),
        # an explicit domain prefix wins over the default domain=
        ("jsmea/" + JSMEA, "raalabs", ("jsmea", JSMEA)),
        (
            "parameters/IMO1234567/ME Power/ME ShaftPower",
            None,
            ("parameters", "IMO1234567/ME Power/ME ShaftPower"),
        ),
        ("maker/IMO1234567/Maker/12345", None, ("maker", "IMO1234567/Maker/12345")),
        ("jsmea/" + JSMEA, None, ("jsmea", JSMEA)),
        ("jsmea/" + JSMEA + "extra", None, ("jsmea", JSMEA + "extra")),  # 9 levels tolerated
        ("vis-3-8a/" + VIS, None, ("vis-3-8a", VIS)),
        ("vis-3-8a/IMO1234567/913", None, ("vis-3-8a", "IMO1234567/913")),
        ("vis-3-8a/IMO1234567//x", None, ("vis-3-8a", "IMO1234567//x")),
        # UUIDs: bare (whatever domain= says), lists, case and spaces normalised
        (U1, None, ("id", U1)),
        (U1, "raalabs", ("id", U1)),
        (U1.upper(), None, ("id", U1)),
        (f"{U1},{U2}", None, ("id", f"{U1},{U2}")),
        (f"{U1}, {U2}", None, ("id", f"{U1},{U2}")),
        (f"id/{U1}", None, ("id", U1)),
        (U1, "id", ("id", U1)),
    ],
)
def test_parse_selector(text: str, domain: str | None, expected: tuple[str, str]) -> None:
    selector = parse_selector(text, domain)
    assert (selector.domain, selector.expression) == expected


@pytest.mark.parametrize(
    ("text", "domain", "words"),
    [
        ("", None, ["empty", "raalabs/IMO1234567/ME ShaftPower"]),
        ("   ", "raalabs", ["empty"]),
        ("raalab/IMO1/x", None, ["unknown domain 'raalab'", *DOMAINS]),
        ("IMO1/x", "nope", ["unknown domain 'nope'", *DOMAINS]),
        ("IMO1234567/ME ShaftPower", None, ["no domain", "domain=", "raalabs/IMO1234567"]),
        ("*/ME ShaftPower", None, ["no domain"]),
        ("raalabs/IMO1234567", None, ["exactly 2 levels", "got 1", "IMO1234567/ME ShaftPower"]),
        ("raalabs/IMO1234567/ME/ShaftPower", None, ["exactly 2 levels", "got 3"]),
        ("raalabs/IMO1234567/", None, ["empty level"]),
        ("raalabs/IMO1234567/  ", None, ["empty level"]),
        ("raalabs//ME ShaftPower", None, ["first level", "empty"]),
        ("raalabs/1234567/ME ShaftPower", None, ["'1234567'", "'IMO' followed by digits", "*"]),
        ("raalabs/imo1234567/x", None, ["'IMO' followed by digits"]),
        ("raalabs/IMOabc/x", None, ["'IMO' followed by digits"]),
        (
            "parameters/IMO1234567/ME ShaftPower",
            None,
            ["exactly 3 levels", "got 2", "IMO1234567/ME Power/ME ShaftPower"],
        ),
        ("parameters/IMO1/a//b", None, ["exactly 3 levels", "got 4"]),
        ("parameters/IMO1//b", None, ["empty level", "only jsmea and vis-3-8a"]),
        ("maker/IMO1234567/Maker", None, ["exactly 3 levels", "IMO1234567/Maker/12345"]),
        ("maker/IMO1/Maker/", None, ["empty level"]),
        ("jsmea/IMO1234567/jsmea_mac/MainEngine", None, ["8 levels", "got 3", JSMEA]),
        ("jsmea/" + JSMEA + "a/b/c", None, ["8 levels", "got 10"]),
        ("jsmea//" + JSMEA[11:] + "x", None, ["first level", "empty"]),
        ("vis-3-8a/IMO1234567", None, ["at least 2 levels", "got 1", VIS]),
        ("vis-3-8a/x/913", None, ["'IMO' followed by digits"]),
        ("id/not-a-uuid", None, ["'not-a-uuid' is not a UUID", U1]),
        (f"id/{U1},", None, ["empty item", "not a UUID"]),
        (f"id/{U1[:-1]}*", None, ["wildcards are not allowed in the id domain"]),
        (f"id/{U1}/x", None, ["not a UUID"]),
        (f"{U1}x", None, ["no domain"]),
    ],
)
def test_parse_selector_errors(text: str, domain: str | None, words: list[str]) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        parse_selector(text, domain)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("bad", [None, 42, b"raalabs/IMO1/x", ["raalabs/IMO1/x"]])
def test_parse_selector_type_errors(bad: Any) -> None:
    with pytest.raises(TypeError, match="str or Selector"):
        parse_selector(bad)


@pytest.mark.parametrize(
    ("selector", "levels", "wildcard", "path", "url"),
    [
        (
            Selector("raalabs", "IMO1000001/ME ShaftPower"),
            ("IMO1000001", "ME ShaftPower"),
            False,
            "raalabs/IMO1000001/ME ShaftPower",
            "raalabs/IMO1000001/ME%20ShaftPower",
        ),
        (
            Selector("raalabs", "*/ME* Shaft*"),
            ("*", "ME* Shaft*"),
            True,
            "raalabs/*/ME* Shaft*",
            "raalabs/*/ME*%20Shaft*",
        ),
        (
            Selector("jsmea", JSMEA),
            ("IMO1234567", "jsmea_mac", "MainEngine", "DrivingShaft", "Output", "", "Power", ""),
            False,
            "jsmea/" + JSMEA,
            "jsmea/" + JSMEA,
        ),
        (
            Selector("id", f"{U1},{U2}"),
            (f"{U1},{U2}",),
            False,
            f"id/{U1},{U2}",
            f"id/{U1},{U2}",
        ),
        (
            Selector("maker", "IMO1/Maker & Co/T#1?x=%"),
            ("IMO1", "Maker & Co", "T#1?x=%"),
            False,
            "maker/IMO1/Maker & Co/T#1?x=%",
            "maker/IMO1/Maker%20%26%20Co/T%231%3Fx%3D%25",
        ),
        (
            Selector("vis-3-8a", VIS),
            tuple(VIS.split("/")),
            False,
            "vis-3-8a/" + VIS,
            "vis-3-8a/" + VIS,
        ),
    ],
)
def test_selector_properties(
    selector: Selector, levels: tuple[str, ...], wildcard: bool, path: str, url: str
) -> None:
    assert selector.levels == levels
    assert selector.has_wildcard is wildcard
    assert selector.path == path
    assert str(selector) == path
    assert selector.url_path() == url
    assert parse_selector(selector.path) == selector  # the path round-trips


def test_selector_is_validated_frozen_hashable_and_ordered() -> None:
    with pytest.raises(ValueError, match="exactly 2 levels"):
        Selector("raalabs", "IMO1")
    with pytest.raises(ValueError, match="unknown domain"):
        Selector("nope", "IMO1/x")
    with pytest.raises(TypeError, match="must be str"):
        Selector("raalabs", 1)  # type: ignore[arg-type]
    selector = Selector("raalabs", "IMO1/x")
    with pytest.raises(AttributeError):
        selector.domain = "id"  # type: ignore[misc]
    assert Selector("RAALABS", "IMO1/x") == selector
    assert len({selector, parse_selector("raalabs/IMO1/x")}) == 1
    assert sorted([Selector("raalabs", "IMO2/x"), Selector("jsmea", JSMEA), selector]) == [
        Selector("jsmea", JSMEA),
        selector,
        Selector("raalabs", "IMO2/x"),
    ]
    assert parse_selector(selector, domain="jsmea") is selector


@pytest.mark.parametrize(
    ("given", "domain", "paths"),
    [
        ("raalabs/IMO1/x", None, ["raalabs/IMO1/x"]),  # one string is one selector
        (Selector("raalabs", "IMO1/x"), None, ["raalabs/IMO1/x"]),
        (["IMO1/x", "IMO2/x"], "raalabs", ["raalabs/IMO1/x", "raalabs/IMO2/x"]),
        (("IMO2/x", "IMO1/x"), "raalabs", ["raalabs/IMO2/x", "raalabs/IMO1/x"]),  # order kept
        (
            ["IMO1/x", "raalabs/IMO1/x", " raalabs/IMO1/x", Selector("raalabs", "IMO1/x")],
            "raalabs",
            ["raalabs/IMO1/x"],
        ),
        ((s for s in ["IMO1/x", U1, U1.upper()]), "raalabs", ["raalabs/IMO1/x", f"id/{U1}"]),
        (["IMO1/x", "jsmea/" + JSMEA], "raalabs", ["raalabs/IMO1/x", "jsmea/" + JSMEA]),
    ],
)
def test_parse_selectors(given: Any, domain: str | None, paths: list[str]) -> None:
    assert [s.path for s in parse_selectors(given, domain)] == paths


@pytest.mark.parametrize(
    ("given", "error", "words"),
    [
        ([], ValueError, ["no selectors"]),
        (["raalabs/IMO1/x", 3], TypeError, ["int", "3"]),
        (["raalabs/IMO1/x", None], TypeError, ["NoneType"]),
        ([["raalabs/IMO1/x"]], TypeError, ["list"]),
        (b"raalabs/IMO1/x", TypeError, ["bytes"]),
        (7, TypeError, ["int"]),
        (["raalabs/IMO1/x", "raalabs/IMO1"], ValueError, ["'raalabs/IMO1'", "exactly 2"]),
    ],
)
def test_parse_selectors_errors(given: Any, error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as caught:
        parse_selectors(given)
    for word in words:
        assert word in str(caught.value)
