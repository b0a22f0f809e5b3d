"""Pydantic models: the API contract (camelCase on the wire) and the stored records.

Request models forbid unknown fields, so a typo or an identity field smuggled into a body is a
422, never silently ignored. Response models are what the stores persist, minus script content.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, StrictBool, StrictInt, StrictStr, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

# Scope ids and free-text limits: generous for users, bounded for the store.
ScopeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
TargetUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2048)]
ScriptContent = Annotated[str, StringConstraints(min_length=1)]
Users = Annotated[int, Field(ge=1, le=100_000)]
SpawnRate = Annotated[float, Field(gt=0, le=10_000)]
DurationSeconds = Annotated[int, Field(ge=1, le=86_400)]

IDENTITY_FIELDS = frozenset({"createdBy", "updatedBy", "accountId", "created_by", "updated_by", "account_id"})


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(ApiModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")


# ---- errors -------------------------------------------------------------------------------------


class ErrorResponse(ApiModel):
    code: str = Field(description="Machine-readable error code, e.g. LoadTestNotFound")
    message: str = Field(description="Human-readable explanation")
    details: Any | None = Field(default=None, description="Structured details (validation errors, line/column)")


class GatewayError(ApiModel):
    """What API Gateway itself answers (a rejected token: 401; a body over 10 MB: 413)."""

    message: str


# ---- bundles: the files of a revision besides the entry locustfile ------------------------------

# Paths are checked by the bundle rules (bundle/core.py), which answer with their own error codes.
BundlePathText = Annotated[str, StringConstraints(max_length=4096)]
EntryPath = Annotated[str, StringConstraints(max_length=4096)]
TemplateId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class BundleFile(RequestModel):
    path: BundlePathText = Field(description="Relative POSIX path inside the bundle, e.g. common/users.py")
    content: str = Field(description="The file's bytes, base64-encoded (binary allowed)", json_schema_extra={"contentEncoding": "base64"})


class BundleFileInfo(ApiModel):
    path: str
    size_bytes: int
    sha256: str = Field(description="sha256 of the file's bytes")
    binary: bool = Field(default=False, description="Not UTF-8 text (or contains NUL): not shown or diffed as text")


class BundleFileContent(BundleFileInfo):
    content: str = Field(description="The file's bytes, base64-encoded", json_schema_extra={"contentEncoding": "base64"})


FILES_DESCRIPTION = (
    "Files of the bundle besides the entry locustfile (helper modules, data, requirements.txt); "
    "at most 200 files and 4 MiB decoded in all"
)
ENTRY_DESCRIPTION = "Path of the entry locustfile inside the bundle (scriptContent); default locustfile.py"


class BundleFields(RequestModel):
    files: Annotated[list[BundleFile], Field(description=FILES_DESCRIPTION)] | None = None
    entry_path: EntryPath | None = Field(default=None, description=ENTRY_DESCRIPTION)


# ---- results: pass/fail criteria and auto-stop (evaluated by load_manager.analysis) --------------

CriterionMetric = Literal["p50Ms", "p90Ms", "p95Ms", "p99Ms", "avgMs", "maxMs", "failRatio", "rps"]
CriterionOperator = Literal["<", "<=", ">", ">="]
# "METHOD name" as Locust reports a row: the request type (GET, POST, or a custom one) and the name.
EndpointKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31} \S.{0,499}$")]
MAX_CRITERIA = 50


class Criterion(RequestModel):
    """A fixed threshold (`operator` + `threshold`), or a maximum regression against the baseline run
    (`maxRegressionPercent`: latencies and failRatio may not grow, rps may not drop, by more than that)."""

    metric: CriterionMetric
    endpoint: EndpointKey | None = Field(
        default=None, description='"METHOD name" as Locust reports it, e.g. "GET /checkout"; absent: all requests'
    )
    operator: CriterionOperator | None = None
    threshold: Annotated[FiniteFloat, Field(ge=0)] | None = None
    max_regression_percent: Annotated[FiniteFloat, Field(ge=0, le=100_000)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Criterion:
        if self.max_regression_percent is not None:
            if self.operator is not None or self.threshold is not None:
                raise ValueError("a criterion has either operator and threshold, or maxRegressionPercent, not both")
        elif self.operator is None or self.threshold is None:
            raise ValueError("a criterion needs operator and threshold, or maxRegressionPercent")
        if self.metric == "failRatio" and self.threshold is not None and self.threshold > 1:
            raise ValueError("failRatio is a ratio between 0 and 1")
        return self


Criteria = Annotated[list[Criterion], Field(max_length=MAX_CRITERIA)]


class AutoStopSettings(RequestModel):
    """Stop the run when its failure ratio over the last `windowSeconds` is at or above `failRatio`."""

    enabled: StrictBool = True
    fail_ratio: Annotated[float, Field(gt=0, le=1)] = 0.9
    window_seconds: Annotated[int, Field(ge=5, le=3600)] = 60


class CriterionResult(ApiModel):
    criterion: Criterion
    actual: float | None = Field(description="The run's value (null: the endpoint had no requests)")
    baseline: float | None = Field(default=None, description="The baseline run's value, for a regression criterion")
    limit: float | None = Field(default=None, description="The bound the value was held to (threshold, or derived from the baseline)")
    regression_percent: float | None = Field(default=None, description="How much worse than the baseline, in % (negative: better)")
    passed: bool
    message: str


class StopReason(ApiModel):
    kind: Literal["autoStop"] = "autoStop"
    observed_fail_ratio: float
    threshold: float = Field(description="The auto-stop failRatio")
    window_seconds: int
    requests: int = Field(description="Requests in the window")
    failures: int = Field(description="Failures in the window")
    at: int = Field(description="When it fired (epoch ms)")
    message: str


# ---- load tests ---------------------------------------------------------------------------------


class RevisionRetention(ApiModel):
    # Also a stored field of LoadTest, so populated by name as well; unknown keys are still a 422.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    keep_last: Annotated[int, Field(ge=1, le=100_000, description="Revisions kept besides any a run references")]


class LoadSettings(RequestModel):
    default_users: Users | None = None
    default_spawn_rate: SpawnRate | None = None
    default_duration_seconds: DurationSeconds | None = None
    revision_retention: RevisionRetention | None = Field(
        default=None, description="Prune older revisions, keeping the latest N and every one a run used; null keeps all"
    )


class CreateLoadTestRequest(LoadSettings, BundleFields):
    name: Name
    description: Description | None = None
    target_url: TargetUrl | None = None
    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None
    script_content: ScriptContent | None = Field(
        default=None, description="The entry locustfile, base64-encoded UTF-8 (or templateId)", json_schema_extra={"contentEncoding": "base64"}
    )
    template_id: TemplateId | None = Field(
        default=None, description="Start from a script template (GET /v1/script-templates) instead of scriptContent"
    )
    script_description: Description | None = Field(default=None, description='Revision 1 description ("Initial version")')
    criteria: Criteria | None = Field(default=None, description="Pass/fail criteria of every run (a run may override them)")
    auto_stop: AutoStopSettings | None = Field(default=None, description="Auto-stop of every run; absent: 90 % failures over 60 s")

    @model_validator(mode="after")
    def _one_source(self) -> CreateLoadTestRequest:
        if (self.script_content is None) == (self.template_id is None):
            raise ValueError("send either scriptContent (with optional files and entryPath) or templateId")
        if self.template_id is not None and (self.files is not None or self.entry_path is not None):
            raise ValueError("templateId brings its own files and entryPath")
        return self


class UpdateLoadTestRequest(LoadSettings):
    """PATCH: only the fields sent change; null clears an optional field (never the name)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", json_schema_extra={"minProperties": 1})

    name: Name = None  # type: ignore[assignment]  # absent means unchanged; null is refused
    description: Description | None = None
    target_url: TargetUrl | None = None
    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None
    criteria: Criteria | None = Field(default=None, description="Replaces the criteria; null or [] removes them")
    auto_stop: AutoStopSettings | None = Field(default=None, description="Replaces the auto-stop settings; null restores the default")


