"""One URL parser (urllib3's, the HTTP stack's own) decides where credentials may go."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from raadata import AuthenticationError, Client, ConfigurationError
from raadata._urls import checked_url, is_loopback_url, origin
from raadata.sandbox import serve

REFUSED = {
    "http://192.0.2.2\\.localhost/token": "backslash",  # urlsplit and urllib3 disagree on it
    "http://127.0.0.1\\@192.0.2.2/token": "backslash",
    "http://user@127.0.0.1/token": "'@'",
    "http://127.0.0.1%2f@192.0.2.2/token": "'@'",
    "http://127.0.0.1%2e192.0.2.2/token": "percent escape",
    "http://127.0.0.1:/token": "no port",
    "http://127.0.0.1 /token": "whitespace",
    "http://127.0.0.1/tok\ten": "whitespace",
    "http://foo.localhost/token": "plain http",  # *.localhost may resolve anywhere
    "http://localhost.evil.example/token": "plain http",
    "http://10.0.0.1/token": "plain http",
    "http://[::ffff:127.0.0.1]/token": "plain http",
    "http://0x7f000001/token": "plain http",
    "ftp://127.0.0.1/token": "not an http(s) URL",
    "127.0.0.1/token": "not an http(s) URL",
    "https://api.example/x?y=1": "query",
    "https:///token": "no host",
}

ACCEPTED = {
    "HTTP://127.0.0.1:8080/token/": "http://127.0.0.1:8080/token",
    "http://LOCALHOST:9/t": "http://localhost:9/t",
    "http://127.5.6.7/t": "http://127.5.6.7/t",
    "http://[::1]:80/x": "http://[::1]:80/x",
    "HTTPS://Auth.RaaLabs.io/oauth2/token": "https://auth.raalabs.io/oauth2/token",
}


@pytest.mark.parametrize(("url", "reason"), REFUSED.items(), ids=list(REFUSED))
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        checked_url(url)
    assert not is_loopback_url(url)


@pytest.mark.parametrize(("url", "normal"), ACCEPTED.items(), ids=list(ACCEPTED))
def test_accepted_and_normalised(url: str, normal: str) -> None:
    assert checked_url(url) == normal
    assert checked_url(normal) == normal


def test_origin_is_read_as_urllib3_reads_it() -> None:
    assert origin("HTTPS://API.example") == ("https", "api.example", 443)
    assert origin("http://127.0.0.1:8080/x") == ("http", "127.0.0.1", 8080)
    assert origin("http://[::1]/x") == ("http", "[::1]", 80)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on 127.0.0.1 that records whatever reaches it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve_forever() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    received.append(connection.recv(65536))
                except OSError:
                    received.append(b"")
                body = b'{"error": "invalid_client"}'
                connection.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json"
                                   b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("trick", [
    "http://127.0.0.1:{port}\\.localhost/token",
    "http://127.0.0.1:{port}\\@localhost/token",
    "http://x@127.0.0.1:{port}/token",
    "http://127.0.0.1:{port}%2F@localhost/token",
])
def test_a_refused_url_sends_nothing(trick: str, listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    url = trick.format(port=port)
    with pytest.raises(ConfigurationError, match="token_url"):
        Client(client_id="cid", client_secret="s3cret-value-123", environment="e",
               api_url="https://api.example", token_url=url).access_token()
    assert received == []


def test_the_listener_does_see_a_sound_url(listener: tuple[int, list[bytes]]) -> None:
    port, received = listener
    client = Client(client_id="cid", client_secret="s3cret-value-123", environment="e",
                    api_url="https://api.example", token_url=f"http://127.0.0.1:{port}/token")
    with pytest.raises(AuthenticationError):
        client.access_token()
    assert len(received) == 1
    assert received[0].startswith(b"POST /token HTTP/1.1")


def test_an_upper_case_scheme_works_end_to_end() -> None:
    with serve() as sandbox:
        _scheme, rest = sandbox.token_url.split("://", 1)
        with sandbox.client(token_url="HTTP://" + rest, progress=False) as client:
            assert client.settings.token_url == sandbox.token_url
            assert client.whoami().client_id == sandbox.client_id
