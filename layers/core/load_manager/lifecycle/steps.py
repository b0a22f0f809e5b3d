"""The run lifecycle's steps, one per task state of statemachine/run_lifecycle.asl.json:
StartRun (`start`) -> Wait -> PollRun (`poll`, loop) -> Finalize (`finalize`); any failure ->
MarkFailed (`mark_failed`).

Each step is safe to retry, after an error or after its Lambda died anywhere: status writes are
conditional, a run has one launch, recorded before it happens and adopted by a retry (`launches`),
the events a status change owes are written with it and drained by whichever attempt comes next
(`notify`), and a step that finds its run already final changes nothing but what was left undone
(teardown, report, events). Steps take the stores and a backend factory from their caller
(`dispatch`), so tests drive every branch with a fake backend.
"""

from __future__ import annotations

import time
from typing import Any

from load_manager.analysis.series import step_for
from load_manager.backends import BackendFactory
from load_manager.backends.base import ClusterSpec, LocustCrashedError
from load_manager.errors import RunNotFoundError
from load_manager.ids import now_ms
from load_manager.lifecycle import launches, notify, run_environment, usage
from load_manager.lifecycle.polling import EVENTS_PER_POLL_LOOP, poll_interval_seconds
from load_manager.lifecycle.results import final_fields, live_figures, metrics_sample
from load_manager.lifecycle.step_errors import failure_reason
from load_manager.lifecycle.verdict import auto_stop, final_change, generator_fields
from load_manager.models.load_tests import LastRun
from load_manager.models.records import StoredRevision
from load_manager.models.runs import ACTIVE_STATUSES, FINAL_STATUSES, Run, StatusChange
from load_manager.observability import MetricUnit, count, logger, measure
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases.run_report import finalize_report, keep_locust_report

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
    stores.load_tests.record_run(run.account_id, run.load_test_id, LastRun.of(run))  # the test's list shows it starting

    revision = stores.revisions.get(run.account_id, run.load_test_id, run.script_revision_id)
    if revision is None or revision.content is None or revision.pruned_at is not None:  # never pruned while a run uses it
        raise RunNotFoundError(f"the script revision {run.script_revision_id} of run {run.id} is missing")
    spec = _spec(stores, run, revision)
    backend = run_environment.guarded(backends, run)(launches.cluster_config_of(stores, run))  # what it reports: secrets redacted
    handle = launches.claimed_handle(stores, backend, run, spec)
    backend.begin(handle, spec)  # LocustStartError is not retried: MarkFailed records why
    # What begin learnt (addresses, worker ids) is stored once: polls then need no discovery.
    stores.runs.update_handle(run.account_id, run.id, handle.to_dict())
    now = now_ms()
    stores.runs.transition(
        run.account_id, run.id, {"Starting"}, StatusChange(status="Running", at=now, actor=SYSTEM, reason="load confirmed"),
        {"started_at": now, "locust_version": handle.details.get("locust_version")}, events=[notify.run_started(run.id, now)],
    )  # fmt: skip
    notify.drain(stores, run.account_id, run.id)  # also what an attempt that died after the write left
    run = _load(stores, run_id, account_id)
    return _state(run, done=run.status not in ACTIVE_STATUSES)


def poll(stores: Stores, backends: BackendFactory, run_id: str, account_id: str) -> dict[str, Any]:
    began = time.monotonic()
    run = _load(stores, run_id, account_id)
    if run.status in FINAL_STATUSES:
        return _state(run, done=True)
    backend, handle = launches.live_handle(stores, run_environment.guarded(backends, run), run)
    if backend is None or handle is None:
        return _state(run, done=True)  # stopped before any cluster existed
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
    if run.status in FINAL_STATUSES:  # a retried Finalize: finish what the attempt before did not
        launches.teardown_all(stores, backends, run)
        run = usage.record(stores, backends, run_id, account_id) or run
        if not run.results_report_location:
            finalize_report(stores, run)
        notify.drain(stores, account_id, run_id)
        return _state(run, done=True)
    backend, handle = launches.live_handle(stores, run_environment.guarded(backends, run), run)
    fields: dict[str, Any] = {"ended_at": now_ms()}  # the load stops now; collecting takes a while
    if backend and handle:
        results = backend.collect(handle)  # stops the load, then reads the final stats
        fields |= final_fields(run, results, load_ended_at=fields["ended_at"])
        if results.html_report:
            fields["report_location"] = keep_locust_report(run, results.html_report)
    fields |= generator_fields(stores, run)  # judged from the samples, beside the criteria
    fields |= usage.final_fields(stores, run)  # a local run's, from the same samples (ECS: after the teardown)
    change, verdict = final_change(stores, run, fields)
    finished = notify.run_finished(run.id, change.status, change.at)
    ended = stores.runs.transition(run.account_id, run.id, ACTIVE_STATUSES, change, fields | verdict, events=[finished])
    if ended is not None:
        _count_ended(ended)
    launches.teardown_all(stores, backends, run)
    recorded = usage.record(stores, backends, run_id, account_id)  # once torn down: what its generators used
    if ended is not None:
        finalize_report(stores, recorded or ended)
    notify.drain(stores, account_id, run_id)  # after teardown: a slow bus never keeps Locust running
    return _state(_load(stores, run_id, account_id), done=True)


def mark_failed(stores: Stores, backends: BackendFactory, run_id: str, account_id: str, error: dict[str, Any]) -> dict[str, Any]:
    run = _load(stores, run_id, account_id)
    reason = failure_reason(error)
    try:
        final = launches.teardown_all(stores, backends, run)
        if final is not None and final.exit_code is not None and "exit code" not in reason:
            reason += f" (Locust exit code {final.exit_code})"
    except Exception:  # the failure is what matters; teardown is retried by nobody, so log it
        logger.exception("teardown after failure did not complete", extra={"runId": run.id})
    now = now_ms()
    failed = stores.runs.transition(
        run.account_id, run.id, ACTIVE_STATUSES, StatusChange(status="Failed", at=now, actor=SYSTEM, reason=reason),
        {"failure_reason": reason, "ended_at": now, **usage.final_fields(stores, run)}, events=[notify.run_finished(run.id, "Failed", now)],
    )  # fmt: skip
    recorded = usage.record(stores, backends, run_id, account_id)  # torn down above (or it never launched)
    if failed is not None:
        _count_ended(failed)
        finalize_report(stores, recorded or failed)
    notify.drain(stores, account_id, run_id)
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
    from load_manager.usecases.bundles import bundle_of  # lazy: 18 ms at import (bench/cold_import.py --lazy), StartRun only

    bundle = bundle_of(stores, revision)
    return ClusterSpec(
        run_id=run.id, script=revision.content or "", script_name=bundle.entry_path, files=bundle.others(),
        target_url=run.target_url, users=run.target_users, spawn_rate=run.spawn_rate,
        duration_seconds=run.duration_seconds, workers=run.workers,
        load_profile=tuple(run.load_profile.plan()) if run.load_profile else (), data_split=tuple(run.data_split),
        run_env=run_environment.run_env(run), locustfiles=bundle.locustfiles,
    )  # fmt: skip


def _count_ended(run: Run) -> None:
    count(f"Runs{run.status}")  # RunsFinished, RunsFailed, RunsCancelled
    if run.started_at and run.ended_at:
        measure("RunDuration", MetricUnit.Seconds, (run.ended_at - run.started_at) / 1000)
