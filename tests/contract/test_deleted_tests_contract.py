"""Deleted tests awaiting cleanup, on every adapter (store/ports/load_tests.py): the write that deletes
a test puts it on `awaiting_cleanup` (what belonged to it is removed after it: usecases/dependents.py);
the read is every tenant's, by deletion time, oldest first, bounded; `cleaned_up` takes one off, and
only that one. A delete that changes nothing marks nothing. Served by a partial index."""

from __future__ import annotations

from contract.test_results_store_contract import _sqlite_plans
from contract.test_store_contract import make_test

from load_manager.store.sqlite.load_tests import SQLiteLoadTestStore


def deleted(stores, account: str, at: int) -> str:
    test = make_test(account)
    stores.load_tests.insert(test)
    assert stores.load_tests.delete(account, test.id, at, "a@x")
    return test.id


def test_a_deleted_test_awaits_cleanup_until_cleaned_up_every_tenant_oldest_first(any_stores):
    live = make_test("acct-a")
    any_stores.load_tests.insert(live)
    second = deleted(any_stores, "acct-a", 2_000)
    first = deleted(any_stores, "acct-b", 1_000)
    third = deleted(any_stores, "acct-a", 3_000)
    assert any_stores.load_tests.awaiting_cleanup(10_000, 10) == [("acct-b", first), ("acct-a", second), ("acct-a", third)]
    assert any_stores.load_tests.awaiting_cleanup(3_000, 10) == [("acct-b", first), ("acct-a", second)]  # deleted before, strictly
    assert any_stores.load_tests.awaiting_cleanup(10_000, 2) == [("acct-b", first), ("acct-a", second)]
    assert any_stores.load_tests.awaiting_cleanup(1_000, 10) == []

    any_stores.load_tests.cleaned_up("acct-a", first)  # another tenant's id: not this test
    any_stores.load_tests.cleaned_up("acct-a", second)
    assert any_stores.load_tests.awaiting_cleanup(10_000, 10) == [("acct-b", first), ("acct-a", third)]
    any_stores.load_tests.cleaned_up("acct-a", second)  # again: nothing changes
    any_stores.load_tests.cleaned_up("acct-b", first)
    assert any_stores.load_tests.awaiting_cleanup(10_000, 10) == [("acct-a", third)]
    assert any_stores.load_tests.get("acct-a", live.id) == live


def test_a_delete_that_changes_nothing_marks_nothing(any_stores):
    test = make_test("acct")
    any_stores.load_tests.insert(test)
    assert not any_stores.load_tests.delete("other", test.id, 1_000, "x")  # another tenant's
    assert not any_stores.load_tests.delete("acct", test.id, 1_000, "x", expect={"updated_at": test.updated_at + 1})  # changed meanwhile
    assert any_stores.load_tests.awaiting_cleanup(10_000, 10) == []
    assert any_stores.load_tests.delete("acct", test.id, 2_000, "x")
    any_stores.load_tests.cleaned_up("acct", test.id)
    assert not any_stores.load_tests.delete("acct", test.id, 3_000, "x")  # deleted already: not marked again
    assert any_stores.load_tests.awaiting_cleanup(10_000, 10) == []


def test_the_read_is_served_by_a_partial_index(any_stores):
    deleted(any_stores, "acct", 1_000)
    if isinstance(any_stores.load_tests, SQLiteLoadTestStore):
        (plan,) = _sqlite_plans(any_stores, lambda: any_stores.load_tests.awaiting_cleanup(10_000, 10))
        assert "USING INDEX load_tests_awaiting_cleanup" in plan and "TEMP B-TREE" not in plan, plan
        return
    spec = any_stores.load_tests.collection.index_information()["awaiting_cleanup"]
    assert list(spec["key"]) == [("cleanupAt", 1), ("id", 1)] and spec["partialFilterExpression"] == {"cleanupAt": {"$exists": True}}
