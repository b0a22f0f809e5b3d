"""The run lifecycle's steps, one per state of statemachine/run_lifecycle.asl.json.

StartRun -> Wait -> PollRun (loop) -> Finalize, any failure -> MarkFailed. Each step is safe to
retry: status writes are conditional, the cluster handle is claimed once per run, and a step that
finds its run already final changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from load_manager.backends import backend_for
from load_manager.backends.base import ClusterHandle, ClusterSpec, FinalResults, LiveStats, LocustBackend, LocustCrashedError
from load_manager.config import get_settings
from load_manager.errors import RunNotFoundError
from load_manager.ids import now_ms
from load_manager.models import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    EndpointSummary,
    ErrorSummary,
    LiveFigures,
    MetricsSample,
    Run,
    RunSummary,
    StatusChange,
)
from load_manager.observability import logger
from load_manager.orchestration.polling import EVENTS_PER_POLL_LOOP, poll_interval_seconds
from load_manager.store import Stores

SYSTEM = "system"


class RunDeadlineExceededError(Exception):
    """The run outlived its duration plus the margin: it is failed, whatever Locust says."""


def _state(run: Run, done: bool) -> dict[str, Any]:
    return {"runId": run.id, "accountId": run.account_id, "pollSeconds": run.poll_seconds or 1, "done": done}


def _load(stores: Stores, event: dict[str, Any]) -> Run:
    run = stores.runs.get(str(event["accountId"]), str(event["runId"]))
    if run is None:
        raise RunNotFoundError(f"run {event['runId']} not found")
    return run


def _backend(stores: Stores, run: Run) -> LocustBackend:
    config = next((c for c in stores.clusters.list(run.account_id) if c.id == run.cluster_id), None)
    return backend_for(run.backend or get_settings().default_backend, config.ecs if config else None)


def _handle(stores: Stores, run: Run) -> ClusterHandle | None:
    stored = stores.runs.get_handle(run.account_id, run.id)
    return ClusterHandle.from_dict(stored) if stored else None


def start_run(stores: Stores, event: dict[str, Any]) -> dict[str, Any]:
    run = _load(stores, event)
    if run.status in FINAL_STATUSES or run.stop_requested_at:
        return _state(run, done=True)  # Finalize records the Cancelled outcome
    settings = get_settings()
    poll = poll_interval_seconds(run.duration_seconds, settings.run_deadline_margin_seconds, EVENTS_PER_POLL_LOOP, settings.min_poll_seconds)
    stores.runs.transition(
        run.account_id, run.id, {"Pending"}, StatusChange(status="Starting", at=now_ms(), actor=SYSTEM, reason="starting Locust"),
        {"poll_seconds": poll},
    )
    run = _load(stores, event)
    if run.status not in ACTIVE_STATUSES:
        return _state(run, done=True)

    revision = stores.revisions.get(run.account_id, run.load_test_id, run.script_revision_id)
    spec = ClusterSpec(
        run_id=run.id, script=revision.content, target_url=run.target_url, users=run.target_users,
        spawn_rate=run.spawn_rate, duration_seconds=run.duration_seconds, workers=run.workers,
    )
    backend = _backend(stores, run)
    handle = _handle(stores, run)
    if handle is None:
        # Record the cluster before waiting on it: a retry after a timeout finds it and reuses it.
        launched = backend.launch(spec)
        if stores.runs.claim_handle(run.account_id, run.id, launched.to_dict()):
            handle = launched
        else:  # a concurrent attempt launched first: one cluster per run
            backend.teardown(launched)
            handle = _handle(stores, run)
    backend.begin(handle, spec)  # LocustStartError is not retried: MarkFailed records why
    stores.runs.transition(
        run.account_id, run.id, {"Starting"}, StatusChange(status="Running", at=now_ms(), actor=SYSTEM, reason="load confirmed"),
        {"started_at": now_ms()},
    )
    run = _load(stores, event)
    return _state(run, done=run.status not in ACTIVE_STATUSES)


def poll_run(stores: Stores, event: dict[str, Any]) -> dict[str, Any]:
    run = _load(stores, event)
    if run.status in FINAL_STATUSES:
        return _state(run, done=True)
    handle = _handle(stores, run)
    if handle is None:
        return _state(run, done=True)  # stopped before any cluster existed
    backend = _backend(stores, run)
    process = backend.status(handle)
    if not process.alive:
        raise LocustCrashedError("Locust exited during the run", exit_code=process.exit_code, log_tail=process.log_tail)
    now = now_ms()
    elapsed = now - (run.started_at or run.created_at)
    if elapsed > (run.duration_seconds + get_settings().run_deadline_margin_seconds) * 1000:
        raise RunDeadlineExceededError(f"the run passed its deadline ({run.duration_seconds} s + margin) without ending")
    stats = backend.sample(handle)
    stores.metrics.append(run.account_id, _sample(run.id, now, stats))
    stores.runs.update(run.account_id, run.id, {"live": _live(now, stats)}, when_status_in=ACTIVE_STATUSES)
    over = run.started_at is not None and elapsed >= run.duration_seconds * 1000
    return _state(run, done=over or run.stop_requested_at is not None)


def finalize_run(stores: Stores, event: dict[str, Any]) -> dict[str, Any]:
    run = _load(stores, event)
    handle = _handle(stores, run)
    backend = _backend(stores, run) if handle else None
    if run.status in FINAL_STATUSES:  # a retried Finalize: make sure nothing is left running
        if backend and handle:
            backend.teardown(handle)
        return _state(run, done=True)
    fields: dict[str, Any] = {"ended_at": now_ms()}  # the load stops now; collecting takes a while
    if backend and handle:
        results = backend.collect(handle)  # stops the load, then reads the final stats
        fields |= _final_fields(run, results, load_ended_at=fields["ended_at"])
        if results.html_report:
            from load_manager.orchestration.reports import save_report

            fields["report_location"] = save_report(run.account_id, run.id, results.html_report)
    if run.stop_requested_at:
        change = StatusChange(status="Cancelled", at=now_ms(), actor=run.stop_requested_by or SYSTEM, reason="stopped on request")
    else:
        change = StatusChange(status="Finished", at=now_ms(), actor=SYSTEM, reason="duration reached")
    stores.runs.transition(run.account_id, run.id, ACTIVE_STATUSES, change, fields)
    if backend and handle:
        backend.teardown(handle)
    return _state(_load(stores, event), done=True)


def mark_failed(stores: Stores, event: dict[str, Any]) -> dict[str, Any]:
    run = _load(stores, event)
    reason = _failure_reason(event.get("error") or {})
    handle = _handle(stores, run)
    if handle is not None:
        try:
            final = _backend(stores, run).teardown(handle)
            if final.exit_code is not None and "exit code" not in reason:
                reason += f" (Locust exit code {final.exit_code})"
        except Exception:  # the failure is what matters; teardown is retried by nobody, so log it
            logger.exception("teardown after failure did not complete", extra={"runId": run.id})
    stores.runs.transition(
        run.account_id, run.id, ACTIVE_STATUSES, StatusChange(status="Failed", at=now_ms(), actor=SYSTEM, reason=reason),
        {"failure_reason": reason, "ended_at": now_ms()},
    )
    return _state(_load(stores, event), done=True)


def _failure_reason(error: dict[str, Any]) -> str:
    """A human reason from Step Functions' {Error, Cause}; a Lambda Cause is the error as JSON."""
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage") or cause
    except (TypeError, ValueError):
        message = cause
    return f"{name}: {message}"[:4000] if message else name


