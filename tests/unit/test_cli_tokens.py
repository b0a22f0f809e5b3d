"""The CLI with an API token: LOAD_MANAGER_TOKEN sent as it is, a refused credential (401) exits with
its own code, `tokens create` prints the token alone on stdout. Against a loopback stand-in of the
API that answers what it is told and records what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from load_manager_local import cli
from load_manager_local.commands import EXIT_AUTHENTICATION, EXIT_USAGE

TOKEN = "lmt_Ab-_0123456789abcdefghijklmnopqrstuvwxyzABCDE"


class StandIn(ThreadingHTTPServer):
    answers: dict[tuple[str, str], tuple[int, dict | None]]
    seen: list[tuple[str, str, str | None, bytes]]


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append((self.command, self.path, self.headers.get("authorization"), body))
        status, answer = self.server.answers.get((self.command, self.path.split("?")[0]), (404, {"code": "RouteNotFound", "message": "no"}))
        payload = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer  # noqa: N815 - http.server names them

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def api() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), Handler)
    server.answers, server.seen = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url(server: StandIn) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_the_token_is_sent_unchanged_and_a_refused_one_exits_with_the_authentication_code(api, monkeypatch, capsys):
    monkeypatch.setenv("LOAD_MANAGER_TOKEN", TOKEN)
    api.answers[("GET", "/v1/load-tests")] = (401, {"code": "TokenRevoked", "message": "this API token has been revoked"})
    assert cli.main(["tests", "list", "--api-url", url(api)]) == EXIT_AUTHENTICATION == 5
    assert api.seen[-1][2] == f"Bearer {TOKEN}"
    assert "TokenRevoked" in capsys.readouterr().err
    # API Gateway's own refusal (the authorizer's) has no code: the status decides.
    api.answers[("POST", "/v1/load-tests/t1/runs")] = (401, {"message": "Unauthorized"})
    assert cli.main(["runs", "start", "t1", "--wait", "--api-url", url(api)]) == EXIT_AUTHENTICATION
    api.answers[("GET", "/v1/load-tests")] = (403, {"code": "Forbidden", "message": "this needs the editor role"})
    assert cli.main(["tests", "list", "--api-url", url(api)]) == EXIT_USAGE  # allowed in, but not to this: not an authentication failure


def test_tokens_create_prints_the_token_alone_on_stdout(api, capsys):
    created = {
        "id": "a" * 32, "name": "ci", "role": "runner", "loadTestIds": ["b" * 32], "prefix": TOKEN[:12], "createdBy": "admin@example.com",
        "createdAt": 1, "expiresAt": 2, "lastUsedAt": None, "revokedAt": None, "token": TOKEN,
    }  # fmt: skip
    api.answers[("POST", "/v1/tokens")] = (201, created)
    api.answers[("DELETE", f"/v1/tokens/{'a' * 32}")] = (204, None)
    assert cli.main(["tokens", "create", "--name", "ci", "--role", "runner", "--test", "b" * 32, "--expires-in-days", "7", "--api-url", url(api)]) == 0
    out = capsys.readouterr()
    assert out.out == TOKEN + "\n" and "shown this once" in out.err
    assert json.loads(api.seen[-1][3]) == {"name": "ci", "role": "runner", "expiresInDays": 7, "loadTestIds": ["b" * 32]}
    assert cli.main(["tokens", "revoke", "a" * 32, "--api-url", url(api)]) == 0
    assert api.seen[-1][:2] == ("DELETE", f"/v1/tokens/{'a' * 32}")
    with pytest.raises(SystemExit) as usage:
        cli.main(["tokens", "create", "--name", "ci", "--role", "admin"])  # tokens stop at editor
    assert usage.value.code == EXIT_USAGE
