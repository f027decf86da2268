"""settings_from: explicit > environment > profile file; clear configuration errors."""

from __future__ import annotations

import copy
import pickle
import warnings
from pathlib import Path

import pytest

from raadata._config import (
    DEFAULT_API_URL,
    DEFAULT_API_VERSION,
    DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_URL,
    Secret,
    Settings,
    settings_from,
)
from raadata._errors import ConfigurationError, InsecureFileWarning

BASE = {"RAADATA_CLIENT_ID": "cid", "RAADATA_CLIENT_SECRET": "s3cret-xyz",
        "RAADATA_ENVIRONMENT": "prod"}


def test_defaults_from_env() -> None:
    s = settings_from(BASE)
    assert s.client_id == "cid"
    assert s.client_secret.reveal() == "s3cret-xyz"
    assert s.environment == "prod"
    assert s.api_url == DEFAULT_API_URL == "https://prism.raalabs.io"
    assert s.token_url == DEFAULT_TOKEN_URL == "https://auth.raalabs.io/oauth2/token"
    assert s.api_version == DEFAULT_API_VERSION == "2025-10-31"
    assert s.timeout == DEFAULT_TIMEOUT == (10.0, 300.0)
    assert s.base_url == "https://prism.raalabs.io/prod"
    assert s.profile is None


def test_explicit_beats_env() -> None:
    s = settings_from(BASE, client_id="other", client_secret="expl-secret", environment="test",
                      api_url="https://api.example/", timeout=(3, 30))
    assert (s.client_id, s.client_secret.reveal(), s.environment) == (
        "other", "expl-secret", "test")
    assert s.api_url == "https://api.example"
    assert s.timeout == (3.0, 30.0)


def test_env_overrides_and_timeout_forms() -> None:
    env = {**BASE, "RAADATA_API_URL": "https://a.example", "RAADATA_TOKEN_URL":
           "https://t.example/token", "RAADATA_API_VERSION": "2024-01-01",
           "RAADATA_TIMEOUT": "5,60"}
    s = settings_from(env)
    assert (s.api_url, s.token_url, s.api_version, s.timeout) == (
        "https://a.example", "https://t.example/token", "2024-01-01", (5.0, 60.0))
    assert settings_from(BASE, timeout=30).timeout == (10.0, 30.0)
    assert settings_from(BASE, timeout=4).timeout == (4.0, 4.0)


def test_empty_env_values_are_unset() -> None:
    with pytest.raises(ConfigurationError, match="RAADATA_CLIENT_ID"):
        settings_from({**BASE, "RAADATA_CLIENT_ID": ""})


@pytest.mark.parametrize(
    ("drop", "needle"),
    [("RAADATA_CLIENT_ID", "no client id: set RAADATA_CLIENT_ID"),
     ("RAADATA_CLIENT_SECRET", "no client secret: set RAADATA_CLIENT_SECRET or "
      "RAADATA_CLIENT_SECRET_FILE, or pass client_secret="),
     ("RAADATA_ENVIRONMENT", "no environment: set RAADATA_ENVIRONMENT")],
)
def test_missing_settings_name_the_setting(drop: str, needle: str) -> None:
    env = {k: v for k, v in BASE.items() if k != drop}
    with pytest.raises(ConfigurationError) as info:
        settings_from(env)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


