"""HTTP plumbing: a threaded HTTP/1.1 server (keep-alive) that hands requests to an ``Api``.

One thread per connection, so concurrent requests are served in parallel (numpy and Arrow
release the GIL for the heavy work). ``close()`` also shuts the connections that clients
keep alive, so that no thread or socket outlives the server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from raadata.sandbox.api import Api
from raadata.sandbox.encode import body_length
from raadata.sandbox.messages import HttpError, Request

log = logging.getLogger("raadata.sandbox")
MAX_BODY = 10 * 1024 * 1024
"""Request bodies above this many bytes are refused (413)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return "raadata-sandbox"

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:  # refused unread: the connection cannot be reused
            self.close_connection = True
            response = HttpError(413, f"request body over {MAX_BODY} bytes").response()
            response.headers["x-request-id"] = str(uuid.uuid4())
        else:
            body = self.rfile.read(length) if length > 0 else b""
            request = Request(self.command, self.path, dict(self.headers.items()), body)
            response = self.server.api.handle(request)
        total = body_length(response.body)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(total))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.drop:
            self._write_part(response.body, total // 2)
            self.close_connection = True
        elif response.trickle > 0:
            self._trickle(response.body, response.trickle)
        else:
            for part in response.body:
                self.wfile.write(part)
        log.info("%s %s -> %d (%d bytes, %.3f s)%s", self.command, self.path.partition("?")[0],
                 response.status, total, time.perf_counter() - started,
                 " [dropped]" if response.drop else "")

    def _trickle(self, body: list[bytes | memoryview], pause: float) -> None:
        """Write the body one byte at a time, ``pause`` seconds apart (a trickling server);
        stops when the client goes away or the server closes."""
        for part in body:
            for byte in bytes(part):
                if self.server.api.closing.is_set():
                    return
                try:
                    self.wfile.write(bytes((byte,)))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(pause)

    def _write_part(self, body: list[bytes | memoryview], limit: int) -> None:
        """Write the first ``limit`` bytes of ``body``, then cut the connection."""
        for part in body:
            view = memoryview(part).cast("B")
            self.wfile.write(view[:limit])
            limit -= min(limit, len(view))
            if limit == 0:
                break
        self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method) as JSON, too."""
        body = json.dumps({"error": message or HTTPStatus(code).phrase}).encode()
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", str(uuid.uuid4()))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class SandboxHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that answers with ``api`` and tracks its connections."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 makes bursts of connections retry after ~1 s
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: Api) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._tracking = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can stall: skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._work, args=(request, client_address),
                                  name="raadata-sandbox-connection", daemon=True)
        with self._tracking:
            self._connections.add(request)
            self._workers.add(thread)
        thread.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._tracking:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: connection error from %s", client_address, exc_info=True)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Shut every open connection and wait (up to ``timeout`` s) for their threads."""
        self.api.closing.set()  # hanging and trickling answers give up
        with self._tracking:
            connections, workers = list(self._connections), list(self._workers)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))


class ServerThread:
    """Runs a SandboxHTTPServer in a daemon thread: ``start()``, ``close()``."""

    def __init__(self, host: str, port: int, api: Api) -> None:
        self.httpd = SandboxHTTPServer((host, port), api)
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={
            "poll_interval": 0.02}, name="raadata-sandbox", daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on (the real one when 0 was asked)."""
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, close open connections, release the port."""
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.close_connections()
        self.httpd.server_close()
