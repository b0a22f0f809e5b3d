"""Pydantic models: the API contract (camelCase on the wire) and the stored records.

Request models forbid unknown fields, so a typo or an identity field smuggled into a body is a
422, never silently ignored. Response models are what the stores persist, minus script content.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
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


# ---- load tests ---------------------------------------------------------------------------------


class LoadSettings(RequestModel):
    default_users: Users | None = None
    default_spawn_rate: SpawnRate | None = None
    default_duration_seconds: DurationSeconds | None = None


class CreateLoadTestRequest(LoadSettings):
    name: Name
    description: Description | None = None
    target_url: TargetUrl | None = None
    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8")
    script_description: Description | None = Field(default=None, description='Revision 1 description ("Initial version")')


class UpdateLoadTestRequest(LoadSettings):
    """PATCH: only the fields sent change; null clears an optional field."""

    name: Name | None = None
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


class UpdateScriptRequest(RequestModel):
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8")
    description: Description | None = None


class RollbackRequest(RequestModel):
    revision: str | int = Field(description="Revision id, or revision number, to restore")
    description: Description | None = None


class ValidateScriptRequest(RequestModel):
    script_content: ScriptContent = Field(description="The Locust script, base64-encoded UTF-8")


class SyntaxErrorDetail(ApiModel):
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
    size_bytes: int
    sha256: str


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


class ScriptRevision(ScriptRevisionSummary):
    script_content: str = Field(description="base64-encoded UTF-8")


class RevisionPage(Page[ScriptRevisionSummary]):
    pass


class RevisionRef(ApiModel):
    id: str
    revision_number: int


class ScriptDiff(ApiModel):
    load_test_id: str
    from_revision: RevisionRef = Field(alias="from")
    to_revision: RevisionRef = Field(alias="to")
    unified_diff: str
    added_lines: int
    removed_lines: int


class Health(ApiModel):
    status: Literal["ok"] = "ok"
    version: str
