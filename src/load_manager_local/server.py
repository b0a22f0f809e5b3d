"""`load-manager serve`: every HTTP route of template.yaml on 127.0.0.1, through the real handlers.

Paths under `/v1/` and `/aws/` go to the API exactly as before; any other GET or HEAD is the web
console's (load_manager_local.console); other methods there still get API Gateway's 404.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from load_manager_local.api import ApiResponse, InProcessApi
from load_manager_local.aws import AwsGateway
from load_manager_local.console import ConsoleFiles, is_api_path
from load_manager_local.functions import project_root

log = logging.getLogger("load_manager_local")
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit


def _handler_class(api: InProcessApi, console: ConsoleFiles | None, aws: AwsGateway | None = None) -> type[BaseHTTPRequestHandler]:  # noqa: C901
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "load-manager-local"

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(ApiResponse(413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}'))
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else None
            if console is not None and self.command in ("GET", "HEAD") and not is_api_path(url.path):
                self._send(console.respond(url.path, dict(self.headers.items())))
                return
            if aws is not None and (url.path == "/aws" or url.path.startswith("/aws/")):
                self._send(aws.respond(self.command, url.path, url.query, dict(self.headers.items()), body))
                return
            try:  # the Authorization header goes through the template's Lambda authorizer (api.InProcessApi)
                response = api.request(self.command, url.path, query=url.query, headers=dict(self.headers.items()), body=body)
            except Exception:  # a bug must not kill the server; Lambda would answer 500 too
                log.exception("handler failed")
                response = ApiResponse(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
            self._send(response)

        def _send(self, response: ApiResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def __getattr__(self, name: str):
            # Any other method (TRACE, QUERY, ...) is routed too: API Gateway answers 404/405, not 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, fmt: str, *args) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

    return Handler


def default_console(config: Mapping[str, Any] | None = None) -> ConsoleFiles | None:
    """The repository's console/ when it is there (an installed package without it serves the API only).

    `config` is what `/config.json` answers (`serve --console-config`); by default the local mode, no sign-in.
    """
    root = project_root() / "console"
    return ConsoleFiles(root, config) if (root / "index.html").is_file() else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default (5) resets connections under a burst of parallel clients


class LocalApiServer:
    """A threaded HTTP server on loopback; `start()` runs it in the background, `stop()` ends it."""

    def __init__(
        self, port: int = 0, api: InProcessApi | None = None, host: str = "127.0.0.1", console: ConsoleFiles | None = None,
        console_config: Mapping[str, Any] | None = None,
        aws: AwsGateway | None = None,
    ):
        self.console = console or default_console(console_config)
        # `aws`: the EventBridge and Scheduler APIs under /aws (load_manager_local.aws); else 404 there.
        self.httpd = _Server((host, port), _handler_class(api or InProcessApi(), self.console, aws))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="load-manager-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalApiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
