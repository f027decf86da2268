"""Configuration that cannot work is refused with an error that names the setting and how to
fix it, before any request; secrets compare, hash and copy without showing themselves."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from raadata import ConfigurationError
from raadata._config import Secret, Settings, settings_from

GOOD = {"client_id": "cid", "client_secret": "s3cret", "environment": "acme",
        "api_url": "https://api.example", "token_url": "https://auth.example/oauth2/token"}


def test_secrets_compare_hash_and_copy_without_their_text() -> None:
    one, same, other = Secret("abc"), Secret("abc"), Secret("abd")
    assert one == same
    assert one != other
    assert one != "abc"  # a secret is not its text
    assert hash(one) == hash(same)
    assert copy.copy(one) is one
    assert copy.deepcopy(one) is one
    with pytest.raises(TypeError, match="a secret must be a str"):
        Secret(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"client_id": 123}, ConfigurationError, "client_id must be a string"),
    ({"environment": 123}, ConfigurationError, "environment must be a string"),
    ({"environment": " "}, ConfigurationError, "no environment: set RAADATA_ENVIRONMENT"),
    ({"api_version": 5}, ConfigurationError, "api_version must be a string"),
    ({"client_secret": 123}, TypeError, "client_secret must be a str"),
    ({"timeout": "soon"}, ConfigurationError, "must be seconds > 0, or \\(connect, read\\)"),
    ({"timeout": 0}, ConfigurationError, "must be seconds > 0"),
    ({"timeout": [5, 10, 15]}, ConfigurationError, "must be seconds > 0"),
    ({"deadline": "later"}, ConfigurationError, "deadline 'later' must be seconds > 0"),
    ({"deadline": -1}, ConfigurationError, "set RAADATA_DEADLINE or pass deadline="),
])
def test_bad_settings_are_named(changes: dict[str, object], error: type[Exception],
                                message: str) -> None:
    with pytest.raises(error, match=message):
        settings_from({}, **{**GOOD, **changes})


def test_timeouts_in_every_spelling() -> None:
    assert settings_from({}, **GOOD, timeout=[5, 100]).timeout == (5.0, 100.0)
    assert settings_from({}, **GOOD, timeout=4).timeout == (4.0, 4.0)
    assert settings_from({"RAADATA_TIMEOUT": "10,300"}, **GOOD).timeout == (10.0, 300.0)
    assert settings_from({}, **GOOD, deadline="90").deadline == 90.0


def test_direct_construction_is_checked_the_same(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="environment must be a string"):
        Settings(client_id="cid", client_secret=Secret("s"), environment=7,  # type: ignore[arg-type]
                 api_url=GOOD["api_url"], token_url=GOOD["token_url"])


@pytest.mark.parametrize(("text", "profile", "message"), [
    ("profile = 3\n", None, "'profile' must be a table of \\[profile.NAME\\] sections"),
    ("[profile]\ndefault = 3\n", None, "\\[profile.default\\] must be a table"),
    ("[profile.work]\nclient_id = 'x'\n", "home",
     "no \\[profile.home\\] in .* \\(profiles there: work\\); set RAADATA_PROFILE"),
    ("[profile.default\n", None, "cannot read profile file"),
])
def test_a_broken_profile_file_says_where_and_what(tmp_path: Path, text: str,
                                                   profile: str | None, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match=message):
        settings_from({"RAADATA_CONFIG": str(path)}, **GOOD, profile=profile)
