"""Load tests: what a client sends to create and edit one, and what it reads back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from load_manager.models.base import (
    ApiModel,
    Description,
    DurationSeconds,
    Name,
    NextCursor,
    RequestModel,
    RunResult,
    RunStatus,
    ScopeId,
    ScriptContent,
    SpawnRate,
    TargetUrl,
    Users,
)
from load_manager.models.bundles import BundleFields, TemplateId
from load_manager.models.criteria import AutoStopSettings, Criteria
from load_manager.models.load_profiles import DataSplit, LoadProfile
from load_manager.models.load_test_reads import LoadTest as LoadTest  # a test as read (load_test_reads.py), named here as ever
from load_manager.models.load_test_reads import RevisionRetention as RevisionRetention

if TYPE_CHECKING:  # LastRun.of's argument only: a test's models need not build the runs area's
    from load_manager.models.runs import Run


class LoadSettings(RequestModel):
    default_users: Users | None = None
    default_spawn_rate: SpawnRate | None = None
    default_duration_seconds: DurationSeconds | None = None
    revision_retention: RevisionRetention | None = Field(
        default=None, description="Prune older revisions, keeping the latest N and every one a run used; null keeps all"
    )
    default_load_profile: LoadProfile | None = Field(
        default=None, description="Stages of users over time for runs that send no load settings (not with the three defaults above)"
    )
    data_split: DataSplit | None = Field(default=None, description="CSV files of the bundle each worker gets its own share of; null or [] for none")


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


# ---- the list's summary of each test's runs --------------------------------------------------------

TREND_RUNS = 20  # points of a list item's `trend`: what the console's sparkline shows
# How far a run has gone: a record of a run never replaces one of the same run further along.
RUN_PROGRESS: dict[str, int] = {"Pending": 0, "Starting": 1, "Running": 2, "Stopping": 3, "Finished": 4, "Failed": 4, "Cancelled": 4}


class LastRun(ApiModel):
    """A test's newest run, as its status changes record it on the test (the list reads it in place)."""

    run_id: str
    status: RunStatus
    result: RunResult
    revision_number: int
    created_at: int = Field(description="Epoch milliseconds: what orders runs (then the run id)")
    started_at: int | None = Field(default=None, description="When load began")
    ended_at: int | None = None
    p95_ms: float | None = Field(default=None, description="p95 of all requests, from Locust's final stats; null until the run ends")

    @classmethod
    def of(cls, run: Run) -> LastRun:
        return cls(
            run_id=run.id, status=run.status, result=run.result, revision_number=run.revision_number, created_at=run.created_at,
            started_at=run.started_at, ended_at=run.ended_at, p95_ms=run.summary.p95_ms if run.summary else None,
        )  # fmt: skip

    @classmethod
    def of_document(cls, doc: dict[str, Any]) -> LastRun:
        """From a stored run document (camelCase), reading only the fields a LastRun has."""
        summary = doc.get("summary") or {}
        return cls(
            run_id=doc["id"], status=doc["status"], result=doc.get("result", "NotEvaluated"), revision_number=doc["revisionNumber"],
            created_at=doc["createdAt"], started_at=doc.get("startedAt"), ended_at=doc.get("endedAt"), p95_ms=summary.get("p95Ms"),
        )  # fmt: skip

    def key(self) -> tuple[int, str]:
        return self.created_at, self.run_id

    def replaces(self, stored: LastRun | None) -> bool:
        """A newer run, or the same run further along: older runs and stale retries never win."""
        if stored is None or self.key() > stored.key():
            return True
        return self.run_id == stored.run_id and RUN_PROGRESS[self.status] > RUN_PROGRESS[stored.status]

    def earlier_statuses(self) -> list[str]:
        """The statuses a record of this same run may replace."""
        return sorted(status for status, step in RUN_PROGRESS.items() if step < RUN_PROGRESS[self.status])


class TrendPoint(ApiModel):
    run_id: str
    created_at: int
    p95_ms: float | None = None

    @classmethod
    def of(cls, run: LastRun) -> TrendPoint:
        return cls(run_id=run.run_id, created_at=run.created_at, p95_ms=run.p95_ms)


def merge_trend(points: list[TrendPoint], point: TrendPoint) -> list[TrendPoint]:
    """The newest TREND_RUNS points by (createdAt, runId), oldest first, each run once."""
    kept = [p for p in points if p.run_id != point.run_id] + [point]
    return sorted(kept, key=lambda p: (p.created_at, p.run_id))[-TREND_RUNS:]


class LoadTestListItem(LoadTest):
    last_run: LastRun | None = Field(default=None, description="The test's newest run (from when it starts); null: never run")
    trend: list[TrendPoint] = Field(
        default_factory=list, description=f"p95 of the test's last {TREND_RUNS} Finished runs, oldest first (GET …/trends' p95Ms)"
    )


class LoadTestPage(ApiModel):
    items: list[LoadTestListItem]
    next_cursor: NextCursor = None
