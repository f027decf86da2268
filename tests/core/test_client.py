"""raadata.Client: configuration sources, identity, repr, pickling, lifecycle."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest
import responses

import raadata
from raadata import Client, ConfigurationError, Identity

from .conftest import API, CLIENT_ID, ENVIRONMENT, SECRET, TOKEN_URL, make_jwt, token_json

ENV = {"RAADATA_CLIENT_ID": CLIENT_ID, "RAADATA_CLIENT_SECRET": SECRET,
       "RAADATA_ENVIRONMENT": ENVIRONMENT, "RAADATA_API_URL": API,
       "RAADATA_TOKEN_URL": TOKEN_URL}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RAADATA_CONFIG", "/nonexistent/raadata.toml")


@pytest.mark.usefixtures("env")
def test_client_from_environment() -> None:
    with Client() as client:
        assert client.settings.client_id == CLIENT_ID
        assert client.transport.base_url == f"{API}/{ENVIRONMENT}"
        assert client.max_workers == 8
        assert client.progress is None


@pytest.mark.usefixtures("env")
def test_explicit_arguments_win() -> None:
    client = Client("other-id", "other-secret", environment="prod", timeout=(1, 2),
                    max_workers=3, progress=False)
    assert (client.settings.client_id, client.settings.environment) == ("other-id", "prod")
    assert client.settings.client_secret.reveal() == "other-secret"
    assert client.settings.timeout == (1.0, 2.0)
    assert (client.max_workers, client.progress) == (3, False)
    adapter = client.transport.session.get_adapter(API)
    assert adapter._pool_maxsize >= 2 * 3  # type: ignore[attr-defined]


def test_from_env_mapping_and_overrides() -> None:
    client = Client.from_env({**ENV, "RAADATA_ENVIRONMENT": "x"}, environment="y", max_workers=2)
    assert client.settings.environment == "y"
    assert client.max_workers == 2


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [*ENV, "RAADATA_CLIENT_SECRET_FILE"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RAADATA_CONFIG", "/nonexistent/raadata.toml")
    with pytest.raises(ConfigurationError, match="RAADATA_CLIENT_ID"):
        Client()
    with pytest.raises(ConfigurationError, match="RAADATA_CLIENT_SECRET"):
        Client("id", environment="e")
    with pytest.raises(ConfigurationError, match="RAADATA_ENVIRONMENT"):
        Client.from_env({}, client_id="id", client_secret="s")
    with pytest.raises(ValueError, match="max_workers"):
        Client.from_env(ENV, max_workers=0)


def test_repr_never_shows_the_secret() -> None:
    client = Client.from_env(ENV)
    text = repr(client)
    assert text == (f"Client(client_id={CLIENT_ID!r}, environment={ENVIRONMENT!r}, "
                    f"api_url={API!r})")
    assert SECRET not in str(client)


def test_pickling_is_refused() -> None:
    client = Client.from_env(ENV)
    with pytest.raises(TypeError, match="cannot be pickled; create one in each process"):
        pickle.dumps(client)


def test_whoami_and_access_token() -> None:
    text = make_jwt(lifetime=900)
    with responses.RequestsMock() as mocked:
        mocked.post(TOKEN_URL, body=token_json(text, expires_in=900))
        with Client.from_env(ENV) as client:
            identity = client.whoami()
            assert isinstance(identity, Identity)
            assert identity.client_id == CLIENT_ID
            assert "prism/read:IMO1000001" in identity.scopes
            assert 890 < identity.expires_in <= 900
            assert text not in repr(identity)
            assert client.access_token() == text
            assert client.transport.tokens.fetch_count == 1


def test_import_reads_no_environment() -> None:
    """Importing raadata looks at no RAADATA_* variable (nothing is read at import time)."""
    script = textwrap.dedent("""
        import os
        seen = []
        class Recorder(dict):
            def __getitem__(self, key):
                seen.append(key); return super().__getitem__(key)
            def get(self, key, default=None):
                seen.append(key); return super().get(key, default)
            def __contains__(self, key):
                seen.append(key); return super().__contains__(key)
        os.environ = Recorder(os.environ)
        import raadata, raadata._client, raadata._config, raadata._auth, raadata._http
        print([k for k in seen if k.startswith("RAADATA")])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env={**ENV, "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
    assert raadata.Client is Client
