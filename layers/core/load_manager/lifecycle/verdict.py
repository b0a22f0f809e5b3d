"""What a run's results decide, as the lifecycle applies it: auto-stop at each poll and the result at
Finalize (the report page kept once the run is final is usecases/run_report.py). The judging itself
is pure (load_manager.analysis); this module reads the store and writes the decisions, conditionally."""

from __future__ import annotations

from typing import Any

from load_manager.analysis import autostop, generators
from load_manager.analysis.criteria import Results, evaluate, needs_baseline
from load_manager.backends.base import LiveStats
from load_manager.ids import now_ms
from load_manager.models.runs import Run, StatusChange
from load_manager.observability import count, logger
from load_manager.store import Stores

SYSTEM = "system"


def auto_stop(stores: Stores, run: Run, now: int, stats: LiveStats) -> Run | None:
    """Ask the run to stop (a stop request by `system`, with its reason) when its failure ratio over
    the auto-stop window is at or above the threshold. Returns the stopping run when it fired."""
    settings = run.auto_stop
    if settings is None or not settings.enabled or run.stop_requested_at or run.status != "Running":
        return None
    before = stores.metrics.counts_before(run.account_id, run.id, autostop.window_start(settings, now))
    reference = autostop.reference(settings, now, run.started_at, before)
    reason = autostop.check(settings, autostop.Counts(now, stats.total_requests, stats.total_failures), reference)
    if reason is None:
        return None
    # Conditional on Running: a user's stop that came first keeps the run Cancelled, by them.
    stopping = stores.runs.transition(
        run.account_id, run.id, {"Running"}, StatusChange(status="Stopping", at=now, actor=SYSTEM, reason=reason.message),
        {"stop_requested_at": now, "stop_requested_by": SYSTEM, "stop_reason": reason},
    )  # fmt: skip
    if stopping is not None:
        count("RunsAutoStopped")
        logger.info("auto-stop fired", extra={"runId": run.id, "failRatio": reason.observed_fail_ratio})
    return stopping


def final_change(stores: Stores, run: Run, fields: dict[str, Any]) -> tuple[StatusChange, dict[str, Any]]:
    """How a run that reached Finalize ends, and its result. An auto-stopped run is Finished and
    Failed; a run stopped on request is Cancelled and NotEvaluated; otherwise the criteria decide."""
    now = now_ms()
    if run.stop_reason is None and run.stop_requested_at:
        actor = run.stop_requested_by or SYSTEM
        return StatusChange(status="Cancelled", at=now, actor=actor, reason="stopped on request"), {"result": "NotEvaluated"}
    reason = run.stop_reason.message if run.stop_reason else "duration reached"
    result, lines = evaluate(run.criteria, Results.of(fields.get("summary"), fields.get("endpoints") or []), _baseline(stores, run))
    if run.stop_reason is not None:
        result = "Failed"
    return StatusChange(status="Finished", at=now, actor=SYSTEM, reason=reason), {"result": result, "criteria_results": lines}


def generator_fields(stores: Stores, run: Run) -> dict[str, Any]:
    """The generators' verdict, from the run's samples (analysis/generators.py): kept beside the
    result, which the criteria decide as ever. None when Locust gave no reading, or too few."""
    health = generators.judge(stores.metrics.generator_readings(run.account_id, run.id))
    judged = health is not None and any(f.judged for f in health.generators)
    if health is not None and health.saturated:
        count("RunsGeneratorSaturated")
    return {"generator_health": health, "generator_saturated": health.saturated if judged and health else None}


def _baseline(stores: Stores, run: Run) -> Results | None:
    if not run.baseline_run_id or not needs_baseline(run.criteria):
        return None
    baseline = stores.runs.get(run.account_id, run.baseline_run_id)
    return None if baseline is None else Results.of(baseline.summary, baseline.endpoints)
