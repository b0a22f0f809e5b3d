"""The audit trail's contract, on every adapter (store/ports/audit.py): a record is stored by the very
write that makes its change (both or neither, a refused change stores none), never updated nor
deleted, ordered by (at, seq) even within one millisecond, paginated and filtered per tenant; a hard
delete leaves nothing a tenant can read; and a crash between a MongoDB change and the copy of its
record leaves the record in the document until a drain (the reader, the sweeper) finishes it."""

from __future__ import annotations

import sqlite3

import pytest
from contract.test_automation_store_contract import make_schedule, make_trigger
from contract.test_store_contract import make_revision, make_test
from support.crash_points import Crash

from load_manager.ids import new_id
from load_manager.models.clusters import ClusterConfig
from load_manager.store.mongo.audit import Pending
from load_manager.store.ports.audit import AuditRecord, script_digest
from load_manager.store.sqlite.audit import SQLiteAuditStore


def record(action: str, target_id: str, *, account: str = "acct", at: int = 1000, actor: str = "alice@example.com", test_id: str | None = None):
    return AuditRecord(
        id=new_id(), account_id=account, at=at, actor=actor, role="editor", action=action, target_type=action.split(".")[0],
        target_id=target_id, load_test_id=test_id, before_digest=None, after_digest="a" * 64,
    )  # fmt: skip


def trail(stores, account: str = "acct", limit: int = 100, **filters) -> list[AuditRecord]:
    return stores.audit.query(account, limit=limit, **filters)


def is_sqlite(stores) -> bool:
    return isinstance(stores.audit, SQLiteAuditStore)


def test_each_write_stores_its_record_and_a_refused_write_stores_none(any_stores):
    test = make_test()
    created = record("loadTest.create", test.id, test_id=test.id, at=1000)
    any_stores.load_tests.insert(test, audit=created)
    stale = record("loadTest.update", test.id, test_id=test.id, at=1001)
    # Built on a state that is not the stored one any more: nothing changes, nothing is recorded.
    assert any_stores.load_tests.update("acct", test.id, {"name": "stale"}, audit=stale, expect={"updated_at": test.updated_at - 1}) is None
    assert any_stores.load_tests.update("other", test.id, {"name": "x"}, audit=record("loadTest.update", test.id, at=1002)) is None
    edited = record("loadTest.update", test.id, test_id=test.id, at=1003)
    changed = any_stores.load_tests.update("acct", test.id, {"name": "renamed", "updated_at": test.updated_at + 1}, audit=edited,
                                           expect={"updated_at": test.updated_at})  # fmt: skip
    assert changed is not None and changed.name == "renamed"
    deleted = record("loadTest.delete", test.id, test_id=test.id, at=1004)
    assert not any_stores.load_tests.delete("acct", test.id, 5, "bob", audit=record("loadTest.delete", test.id, at=1004), expect={"updated_at": 1})
    assert any_stores.load_tests.delete("acct", test.id, 5, "bob", audit=deleted)
    assert not any_stores.load_tests.delete("acct", test.id, 6, "bob", audit=record("loadTest.delete", test.id, at=1005))  # deleted already
    assert [r.id for r in trail(any_stores)] == [deleted.id, edited.id, created.id]  # newest first
    assert trail(any_stores)[1]._replace(seq=None) == edited  # as written (the store gives the seq)
    assert trail(any_stores, "other") == []


def test_records_of_one_millisecond_keep_the_order_they_were_stored_in(any_stores):
    triggers = [make_trigger() for _ in range(5)]
    written = []
    for trigger in triggers:  # all at the same millisecond
        written.append(record("trigger.create", trigger.id, test_id=trigger.load_test_id, at=7000))
        any_stores.triggers.insert(trigger, audit=written[-1])
    found = trail(any_stores)
    assert [r.id for r in found] == [r.id for r in reversed(written)]
    seqs = [r.seq for r in found]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 5


