"""A small HTTP service to point load tests at: stdlib only, loopback only, counts what it serves.

The count is the ground truth the tests compare a run's reported totals against, so every request
is counted as soon as it is parsed (a request Locust abandons mid-flight still counts here).
Its own control endpoints (`GET /__stats`, `POST /__reset`) are never counted.

    python examples/target_service.py --port 0      # prints "listening on http://127.0.0.1:PORT"

    with start_target() as target:                  # from code or tests
        ...; target.total_requests()
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
ITEM_COUNT = 100
SLOW_SECONDS = 0.05
MAX_SLOW_MS = 5_000
_ITEM_PATH = re.compile(r"^/items/([^/]+)$")


class RequestCounter:
    """Thread-safe request counts, per path template and per `METHOD template` route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()
        self._by_route: Counter[str] = Counter()

    def record(self, method: str, template: str) -> None:
        with self._lock:
            self._by_path[template] += 1
            self._by_route[f"{method} {template}"] += 1

    def total(self) -> int:
        with self._lock:
            return sum(self._by_path.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._by_path.values()),
                "byPath": dict(self._by_path),
                "byRoute": dict(self._by_route),
            }

    def reset(self) -> None:
        with self._lock:
            self._by_path.clear()
            self._by_route.clear()


def _path_template(path: str) -> str:
    return "/items/{id}" if _ITEM_PATH.match(path) else path


class TargetHandler(BaseHTTPRequestHandler):
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle holds the second until the
    # client's delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    # HTTP/1.1 keeps connections alive, as a real service would (every response sets Content-Length).
    protocol_version = "HTTP/1.1"
    server_version = "LoadManagerTarget/1.0"
    timeout = 30  # an idle keep-alive connection must not pin a thread forever
    server: _TargetHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: thousands of requests per run

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/__stats":
            return self._send_json(200, self.server.counter.snapshot())
        self.server.counter.record("GET", _path_template(path))

        if path == "/":
            self._send_json(200, {"service": "target", "status": "ok"})
        elif path == "/items":
            self._send_json(200, {"items": [_item(i) for i in range(1, 21)], "total": ITEM_COUNT})
        elif match := _ITEM_PATH.match(path):
            item_id = match.group(1)
            if item_id.isdigit() and 1 <= int(item_id) <= ITEM_COUNT:
                self._send_json(200, _item(int(item_id)))
            else:
                self._send_json(404, {"error": "item not found"})
        elif path == "/slow":
            seconds = _slow_seconds(self.path)
            time.sleep(seconds)
            self._send_json(200, {"slept_ms": int(seconds * 1000)})
        elif path == "/error":
            self._send_json(500, {"error": "deliberate failure"})
        else:
            self._send_json(404, {"error": "not found"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/__reset":
            self.server.counter.reset()
            return self._send_json(200, {"reset": True})
        self.server.counter.record("POST", _path_template(path))

        if path == "/login":  # any credentials get a token (the REST API template logs in here)
            return self._send_json(200, {"token": f"token-{self.server.next_item_id()}"})
        if path != "/items":
            return self._send_json(404, {"error": "not found"})
        try:
            item = json.loads(body or b"{}")
        except ValueError:
            return self._send_json(400, {"error": "body is not JSON"})
        if not isinstance(item, dict):
            return self._send_json(400, {"error": "body must be a JSON object"})
        self._send_json(201, {"id": self.server.next_item_id(), **item})

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _slow_seconds(raw_path: str) -> float:
    """`/slow` sleeps SLOW_SECONDS, or `?ms=N` milliseconds (at most MAX_SLOW_MS)."""
    query = parse_qs(urlsplit(raw_path).query)
    try:
        return min(int(query["ms"][0]), MAX_SLOW_MS) / 1000 if "ms" in query else SLOW_SECONDS
    except ValueError:
        return SLOW_SECONDS


def _item(item_id: int) -> dict[str, Any]:
    return {"id": item_id, "name": f"item-{item_id}", "price": round(item_id * 1.25, 2)}


class _TargetHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a lingering keep-alive connection must never block shutdown
    # The default backlog (5) drops SYNs when many users connect at once: a 1 s retransmit each.
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, port: int) -> None:
        super().__init__((HOST, port), TargetHandler)
        self.counter = RequestCounter()
        self._ids_lock = threading.Lock()
        self._last_id = ITEM_COUNT

    def next_item_id(self) -> int:
        with self._ids_lock:
            self._last_id += 1
            return self._last_id


class TargetServer:
    """A running target. Stop it (or use it as a context manager): it owns a thread and a socket."""

    def __init__(self, server: _TargetHTTPServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="target-service", daemon=True
        )
        self._stopped = False
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def total_requests(self) -> int:
        return self._server.counter.total()

    def stats(self) -> dict[str, Any]:
        return self._server.counter.snapshot()

    def reset(self) -> None:
        self._server.counter.reset()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> TargetServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_target(port: int = 0) -> TargetServer:
    """Serve on 127.0.0.1:`port` (0 picks a free port) in a background thread."""
    return TargetServer(_TargetHTTPServer(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback HTTP target for load tests")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_requested.set())

    with start_target(args.port) as target:
        print(f"listening on {target.url}", flush=True)
        while not stop_requested.wait(0.5):
            pass
        print(f"stopping after {target.total_requests()} requests", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
