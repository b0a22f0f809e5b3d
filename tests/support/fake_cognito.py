"""A fake of Cognito's hosted UI on 127.0.0.1: /oauth2/authorize, /login, /oauth2/token, /oauth2/revoke, /logout.

Strict where the console could get it wrong: one registered client, exact redirect and sign-out URIs,
response_type=code with an S256 code challenge, single-use codes bound to their client, redirect URI
and challenge, and the code_verifier checked against the challenge (RFC 7636). The hosted UI's
session is a cookie: with it, /oauth2/authorize answers at once, as Cognito does. ID tokens are
JWTs (HS256, which `load-manager serve` decodes without verifying) carrying email and
custom:accountId; the token endpoint answers cross-origin requests, as Cognito's does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "console-test-client"
SESSION_COOKIE = "fake-cognito-session"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode()).digest())


@dataclass
class _Code:
    email: str
    redirect_uri: str
    challenge: str
    used: bool = False


@dataclass
class FakeCognito:
    users: dict[str, dict[str, object]]  # email -> extra claims (custom:accountId, cognito:groups)
    redirect_uris: set[str] = field(default_factory=set)
    logout_uris: set[str] = field(default_factory=set)
    id_token_seconds: int = 3600
    grants: list[dict[str, object]] = field(default_factory=list)  # every /oauth2/token request, as judged
    logouts: list[str] = field(default_factory=list)
    codes: dict[str, _Code] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # live token -> email
    sessions: dict[str, str] = field(default_factory=dict)  # cookie -> email
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def __post_init__(self):
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeCognito:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def id_token(self, email: str) -> str:
        now = int(time.time())
        claims = {
            "sub": hashlib.sha256(email.encode()).hexdigest()[:32], "email": email, "email_verified": True, "aud": CLIENT_ID, "iss": self.url,
            "token_use": "id", "iat": now, "auth_time": now, "exp": now + self.id_token_seconds, "jti": secrets.token_hex(8),
            **self.users[email],
        }  # fmt: skip
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "fake"}).encode())
        body = _b64url(json.dumps(claims).encode())
        signature = _b64url(hmac.new(self.key, f"{header}.{body}".encode(), hashlib.sha256).digest())
        return f"{header}.{body}.{signature}"

    def revoke_all(self) -> None:
        with self._lock:
            self.refresh_tokens.clear()

    # ---- the endpoints' logic (the handler only parses HTTP) ----

    def authorize(self, query: dict[str, str], cookie: str | None) -> tuple[int, dict[str, str], str]:
        problem = self._authorize_problem(query)
        if problem:
            return 400, {}, f"<p>error: {html.escape(problem)}</p>"
        email = self.sessions.get(cookie or "")
        if email:
            return 302, {"Location": self._redirect_with_code(query, email)}, ""
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items())
        page = (
            '<!doctype html><html lang="en"><title>Sign in</title><form method="post" action="/login">'
            f'{hidden}<label>Email <input name="username" type="email"></label><button>Sign in</button></form></html>'
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page

    def login(self, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        problem = self._authorize_problem(form)
        email = form.get("username", "")
        if problem or email not in self.users:
            return 400, {}, f"<p>error: {html.escape(problem or 'unknown user')}</p>"
        cookie = secrets.token_hex(16)
        with self._lock:
            self.sessions[cookie] = email
        headers = {"Location": self._redirect_with_code(form, email), "Set-Cookie": f"{SESSION_COOKIE}={cookie}; Path=/; HttpOnly"}
        return 302, headers, ""

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        grant = form.get("grant_type")
        with self._lock:
            if form.get("client_id") != CLIENT_ID:
                return self._judged(grant, 400, {"error": "invalid_client"})
            if grant == "authorization_code":
                return self._code_grant(form)
            if grant == "refresh_token":
                email = self.refresh_tokens.get(form.get("refresh_token", ""))
                if email is None:
                    return self._judged(grant, 400, {"error": "invalid_grant", "error_description": "Refresh Token has been revoked"})
                return self._judged(grant, 200, self._tokens(email, refresh=False))
            return self._judged(grant, 400, {"error": "unsupported_grant_type"})

    def revoke(self, form: dict[str, str]) -> int:
        with self._lock:
            if form.get("client_id") != CLIENT_ID:
                return 400
            self.refresh_tokens.pop(form.get("token", ""), None)
            return 200

    def logout(self, query: dict[str, str], cookie: str | None) -> tuple[int, dict[str, str], str]:
        if query.get("client_id") != CLIENT_ID or query.get("logout_uri") not in self.logout_uris:
            return 400, {}, "<p>error: bad logout request</p>"
        with self._lock:
            self.sessions.pop(cookie or "", None)
            self.logouts.append(query["logout_uri"])
        return 302, {"Location": query["logout_uri"], "Set-Cookie": f"{SESSION_COOKIE}=; Path=/; Max-Age=0"}, ""

    def _authorize_problem(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != CLIENT_ID:
            return "invalid_client"
        if query.get("redirect_uri") not in self.redirect_uris:
            return "redirect_mismatch"
        if query.get("response_type") != "code":
            return "unsupported_response_type"
        if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
            return "invalid_request: an S256 code_challenge is required"
        if "openid" not in query.get("scope", "").split():
            return "invalid_scope"
        return None

    def _redirect_with_code(self, query: dict[str, str], email: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = _Code(email, query["redirect_uri"], query["code_challenge"])
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def _code_grant(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or code.redirect_uri != form.get("redirect_uri"):
            return self._judged("authorization_code", 400, {"error": "invalid_grant"})
        code.used = True  # single use, whatever the outcome
        if s256(form.get("code_verifier", "")) != code.challenge:
            return self._judged("authorization_code", 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        return self._judged("authorization_code", 200, self._tokens(code.email, refresh=True))

    def _tokens(self, email: str, refresh: bool) -> dict[str, object]:
        answer: dict[str, object] = {"id_token": self.id_token(email), "access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": self.id_token_seconds}
        if refresh:
            answer["refresh_token"] = token = secrets.token_urlsafe(32)
            self.refresh_tokens[token] = email
        return answer

    def _judged(self, grant: str | None, status: int, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        self.grants.append({"grant_type": grant, "status": status, "id_token": body.get("id_token")})
        return status, body


def _handler(fake: FakeCognito) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's names
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/oauth2/authorize":
                self._send(*fake.authorize(query, self._cookie()))
            elif url.path == "/logout":
                self._send(*fake.logout(query, self._cookie()))
            else:
                self._send(404, {}, "not found")

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                self._send(400, {}, "form-encoded bodies only")
            elif path == "/login":
                self._send(*fake.login(form))
            elif path == "/oauth2/token":
                status, body = fake.token(form)
                self._send(status, {"Content-Type": "application/json", **self._cors()}, json.dumps(body))
            elif path == "/oauth2/revoke":
                self._send(fake.revoke(form), self._cors(), "")
            else:
                self._send(404, {}, "not found")

        def _cookie(self) -> str | None:
            for part in (self.headers.get("Cookie") or "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == SESSION_COOKIE:
                    return value
            return None

        def _cors(self) -> dict[str, str]:
            return {"Access-Control-Allow-Origin": self.headers.get("Origin") or "*"}

        def _send(self, status: int, headers: dict[str, str], body: str) -> None:
            data = body.encode()
            self.send_response(status)
            for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler
