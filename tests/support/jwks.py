"""An OpenID issuer on 127.0.0.1 for tests: an RSA key of its own, published as a JWKS at
`<url>/.well-known/jwks.json` (where Cognito publishes a user pool's), and Cognito-style ID and
access tokens signed with it. `fetches` counts the JWKS requests (the authorizer caches the set).

    with JwksIssuer() as issuer:
        token = issuer.id_token(email="a@example.com", **{"custom:accountId": "acme"})
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "test-console-client"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class JwksIssuer:
    def __init__(self, client_id: str = CLIENT_ID):
        self.client_id = client_id
        self.key, self.kid = rsa_key(), secrets.token_hex(8)
        self.fetches = 0
        self.available = True  # False: the JWKS endpoint answers 503
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                issuer.fetches += 1
                if not issuer.available:
                    self.send_error(503)
                    return
                body = json.dumps(issuer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    def __enter__(self) -> JwksIssuer:
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="jwks-issuer", daemon=True)  # quick to stop
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def sign(self, claims: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def id_token(self, *, email: str = "alice@example.com", lifetime: int = 3600, **claims: Any) -> str:
        """A Cognito-style ID token (aud = the client, token_use "id"); `claims` add or replace."""
        now = int(time.time())
        base = {
            "sub": secrets.token_hex(16), "email": email, "email_verified": True, "aud": self.client_id, "iss": self.url,
            "token_use": "id", "iat": now, "auth_time": now, "exp": now + lifetime,
        }  # fmt: skip
        return self.sign({**base, **claims})

    def access_token(self, *, lifetime: int = 3600, **claims: Any) -> str:
        """A Cognito-style access token: no `aud`, the client in `client_id`, token_use "access"."""
        now = int(time.time())
        base = {"sub": secrets.token_hex(16), "client_id": self.client_id, "iss": self.url, "token_use": "access", "scope": "openid", "iat": now,
                "exp": now + lifetime}  # fmt: skip
        return self.sign({**base, **claims})


def tampered(token: str, **changes: Any) -> str:
    """The token with its payload changed after signing (the signature left as it was)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).decode().rstrip("=")
    return f"{header}.{changed}.{signature}"