class LoadTest(ApiModel):
    id: str
    account_id: str
    name: str
    description: str | None = None
    target_url: str | None = None
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    default_users: int | None = None
    default_spawn_rate: float | None = None
    default_duration_seconds: int | None = None
    revision_retention: RevisionRetention | None = None
    latest_revision_id: str
    latest_revision_number: int
    criteria: list[Criterion] = Field(default_factory=list)
    auto_stop: AutoStopSettings | None = Field(default=None, description="null: the default (90 % failures over 60 s)")
    baseline_run_id: str | None = Field(default=None, description="The run regression criteria and comparisons measure against")
    created_at: int = Field(description="Epoch milliseconds")
    created_by: str
    updated_at: int
    updated_by: str


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")


class LoadTestPage(Page[LoadTest]):
    pass


# ---- scripts ------------------------------------------------------------------------------------


class UpdateScriptRequest(BundleFields):
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8", json_schema_extra={"contentEncoding": "base64"})
    description: Description | None = None


# A revision named by id (string) or number; strict, so `true` is not taken for revision 1.
RevisionSelector = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)] | Annotated[StrictInt, Field(ge=1)]


class RollbackRequest(RequestModel):
    revision: RevisionSelector = Field(description="Revision id, or revision number, to restore")
    description: Description | None = None


