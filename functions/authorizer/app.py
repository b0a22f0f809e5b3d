"""API Gateway's Lambda authorizer for every route but /v1/health (load_manager/authn/authorizer.py):
Cognito (or JwtIssuer's) JWTs verified against the issuer's JWKS, and API tokens (`lmt_…`).

Lean on purpose: no HTTP resolver; PyJWT loads on the first JWT, the database client on the first token.
"""

from __future__ import annotations

from typing import Any

from load_manager.authn.authorizer import authorize
from load_manager.ids import now_ms
from load_manager.observability import logger, metrics
from load_manager.settings import get_settings
from load_manager.store import get_stores


@logger.inject_lambda_context(clear_state=True)  # its own context on its log lines, nothing left from a previous request
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return authorize(event, get_settings(), get_stores, now_ms())
