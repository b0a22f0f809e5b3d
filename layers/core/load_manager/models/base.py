"""What every area of the API contract shares: the camelCase base models, the common field types,
the error answer and the page shape.

Request models forbid unknown fields, so a typo or an identity field smuggled into a body is a
422, never silently ignored. Response models are what the stores persist, minus script content.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints
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
Workers = Annotated[int, Field(ge=1, le=64)]
BackendKind = Literal["local", "ecs"]
# A revision named by id (string) or number; strict, so `true` is not taken for revision 1.
RevisionSelector = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)] | Annotated[StrictInt, Field(ge=1)]
# A run's lifecycle and verdict, named by other areas' models too (a test's last run, a comparison).
RunStatus = Literal["Pending", "Starting", "Running", "Stopping", "Finished", "Failed", "Cancelled"]
RunResult = Literal["Passed", "Failed", "NotEvaluated"]
# Field types shared by areas live here, so that naming one does not import (and build) another area's models.

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


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")


class Health(ApiModel):
    status: Literal["ok"] = "ok"
    version: str