class ValidateScriptRequest(BundleFields):
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8", json_schema_extra={"contentEncoding": "base64"})


class SyntaxErrorDetail(ApiModel):
    file: str | None = Field(default=None, description="The bundle file the error is in")
    line: int | None
    column: int | None
    message: str


class ValidationReport(ApiModel):
    valid: bool
    user_classes: list[str] = Field(default_factory=list)
    task_sets: list[str] = Field(default_factory=list)
    shapes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    errors: list[SyntaxErrorDetail] = Field(default_factory=list)
    size_bytes: int = Field(description="Decoded bytes of the whole bundle")
    sha256: str = Field(description="The bundle's canonical digest (the script's sha256 for a lone locustfile.py)")
    entry_path: str = "locustfile.py"
    files: list[BundleFileInfo] = Field(default_factory=list, description="Every file of the bundle, the entry included")


class ScriptRevisionSummary(ApiModel):
    id: str
    load_test_id: str
    revision_number: int
    description: str
    sha256: str
    size_bytes: int
    created_at: int
    created_by: str
    rolled_back_from: int | None = Field(default=None, description="Revision number this one restores")
    warnings: list[str] = Field(default_factory=list, description="Validation warnings at save time")
    entry_path: str = Field(default="locustfile.py", description="The entry locustfile's path in the bundle")
    files: list[BundleFileInfo] = Field(
        default_factory=list, description="Every file of the snapshot, the entry included, sorted by path (no content)"
    )
    pruned_at: int | None = Field(default=None, description="Set on a tombstone: the content was pruned by retention (epoch ms)")


class ScriptRevision(ScriptRevisionSummary):
    script_content: str = Field(description="The entry locustfile, base64-encoded UTF-8 (other files: …/files/{path} or …/archive)")


class RevisionPage(Page[ScriptRevisionSummary]):
    pass


class RevisionRef(ApiModel):
    id: str
    revision_number: int
    entry_path: str = "locustfile.py"


class FileDiff(ApiModel):
    path: str
    change: Literal["added", "removed", "modified"]
    binary: bool = Field(description="A binary file is flagged, never diffed as text")
    from_sha256: str | None = None
    to_sha256: str | None = None
    unified_diff: str | None = Field(
        default="", description="This file's unified diff ('' for a binary file); null for the `to` revision's entry file, whose diff is the "
        "top-level `unifiedDiff` (each diff is sent once). Only its first lines when `truncated`",
    )  # fmt: skip
    added_lines: int = Field(default=0, description="Of the whole diff, also when it is truncated")
    removed_lines: int = 0
    diff_bytes: int = Field(default=0, description="Size of this file's whole unified diff, UTF-8 bytes")
    sent_bytes: int = Field(default=0, description="Size of the part of it this answer carries")
    truncated: bool = Field(default=False, description="The diff was cut at a line: the whole would make the answer too large")
    full_diff_url: str | None = Field(default=None, description="When truncated: the API path answering this file's diff alone")
    note: str | None = Field(default=None, description="Why the diff is cut even when asked for alone, and where to get it whole")


