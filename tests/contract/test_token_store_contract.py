"""The contract of the API token store, on every adapter: one token per hash across tenants, reads
scoped to the tenant (but the lookup by hash, which is how a token is found before its tenant is
known), a revocation kept on the record and decided once when revokes race, the last use written
at most once per interval and never after a revoke; and the use cases over it, raced: the active
token cap holds when creators race, a use racing a revoke never outlives it."""

from __future__ import annotations

import pytest
from support.concurrency import race

from load_manager.errors import TokenLimitError, TokenRevokedError
from load_manager.identity import Caller
from load_manager.ids import new_id
from load_manager.models.tokens import CreateTokenRequest, TokenRecord
from load_manager.usecases import tokens

ADMIN = Caller(subject="admin", email="admin@example.com", account_id="acct", groups=frozenset(), role="admin")
DAY = 86_400_000


def record(*, account: str = "acct", created_at: int = 1_000, token_hash: str | None = None, name: str = "ci") -> TokenRecord:
    return TokenRecord(
        id=new_id(), account_id=account, name=name, role="runner", load_test_ids=None, prefix="lmt_abcdefgh",
        token_hash=token_hash or new_id() + new_id(), created_by="admin@example.com", created_at=created_at, expires_at=created_at + DAY,
    )  # fmt: skip


def token_caller(created, account: str = "acct") -> Caller:
    return Caller(
        subject=f"token:{created.id}", email=None, account_id=account, groups=frozenset(), role=created.role,
        token_id=created.id, token_name=created.name,
    )  # fmt: skip


def test_one_token_per_hash_across_tenants_and_reads_scoped_to_the_tenant(any_stores):
    store = any_stores.tokens
    first = record()
    assert store.insert(first)
    assert not store.insert(record(account="acct-b", token_hash=first.token_hash))  # the hash is unique deployment-wide
    assert not store.insert(first.model_copy(update={"token_hash": "f" * 64}))  # and the id
    assert store.get("acct", first.id) == first
    assert store.get("acct-b", first.id) is None  # another tenant's is a missing one
    assert store.find_by_hash(first.token_hash) == first
    assert store.find_by_hash("0" * 64) is None
    assert store.list("acct-b") == []


def test_list_newest_first_in_pages(any_stores):
    store = any_stores.tokens
    made = [record(created_at=1_000 + n // 2) for n in range(5)]  # two share each creation time: the id breaks the tie
    for r in made:
        assert store.insert(r)
    store.insert(record(account="acct-b"))
    expected = sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)
    first = store.list("acct", limit=3)
    rest = store.list("acct", after=(first[-1].created_at, first[-1].id), limit=3)
    assert [r.id for r in first + rest] == [r.id for r in expected]


def test_two_revokes_one_wins_and_the_record_stays(any_stores):
    store = any_stores.tokens
    token = record()
    store.insert(token)
    assert not store.revoke("acct-b", token.id, 5_000, "intruder")  # another tenant's: nothing
    won = race(8, lambda n: store.revoke("acct", token.id, 5_000 + n, f"admin{n}"))
    assert won.count(True) == 1
    winner = won.index(True)
    kept = store.get("acct", token.id)
    assert (kept.revoked_at, kept.revoked_by) == (5_000 + winner, f"admin{winner}")
    assert store.find_by_hash(token.token_hash) == kept  # kept, revoked: resolve refuses it (test below)
    assert not store.revoke("acct", token.id, 9_000, "late")
    assert store.get("acct", token.id).revoked_at == 5_000 + winner


def test_last_use_written_at_most_once_per_interval_and_never_after_a_revoke(any_stores):
    store = any_stores.tokens
    token = record()
    store.insert(token)
    assert race(8, lambda n: store.touch("acct", token.id, 10_000, 60_000)).count(True) == 1
    assert not store.touch("acct", token.id, 69_999, 60_000)  # within the minute
    assert store.get("acct", token.id).last_used_at == 10_000
    assert not store.touch("acct-b", token.id, 80_000, 60_000)
    assert store.touch("acct", token.id, 70_000, 60_000)
    store.revoke("acct", token.id, 71_000, "admin")
    assert not store.touch("acct", token.id, 200_000, 60_000)
    kept = store.get("acct", token.id)
    assert (kept.last_used_at, kept.revoked_at) == (70_000, 71_000)


def test_revoke_racing_uses_no_use_outlives_the_revoke(any_stores):
    created = tokens.create(any_stores, ADMIN, CreateTokenRequest(name="ci", role="runner"))
    caller = token_caller(created)
    assert tokens.resolve(any_stores, created.token, tokens.now_ms()).id == created.id

    def attempt(n: int):
        if n == 0:
            return tokens.revoke(any_stores, ADMIN, created.id)
        return tokens.confirm_active(any_stores, caller, now=tokens.now_ms() + n * 61_000)  # each use a minute apart: each may write

    results = race(12, attempt, collect_errors=True)
    assert all(r is None or isinstance(r, TokenRevokedError) for r in results)
    kept = any_stores.tokens.get("acct", created.id)
    assert kept.revoked_at is not None
    # After the revoke, every use is refused, and the record is not written by them.
    with pytest.raises(TokenRevokedError):
        tokens.confirm_active(any_stores, caller, now=kept.revoked_at + 10 * DAY)
    assert any_stores.tokens.get("acct", created.id) == kept
    assert tokens.resolve(any_stores, created.token, tokens.now_ms()) is None


def test_the_active_token_cap_holds_when_creators_race(any_stores, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_ACTIVE_TOKENS", 5)
    results = race(12, lambda n: tokens.create(any_stores, ADMIN, CreateTokenRequest(name=f"ci-{n}", role="viewer")), collect_errors=True)
    made = [r for r in results if not isinstance(r, Exception)]
    assert len(made) == 5 and all(isinstance(r, TokenLimitError) for r in results if isinstance(r, Exception))
    assert len(any_stores.tokens.list("acct")) == 5
    other = Caller(subject="admin", email=None, account_id="acct-b", groups=frozenset(), role="admin")
    assert tokens.create(any_stores, other, CreateTokenRequest(name="ci", role="viewer"))  # another tenant's cap is its own
    tokens.revoke(any_stores, ADMIN, made[0].id)
    assert tokens.create(any_stores, ADMIN, CreateTokenRequest(name="next", role="viewer")).name == "next"
    with pytest.raises(TokenLimitError) as refused:
        tokens.create(any_stores, ADMIN, CreateTokenRequest(name="over", role="viewer"))
    assert (refused.value.status, refused.value.details["quota"]) == (429, "activeTokens")
