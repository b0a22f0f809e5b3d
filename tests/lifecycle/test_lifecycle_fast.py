"""Every branch of the run lifecycle in seconds: the real steps and the real ASL (walked by
`support.asl`, no waiting), a fake backend scripted to fail where each test needs it, SQLite."""

from __future__ import annotations

import dataclasses

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import ASL, create_run, statuses, walk
from support.scripts import SIMPLE

from load_manager.backends.base import BackendUnavailableError, ClusterHandle, ClusterSpec
from load_manager.identity import Caller
from load_manager.lifecycle.dispatch import run_step
from load_manager.usecases import runs

pytestmark = pytest.mark.usefixtures("fast_settings")


@pytest.fixture
def new_run(stores):
    return lambda duration_seconds=2: create_run(stores, duration_seconds)


def test_a_run_goes_from_pending_to_finished_and_the_handle_learnt_at_begin_is_stored(stores, new_run):
    run, backend = new_run(duration_seconds=1), FakeBackend()
    execution = walk(stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "SUCCEEDED" and final.status == "Finished"
    assert statuses(stores, run) == ["Pending", "Starting", "Running", "Finished"]
    assert final.summary is not None and final.summary.total_requests == final.endpoints[0].requests > 0
    assert final.summary.p90_ms == 15.0
    assert stores.runs.get_handle(run.account_id, run.id)["details"]["learnt"] is True
    assert stores.metrics.list(run.account_id, run.id, limit=100)
    assert not backend.live_clusters(), "the cluster was torn down"


def test_stop_during_start_ends_cancelled_by_who_stopped_it(stores, new_run):
    run = new_run()
    stopper = Caller(subject="u2", email="sre@example.com", account_id="acct", groups=frozenset())
    backend = FakeBackend(on_begin=lambda handle: runs.stop_run(stores, stopper, run.id))
    execution = walk(stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "SUCCEEDED"
    assert final.status == "Cancelled" and final.status_history[-1].actor == "sre@example.com"
    assert not backend.live_clusters()


def test_a_start_that_finds_a_concurrent_attempts_launch_adopts_it_and_launches_nothing(stores, new_run):
    # The launch is recorded before it happens: a concurrent StartRun attempt that claimed first and
    # launched (then died, or still waits in begin) leaves its launch id, and ours finds its cluster.
    run = new_run(duration_seconds=1)
    backend = FakeBackend()
    rival = ClusterHandle(backend="local", run_id=run.id, web_url="", workers=1, started_at=0.0, launch_id="rival-launch", launched=False)
    assert stores.runs.claim_handle(run.account_id, run.id, rival.to_dict())
    backend.launch(dataclasses.replace(_spec_of(run), launch_id="rival-launch"))
    execution = walk(stores, backend, run)
    assert execution.status == "SUCCEEDED" and stores.runs.get(run.account_id, run.id).status == "Finished"
    assert backend.calls.count("launch") == 1, "ours never launched a second cluster"
    (cluster,) = backend.clusters.values()
    assert cluster.began and cluster.torn_down, "the rival's cluster ran the load, and was torn down"
    assert stores.runs.get_handle(run.account_id, run.id)["launch_id"] == "rival-launch"


def test_a_crash_fails_the_run_with_the_exit_code(stores, new_run):
    run = new_run(duration_seconds=30)
    backend = FakeBackend()
    backend.on_sample = lambda handle: backend.crash(handle, exit_code=137) if backend.clusters[handle.launch_id].samples >= 2 else None
    execution = walk(stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "FAILED" and final.status == "Failed"
    assert final.failure_reason.startswith("LocustCrashedError: Locust exited") and "137" in final.failure_reason
    assert not backend.live_clusters()


def test_the_deadline_fails_a_run_whose_poll_comes_too_late(stores, new_run):
    run = new_run(duration_seconds=30)
    backend = FakeBackend()

    def late(handle) -> None:
        # As if this poll came after the duration plus the margin (a stalled execution).
        started = stores.runs.get(run.account_id, run.id).started_at
        stores.runs.update(run.account_id, run.id, {"started_at": started - 10 * 60_000}, when_status_in={"Running"})

    backend.on_status = late
    execution = walk(stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "FAILED" and final.status == "Failed"
    assert final.failure_reason.startswith("RunDeadlineExceededError")
    assert execution.retries == [], "a deadline is not retried"


def test_a_poll_error_is_retried_and_the_run_then_finishes(stores, new_run):
    run = new_run(duration_seconds=1)
    failures = iter([BackendUnavailableError("Locust's web API timed out")])
    backend = FakeBackend(on_sample=lambda handle: _raise_next(failures))
    execution = walk(stores, backend, run)
    assert execution.retries == [("PollRun", "RetryableStepError")]
    assert execution.status == "SUCCEEDED" and stores.runs.get(run.account_id, run.id).status == "Finished"


def test_a_poll_error_that_never_passes_fails_the_run_after_the_retries(stores, new_run):
    run = new_run(duration_seconds=30)
    backend = FakeBackend(on_sample=lambda handle: _raise(BackendUnavailableError("Locust's web API timed out")))
    execution = walk(stores, backend, run)
    final = stores.runs.get(run.account_id, run.id)
    retry = next(r for r in ASL["States"]["PollRun"]["Retry"] if r["ErrorEquals"] == ["RetryableStepError"])
    assert execution.retries == [("PollRun", "RetryableStepError")] * retry["MaxAttempts"]
    assert execution.status == "FAILED" and final.status == "Failed"
    assert final.failure_reason.startswith("BackendUnavailableError: Locust's web API timed out")
    assert not backend.live_clusters()


def test_a_retried_finalize_changes_nothing_and_leaves_nothing_running(stores, new_run):
    run = new_run(duration_seconds=1)
    backend = FakeBackend()
    walk(stores, backend, run)
    before = stores.runs.get(run.account_id, run.id)
    again = run_step({"action": "finalize", "runId": run.id, "accountId": run.account_id}, stores, backend.factory)
    assert again["done"] is True and stores.runs.get(run.account_id, run.id) == before


def _spec_of(run):
    return ClusterSpec(run_id=run.id, script=SIMPLE, target_url=run.target_url, users=1, spawn_rate=1, duration_seconds=1)


def _raise(exc: Exception) -> None:
    raise exc


def _raise_next(errors) -> None:
    error = next(errors, None)
    if error is not None:
        raise error

