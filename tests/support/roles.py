"""Callers with a role, for tests: a person's claims with the Cognito group of a role, and an API
token's claims as the Lambda authorizer passes them (identity.py reads both)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from load_manager.access import ROLES
from load_manager.settings import Settings

_DEFAULTS = Settings()
GROUP_OF_ROLE = {"viewer": None, "runner": _DEFAULTS.runner_group, "editor": _DEFAULTS.editor_group, "admin": _DEFAULTS.admin_group}


def with_role(claims: Mapping[str, Any], role: str) -> dict[str, Any]:
    """`claims` of a user in exactly the group of `role` under the default group names (a viewer: in no group)."""
    assert role in ROLES, role
    out = {k: v for k, v in claims.items() if k != "cognito:groups"}
    group = GROUP_OF_ROLE[role]
    if group:
        out["cognito:groups"] = f"[{group}]"
    return out


def token_claims(account_id: str, role: str, *, token_id: str = "tok-1", name: str = "ci", load_test_ids: Iterable[str] = ()) -> dict[str, Any]:
    """An API token's claims, as the contract of issue 18 has the Lambda authorizer pass them."""
    return {
        "sub": f"token:{token_id}", "custom:accountId": account_id, "lm:principal": "token", "lm:tokenId": token_id,
        "lm:tokenName": name, "lm:role": role, "lm:loadTestIds": " ".join(load_test_ids),
    }  # fmt: skip


def from_lambda_authorizer(event: dict[str, Any]) -> dict[str, Any]:
    """`event` with its claims where a Lambda authorizer puts them (requestContext.authorizer.lambda)."""
    context = event["requestContext"]
    claims = (context.get("authorizer") or {}).get("jwt", {}).get("claims") or (context.get("authorizer") or {}).get("lambda") or {}
    return {**event, "requestContext": {**context, "authorizer": {"lambda": dict(claims)}}}
