"""The run lifecycle's steps, one per task state of statemachine/run_lifecycle.asl.json:
StartRun (`start`) -> Wait -> PollRun (`poll`, loop) -> Finalize (`finalize`); any failure ->
MarkFailed (`mark_failed`).

Each step is safe to retry: status writes are conditional, the cluster handle is claimed once per
run, and a step that finds its run already final changes nothing. Steps take the stores and a
backend factory from their caller (`dispatch`), so tests drive every branch with a fake backend.
"""

from __future__ import annotations

import time
from typing import Any

from load_manager.analysis.series import step_for
from load_manager.backends import BackendFactory
from load_manager.backends.base import ClusterHandle, ClusterSpec, LocustBackend, LocustCrashedError
from load_manager.errors import RunNotFoundError
from load_manager.ids import now_ms
from load_manager.lifecycle import notify
from load_manager.lifecycle.polling import EVENTS_PER_POLL_LOOP, poll_interval_seconds
from load_manager.lifecycle.results import final_fields, live_figures, metrics_sample
from load_manager.lifecycle.step_errors import failure_reason
from load_manager.lifecycle.verdict import auto_stop, final_change, store_report
from load_manager.models import ACTIVE_STATUSES, FINAL_STATUSES, ClusterConfig, Run, StatusChange
from load_manager.observability import MetricUnit, count, logger, measure
from load_manager.settings import get_settings
from load_manager.store import StoredRevision, Stores
from load_manager.usecases.clusters import DEFAULT_CLUSTER_ID, default_cluster

SYSTEM = "system"


class RunDeadlineExceededError(Exception):
    """The run outlived its duration plus the margin: it is failed, whatever Locust says."""


def start(stores: Stores, backends: BackendFactory, run_id: str, account_id: str) -> dict[str, Any]:
    run = _load(stores, run_id, account_id)
    if run.status in FINAL_STATUSES or run.stop_requested_at:
        return _state(run, done=True)  # Finalize records the Cancelled outcome
    settings = get_settings()
    interval = poll_interval_seconds(
        run.duration_seconds, settings.run_deadline_margin_seconds, EVENTS_PER_POLL_LOOP, settings.min_poll_seconds
    )
    series_step = step_for((run.duration_seconds + settings.run_deadline_margin_seconds) * 1000)  # its whole life fits the chart
    stores.runs.transition(
        run.account_id, run.id, {"Pending"}, StatusChange(status="Starting", at=now_ms(), actor=SYSTEM, reason="starting Locust"),
        {"poll_seconds": interval, "series_step_ms": series_step},
    )  # fmt: skip
    run = _load(stores, run_id, account_id)
    if run.status not in ACTIVE_STATUSES:
        return _state(run, done=True)

    revision = stores.revisions.get(run.account_id, run.load_test_id, run.script_revision_id)
    if revision is None or revision.content is None or revision.pruned_at is not None:  # never pruned while a run uses it
        raise RunNotFoundError(f"the script revision {run.script_revision_id} of run {run.id} is missing")
    spec = _spec(stores, run, revision)
    backend = backends(_cluster_of(stores, run))
    handle = _claimed_handle(stores, backend, run, spec)
    backend.begin(handle, spec)  # LocustStartError is not retried: MarkFailed records why
    # What begin learnt (addresses, worker ids) is stored once: polls then need no discovery.
    stores.runs.update_handle(run.account_id, run.id, handle.to_dict())
    running = stores.runs.transition(
        run.account_id, run.id, {"Starting"}, StatusChange(status="Running", at=now_ms(), actor=SYSTEM, reason="load confirmed"),
        {"started_at": now_ms()},
    )  # fmt: skip
    if running is not None:
        notify.run_started(running)
    run = _load(stores, run_id, account_id)
    return _state(run, done=run.status not in ACTIVE_STATUSES)


def poll(stores: Stores, backends: BackendFactory, run_id: str, account_id: str) -> dict[str, Any]:
    began = time.monotonic()
    run = _load(stores, run_id, account_id)
    if run.status in FINAL_STATUSES:
        return _state(run, done=True)
    handle = _handle(stores, run)
    if handle is None:
        return _state(run, done=True)  # stopped before any cluster existed
    backend = backends(_cluster_of(stores, run))
    process = backend.status(handle)
    if not process.alive:
        raise LocustCrashedError(process.reason or "Locust exited during the run", exit_code=process.exit_code, log_tail=process.log_tail)
    now = now_ms()
    elapsed = now - (run.started_at or run.created_at)
    if elapsed > (run.duration_seconds + get_settings().run_deadline_margin_seconds) * 1000:
        raise RunDeadlineExceededError(f"the run passed its deadline ({run.duration_seconds} s + margin) without ending")
    stats = backend.sample(handle)
    stores.metrics.append(run.account_id, metrics_sample(run.id, now, stats))
    stores.runs.update(run.account_id, run.id, {"live": live_figures(now, stats)}, when_status_in=ACTIVE_STATUSES)
    stopped = auto_stop(stores, run, now, stats)
    over = run.started_at is not None and elapsed >= run.duration_seconds * 1000
    measure("PollLatency", MetricUnit.Milliseconds, (time.monotonic() - began) * 1000)
    return _state(run, done=over or run.stop_requested_at is not None or stopped is not None)