def test_pages_and_filters_by_target_actor_and_window(any_stores):
    test = make_test()
    any_stores.load_tests.insert(test, audit=record("loadTest.create", test.id, test_id=test.id, at=100))
    trigger, schedule = make_trigger(test_id=test.id), make_schedule(test_id=test.id)
    any_stores.triggers.insert(trigger, audit=record("trigger.create", trigger.id, test_id=test.id, at=200, actor="bob@example.com"))
    any_stores.schedules.insert(schedule, audit=record("schedule.create", schedule.id, test_id=test.id, at=300))
    any_stores.revisions.append(make_revision(test), skip_if_same_as_latest=True, audit=record("script.update", "r1", test_id=test.id, at=400))
    other = make_test()
    any_stores.load_tests.insert(other, audit=record("loadTest.create", other.id, test_id=other.id, at=500))
    any_stores.load_tests.insert(make_test("acct-b"), audit=record("loadTest.create", "b", account="acct-b", at=600))

    # A test's id finds its own records and those of what belongs to it.
    assert [r.action for r in trail(any_stores, target=test.id)] == ["script.update", "schedule.create", "trigger.create", "loadTest.create"]
    assert [r.action for r in trail(any_stores, target=trigger.id)] == ["trigger.create"]
    assert [r.actor for r in trail(any_stores, actor="bob@example.com")] == ["bob@example.com"]
    assert [r.at for r in trail(any_stores, start=200, end=400)] == [300, 200]  # [from, to)
    pages, after = [], None
    while True:
        page = any_stores.audit.query("acct", limit=2, after=after)
        pages.append([r.at for r in page])
        if len(page) < 2:
            break
        after = (page[-1].at, page[-1].seq)
    assert pages == [[500, 400], [300, 200], [100]]


def test_a_script_revision_records_the_revision_it_follows(any_stores):
    test = make_test()
    first, second = make_revision(test, "a = 1\n"), make_revision(test, "a = 2\n")
    any_stores.revisions.append(first, skip_if_same_as_latest=True, audit=record("script.update", first.id, test_id=test.id, at=1))
    any_stores.revisions.append(second, skip_if_same_as_latest=True, audit=record("script.update", second.id, test_id=test.id, at=2))
    same = make_revision(test, "a = 2\n")
    _, created = any_stores.revisions.append(same, skip_if_same_as_latest=True, audit=record("script.update", same.id, test_id=test.id, at=3))
    assert not created
    found = trail(any_stores)
    assert [r.target_id for r in found] == [second.id, first.id]  # no revision, no record
    assert found[0].before_digest == script_digest(first.sha256) and found[1].before_digest is None


def test_a_hard_delete_leaves_nothing_any_tenant_reads_and_frees_unique_keys(any_stores):
    trigger = make_trigger()
    any_stores.triggers.insert(trigger)
    gone = record("trigger.delete", trigger.id, test_id=trigger.load_test_id)
    assert not any_stores.triggers.delete("acct", trigger.load_test_id, trigger.id, audit=gone, expect={"updated_at": 5})  # not as read
    assert any_stores.triggers.delete("acct", trigger.load_test_id, trigger.id, audit=gone)
    assert any_stores.triggers.get("acct", trigger.load_test_id, trigger.id) is None
    assert any_stores.triggers.list("acct", trigger.load_test_id) == [] and any_stores.triggers.count("acct") == 0
    assert any_stores.triggers.list_all() == []
    assert [r.id for r in trail(any_stores)] == [gone.id]
    # A scope's configuration deleted: the scope takes a new one at once (the tombstone holds no key).
    config = ClusterConfig(id=new_id(), account_id="acct", org_id="shop", backend="local", max_workers=2, updated_at=1, updated_by="a")
    assert any_stores.clusters.put(config, audit=record("cluster.create", config.id), expect={}) is not None
    assert any_stores.clusters.put(config.model_copy(update={"id": new_id()}), expect={}) is None  # the scope has one
    assert any_stores.clusters.delete("acct", config.id, audit=record("cluster.delete", config.id))
    again = config.model_copy(update={"id": new_id(), "max_workers": 4})
    assert any_stores.clusters.put(again, audit=record("cluster.create", again.id), expect={}) is not None
    assert [c.id for c in any_stores.clusters.list("acct")] == [again.id]