def test_secret_and_secret_file_conflict(tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_text("from-file\n")
    with pytest.raises(ConfigurationError, match="both RAADATA_CLIENT_SECRET and"):
        settings_from({**BASE, "RAADATA_CLIENT_SECRET_FILE": str(f)})


def test_secret_file(tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_text("from-file\n")
    env = {k: v for k, v in BASE.items() if k != "RAADATA_CLIENT_SECRET"}
    s = settings_from({**env, "RAADATA_CLIENT_SECRET_FILE": str(f)})
    assert s.client_secret.reveal() == "from-file"
    with pytest.raises(ConfigurationError, match="RAADATA_CLIENT_SECRET_FILE"):
        settings_from({**env, "RAADATA_CLIENT_SECRET_FILE": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigurationError, match="is empty"):
        settings_from({**env, "RAADATA_CLIENT_SECRET_FILE": str(tmp_path / "empty")})


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"api_url": "http://prism.example"}, "only for loopback"),
     ({"token_url": "http://auth.example/token"}, "RAADATA_TOKEN_URL"),
     ({"api_url": "ftp://x"}, "not an http(s) URL"),
     ({"api_url": "https://u:p@x"}, "must not contain credentials"),
     ({"api_version": "latest"}, "YYYY-MM-DD"),
     ({"environment": "a/b"}, "one non-empty path segment"),
     ({"timeout": -1}, "RAADATA_TIMEOUT"),
     ({"timeout": (1, 2, 3)}, "(connect, read)")],
)
def test_invalid_settings(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_from(BASE, **kwargs)
    assert needle in str(info.value)


def test_loopback_http_allowed() -> None:
    s = settings_from(BASE, api_url="http://127.0.0.1:8080", token_url="http://localhost:9/t")
    assert s.api_url == "http://127.0.0.1:8080"


def test_unknown_argument() -> None:
    with pytest.raises(TypeError, match="client_secert"):
        settings_from(BASE, client_secert="x")


def _write_profiles(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return {"RAADATA_CONFIG": str(path)}


def test_profile_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "sec"
    secret_file.write_text("profile-secret")
    env = _write_profiles(tmp_path, f"""
[profile.default]
client_id = "default-id"
environment = "dflt"

[profile.staging]
client_id = "staging-id"
environment = "stg"
api_url = "https://staging.example"
timeout = [2, 20]
client_secret_file = "{secret_file}"
""")
    s = settings_from({**env, "RAADATA_CLIENT_SECRET": "sec-env"})
    assert (s.client_id, s.environment, s.profile) == ("default-id", "dflt", "default")
    s = settings_from(env, profile="staging")
    assert (s.client_id, s.environment, s.api_url, s.timeout, s.profile) == (
        "staging-id", "stg", "https://staging.example", (2.0, 20.0), "staging")
    assert s.client_secret.reveal() == "profile-secret"
    # env beats profile, explicit beats env
    s = settings_from({**env, "RAADATA_PROFILE": "staging", "RAADATA_ENVIRONMENT": "e"},
                      client_id="x")
    assert (s.client_id, s.environment) == ("x", "e")


def test_profile_errors(tmp_path: Path) -> None:
    env = _write_profiles(tmp_path, '[profile.a]\nclient_id = "x"\nclient_secret = "no"\n')
    with pytest.raises(ConfigurationError, match="must not hold secrets"):
        settings_from({**BASE, **env}, profile="a")
    env = _write_profiles(tmp_path, '[profile.a]\nclient_idd = "x"\n')
    with pytest.raises(ConfigurationError, match="unknown keys"):
        settings_from({**BASE, **env}, profile="a")
    with pytest.raises(ConfigurationError, match=r"no \[profile.b\]"):
        settings_from({**BASE, **env}, profile="b")
    env = _write_profiles(tmp_path, "not toml [")
    with pytest.raises(ConfigurationError, match="cannot read profile file"):
        settings_from({**BASE, **env})
    with pytest.raises(ConfigurationError, match="no profile file"):
        settings_from({**BASE, "RAADATA_CONFIG": str(tmp_path / "nope.toml")}, profile="x")


def test_default_profile_path_comes_from_env_mapping(tmp_path: Path) -> None:
    cfg = tmp_path / "raadata"
    cfg.mkdir()
    (cfg / "config.toml").write_text('[profile.default]\nenvironment = "xdg"\n')
    env = {k: v for k, v in BASE.items() if k != "RAADATA_ENVIRONMENT"}
    assert settings_from({**env, "XDG_CONFIG_HOME": str(tmp_path)}).environment == "xdg"
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (cfg).rename(home / ".config" / "raadata")
    assert settings_from({**env, "HOME": str(home)}).environment == "xdg"
    with pytest.raises(ConfigurationError):  # no HOME in the mapping: no file is read
        settings_from(env)


def test_secret_never_shows() -> None:
    s = settings_from(BASE)
    for text in (repr(s), str(s), repr(s.client_secret), str(s.client_secret),
                 f"{s.client_secret}"):
        assert "s3cret-xyz" not in text
    assert "cid" in repr(s)
    with pytest.raises(TypeError, match="refuses to pickle"):
        pickle.dumps(s)
    with pytest.raises(TypeError, match="refuses to pickle"):
        pickle.dumps(s.client_secret)
    assert copy.deepcopy(s) == s
    assert Secret("a-b-c-d") == Secret("a-b-c-d")
    assert Secret("a-b-c-d") != Secret("a-b-c-e")


def test_settings_direct_construction_wraps_secret() -> None:
    s = Settings(client_id="c", client_secret="plain-secret", environment="e")  # type: ignore[arg-type]
    assert isinstance(s.client_secret, Secret)
    with pytest.raises(ConfigurationError, match="no client secret"):
        Settings(client_id="c", client_secret=Secret(""), environment="e")


@pytest.mark.parametrize("where", ["secret", "profile"])
def test_files_readable_by_others_warn_or_are_refused(tmp_path: Path, where: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-from-file\n")
    profile = tmp_path / "config.toml"
    profile.write_text(f'[profile.default]\nclient_id = "cid"\nenvironment = "e"\n'
                       f'client_secret_file = "{secret}"\n')
    secret.chmod(0o600)
    profile.chmod(0o600)
    env = {"RAADATA_CONFIG": str(profile)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert settings_from(env).client_secret.reveal() == "s3cret-from-file"
    loose = secret if where == "secret" else profile
    loose.chmod(0o644)
    with pytest.warns(InsecureFileWarning, match=rf"{loose}.*mode 644.*chmod 600"):
        settings_from(env)
    with pytest.raises(ConfigurationError, match="RAADATA_STRICT_PERMISSIONS"):
        settings_from({**env, "RAADATA_STRICT_PERMISSIONS": "1"})