class ScriptDiff(ApiModel):
    load_test_id: str
    from_revision: RevisionRef = Field(alias="from")
    to_revision: RevisionRef = Field(alias="to")
    unified_diff: str = Field(
        description="The `to` revision's entry file's unified diff ('' when unchanged): for a lone locustfile, the whole diff. "
        "Every other file's diff is in its `files` item"
    )
    added_lines: int
    removed_lines: int
    files: list[FileDiff] = Field(default_factory=list, description="Each added, removed or modified file (unchanged ones are left out)")
    truncated: bool = Field(default=False, description="Some file's diff was cut (see its `files` item)")

    def text(self) -> str:
        """Every file's diff, one after the other, in path order (the entry's from `unified_diff`)."""
        if not self.files:
            return self.unified_diff
        return "".join(self.unified_diff if item.unified_diff is None else item.unified_diff for item in self.files)


class ScriptTemplate(ApiModel):
    id: str
    name: str
    description: str
    entry_path: str
    files: list[BundleFileContent] = Field(description="Every file of the template, the entry included")


class ScriptTemplateList(ApiModel):
    items: list[ScriptTemplate]


class Health(ApiModel):
    status: Literal["ok"] = "ok"
    version: str


# ---- runs ---------------------------------------------------------------------------------------

RunStatus = Literal["Pending", "Starting", "Running", "Stopping", "Finished", "Failed", "Cancelled"]
RunResult = Literal["Passed", "Failed", "NotEvaluated"]
FINAL_STATUSES: frozenset[str] = frozenset({"Finished", "Failed", "Cancelled"})
ACTIVE_STATUSES: frozenset[str] = frozenset({"Pending", "Starting", "Running", "Stopping"})
Workers = Annotated[int, Field(ge=1, le=64)]
BackendKind = Literal["local", "ecs"]


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


class MetricsSample(ApiModel):
    run_id: str
    at: int
    users: int
    rps: float
    failures_per_second: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    total_requests: int | None = Field(default=None, description="Cumulative since the swarm started")
    total_failures: int | None = Field(default=None, description="Cumulative since the swarm started")
    endpoints: list[dict[str, Any]] = Field(
        default_factory=list, description="Per endpoint: cumulative requests/failures, current rps/failuresPerSecond, cumulative p50/p95/p99"
    )


# ---- clusters -----------------------------------------------------------------------------------

class EcsClusterSettings(RequestModel):
    cluster: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    master_task_definition: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    worker_task_definition: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    # Only what the deployment allows (ECS_ALLOWED_*; 422 SubnetNotAllowed / SecurityGroupNotAllowed /
    # PublicIpNotAllowed otherwise). Each run also gets its own security group, first of at most five.
    subnets: Annotated[list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$")]], Field(min_length=1, max_length=16)]
    security_groups: Annotated[list[Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]+$")]], Field(max_length=4)] = []
    assign_public_ip: bool = False
    container_name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "locust"
    script_bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)] | None = None


class PutClusterRequest(RequestModel):
    """Scope: account-wide when org/project/env are absent; each level narrows it."""

    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None
    backend: BackendKind
    max_workers: Workers = 8
    ecs: EcsClusterSettings | None = None


class ClusterConfig(ApiModel):
    id: str
    account_id: str
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    backend: BackendKind
    max_workers: int
    ecs: EcsClusterSettings | None = None
    updated_at: int
    updated_by: str


class ClusterPage(ApiModel):
    items: list[ClusterConfig]


# ---- results: what the results API answers -------------------------------------------------------


class SeriesColumns(ApiModel):
    """Chart-ready columns, one value per point: `time[i]` is the start of point i's bucket."""

    time: list[int] = Field(default_factory=list, description="Bucket starts, epoch ms")
    users: list[int | None] = Field(default_factory=list)
    rps: list[float | None] = Field(default_factory=list)
    failures_per_second: list[float | None] = Field(default_factory=list)
    p50_ms: list[float | None] = Field(default_factory=list)
    p95_ms: list[float | None] = Field(default_factory=list)
    p99_ms: list[float | None] = Field(default_factory=list)


class MetricsSeries(SeriesColumns):
    """A run's time series, downsampled on the server to at most 1,000 points. A point summarises the
    samples of its bucket: `users` and the percentiles are the highest any sample in the bucket
    reported (percentiles are never averaged), `rps` and `failuresPerSecond` the mean of the samples'
    rates. Buckets without a sample have no point."""

    run_id: str
    endpoint: str | None = Field(default=None, description='The "METHOD name" filter, null for all requests')
    origin: int = Field(description="Epoch ms the buckets are aligned to (the run's start)")
    step_ms: int = Field(description="Bucket width (the run's own, fixed at start, unless `step`, `from` or `to` say otherwise)")
    window_start: int
    window_end: int
    complete: bool = Field(description="The run is final: no point will be added or change")
    next_since: str | None = Field(
        default=None, description="Cursor for the next poll: pass as `since` to get only newer points (the last point may be re-sent, updated)"
    )
    percentiles: str = Field(description="What the percentile columns are: Locust's ~10 s window, or cumulative since start")


