"""Bearer JWTs: verified against the issuer's JWKS with PyJWT, or, only outside Lambda with no
issuer configured (`load-manager serve`), decoded WITHOUT any verification.

Verification does what API Gateway's JWT authorizer did: an RSA signature by a key of the issuer's
JWKS, `iss` equal to the issuer, `exp` (required) and `nbf` against the clock, and the audience:
`aud` naming one of the accepted client ids, or, on a token without `aud` (a Cognito access token),
`client_id` naming one.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jwt import PyJWKClient

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512")  # RSA only, as API Gateway's JWT authorizer (Cognito signs RS256)
TOKEN_USES = ("id", "access")  # Cognito's two kinds; a token without `token_use` (another issuer) is judged by its audience
JWKS_CACHE_SECONDS = 300  # keys rotate rarely; an unknown `kid` refetches the set at once (PyJWKClient)
JWKS_TIMEOUT_SECONDS = 5  # well inside API Gateway's wait for its authorizer
UNVERIFIED_WARNING = "LOCAL MODE: JWT signatures are NOT verified; claims are taken from the token as-is"


class InvalidTokenError(ValueError):
    """The bearer JWT is not acceptable (the caller's fault: 401)."""


class IssuerUnavailableError(RuntimeError):
    """The issuer's keys cannot be fetched (not the caller's fault: API Gateway answers 500)."""


_clients: dict[str, PyJWKClient] = {}
_clients_lock = threading.Lock()
_warned = False


def jwks_url_of(issuer: str, configured: str = "") -> str:
    return configured or issuer.rstrip("/") + "/.well-known/jwks.json"


def verified_claims(token: str, *, issuer: str, audiences: Sequence[str], jwks_url: str = "") -> dict[str, Any]:
    import jwt  # lazy: PyJWT and cryptography cost 200 ms at import (bench/cold_import.py --lazy); an API token never pays it

    if not audiences:
        raise InvalidTokenError("no audience (JWT_AUDIENCE) is configured: no JWT can be accepted")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidTokenError(f"not a JWT: {exc}") from None
    if header.get("alg") not in ALGORITHMS:
        raise InvalidTokenError(f"signing algorithm {header.get('alg')!r} is not accepted (RSA only)")
    try:
        key = _client(jwks_url_of(issuer, jwks_url)).get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientConnectionError as exc:
        raise IssuerUnavailableError(f"cannot fetch the issuer's keys: {exc}") from exc
    except jwt.PyJWKClientError as exc:  # no key of the issuer has the token's `kid`
        raise InvalidTokenError(f"not signed by a key of the issuer: {exc}") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=list(ALGORITHMS), issuer=issuer, options={"require": ["exp", "iss"], "verify_aud": False}
        )
    except jwt.InvalidTokenError as exc:  # signature, expiry, not-before, issuer, a missing claim
        raise InvalidTokenError(f"{type(exc).__name__}: {exc}") from None
    _check_audience(claims, audiences)
    return claims


def _check_audience(claims: dict[str, Any], audiences: Sequence[str]) -> None:
    use = claims.get("token_use")
    if use is not None and use not in TOKEN_USES:
        raise InvalidTokenError(f"token_use {use!r} is neither an ID nor an access token")
    if "aud" in claims:
        aud = claims["aud"]
        named = {str(a) for a in aud} if isinstance(aud, list) else {str(aud)}
    else:  # Cognito's access tokens name their app client in `client_id`
        named = {str(claims.get("client_id") or "")}
    if not named & set(audiences):
        raise InvalidTokenError("the token is for another audience")


def _client(url: str) -> PyJWKClient:
    """One JWKS client per execution environment and URL: its key set is cached across requests."""
    from jwt import PyJWKClient  # lazy: 0 ms here, verified_claims has loaded PyJWT (its 200 ms: bench/cold_import.py --lazy)

    with _clients_lock:
        if url not in _clients:
            _clients[url] = PyJWKClient(url, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_TIMEOUT_SECONDS)
        return _clients[url]


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, its signature unchecked (local mode only: says so once, loudly)."""
    global _warned
    if not _warned:
        log.warning(UNVERIFIED_WARNING)
        _warned = True
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidTokenError("the bearer token is not a JWT")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        raise InvalidTokenError("the JWT payload is not base64url JSON") from None
    if not isinstance(payload, dict):
        raise InvalidTokenError("the JWT payload is not a JSON object")
    return payload
