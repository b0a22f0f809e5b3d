"""EventBridge Scheduler: one schedule per Load Manager schedule, in the stack's schedule group,
targeting the triggers function with `{"loadManagerSchedule": {...}, "scheduledTime": ...}`.

Scheduler is only the clock: what a firing does (enabled, window, run settings) is read from the
store when it arrives, so a schedule that drifted from its record still does the right thing.
Locally, `load-manager serve` answers the Scheduler API (moto) and fires due schedules itself
(load_manager_local.scheduler).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from load_manager.adapters import aws_clients
from load_manager.errors import AutomationLimitError, AutomationUnavailableError
from load_manager.observability import logger
from load_manager.settings import get_settings

SCHEDULE_RETRY_POLICY = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 900}


@dataclass(frozen=True)
class ScheduleDefinition:
    name: str
    expression: str  # Scheduler's syntax: cron(...) or rate(...)
    timezone: str
    start_at: int | None  # epoch ms
    end_at: int | None
    enabled: bool
    target_input: dict[str, Any]
    description: str = ""


class Schedules(Protocol):
    def put(self, definition: ScheduleDefinition) -> None:
        """Create the schedule, or replace the one of that name. Idempotent."""
        ...

    def delete(self, name: str) -> None:
        """A missing schedule is not an error."""
        ...


def schedule_name(schedule_id: str) -> str:
    """The EventBridge Scheduler schedule of a schedule, in the stack's schedule group."""
    return f"{get_settings().automation.name_prefix}{schedule_id}"


def scheduler_input(reference: dict[str, str]) -> str:
    """The Input Scheduler sends; it fills in the context attributes at each invocation."""
    return json.dumps(
        {
            "loadManagerSchedule": reference,
            "scheduledTime": "<aws.scheduler.scheduled-time>",
            "executionId": "<aws.scheduler.execution-id>",
            "attempt": "<aws.scheduler.attempt-number>",
        },
        sort_keys=True,
    )


class EventBridgeSchedules:
    def __init__(self, group: str, function_arn: str, role_arn: str, dead_letter_arn: str = "", client=None):
        if not function_arn or not role_arn:
            raise AutomationUnavailableError("no Scheduler target is configured (TRIGGERS_FUNCTION_ARN, SCHEDULER_ROLE_ARN): schedules are off")
        self.group, self.function_arn, self.role_arn, self.dead_letter_arn = group, function_arn, role_arn, dead_letter_arn
        self.client = client or aws_clients.client("scheduler")

    def put(self, definition: ScheduleDefinition) -> None:
        arguments = self._arguments(definition)
        try:
            try:
                self.client.create_schedule(**arguments)
            except self.client.exceptions.ConflictException:
                self.client.update_schedule(**arguments)
        except Exception as exc:
            raise _scheduler_error(exc) from exc

    def delete(self, name: str) -> None:
        try:
            self.client.delete_schedule(Name=name, GroupName=self.group)
        except self.client.exceptions.ResourceNotFoundException:
            return
        except Exception as exc:
            raise _scheduler_error(exc) from exc

    def _arguments(self, definition: ScheduleDefinition) -> dict[str, Any]:
        target: dict[str, Any] = {
            "Arn": self.function_arn, "RoleArn": self.role_arn, "Input": scheduler_input(definition.target_input),
            "RetryPolicy": SCHEDULE_RETRY_POLICY,
        }  # fmt: skip
        if self.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        now = datetime.now(UTC)
        arguments: dict[str, Any] = {
            "Name": definition.name, "GroupName": self.group, "ScheduleExpression": definition.expression,
            "ScheduleExpressionTimezone": definition.timezone, "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": target,
            "Description": definition.description[:512],
        }  # fmt: skip
        start, end = _when(definition.start_at), _when(definition.end_at)
        # Scheduler refuses a StartDate in the past; the store's window is what firing obeys anyway.
        if start is not None and start > now:
            arguments["StartDate"] = start
        if end is not None and end > now:
            arguments["EndDate"] = end
        over = end is not None and end <= now
        arguments["State"] = "ENABLED" if definition.enabled and not over else "DISABLED"
        return arguments


def _when(epoch_ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC) if epoch_ms is not None else None


def _scheduler_error(exc: Exception) -> Exception:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__))
    logger.exception("EventBridge Scheduler call failed")
    if code in ("ServiceQuotaExceededException",):
        return AutomationLimitError(f"EventBridge Scheduler's quota is reached ({code})")
    return AutomationUnavailableError(f"EventBridge Scheduler is unavailable ({code}); nothing was changed, retry later")


def default_schedules() -> Schedules:
    automation = get_settings().automation
    return EventBridgeSchedules(
        automation.schedule_group, automation.triggers_function_arn, automation.scheduler_role_arn, automation.dead_letter_arn
    )
