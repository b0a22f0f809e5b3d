"""The run store's outbox and the sweeper's reads, on every adapter: events written by the status
change that owes them (one write: both or neither), kept until sent, found across tenants by age;
active runs of every tenant, oldest first, bounded."""

from __future__ import annotations

import threading

from contract.test_run_store_contract import change, make_run

from load_manager.store.ports import OutboxEvent


def event(run_id: str, kind: str = "RunFinished", at: int = 2000, status: str = "Finished") -> OutboxEvent:
    return OutboxEvent(f"{run_id}:{kind}", kind, status, at)


def test_a_transition_writes_its_events_with_it_and_a_refused_one_writes_none(any_stores):
    run = make_run(status="Running")
    any_stores.runs.insert(run)
    assert any_stores.runs.pending_events("acct", run.id) == []
    finished = event(run.id)
    assert any_stores.runs.transition("acct", run.id, {"Running"}, change("Finished"), {"ended_at": 9}, events=[finished])
    assert any_stores.runs.pending_events("acct", run.id) == [finished]
    # A retried step's transition is refused: no second event, the first one stays.
    assert any_stores.runs.transition("acct", run.id, {"Running"}, change("Failed"), events=[event(run.id, status="Failed")]) is None
    assert any_stores.runs.pending_events("acct", run.id) == [finished]
    assert any_stores.runs.pending_events("other", run.id) == []  # tenant-scoped
    assert any_stores.runs.get("acct", run.id).status == "Finished"  # the outbox is not part of the run


def test_events_are_kept_in_order_until_sent(any_stores):
    run = make_run(status="Starting")
    any_stores.runs.insert(run)
    started = event(run.id, "RunStarted", at=1500, status="Running")
    any_stores.runs.transition("acct", run.id, {"Starting"}, change("Running", at=1500), events=[started])
    finished = event(run.id, at=3000)
    any_stores.runs.transition("acct", run.id, {"Running"}, change("Finished", at=3000), events=[finished])
    assert any_stores.runs.pending_events("acct", run.id) == [started, finished]
    any_stores.runs.event_sent("other", run.id, started.event_id)  # another tenant's call changes nothing
    assert any_stores.runs.pending_events("acct", run.id) == [started, finished]
    any_stores.runs.event_sent("acct", run.id, started.event_id)
    any_stores.runs.event_sent("acct", run.id, started.event_id)  # sent twice: fine
    assert any_stores.runs.pending_events("acct", run.id) == [finished]
    any_stores.runs.event_sent("acct", run.id, finished.event_id)
    assert any_stores.runs.pending_events("acct", run.id) == []


def test_leftovers_are_found_across_tenants_by_age(any_stores):
    old, fresh, sent, other = (make_run(status="Running"), make_run(status="Running"), make_run(status="Running"), make_run("acct2", status="Running"))
    for run, at in ((old, 1000), (fresh, 9000), (sent, 1000), (other, 1200)):
        any_stores.runs.insert(run)
        any_stores.runs.transition(run.account_id, run.id, {"Running"}, change("Finished", at=at), events=[event(run.id, at=at)])
    any_stores.runs.event_sent("acct", sent.id, f"{sent.id}:RunFinished")
    leftovers = any_stores.runs.with_pending_events(written_before=5000, limit=10)
    assert sorted(leftovers) == sorted([("acct", old.id), ("acct2", other.id)])
    assert len(any_stores.runs.with_pending_events(written_before=5000, limit=1)) == 1
    assert any_stores.runs.with_pending_events(written_before=1000, limit=10) == []


def test_concurrent_transitions_write_the_event_once(any_stores):
    run = make_run(status="Running")
    any_stores.runs.insert(run)
    barrier = threading.Barrier(6)

    def attempt(i: int) -> None:
        barrier.wait()
        any_stores.runs.transition("acct", run.id, {"Running"}, change("Finished", actor=f"w{i}"), events=[event(run.id, at=2000 + i)])

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(any_stores.runs.pending_events("acct", run.id)) == 1


def test_active_runs_of_every_tenant_oldest_first_before_a_time(any_stores):
    runs = [make_run(created_at=at, status=status) for at, status in ((300, "Pending"), (100, "Running"), (200, "Finished"), (400, "Stopping"))]
    runs.append(make_run("acct2", created_at=250, status="Starting"))
    for run in runs:
        any_stores.runs.insert(run)
    assert [r.created_at for r in any_stores.runs.list_active()] == [100, 250, 300, 400]
    assert [r.created_at for r in any_stores.runs.list_active(created_before=300)] == [100, 250]
    assert [r.created_at for r in any_stores.runs.list_active(created_before=1000, limit=2)] == [100, 250]
