"""Pydantic models: the API contract (camelCase on the wire) and the stored records.

Request models forbid unknown fields, so a typo or an identity field smuggled into a body is a
422, never silently ignored. Response models are what the stores persist, minus script content.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints, model_validator
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
    unified_diff: str = ""
    added_lines: int = 0
    removed_lines: int = 0


class ScriptDiff(ApiModel):
    load_test_id: str
    from_revision: RevisionRef = Field(alias="from")
    to_revision: RevisionRef = Field(alias="to")
    unified_diff: str = Field(description="Every changed text file's unified diff, one after the other")
    added_lines: int
    removed_lines: int
    files: list[FileDiff] = Field(default_factory=list, description="Each added, removed or modified file (unchanged ones are left out)")


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
    report_location: str | None = None
    trigger: RunTrigger | None = Field(default=None, description="What started the run (absent on runs older than triggers)")


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
    endpoints: list[dict[str, Any]] = Field(default_factory=list, description="Cumulative per-endpoint counts")


class MetricsPage(ApiModel):
    items: list[MetricsSample]


# ---- clusters -----------------------------------------------------------------------------------

class EcsClusterSettings(RequestModel):
    cluster: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    master_task_definition: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    worker_task_definition: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    subnets: Annotated[list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$")]], Field(min_length=1, max_length=16)]
    security_groups: Annotated[list[Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]+$")]], Field(min_length=1, max_length=5)]
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