def test_records_are_never_updated_nor_deleted(any_stores):
    assert not any(hasattr(any_stores.audit, name) for name in ("update", "delete", "insert", "put", "replace", "remove"))
    test = make_test()
    any_stores.load_tests.insert(test, audit=record("loadTest.create", test.id))
    if is_sqlite(any_stores):  # even by hand: the table refuses both
        conn = any_stores.audit.db.connection()
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit_log SET actor = 'mallory'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit_log")
    assert [r.actor for r in trail(any_stores)] == ["alice@example.com"]


@pytest.fixture
def crash_recording(any_stores, monkeypatch):
    """The process dies where the record would be stored: MongoDB, when copying it from the changed
    document to the trail (after the change's own write); SQLite, inside the change's transaction."""

    def crash(*args):
        if args[-1] is not None:  # a record to store (SQLite's write_record takes None for none)
            raise Crash()

    if is_sqlite(any_stores):
        from load_manager.store.sqlite import audit, automation, load_tests

        monkeypatch.setattr(load_tests, "write_record", crash)
        monkeypatch.setattr(automation, "write_record", crash)
        monkeypatch.setattr(audit, "write_record", crash)  # what the stores' deletes call (audit.delete_audited)
    else:
        monkeypatch.setattr(Pending, "_copy", crash)
    return monkeypatch


def test_a_crash_between_a_change_and_its_record_loses_neither(any_stores, crash_recording):
    test, trigger = make_test(), make_trigger()
    any_stores.load_tests.insert(test)
    any_stores.triggers.insert(trigger)
    edited = record("loadTest.update", test.id, test_id=test.id, at=2000)
    deleted = record("trigger.delete", trigger.id, test_id=trigger.load_test_id, at=2001)
    with pytest.raises(Crash):
        any_stores.load_tests.update("acct", test.id, {"name": "renamed"}, audit=edited, expect={"updated_at": test.updated_at})
    with pytest.raises(Crash):
        any_stores.triggers.delete("acct", trigger.load_test_id, trigger.id, audit=deleted)
    crash_recording.undo()  # the next process is healthy

    if is_sqlite(any_stores):  # one transaction: the change went with its record
        assert any_stores.load_tests.get("acct", test.id).name == "t"
        assert any_stores.triggers.get("acct", trigger.load_test_id, trigger.id) is not None
        assert trail(any_stores) == []
        return
    # MongoDB: the changes are made, their records wait in the documents (not in the trail yet) ...
    assert any_stores.load_tests.get("acct", test.id).name == "renamed"
    assert any_stores.triggers.get("acct", trigger.load_test_id, trigger.id) is None and any_stores.triggers.list_all() == []
    db = any_stores.audit.db
    assert db.audit_log.count_documents({}) == 0 and db.triggers.count_documents({}) == 1  # the tombstone
    # ... until the reader drains the tenant before it answers.
    assert [r.id for r in trail(any_stores)] == [deleted.id, edited.id]
    assert db.triggers.count_documents({}) == 0 and db.load_tests.count_documents({"auditPending.0": {"$exists": True}}) == 0
    assert [r.id for r in trail(any_stores)] == [deleted.id, edited.id]  # copied once


