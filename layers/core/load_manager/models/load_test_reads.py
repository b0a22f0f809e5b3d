"""A load test as it is read: answered by the API, stored, and named by the areas that show one (a
run's baseline, a comparison). Apart from what a client sends to create and edit one, and the list
(models/load_tests.py, which names these as ever), so that reading a test builds no request model.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from load_manager.models.base import ApiModel
from load_manager.models.criteria import AutoStopSettings, Criterion
from load_manager.models.load_profiles import LoadProfile


class RevisionRetention(ApiModel):
    # Also a stored field of LoadTest, so populated by name as well; unknown keys are still a 422.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    keep_last: Annotated[int, Field(ge=1, le=100_000, description="Revisions kept besides any a run references")]


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
    default_load_profile: LoadProfile | None = None
    data_split: list[str] = Field(default_factory=list)
    latest_revision_id: str
    latest_revision_number: int
    criteria: list[Criterion] = Field(default_factory=list)
    auto_stop: AutoStopSettings | None = Field(default=None, description="null: the default (90 % failures over 60 s)")
    baseline_run_id: str | None = Field(default=None, description="The run regression criteria and comparisons measure against")
    created_at: int = Field(description="Epoch milliseconds")
    created_by: str
    updated_at: int
    updated_by: str
