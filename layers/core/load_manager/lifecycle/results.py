"""What the lifecycle records from Locust: live figures and samples while a run polls, and the final
summary, per-endpoint table and errors at Finalize. Percentiles are the master's, never averaged."""

from __future__ import annotations

import dataclasses
from typing import Any

from load_manager.backends.base import EndpointStats, FinalResults, LiveStats
from load_manager.models.generators import GeneratorReading
from load_manager.models.metrics import MetricsSample
from load_manager.models.runs import EndpointSummary, ErrorSummary, LiveFigures, Run, RunSummary


def live_figures(now: int, stats: LiveStats) -> LiveFigures:
    # Locust's ~10 s window where it has one (p50, p95), else the cumulative figure.
    return LiveFigures(
        sampled_at=now, state=stats.state, users=stats.user_count, rps=stats.current_rps,
        failures_per_second=stats.failures_per_second, fail_ratio=stats.fail_ratio,
        p50_ms=stats.current_p50_ms if stats.current_p50_ms is not None else stats.p50_ms,
        p95_ms=stats.current_p95_ms if stats.current_p95_ms is not None else stats.p95_ms,
        p99_ms=stats.p99_ms, total_requests=stats.total_requests, total_failures=stats.total_failures,
    )  # fmt: skip


def metrics_sample(run_id: str, now: int, stats: LiveStats) -> MetricsSample:
    live = live_figures(now, stats)
    return MetricsSample(
        run_id=run_id, at=now, users=live.users, rps=live.rps, failures_per_second=live.failures_per_second,
        p50_ms=live.p50_ms, p95_ms=live.p95_ms, p99_ms=live.p99_ms,
        total_requests=stats.total_requests, total_failures=stats.total_failures,  # auto-stop's window counts
        endpoints=[_endpoint_sample(e) for e in stats.endpoints],
        generators=[GeneratorReading.model_construct(**dataclasses.asdict(g)) for g in stats.generators],  # typed by the backend already
    )  # fmt: skip


def _endpoint_sample(e: EndpointStats) -> dict[str, Any]:
    # Counts and percentiles are cumulative (Locust keeps no per-endpoint window); rates are current.
    return {
        "method": e.method, "name": e.name, "requests": e.num_requests, "failures": e.num_failures,
        "rps": e.current_rps, "failuresPerSecond": e.current_fail_per_sec, "p50Ms": e.p50_ms, "p95Ms": e.p95_ms, "p99Ms": e.p99_ms,
    }  # fmt: skip


def final_fields(run: Run, results: FinalResults, load_ended_at: int) -> dict[str, Any]:
    """The run's fields once the load has stopped: summary, endpoints, errors."""
    total = results.aggregated
    started = run.started_at or run.created_at
    return {
        "summary": RunSummary(
            total_requests=total.num_requests, total_failures=total.num_failures, fail_ratio=results.fail_ratio,
            rps=total.rps, p50_ms=total.p50_ms, p90_ms=total.p90_ms, p95_ms=total.p95_ms, p99_ms=total.p99_ms,
            avg_ms=total.avg_ms, max_ms=total.max_ms, duration_seconds=round((load_ended_at - started) / 1000, 3),
        ),
        "endpoints": [_endpoint(e) for e in results.endpoints],
        "errors": [ErrorSummary(method=e.method, name=e.name, error=e.error, occurrences=e.occurrences) for e in results.errors],
    }  # fmt: skip


def _endpoint(e: EndpointStats) -> EndpointSummary:
    return EndpointSummary(
        method=e.method, name=e.name, requests=e.num_requests, failures=e.num_failures, avg_ms=e.avg_ms, min_ms=e.min_ms,
        max_ms=e.max_ms, p50_ms=e.p50_ms, p90_ms=e.p90_ms, p95_ms=e.p95_ms, p99_ms=e.p99_ms, rps=e.rps,
    )  # fmt: skip
