"""The contract of the run-side stores (runs, metrics, clusters, idempotency keys), on every adapter."""

from __future__ import annotations

import threading

from load_manager.ids import new_id, now_ms
from load_manager.models.clusters import ClusterConfig
from load_manager.models.records import MetricsSample
from load_manager.models.runs import LiveFigures, Run, StatusChange
from load_manager.store import IdempotencyRecord


def make_run(account: str = "acct", test_id: str = "t" * 32, created_at: int = 1000, status: str = "Pending") -> Run:
    return Run(
        id=new_id(), account_id=account, load_test_id=test_id, status=status,
        status_history=[StatusChange(status=status, at=created_at, actor="a@x")], script_revision_id="r",
        revision_number=1, script_sha256="0" * 64, target_url="http://127.0.0.1:9", target_users=5, spawn_rate=5,
        duration_seconds=30, workers=1, created_at=created_at, created_by="a@x",
    )


def change(status: str, at: int = 2000, actor: str = "system") -> StatusChange:
    return StatusChange(status=status, at=at, actor=actor, reason=f"to {status}")


def test_insert_is_retry_safe_and_reads_are_tenant_scoped(any_stores):
    run = make_run()
    assert any_stores.runs.insert(run) is True
    assert any_stores.runs.insert(run) is False
    assert any_stores.runs.get("acct", run.id) == run
    assert any_stores.runs.get("other", run.id) is None


def test_transitions_are_conditional_and_final_states_are_final(any_stores):
    run = make_run()
    any_stores.runs.insert(run)
    started = any_stores.runs.transition("acct", run.id, {"Pending"}, change("Starting"), {"poll_seconds": 3})
    assert started.status == "Starting" and started.poll_seconds == 3
    assert [h.status for h in started.status_history] == ["Pending", "Starting"]
    assert any_stores.runs.transition("acct", run.id, {"Pending"}, change("Starting")) is None  # a retried step
    finished = any_stores.runs.transition("acct", run.id, {"Starting", "Running"}, change("Finished"), {"ended_at": 9})
    assert finished.status == "Finished" and finished.ended_at == 9
    # A late poll or a retried MarkFailed can never move it out of its final state.
    assert any_stores.runs.transition("acct", run.id, {"Pending", "Starting", "Running", "Stopping"}, change("Failed")) is None
    assert any_stores.runs.update("acct", run.id, {"failure_reason": "late"}, when_status_in={"Running"}) is None
    stored = any_stores.runs.get("acct", run.id)
    assert stored.status == "Finished" and stored.failure_reason is None and len(stored.status_history) == 3
    assert any_stores.runs.transition("other", run.id, {"Finished"}, change("Failed")) is None


def test_update_sets_nested_models(any_stores):
    run = make_run(status="Running")
    any_stores.runs.insert(run)
    live = LiveFigures(sampled_at=5, state="running", users=5, rps=10.5, failures_per_second=0, fail_ratio=0,
                       p95_ms=12.0, total_requests=100, total_failures=0)
    updated = any_stores.runs.update("acct", run.id, {"live": live}, when_status_in={"Running"})
    assert updated.live == live and any_stores.runs.get("acct", run.id).live == live


def test_only_one_concurrent_status_transition_wins(any_stores):
    run = make_run()
    any_stores.runs.insert(run)
    barrier, wins = threading.Barrier(8), []

    def attempt(i: int) -> None:
        barrier.wait()
        if any_stores.runs.transition("acct", run.id, {"Pending"}, change("Starting", actor=f"w{i}")):
            wins.append(i)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(any_stores.runs.get("acct", run.id).status_history) == 2


