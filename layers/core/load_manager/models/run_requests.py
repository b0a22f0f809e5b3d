"""What starts a run: the request (`POST /v1/load-tests/{id}/runs`, and a trigger's or a schedule's run
settings) and how a run was started (`Run.trigger`). A module of its own so that the automation area
names them without building the run's own models (models/runs.py, which names them as ever).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel, DurationSeconds, RequestModel, RevisionSelector, ScopeId, SpawnRate, TargetUrl, Users, Workers
from load_manager.models.criteria import AutoStopSettings, Criteria
from load_manager.models.load_profiles import DataSplit, LoadProfile
from load_manager.models.run_variables import MAX_RUN_VARIABLES, VariableName, VariableValue


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
    load_profile: LoadProfile | None = Field(
        default=None, description="Stages of users over time instead of a constant load; the run lasts their total "
        "(not with targetUsers, spawnRate or durationSeconds). Absent: the test's defaultLoadProfile, unless one of those is sent"
    )
    data_split: DataSplit | None = Field(default=None, description="This run's dataSplit instead of the test's ([] for none)")
    variables: dict[VariableName, VariableValue] | None = Field(
        default=None, max_length=MAX_RUN_VARIABLES, description="Environment variables of this run's Locust processes, over the scoped ones"
    )


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
