"""The API contract of runs without a human: event triggers and schedules (camelCase on the wire).

`runSettings` is `StartRunRequest` itself: a trigger or schedule accepts exactly what
`POST /v1/load-tests/{id}/runs` accepts, and a run it starts goes through that same use case.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.alias_generators import to_camel

from load_manager.models.base import ApiModel, Description, Name, RequestModel
from load_manager.models.run_requests import StartRunRequest

MAX_PATTERN_CHARS = 4096  # EventBridge's limit on a rule's EventPattern
EventPattern = Annotated[
    dict[str, Any],
    Field(description="An EventBridge event pattern (a JSON object), matched by EventBridge itself", examples=[{
        "source": ["aws.codedeploy"],
        "detail-type": ["CodeDeploy Deployment State-change Notification"],
        "detail": {"state": ["SUCCESS"], "application": ["checkout"]},
    }]),
]
Cron = Annotated[str, StringConstraints(strip_whitespace=True, min_length=9, max_length=120)]
Rate = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EpochMs = Annotated[int, Field(ge=0, le=32503680000000, description="Epoch milliseconds")]


def _check_pattern(pattern: dict[str, Any]) -> dict[str, Any]:
    """The shape EventBridge requires: a non-empty object whose leaves are arrays. EventBridge
    itself judges the rest when the rule is written (InvalidEventPattern otherwise)."""
    if not pattern:
        raise ValueError("the event pattern is empty: it would match nothing useful")
    if len(json.dumps(pattern, separators=(",", ":"))) > MAX_PATTERN_CHARS:
        raise ValueError(f"the event pattern exceeds EventBridge's {MAX_PATTERN_CHARS} characters")

    def walk(node: Any, where: str) -> None:
        for key, value in node.items():
            if key == "$or" and isinstance(value, list):
                for option in value:
                    if not isinstance(option, dict):
                        raise ValueError(f"{where}$or must list objects")
                    walk(option, where)
            elif isinstance(value, dict):
                walk(value, f"{where}{key}.")
            elif not isinstance(value, list) or not value:
                raise ValueError(f"{where}{key} must be a non-empty array of values or filters (EventBridge's rule)")

    walk(pattern, "")
    return pattern


# ---- triggers -----------------------------------------------------------------------------------


class CreateTriggerRequest(RequestModel):
    name: Name
    description: Description | None = None
    event_pattern: EventPattern
    run_settings: StartRunRequest = Field(default_factory=StartRunRequest, description="What POST …/runs takes; the test's defaults fill the rest")
    enabled: bool = Field(default=True, description="false: the rule is kept but disabled (matches nothing)")

    @field_validator("event_pattern")
    @classmethod
    def _pattern(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_pattern(value)


class UpdateTriggerRequest(RequestModel):
    """PATCH: only the fields sent change (runSettings is replaced as a whole); null clears the description."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", json_schema_extra={"minProperties": 1})

    # Absent means unchanged; null is refused (only the description can be cleared).
    name: Name = None  # type: ignore[assignment]
    description: Description | None = None
    event_pattern: EventPattern = None  # type: ignore[assignment]
    run_settings: StartRunRequest = Field(default=None, description="Replaces the run settings")  # type: ignore[assignment]
    enabled: bool = Field(default=None, description="false disables the rule, true enables it again")  # type: ignore[assignment]

    @field_validator("event_pattern")
    @classmethod
    def _pattern(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_pattern(value)


FiringOutcome = Literal["started", "duplicate", "failed", "skipped"]


class TriggerFiring(ApiModel):
    at: int = Field(description="When the event was handled (epoch ms)")
    event_id: str
    source: str | None = None
    detail_type: str | None = None
    outcome: FiringOutcome = Field(description="started a run; duplicate of an event already handled; failed to start (code, reason)")
    run_id: str | None = None
    code: str | None = Field(default=None, description="The error code when the run could not start")
    reason: str | None = None


class Trigger(ApiModel):
    id: str
    account_id: str
    load_test_id: str
    name: str
    description: str | None = None
    event_pattern: dict[str, Any]
    run_settings: StartRunRequest
    rule_name: str = Field(description="The EventBridge rule on the stack's bus that matches the pattern")
    event_bus_name: str
    enabled: bool = Field(default=True, description="A disabled trigger's rule exists but matches nothing")
    created_at: int
    created_by: str
    updated_at: int | None = Field(default=None, description="The last PATCH (epoch ms); null: never changed")
    updated_by: str | None = None
    last_firings: list[TriggerFiring] = Field(default_factory=list, description="Newest first, the last 20")


class TriggerList(ApiModel):
    items: list[Trigger]


# ---- schedules ----------------------------------------------------------------------------------


class ScheduleFields(RequestModel):
    description: Description | None = None
    cron: Cron | None = Field(default=None, description="5 fields: minute hour day-of-month month day-of-week (not both day fields)")
    rate: Rate | None = Field(default=None, description="'<n> minutes|hours|days', e.g. '15 minutes'")
    timezone: TimeZone = Field(default="UTC", description="IANA time zone the cron is read in")
    start_at: EpochMs | None = Field(default=None, description="No occurrence before (epoch ms)")
    end_at: EpochMs | None = Field(default=None, description="No occurrence after (epoch ms)")
    enabled: bool = True
    run_settings: StartRunRequest = Field(default_factory=StartRunRequest, description="What POST …/runs takes; the test's defaults fill the rest")


class CreateScheduleRequest(ScheduleFields):
    name: Name


class UpdateScheduleRequest(ScheduleFields):
    """PATCH: only the fields sent change; cron and rate replace each other; null clears startAt/endAt."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid", json_schema_extra={"minProperties": 1})

    name: Name = None  # type: ignore[assignment]  # absent means unchanged


class ScheduleOccurrence(ApiModel):
    at: int = Field(description="The scheduled time (epoch ms)")
    fired_at: int = Field(description="When it was handled (epoch ms)")
    outcome: FiringOutcome = Field(description="started; skipped (the test's previous run still active, or the schedule off); duplicate; failed")
    run_id: str | None = Field(default=None, description="The run started, or the active run that made it skip")
    code: str | None = None
    reason: str | None = None


class Schedule(ApiModel):
    id: str
    account_id: str
    load_test_id: str
    name: str
    description: str | None = None
    cron: str | None = None
    rate: str | None = None
    timezone: str
    start_at: int | None = None
    end_at: int | None = None
    enabled: bool
    run_settings: StartRunRequest
    expression: str = Field(description="EventBridge Scheduler's expression, e.g. cron(0 2 ? * MON-FRI *) or rate(15 minutes)")
    scheduler_name: str = Field(description="The EventBridge Scheduler schedule (in the stack's group)")
    min_interval_seconds: int = Field(description="Shortest time between two occurrences; never below the run's duration")
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str
    occurrences: list[ScheduleOccurrence] = Field(default_factory=list, description="Newest first, the last 50")
    next_occurrences: list[int] = Field(default_factory=list, description="The next few scheduled times (epoch ms), computed on read")


class ScheduleList(ApiModel):
    items: list[Schedule]


# ---- event source ownership: which tenant's events an event is ---------------------------------

EventSourceKind = Literal["codedeployApplication", "awsAccount", "eventSource"]
# CodeDeploy application names, AWS account ids, and custom sources (never `aws.*` nor ours).
EVENT_SOURCE_VALUES: dict[str, str] = {
    "codedeployApplication": r"^[A-Za-z0-9._+=,@-]{1,100}$",
    "awsAccount": r"^[0-9]{12}$",
    "eventSource": r"^(?!aws\.)(?!load-manager$)[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$",
}
TenantId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CreateEventSourceRequest(RequestModel):
    """An operator says which tenant owns an event source; triggers of other tenants never see its events."""

    owner_account_id: TenantId = Field(description="The tenant (the value of its tenant claim) that owns the source")
    kind: EventSourceKind = Field(
        description="codedeployApplication: CodeDeploy events (aws.codedeploy) of that application; awsAccount: every AWS "
        "service event of that AWS account (`account`); eventSource: every event put with that custom `source`"
    )
    value: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="The application name, the 12-digit account id, or the source name", examples=["checkout"]
    )

    @model_validator(mode="after")
    def _value_fits_kind(self) -> CreateEventSourceRequest:
        if not re.match(EVENT_SOURCE_VALUES[self.kind], self.value):
            raise ValueError(f"value {self.value!r} is not a valid {self.kind} (aws.* and load-manager sources cannot be owned)")
        return self


class EventSource(ApiModel):
    id: str
    owner_account_id: str
    kind: EventSourceKind
    value: str
    created_at: int
    created_by: str


class EventSourceList(ApiModel):
    items: list[EventSource]
