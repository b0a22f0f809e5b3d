"""Local-mode identity: a Bearer JWT is decoded WITHOUT verification; no token means the local user."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from load_manager_local.events import DEFAULT_CLAIMS

log = logging.getLogger("load_manager_local")
_warned = False


class InvalidTokenError(ValueError):
    pass


def claims_from_authorization(header: str | None) -> dict[str, Any]:
    """The claims API Gateway's JWT authorizer would pass on, minus the signature check."""
    global _warned
    if not header:
        return dict(DEFAULT_CLAIMS)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidTokenError("Authorization must be 'Bearer <JWT>'")
    if not _warned:
        log.warning("LOCAL MODE: JWT signatures are NOT verified; claims are taken from the token as-is")
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
    # HTTP API hands claims to Lambda as strings (arrays flattened to "[a b]").
    return {k: _flatten(v) for k, v in payload.items()}


def _flatten(value: Any) -> Any:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, (dict, bool)):
        return json.dumps(value)
    return str(value) if not isinstance(value, str) else value


def make_unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none`, for local use and tests."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
