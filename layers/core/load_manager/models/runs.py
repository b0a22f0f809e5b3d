"""Runs: starting one, and the run as the API answers it (status, history, pinned revision, results)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from load_manager.models.base import (
    ApiModel,
    BackendKind,
    DurationSeconds,
    Page,
    RequestModel,
    RevisionSelector,
    RunResult,
    RunStatus,
    ScopeId,
    SpawnRate,
    TargetUrl,
    Users,
    Workers,
)
from load_manager.models.criteria import AutoStopSettings, Criteria, Criterion, CriterionResult, StopReason

FINAL_STATUSES: frozenset[str] = frozenset({"Finished", "Failed", "Cancelled"})
ACTIVE_STATUSES: frozenset[str] = frozenset({"Pending", "Starting", "Running", "Stopping"})


class StartRunRequest(RequestModel):
    """Every field falls back to the load test's defaults; `revision` to the latest."""

    target_users: Users | None = None
    spawn_rate: SpawnRate | None = None
    duration_seconds: DurationSeconds | None = None
    workers: Workers | None = None
    env_id: ScopeId | None = None
    target_url: TargetUrl | None = None
    revision: RevisionSelector | None = Field(
        default=None, description="Revision id or number to run; the latest by default"
    )
    criteria: Criteria | None = Field(default=None, description="This run's criteria instead of the test's ([] for none)")
    auto_stop: AutoStopSettings | None = Field(default=None, description="This run's auto-stop instead of the test's")
    baseline_run_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        default=None, description="This run's baseline instead of the test's (a Finished run of the same test)"
    )


class StatusChange(ApiModel):
    status: RunStatus
    at: int = Field(description="Epoch milliseconds")
    actor: str = Field(description="Who caused it: a user, or 'system'")
    reason: str | None = None


class LiveFigures(ApiModel):
    sampled_at: int
    state: str = Field(description="Locust's own state (spawning, running, ...)")
    users: int
    rps: float
    failures_per_second: float
    fail_ratio: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    total_requests: int
    total_failures: int


class EndpointSummary(ApiModel):
    method: str
    name: str
    requests: int
    failures: int
    avg_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rps: float


class ErrorSummary(ApiModel):
    method: str
    name: str
    error: str
    occurrences: int


class RunSummary(ApiModel):
    total_requests: int
    total_failures: int
    fail_ratio: float
    rps: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    avg_ms: float | None = None
    max_ms: float | None = None
    duration_seconds: float


class ApiTrigger(ApiModel):
    type: Literal["api"] = "api"
    caller: str = Field(description="Who called POST /v1/load-tests/{id}/runs")


class EventTrigger(ApiModel):
    type: Literal["event"] = "event"
    trigger_id: str
    event_id: str = Field(description="EventBridge's id of the event that fired the trigger")
    source: str
    detail_type: str
    event_digest: str = Field(description="sha256 of the event's source, detail-type, resources and detail: what deduplicates it")


class ScheduleTrigger(ApiModel):
    type: Literal["schedule"] = "schedule"
    schedule_id: str
    occurrence_at: int = Field(description="The scheduled time of the occurrence (epoch ms)")


RunTrigger = Annotated[ApiTrigger | EventTrigger | ScheduleTrigger, Field(discriminator="type")]


class Run(ApiModel):
    id: str
    account_id: str
    load_test_id: str
    status: RunStatus
    result: RunResult = "NotEvaluated"
    status_history: list[StatusChange]
    script_revision_id: str
    revision_number: int
    script_sha256: str
    target_url: str
    target_users: int
    spawn_rate: float
    duration_seconds: int
    workers: int
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    backend: BackendKind | None = Field(default=None, description="Locust backend that ran it: local or ecs")
    cluster_id: str | None = None
    execution_arn: str | None = None
    poll_seconds: int | None = None
    created_at: int
    created_by: str
    started_at: int | None = Field(default=None, description="When load began (epoch ms)")
    ended_at: int | None = None
    stop_requested_at: int | None = None
    stop_requested_by: str | None = None
    failure_reason: str | None = None
    live: LiveFigures | None = None
    summary: RunSummary | None = None
    endpoints: list[EndpointSummary] = Field(default_factory=list)
    errors: list[ErrorSummary] = Field(default_factory=list)
    report_location: str | None = Field(default=None, description="Locust's own HTML report")
    trigger: RunTrigger | None = Field(default=None, description="What started the run (absent on runs older than triggers)")
    criteria: list[Criterion] = Field(default_factory=list, description="What the run is judged by, fixed when it was created")
    auto_stop: AutoStopSettings | None = Field(default=None, description="Fixed when the run was created; null: none")
    baseline_run_id: str | None = None
    criteria_results: list[CriterionResult] = Field(default_factory=list)
    stop_reason: StopReason | None = Field(default=None, description="Why the run stopped itself (auto-stop)")
    results_report_location: str | None = Field(default=None, description="The results report page (GET /v1/runs/{runId}/report)")
    series_step_ms: int | None = Field(
        default=None, description="Bucket width of the run's default metrics series, fixed when it starts (the whole run fits 1,000 points)"
    )


class RunPage(Page[Run]):
    pass
