"""Unsigned JWTs, for local use and tests: `load-manager serve` decodes a Bearer JWT WITHOUT
verification when no issuer is configured (load_manager/authn/jwts.py, the authorizer's unverified
mode), so any payload will do there; with an issuer (and always in AWS) such a token is refused."""

from __future__ import annotations

import base64
import json
from typing import Any


def make_unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none`, for local use and tests."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