def test_list_filters_paginates_and_finds_active_runs(any_stores):
    runs = [make_run(created_at=1000 + i // 2, status="Finished" if i % 3 else "Running") for i in range(7)]
    for run in runs:
        any_stores.runs.insert(run)
    any_stores.runs.insert(make_run(account="other", status="Running"))
    seen, after = [], None
    while True:
        page = any_stores.runs.list("acct", "t" * 32, status=None, limit=3, after=after)
        seen += page
        if len(page) < 3:
            break
        after = (page[-1].created_at, page[-1].id)
    assert [r.id for r in seen] == [r.id for r in sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)]
    running = any_stores.runs.list("acct", "t" * 32, status="Running", limit=50, after=None)
    assert {r.id for r in running} == {r.id for r in runs if r.status == "Running"}
    assert any_stores.runs.has_active("acct", "t" * 32) and not any_stores.runs.has_active("acct", "u" * 32)
    assert len(any_stores.runs.list_active()) == len(running) + 1  # every tenant


def test_ended_among_names_the_final_runs_of_every_tenant_that_ended_before_a_time(any_stores):
    active, early, late, cancelled = make_run(), make_run(account="other"), make_run(), make_run()
    for run in (active, early, late, cancelled):
        any_stores.runs.insert(run)
    any_stores.runs.transition("other", early.id, {"Pending"}, change("Failed", at=100), {"ended_at": 100})
    any_stores.runs.transition("acct", late.id, {"Pending"}, change("Finished", at=900), {"ended_at": 900})
    any_stores.runs.transition("acct", cancelled.id, {"Pending"}, change("Cancelled"))  # no end time recorded
    asked = [active.id, early.id, late.id, cancelled.id, new_id()]  # and an id no run has
    assert any_stores.runs.ended_among(asked, ended_before=500) == {early.id, cancelled.id}
    assert any_stores.runs.ended_among(asked, ended_before=1000) == {early.id, late.id, cancelled.id}
    assert any_stores.runs.ended_among([], ended_before=1000) == set()


def test_the_cluster_handle_is_claimed_once(any_stores):
    run = make_run()
    any_stores.runs.insert(run)
    assert any_stores.runs.get_handle("acct", run.id) is None
    assert any_stores.runs.claim_handle("acct", run.id, {"backend": "local", "details": {"pid": 1}})
    assert not any_stores.runs.claim_handle("acct", run.id, {"backend": "local", "details": {"pid": 2}})
    assert any_stores.runs.get_handle("acct", run.id) == {"backend": "local", "details": {"pid": 1}}
    assert any_stores.runs.get("acct", run.id) == run  # the handle is internal, not part of the run


def test_metrics_are_kept_in_time_order_per_tenant(any_stores):
    for at in (3, 1, 2):
        any_stores.metrics.append("acct", MetricsSample(run_id="r1", at=at, users=1, rps=1.0, failures_per_second=0,
                                                        endpoints=[{"method": "GET", "name": "/", "requests": at, "failures": 0}]))
    samples = any_stores.metrics.list("acct", "r1", limit=10)
    assert [s.at for s in samples] == [1, 2, 3] and samples[0].endpoints[0]["requests"] == 1
    assert any_stores.metrics.list("other", "r1", limit=10) == []


def test_cluster_configurations_upsert_by_scope(any_stores):
    def config(max_workers: int, org: str | None = None) -> ClusterConfig:
        return ClusterConfig(id=new_id(), account_id="acct", org_id=org, backend="local", max_workers=max_workers, updated_at=1, updated_by="a")

    first = any_stores.clusters.put(config(2, "o1"))
    replaced = any_stores.clusters.put(config(4, "o1"))
    other = any_stores.clusters.put(config(8))
    assert replaced.id == first.id and replaced.max_workers == 4
    assert {c.id for c in any_stores.clusters.list("acct")} == {first.id, other.id}
    assert not any_stores.clusters.delete("other", first.id)
    assert any_stores.clusters.delete("acct", first.id) and [c.id for c in any_stores.clusters.list("acct")] == [other.id]


def test_idempotency_keys_claim_once_and_expire(any_stores):
    t = now_ms()  # real times: MongoDB's TTL index (mongomock's too) removes documents past expiresAtDate
    first = any_stores.idempotency.claim("acct", IdempotencyRecord("k", "f1", "run1", expires_at=t + 100_000), now=t)
    second = any_stores.idempotency.claim("acct", IdempotencyRecord("k", "f2", "run2", expires_at=t + 200_000), now=t + 10)
    assert first == second == IdempotencyRecord("k", "f1", "run1", t + 100_000)
    assert any_stores.idempotency.get("acct", "k", now=t + 50) == first
    assert any_stores.idempotency.get("other", "k", now=t + 50) is None
    assert any_stores.idempotency.get("acct", "k", now=t + 150_000) is None  # expired
    renewed = any_stores.idempotency.claim("acct", IdempotencyRecord("k", "f3", "run3", expires_at=t + 300_000), now=t + 150_000)
    assert renewed.run_id == "run3"