def _percentile(value: float | None) -> float | None:
    return None if value is None else float(value)


def _live(now: int, stats: LiveStats) -> LiveFigures:
    return LiveFigures(
        sampled_at=now, state=stats.state, users=stats.user_count, rps=stats.current_rps,
        failures_per_second=stats.failures_per_second, fail_ratio=stats.fail_ratio,
        p50_ms=_percentile(stats.current_p50_ms if stats.current_p50_ms is not None else stats.p50_ms),
        p95_ms=_percentile(stats.current_p95_ms if stats.current_p95_ms is not None else stats.p95_ms),
        p99_ms=_percentile(stats.p99_ms), total_requests=stats.total_requests, total_failures=stats.total_failures,
    )


def _sample(run_id: str, now: int, stats: LiveStats) -> MetricsSample:
    live = _live(now, stats)
    return MetricsSample(
        run_id=run_id, at=now, users=live.users, rps=live.rps, failures_per_second=live.failures_per_second,
        p50_ms=live.p50_ms, p95_ms=live.p95_ms, p99_ms=live.p99_ms,
        endpoints=[
            {"method": e.method, "name": e.name, "requests": e.num_requests, "failures": e.num_failures} for e in stats.endpoints
        ],
    )


def _final_fields(run: Run, results: FinalResults, load_ended_at: int) -> dict[str, Any]:
    total = results.aggregated
    started = run.started_at or run.created_at
    return {
        "summary": RunSummary(
            total_requests=total.num_requests, total_failures=total.num_failures, fail_ratio=results.fail_ratio,
            rps=total.rps, p50_ms=_percentile(total.p50_ms), p95_ms=_percentile(total.p95_ms), p99_ms=_percentile(total.p99_ms),
            duration_seconds=round((load_ended_at - started) / 1000, 3),
        ),
        "endpoints": [
            EndpointSummary(
                method=e.method, name=e.name, requests=e.num_requests, failures=e.num_failures, avg_ms=e.avg_ms,
                min_ms=e.min_ms, max_ms=e.max_ms, p50_ms=_percentile(e.p50_ms), p95_ms=_percentile(e.p95_ms),
                p99_ms=_percentile(e.p99_ms), rps=e.rps,
            )
            for e in results.endpoints
        ],
        "errors": [ErrorSummary(method=e.method, name=e.name, error=e.error, occurrences=e.occurrences) for e in results.errors],
    }
