"""API Gateway's Lambda authorizer (REQUEST type, payload 2.0, simple responses): who the bearer
credential of a request is, as the claims every function reads (identity.py).

- `lmt_…`: an API token, looked up by its hash (usecases/tokens.py); unknown, revoked or expired is
  refused. Its claims say so (`lm:principal` "token", `lm:role`, `lm:loadTestIds`, ...).
- anything else: a JWT, verified against the configured issuer's JWKS (authn/jwts.py). With no issuer
  configured it is refused inside Lambda, and decoded WITHOUT verification elsewhere (`serve`).
  Only the claims named here are passed on, flattened as HTTP API's JWT authorizer did: never an
  `lm:*` claim a JWT carries, which would let its bearer name their own role.

A refusal fails the invocation with exactly "Unauthorized", which API Gateway answers as 401
`{"message": "Unauthorized"}` (a simple response's `isAuthorized: false` would be a 403); the reason
goes to the log, never to the caller. API Gateway caches an allowed answer for the template's TTL;
the functions call `tokens.confirm_active`, so a revoked token is refused at once all the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from load_manager.authn import jwts
from load_manager.observability import count, logger
from load_manager.settings import Settings
from load_manager.store import Stores
from load_manager.usecases import tokens

UNAUTHORIZED = "Unauthorized"
# A person's claims, besides the tenant claim (settings.tenant_claim), as identity.py reads them.
USER_CLAIMS = ("sub", "email", "email_verified", "cognito:groups")


class AuthorizerRefusalError(Exception):
    """The credential is refused. Its message is API Gateway's cue for a 401; `reason` is for the log."""

    def __init__(self, reason: str):
        super().__init__(UNAUTHORIZED)
        self.reason = reason


def authorize(event: Mapping[str, Any], settings: Settings, stores: Callable[[], Stores], now_ms: int) -> dict[str, Any]:
    """The simple response for an allowed request; raises AuthorizerRefusalError for any other.
    `stores` is called only for an API token (a JWT needs no database)."""
    try:
        credential = bearer_credential(event)
        if tokens.looks_like_token(credential):
            record = tokens.resolve(stores(), credential, now_ms)
            if record is None:
                raise AuthorizerRefusalError("unknown, revoked or expired API token")
            context = dict(tokens.token_claims(record, settings.tenant_claim))
        else:
            context = user_context(jwt_claims(credential, settings), settings.tenant_claim)
    except AuthorizerRefusalError as refused:
        count("AuthorizerRefused")
        logger.info("request refused by the authorizer", extra={"reason": refused.reason, "routeArn": event.get("routeArn")})
        raise
    return {"isAuthorized": True, "context": context}


def bearer_credential(event: Mapping[str, Any]) -> str:
    """The credential of the Authorization header (the identity source); `Bearer ` is optional, as
    it was for API Gateway's JWT authorizer."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    value = str(headers.get("authorization") or "").strip()
    scheme, _, rest = value.partition(" ")
    credential = rest.strip() if scheme.lower() == "bearer" else value
    if not credential or " " in credential:
        raise AuthorizerRefusalError("the Authorization header holds no bearer credential")
    return credential


def jwt_claims(token: str, settings: Settings) -> dict[str, Any]:
    try:
        if settings.jwt_issuer:
            return jwts.verified_claims(token, issuer=settings.jwt_issuer, audiences=settings.jwt_audience, jwks_url=settings.jwks_url)
        if settings.in_lambda:
            raise AuthorizerRefusalError("no JWT issuer is configured (JWT_ISSUER): every JWT is refused")
        return jwts.unverified_claims(token)
    except jwts.InvalidTokenError as exc:
        raise AuthorizerRefusalError(str(exc)) from None


def user_context(claims: Mapping[str, Any], tenant_claim: str) -> dict[str, str]:
    """The whitelisted claims of a person's JWT, as strings (arrays as "[a b]")."""
    return {key: flatten(claims[key]) for key in (*USER_CLAIMS, tenant_claim) if claims.get(key) is not None and not key.startswith("lm:")}


def flatten(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, (dict, bool)):
        return json.dumps(value)
    return value if isinstance(value, str) else str(value)
