"""The contract of the variables store (variables and secrets' records), on every adapter: one entry
per (tenant, kind, scope, name) even when creators race, replace and delete conditional on the
version, tenants apart; and the use case's writes on it, raced: every write a version of its own."""

from __future__ import annotations

from support.concurrency import race

from load_manager.identity import Caller
from load_manager.ids import new_id
from load_manager.models.variables import ConfigEntry, PutVariableRequest
from load_manager.usecases import variables

ADMIN = Caller(subject="admin", email="admin@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))


def entry(name: str = "API_HOST", *, account: str = "acct", kind: str = "variable", version: int = 1, **scope) -> ConfigEntry:
    return ConfigEntry(
        id=new_id(), account_id=account, kind=kind, name=name, value="v" if kind == "variable" else None, version=version,
        created_at=1, created_by="a", updated_at=1, updated_by="a", **scope,
    )  # fmt: skip



def test_one_entry_per_kind_scope_and_name_even_when_inserts_race(any_stores):
    store = any_stores.variables
    won = race(12, lambda n: store.insert(entry(org_id="shop")))
    assert won.count(True) == 1
    assert store.insert(entry(org_id="shop", kind="secret"))  # another kind: its own entry
    assert store.insert(entry(org_id="shop", project_id="checkout"))  # another scope
    assert store.insert(entry(org_id="shop", account="acct-b"))  # another tenant
    assert store.insert(entry("OTHER", org_id="shop"))
    assert store.count("acct", "variable") == 3 and store.count("acct", "secret") == 1
    listed = store.list("acct")
    assert [(e.kind, e.name, e.project_id) for e in listed] == [
        ("secret", "API_HOST", None), ("variable", "API_HOST", None), ("variable", "API_HOST", "checkout"), ("variable", "OTHER", None),
    ]  # fmt: skip
    assert [e.kind for e in store.list("acct", "secret")] == ["secret"]
    assert store.find("acct", "variable", "shop/checkout/*/*", "API_HOST").project_id == "checkout"
    assert store.find("acct-b", "variable", "shop/checkout/*/*", "API_HOST") is None


def test_replace_and_delete_only_from_the_version_they_read(any_stores):
    store = any_stores.variables
    first = entry(test_id="t" * 32)
    assert store.insert(first)
    second = first.model_copy(update={"version": 2, "value": "two"})
    assert store.replace(second, expected_version=1)
    assert not store.replace(first.model_copy(update={"version": 2, "value": "stale"}), expected_version=1)
    assert store.get("acct", first.id).value == "two"
    assert store.get("acct-b", first.id) is None  # another tenant's is a missing one
    assert not store.replace(second.model_copy(update={"account_id": "acct-b", "version": 3}), expected_version=2)
    assert not store.delete("acct", first.id, expected_version=1)
    assert not store.delete("acct-b", first.id, expected_version=2)
    assert store.delete("acct", first.id, expected_version=2)
    assert store.get("acct", first.id) is None and store.list("acct") == []


def test_racing_writes_of_one_variable_each_get_a_version_of_their_own(any_stores):
    results = race(12, lambda n: variables.put_variable(any_stores, ADMIN, PutVariableRequest(org_id="shop", name="NUM_USERS", value=str(n))))
    assert sorted(r.version for r in results) == list(range(1, 13))
    assert len({r.id for r in results}) == 1
    (stored,) = any_stores.variables.list("acct")
    last = max(results, key=lambda r: r.version)
    assert (stored.version, stored.value) == (12, last.value)
