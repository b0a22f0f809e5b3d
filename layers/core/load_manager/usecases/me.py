"""The caller as the API sees it (GET /v1/me)."""

from __future__ import annotations

from load_manager.identity import Caller
from load_manager.models.me import Me


def describe(caller: Caller) -> Me:
    scope = sorted(caller.load_test_ids) if caller.load_test_ids is not None else None
    return Me(
        subject=caller.subject, email=caller.email, account_id=caller.account_id, role=caller.role,
        token_id=caller.token_id, token_name=caller.token_name, load_test_ids=scope,
    )  # fmt: skip