def finalize(stores: Stores, backends: BackendFactory, run_id: str, account_id: str) -> dict[str, Any]:
    run = _load(stores, run_id, account_id)
    handle = _handle(stores, run)
    backend = backends(_cluster_of(stores, run)) if handle else None
    if run.status in FINAL_STATUSES:  # a retried Finalize: make sure nothing is left running
        if backend and handle:
            backend.teardown(handle)
        if not run.results_report_location:
            store_report(stores, run)
        return _state(run, done=True)
    fields: dict[str, Any] = {"ended_at": now_ms()}  # the load stops now; collecting takes a while
    if backend and handle:
        results = backend.collect(handle)  # stops the load, then reads the final stats
        fields |= final_fields(run, results, load_ended_at=fields["ended_at"])
        if results.html_report:
            from load_manager.adapters.reports import save_report

            fields["report_location"] = save_report(run.account_id, run.id, results.html_report)
    change, verdict = final_change(stores, run, fields)
    ended = stores.runs.transition(run.account_id, run.id, ACTIVE_STATUSES, change, fields | verdict)
    if ended is not None:
        _count_ended(ended)
    if backend and handle:
        backend.teardown(handle)
    if ended is not None:
        store_report(stores, ended)
        notify.run_finished(ended)  # after teardown: a slow bus never keeps Locust running
    return _state(_load(stores, run_id, account_id), done=True)


def mark_failed(stores: Stores, backends: BackendFactory, run_id: str, account_id: str, error: dict[str, Any]) -> dict[str, Any]:
    run = _load(stores, run_id, account_id)
    reason = failure_reason(error)
    handle = _handle(stores, run)
    if handle is not None:
        try:
            final = backends(_cluster_of(stores, run)).teardown(handle)
            if final.exit_code is not None and "exit code" not in reason:
                reason += f" (Locust exit code {final.exit_code})"
        except Exception:  # the failure is what matters; teardown is retried by nobody, so log it
            logger.exception("teardown after failure did not complete", extra={"runId": run.id})
    failed = stores.runs.transition(
        run.account_id, run.id, ACTIVE_STATUSES, StatusChange(status="Failed", at=now_ms(), actor=SYSTEM, reason=reason),
        {"failure_reason": reason, "ended_at": now_ms()},
    )  # fmt: skip
    if failed is not None:
        _count_ended(failed)
        store_report(stores, failed)
        notify.run_finished(failed)
    return _state(_load(stores, run_id, account_id), done=True)


# ---- helpers ------------------------------------------------------------------------------------


def _state(run: Run, done: bool) -> dict[str, Any]:
    return {"runId": run.id, "accountId": run.account_id, "pollSeconds": run.poll_seconds or 1, "done": done}


def _load(stores: Stores, run_id: str, account_id: str) -> Run:
    run = stores.runs.get(account_id, run_id)
    if run is None:
        raise RunNotFoundError(f"run {run_id} not found")
    return run


def _spec(stores: Stores, run: Run, revision: StoredRevision) -> ClusterSpec:
    """What to run: the revision's whole bundle (every file, on every process of the cluster)."""
    from load_manager.usecases.bundles import bundle_of

    bundle = bundle_of(stores, revision)
    return ClusterSpec(
        run_id=run.id, script=revision.content or "", script_name=bundle.entry_path, files=bundle.others(),
        target_url=run.target_url, users=run.target_users, spawn_rate=run.spawn_rate,
        duration_seconds=run.duration_seconds, workers=run.workers,
    )  # fmt: skip


def _cluster_of(stores: Stores, run: Run) -> ClusterConfig:
    """The configuration the run was started on (a point read), with the backend it recorded."""
    backend = run.backend or get_settings().default_backend
    config = stores.clusters.get(run.account_id, run.cluster_id) if run.cluster_id and run.cluster_id != DEFAULT_CLUSTER_ID else None
    if config is not None and config.backend == backend:
        return config
    return default_cluster(run.account_id, backend)


def _handle(stores: Stores, run: Run) -> ClusterHandle | None:
    stored = stores.runs.get_handle(run.account_id, run.id)
    return ClusterHandle.from_dict(stored) if stored else None


def _claimed_handle(stores: Stores, backend: LocustBackend, run: Run, spec: ClusterSpec) -> ClusterHandle:
    """This run's one cluster. It is recorded before anything waits on it, so a retry after a
    timeout finds and reuses it; a concurrent attempt that launched second tears its own down."""
    handle = _handle(stores, run)
    if handle is not None:
        return handle
    launched = backend.launch(spec)
    if stores.runs.claim_handle(run.account_id, run.id, launched.to_dict()):
        return launched
    backend.teardown(launched)
    claimed = _handle(stores, run)
    if claimed is None:  # claim_handle said another handle was there
        raise RuntimeError(f"run {run.id} lost its cluster handle")
    return claimed


def _count_ended(run: Run) -> None:
    count(f"Runs{run.status}")  # RunsFinished, RunsFailed, RunsCancelled
    if run.started_at and run.ended_at:
        measure("RunDuration", MetricUnit.Seconds, (run.ended_at - run.started_at) / 1000)
