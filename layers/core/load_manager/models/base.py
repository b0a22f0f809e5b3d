"""What every area of the API contract shares: the camelCase base models, the common field types,
the error answer and the page shape.

Request models forbid unknown fields, so a typo or an identity field smuggled into a body is a
422, never silently ignored. Response models are what the stores persist, minus script content.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

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
FINAL_STATUSES: frozenset[str] = frozenset({"Finished", "Failed", "Cancelled"})
ACTIVE_STATUSES: frozenset[str] = frozenset({"Pending", "Starting", "Running", "Stopping"})
# Field types shared by areas live here, so that naming one does not import (and build) another area's models.

IDENTITY_FIELDS = frozenset({"createdBy", "updatedBy", "accountId", "created_by", "updated_by", "account_id"})


# defer_build: a model's validator and serializer are built when it is first used, not when its
# module is imported. A function imports its routes' models (and what they name) but a request
# uses a few: building all at import cost the results function 45 ms of its cold start (245 ms ->
# 200 ms CPU, bench/cold_import.py). Every model is built at most once per process (model_rebuild).
_REBUILD_LOCK = threading.RLock()


class ApiModel(BaseModel):
    # validate_by_name/by_alias: what building ApiModel at import used to write into its config (pydantic
    # fills them in from populate_by_name then), which every subclass inherited, RequestModel too.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, validate_by_name=True, validate_by_alias=True, defer_build=True)

    @classmethod
    def model_rebuild(
        cls, *, force: bool = False, raise_errors: bool = True, _parent_namespace_depth: int = 2, _types_namespace: Any = None
    ) -> bool | None:
        # A deferred model is built by the first thread that uses it; pydantic's rebuild is not
        # thread-safe (pydantic#13419: serve's threads and the lifecycle's can meet here): one at a time.
        with _REBUILD_LOCK:
            return super().model_rebuild(
                force=force, raise_errors=raise_errors, _parent_namespace_depth=_parent_namespace_depth + 1, _types_namespace=_types_namespace
            )


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


# A page of a list: each area's page model names its items (`items: list[X]`) then `next_cursor:
# NextCursor = None`. Not a generic Page[X]: parametrizing a generic model builds its origin at import
# (pydantic's __class_getitem__), which cost the runs function 12 ms of its cold start (median of 12).
NextCursor = Annotated[str | None, Field(description="Pass as `cursor` to get the next page")]


class Health(ApiModel):
    status: Literal["ok"] = "ok"
    version: str