def test_the_sweeper_finishes_every_tenants_leftovers_once(any_stores, monkeypatch):
    tests = [make_test("acct"), make_test("acct-b")]
    for test in tests:
        any_stores.load_tests.insert(test)
    if not is_sqlite(any_stores):
        monkeypatch.setattr(Pending, "_copy", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    written = []
    for test in tests:
        written.append(record("loadTest.update", test.id, account=test.account_id, test_id=test.id))
        try:
            any_stores.load_tests.update(test.account_id, test.id, {"name": "n"}, audit=written[-1])
        except Crash:
            pass
    monkeypatch.undo()
    from support.fake_backend import FakeBackend

    from load_manager.lifecycle.sweeper import sweep

    report = sweep(any_stores, FakeBackend().factory, executions=None)  # no active run: Step Functions is not asked
    assert report.audit_records_finished == (0 if is_sqlite(any_stores) else 2) and report.errors == 0
    assert any_stores.audit.drain(None) == 0
    if not is_sqlite(any_stores):
        db = any_stores.audit.db
        assert {d["_id"] for d in db.audit_log.find({}, {"_id": True})} == {r.id for r in written}
    assert [r.id for r in trail(any_stores, "acct-b")] == [written[1].id]


def test_reads_are_served_by_an_index_without_sorting(any_stores, request):
    kind = request.node.callspec.params["any_stores"]
    test = make_test()
    any_stores.load_tests.insert(test, audit=record("loadTest.create", test.id, test_id=test.id))
    reads = [
        lambda: trail(any_stores, limit=10), lambda: trail(any_stores, target=test.id, limit=10),
        lambda: trail(any_stores, actor="alice@example.com", limit=10), lambda: trail(any_stores, start=1, end=2000, limit=10),
    ]  # fmt: skip
    if kind == "sqlite":
        from contract.test_results_store_contract import _sqlite_plans

        for read in reads:
            for plan in _sqlite_plans(any_stores, read):
                assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
        return
    db = any_stores.audit.db
    keys = {name: list(spec["key"]) for name, spec in db.audit_log.index_information().items()}
    assert keys["by_target"] == [("accountId", 1), ("target.id", 1), ("at", -1), ("seq", -1)]
    assert keys["by_test"] == [("accountId", 1), ("target.loadTestId", 1), ("at", -1), ("seq", -1)]
    assert keys["by_actor"] == [("accountId", 1), ("actor", 1), ("at", -1), ("seq", -1)]
    assert all(db[name].index_information()["audit_pending"].get("sparse") for name in ("load_tests", "triggers", "load_test_runs"))
    if kind == "mongodb":  # a real server says how it would run them
        for where in ({"accountId": "acct"}, {"accountId": "acct", "$or": [{"target.id": test.id}, {"target.loadTestId": test.id}]}):
            text = str(db.audit_log.find(where).sort([("at", -1), ("seq", -1)]).limit(10).explain()["queryPlanner"]["winningPlan"])
            assert "IXSCAN" in text and "COLLSCAN" not in text and "'SORT'" not in text, text


def test_racing_changes_each_get_a_record_that_starts_where_the_one_before_ended(any_stores):
    """Twelve PATCHes of one test at once, through the use case: each is recorded once, and read in
    order each record's beforeDigest is the afterDigest of the one before (no stale before)."""
    from support.concurrency import race
    from support.scripts import SIMPLE, b64

    from load_manager.identity import Caller
    from load_manager.models.load_tests import CreateLoadTestRequest, UpdateLoadTestRequest
    from load_manager.usecases import load_tests

    editors = [Caller(subject=f"u{n}", email=f"u{n}@example.com", account_id="acct", groups=frozenset(), role="editor") for n in range(12)]
    created = load_tests.create(any_stores, editors[0], CreateLoadTestRequest.model_validate({"name": "t", "scriptContent": b64(SIMPLE)}))
    race(12, lambda n: load_tests.update(any_stores, editors[n], created.id, UpdateLoadTestRequest.model_validate({"description": f"by {n}"})))
    chain = list(reversed(trail(any_stores, target=created.id)))
    assert [r.action for r in chain] == ["loadTest.create"] + ["loadTest.update"] * 12
    assert sorted(r.actor for r in chain[1:]) == sorted(e.actor for e in editors)
    for previous, record in zip(chain, chain[1:], strict=False):
        assert record.before_digest == previous.after_digest
    assert chain[-1].after_digest != chain[0].after_digest
