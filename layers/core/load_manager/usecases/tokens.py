"""API tokens for pipelines: created by a tenant's admin with a role (at most editor) and optionally
the tests they may reach; shown once, stored as the sha256 of their text (store/ports/tokens.py).

- `resolve` is what authentication calls (the Lambda authorizer in AWS, `serve` locally): the
  presented text hashed and looked up; a revoked, expired or unknown token is None.
- `confirm_active` is what every API function calls for a token caller, because the authorizer
  caches its answers for a while: a revoked token is refused (401 TokenRevoked) at once, not when
  the cache expires. It also records the token's last use, at most once a minute (a conditional
  write: a busy pipeline does not write on every request, and a use never undoes a revoke).
- A tenant has at most MAX_ACTIVE_TOKENS live tokens, counted as quota holds (usecases/quotas.py's
  pattern: a single conditional write per take, so racing creators never exceed it); a revoke
  releases its hold, an expired token's hold is taken back when the pool is full.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from load_manager.access import ADMIN, require_role
from load_manager.errors import LoadTestNotFoundError, TokenExpiredError, TokenLimitError, TokenNotFoundError, TokenRevokedError
from load_manager.identity import Caller
from load_manager.ids import new_id, now_ms
from load_manager.models.tokens import CreatedToken, CreateTokenRequest, Token, TokenPage, TokenRecord
from load_manager.observability import count
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.store import Hold, Stores

if TYPE_CHECKING:
    from collections.abc import Mapping

TOKEN_PREFIX = "lmt_"
PREFIX_CHARS = 12  # "lmt_" and 8 characters of the secret part: enough to tell tokens apart, useless to guess one
MAX_TOKEN_CHARS = 200  # token_urlsafe(32) is 43 characters: anything much longer is not one of ours
MAX_ACTIVE_TOKENS = 100
POOL = "tokens"
LAST_USE_INTERVAL_MS = 60_000
DAY_MS = 86_400_000
HOLD_GRACE_MS = 10 * 60 * 1000  # a hold whose token is not stored yet may be a create still on its way


def hash_token(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    """Whether a bearer credential is an API token (not a JWT): authentication picks its path by this."""
    return text.startswith(TOKEN_PREFIX) and len(text) <= MAX_TOKEN_CHARS


# ---- the API (admin) ---------------------------------------------------------------------------------


def create(stores: Stores, caller: Caller, request: CreateTokenRequest) -> CreatedToken:
    _require_admin(caller)
    scope = _scope(stores, caller, request.load_test_ids)
    now = now_ms()
    token_id = new_id()
    _take_hold(stores, caller.account_id, Hold(member=token_id, group=None, at=now))
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        id=token_id, account_id=caller.account_id, name=request.name, role=request.role, load_test_ids=scope,
        prefix=text[:PREFIX_CHARS], token_hash=hash_token(text), created_by=caller.actor, created_at=now,
        expires_at=now + request.expires_in_days * DAY_MS,
    )  # fmt: skip
    from load_manager.usecases import audit  # lazy: the authorizer resolves tokens, never writes one: costs 2 ms at import (bench/cold_import.py)

    try:
        stored = stores.tokens.insert(record, audit=audit.change(caller, "token.create", token_id, after=record, at=now))
    except BaseException:
        stores.holds.release(caller.account_id, POOL, token_id)
        raise
    if not stored:  # a fresh id and 256 random bits: a collision is a bug, not a case to handle
        stores.holds.release(caller.account_id, POOL, token_id)
        raise RuntimeError("a new token's id or hash is stored already")
    count("TokenCreated")
    return CreatedToken(**to_token(record).model_dump(), token=text)


def list_page(stores: Stores, caller: Caller, limit: int, cursor: str | None) -> TokenPage:
    _require_admin(caller)
    after = decode_cursor(cursor, int, str)
    records = stores.tokens.list(caller.account_id, after=after, limit=limit + 1)
    page, more = records[:limit], len(records) > limit
    next_cursor = encode_cursor([page[-1].created_at, page[-1].id]) if more and page else None
    return TokenPage(items=[to_token(r) for r in page], next_cursor=next_cursor)


def revoke(stores: Stores, caller: Caller, token_id: str) -> None:
    """Revoke the token now; revoking a revoked token changes nothing (and is no error)."""
    from load_manager.usecases import audit  # lazy: the authorizer resolves tokens, never writes one: costs 2 ms at import (bench/cold_import.py)

    _require_admin(caller)
    current = stores.tokens.get(caller.account_id, token_id)
    if current is None:
        raise TokenNotFoundError(f"no token {token_id!r} in your account")
    now = now_ms()
    revoked = current.model_copy(update={"revoked_at": now, "revoked_by": caller.actor})
    record = audit.change(caller, "token.revoke", token_id, before=current, after=revoked, at=now)  # stored only if this call revokes it
    if stores.tokens.revoke(caller.account_id, token_id, now, caller.actor, audit=record):
        count("TokenRevoked")
    stores.holds.release(caller.account_id, POOL, token_id)  # also after a crash between the two writes


def to_token(record: TokenRecord) -> Token:
    return Token.model_validate(record.model_dump(include=set(Token.model_fields)))


# ---- authentication ----------------------------------------------------------------------------------


def resolve(stores: Stores, presented: str, now: int) -> TokenRecord | None:
    """The live token whose text is `presented` (`now`: epoch milliseconds); None when it is unknown,
    revoked or expired, or is not a token's text at all."""
    if not looks_like_token(presented):
        return None
    record = stores.tokens.find_by_hash(hash_token(presented))
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    return record


