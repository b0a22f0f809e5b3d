"""Runs: the run as the API answers it (status, history, pinned revision, results). What starts one (the
request, the trigger) is models/run_requests.py, named here too."""

from __future__ import annotations

from pydantic import Field

from load_manager.models.base import ACTIVE_STATUSES as ACTIVE_STATUSES  # defined with RunStatus: naming one builds no runs model
from load_manager.models.base import FINAL_STATUSES as FINAL_STATUSES
from load_manager.models.base import (
    ApiModel,
    BackendKind,
    NextCursor,
    RunResult,
    RunStatus,
)
from load_manager.models.criteria import AutoStopSettings, Criterion, CriterionResult, StopReason
from load_manager.models.generators import GeneratorHealth
from load_manager.models.load_profiles import LoadProfile
from load_manager.models.run_requests import ApiTrigger as ApiTrigger  # what starts a run, named here as ever
from load_manager.models.run_requests import EventTrigger as EventTrigger
from load_manager.models.run_requests import RunTrigger
from load_manager.models.run_requests import ScheduleTrigger as ScheduleTrigger
from load_manager.models.run_requests import StartRunRequest as StartRunRequest
from load_manager.models.run_summaries import EndpointSummary as EndpointSummary  # a finished run's figures, named here as ever
from load_manager.models.run_summaries import ErrorSummary as ErrorSummary
from load_manager.models.run_summaries import RunSummary as RunSummary
from load_manager.models.run_variables import RunSecret, RunVariable
from load_manager.models.usage import RunUsage


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
    locust_version: str | None = Field(
        default=None, description="The Locust version that ran, as its master said at start (the platform's, whatever requirements.txt pins)"
    )
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
    generator_saturated: bool | None = Field(
        default=None, description="A load generator was saturated: the numbers may understate what the target can do (null: not judged)"
    )
    generator_health: GeneratorHealth | None = Field(default=None, description="The figures behind generatorSaturated, kept at Finalize")
    load_profile: LoadProfile | None = Field(
        default=None, description="The stages the run's users followed (targetUsers is their peak, durationSeconds their total); null: constant"
    )
    data_split: list[str] = Field(default_factory=list, description="CSV files whose rows each worker got its own share of")
    variables: list[RunVariable] = Field(default_factory=list, description="The variables its Locust processes got, and from where")
    secrets: list[RunSecret] = Field(default_factory=list, description="The secrets its Locust processes got: where from, which version (no value)")
    usage: RunUsage | None = Field(
        default=None, description="What its load generators used, and its estimated cost: recorded once its cluster is torn down (null before)"
    )


class RunPage(ApiModel):
    items: list[Run]
    next_cursor: NextCursor = None