class EndpointStatsRow(ApiModel):
    method: str
    name: str
    requests: int
    failures: int
    fail_ratio: float
    avg_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    p50_ms: float | None = Field(default=None, description="Median")
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rps: float | None = None


class RunStats(ApiModel):
    run_id: str
    status: RunStatus
    result: RunResult
    final: bool = Field(description="false: a running run's latest sample (no avg/min/max/p90 until it ends)")
    summary: RunSummary | None = None
    endpoints: list[EndpointStatsRow] = Field(default_factory=list)
    errors: list[ErrorSummary] = Field(default_factory=list)


class Delta(ApiModel):
    base: float | None = None
    target: float | None = None
    absolute: float | None = Field(default=None, description="target - base")
    percent: float | None = Field(default=None, description="(target - base) / base * 100; null when base is 0 or missing")
    worse: bool | None = Field(default=None, description="The change is a regression (rps: lower; everything else: higher)")


class FigureDeltas(ApiModel):
    requests: Delta
    failures: Delta
    fail_ratio: Delta
    rps: Delta
    avg_ms: Delta
    p50_ms: Delta
    p90_ms: Delta
    p95_ms: Delta
    p99_ms: Delta
    max_ms: Delta


class EndpointComparison(ApiModel):
    endpoint: str = Field(description='"METHOD name"')
    method: str
    name: str
    deltas: FigureDeltas


class OneSidedEndpoint(ApiModel):
    endpoint: str
    method: str
    name: str
    stats: EndpointSummary


class Highlight(ApiModel):
    endpoint: str | None = Field(description="null: all requests")
    metric: str = Field(description="the figure, named as in the deltas and criteria: p95Ms, rps, failRatio or requests")
    delta: Delta | None = None
    message: str


class ComparedRun(ApiModel):
    id: str
    load_test_id: str
    status: RunStatus
    result: RunResult
    script_revision_id: str
    revision_number: int
    script_sha256: str
    target_users: int
    duration_seconds: int
    workers: int
    started_at: int | None = None
    ended_at: int | None = None
    summary: RunSummary | None = None
    criteria_results: list[CriterionResult] = Field(default_factory=list)
    stop_reason: StopReason | None = None


class RunComparison(ApiModel):
    base: ComparedRun
    target: ComparedRun
    base_is_baseline: bool = Field(description="`base` was not given: the test's baseline run was used")
    same_revision: bool
    overall: FigureDeltas
    endpoints: list[EndpointComparison] = Field(description="Endpoints on both sides, the biggest p95 regression first")
    only_in_base: list[OneSidedEndpoint] = Field(default_factory=list)
    only_in_target: list[OneSidedEndpoint] = Field(default_factory=list)
    highlights: list[Highlight] = Field(default_factory=list, description="What changed most, in words, worst first")
    script_diff: ScriptDiff | None = Field(default=None, description="Unified diff base -> target when the revisions differ")


class TrendPoint(ApiModel):
    run_id: str
    created_at: int
    started_at: int | None = None
    ended_at: int | None = None
    revision_number: int
    script_revision_id: str
    target_users: int
    duration_seconds: float | None = None
    total_requests: int | None = None
    rps: float | None = None
    fail_ratio: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    result: RunResult
    stopped_early: bool = Field(default=False, description="Auto-stop ended it")


class Trends(ApiModel):
    load_test_id: str
    baseline_run_id: str | None = None
    items: list[TrendPoint] = Field(description="Finished runs, oldest first")


class ReportLink(ApiModel):
    """Where to open a report page (`?format=link`): a browser tab opened by the console carries no token."""

    url: str = Field(description="In AWS a presigned S3 URL of the stored page; locally the page's own API path (no token needed)")
    expires_in_seconds: int | None = Field(description="How long the URL works (the presign lifetime); null: it does not expire")


class SetBaselineRequest(RequestModel):
    run_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        description="A Finished run of this test; null clears the baseline"
    )