def token_claims(record: TokenRecord, tenant_claim: str) -> Mapping[str, str]:
    """The claims authentication passes for a token (the shared contract, identity.py reads them)."""
    return {
        "sub": f"token:{record.id}", tenant_claim: record.account_id, "lm:principal": "token", "lm:tokenId": record.id,
        "lm:tokenName": record.name, "lm:role": record.role, "lm:loadTestIds": " ".join(record.load_test_ids or ()),
    }  # fmt: skip


def confirm_active(stores: Stores, caller: Caller, now: int | None = None) -> None:
    """For a token caller: 401 when its token is revoked or expired since authentication answered
    (whose answer may be cached); records its use, at most once a minute. A person: nothing."""
    if caller.token_id is None:
        return
    now = now_ms() if now is None else now
    record = stores.tokens.get(caller.account_id, caller.token_id)
    if record is None or record.revoked_at is not None:
        raise TokenRevokedError("this API token has been revoked", details={"tokenId": caller.token_id})
    if record.expires_at <= now:
        raise TokenExpiredError("this API token has expired", details={"tokenId": caller.token_id, "expiresAt": record.expires_at})
    if record.last_used_at is None or now - record.last_used_at >= LAST_USE_INTERVAL_MS:
        stores.tokens.touch(caller.account_id, caller.token_id, now, LAST_USE_INTERVAL_MS)


# ---- helpers -----------------------------------------------------------------------------------------


def _require_admin(caller: Caller) -> None:
    require_role(caller.role, ADMIN, "managing API tokens")  # the route's line says so too: this holds for direct callers


def _scope(stores: Stores, caller: Caller, load_test_ids: list[str] | None) -> list[str] | None:
    """The tests a token may reach, each one of the caller's tenant (404 as for any test it cannot see)."""
    if load_test_ids is None:
        return None
    unique = list(dict.fromkeys(load_test_ids))
    for test_id in unique:
        if stores.load_tests.get(caller.account_id, test_id) is None or not caller.sees_test(test_id):
            raise LoadTestNotFoundError(f"load test {test_id} not found", details={"loadTestId": test_id})
    return unique


def _take_hold(stores: Stores, account_id: str, hold: Hold) -> None:
    """A place among the tenant's live tokens (429 TokenLimitReached when all are taken). When the
    pool is full, the holds of tokens revoked or expired (or never stored, past a grace) are taken back."""
    if stores.holds.take(account_id, POOL, hold, MAX_ACTIVE_TOKENS, None):
        return
    freed = [h for h in stores.holds.holds(account_id, POOL) if h.member != hold.member and _over(stores, account_id, h)]
    for stale in freed:
        stores.holds.release(account_id, POOL, stale.member)
    if freed and stores.holds.take(account_id, POOL, hold, MAX_ACTIVE_TOKENS, None):
        return
    count("TokenLimitReached")
    raise TokenLimitError(
        f"your account has {MAX_ACTIVE_TOKENS} active API tokens, as many as it may; revoke one first",
        details={"quota": "activeTokens", "limit": MAX_ACTIVE_TOKENS},
    )


def _over(stores: Stores, account_id: str, hold: Hold) -> bool:
    now = now_ms()
    record = stores.tokens.get(account_id, hold.member)
    if record is None:
        return now - hold.at > HOLD_GRACE_MS
    return record.revoked_at is not None or record.expires_at <= now
