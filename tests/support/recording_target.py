"""A loopback HTTP target that records every request it gets (method, path, query, headers): what a
test checks a run's Locust really sent. `/denied…` answers 401, anything else 200 with a small JSON
body. Always stop it (a context manager).

    with RecordingTarget() as target:
        ...; target.seen("/login")[0].query["user"]; target.received()[0].headers["authorization"]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # without the query
    query: dict[str, str]  # each parameter's last value
    headers: dict[str, str]  # names lower-cased
    target: str  # the request target as sent (path and query)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real service
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = urlsplit(self.path)
        self.server.record(Received(self.command, parts.path, dict(parse_qsl(parts.query)), {k.lower(): v for k, v in self.headers.items()}, self.path))
        status, body = (401, b'{"error": "denied"}') if parts.path.startswith("/denied") else (200, b'{"ok": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a lingering keep-alive connection never blocks shutdown
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[Received] = []

    def record(self, request: Received) -> None:
        with self.lock:
            self.requests.append(request)


class RecordingTarget:
    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="recording-target", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def received(self) -> list[Received]:
        with self._server.lock:
            return list(self._server.requests)

    def seen(self, path: str) -> list[Received]:
        """The requests to `path` (its query aside)."""
        return [request for request in self.received() if request.path == path]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RecordingTarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
