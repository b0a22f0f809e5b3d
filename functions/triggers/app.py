"""Runs without a human: event triggers and schedules (HTTP API), and their firings.

One function, three kinds of invocation:
- API Gateway: `/v1/load-tests/{testId}/triggers…`, `…/schedules…`, and `/v1/event-sources…`
  (which tenant owns which event source: operators assign them, see usecases/event_sources.py);
- EventBridge, through a trigger's rule: `{"loadManagerTrigger": {...}, "event": {...}}`;
- EventBridge Scheduler: `{"loadManagerSchedule": {...}, "scheduledTime": "...Z", ...}`;
plus `{"action": "sync"}` to write every stored trigger's rule and schedule again.
A firing that cannot start a run is recorded and answered normally (no retry); see usecases/firing.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.adapters.eventbridge import default_rules
from load_manager.adapters.scheduler import default_schedules
from load_manager.adapters.step_functions import default_starter
from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, json_response, responses
from load_manager.models.automation import (
    CreateEventSourceRequest,
    CreateScheduleRequest,
    CreateTriggerRequest,
    EventSource,
    EventSourceList,
    Schedule,
    ScheduleList,
    Trigger,
    TriggerList,
    UpdateScheduleRequest,
    UpdateTriggerRequest,
)
from load_manager.observability import logger, metrics
from load_manager.store import get_stores
from load_manager.usecases import event_sources, firing, schedules, triggers

router = APIGatewayHttpRouter()
TRIGGERS = "/v1/load-tests/<testId>/triggers"
SCHEDULES = "/v1/load-tests/<testId>/schedules"
EVENT_SOURCES = "/v1/event-sources"


@router.post(
    TRIGGERS,
    summary="Start runs of this test when an EventBridge event matches a pattern",
    tags=["triggers"],
    responses=responses(Trigger, *BODY_ERRORS, 404, 409, 410, 503, status=201, description="Trigger and its rule created"),
)
def create_trigger(testId: str, body: CreateTriggerRequest) -> Response[Trigger]:  # noqa: N803
    trigger = triggers.create(get_stores(), default_rules, current_caller(app), testId, body)
    return json_response(trigger, 201, headers={"Location": f"/v1/load-tests/{testId}/triggers/{trigger.id}"})


@router.get(TRIGGERS, summary="A test's triggers, with their last firings", tags=["triggers"], responses=responses(TriggerList, *COMMON_ERRORS, 404))
def list_triggers(testId: str) -> TriggerList:  # noqa: N803
    return triggers.list_for_test(get_stores(), current_caller(app), testId)


@router.get(f"{TRIGGERS}/<triggerId>", summary="One trigger", tags=["triggers"], responses=responses(Trigger, *COMMON_ERRORS, 404))
def get_trigger(testId: str, triggerId: str) -> Trigger:  # noqa: N803
    return triggers.get(get_stores(), current_caller(app), testId, triggerId)


@router.patch(
    f"{TRIGGERS}/<triggerId>",
    summary="Change a trigger (only the fields sent); its rule is written again",
    description="The trigger is checked again as a whole (run settings, and a new pattern against your tenant's events and "
    "by EventBridge) before anything is stored. `enabled: false` disables its rule (it matches nothing), `true` enables it again.",
    tags=["triggers"],
    responses=responses(Trigger, *BODY_ERRORS, 404, 410, 503),
)
def patch_trigger(testId: str, triggerId: str, body: UpdateTriggerRequest) -> Trigger:  # noqa: N803
    return triggers.update(get_stores(), default_rules, current_caller(app), testId, triggerId, body)


@router.delete(
    f"{TRIGGERS}/<triggerId>",
    summary="Delete a trigger and its rule",
    tags=["triggers"],
    responses=responses(None, *COMMON_ERRORS, 404, 503, status=204, description="Deleted"),
)
def delete_trigger(testId: str, triggerId: str) -> Response[None]:  # noqa: N803
    triggers.delete(get_stores(), default_rules, current_caller(app), testId, triggerId)
    return Response(status_code=204)


@router.post(
    SCHEDULES,
    summary="Run this test on a cron or rate schedule",
    tags=["schedules"],
    responses=responses(Schedule, *BODY_ERRORS, 404, 409, 410, 503, status=201, description="Schedule created in EventBridge Scheduler"),
)
def create_schedule(testId: str, body: CreateScheduleRequest) -> Response[Schedule]:  # noqa: N803
    schedule = schedules.create(get_stores(), default_schedules, current_caller(app), testId, body)
    return json_response(schedule, 201, headers={"Location": f"/v1/load-tests/{testId}/schedules/{schedule.id}"})


@router.get(
    SCHEDULES, summary="A test's schedules, with their occurrences", tags=["schedules"], responses=responses(ScheduleList, *COMMON_ERRORS, 404)
)
def list_schedules(testId: str) -> ScheduleList:  # noqa: N803
    return schedules.list_for_test(get_stores(), current_caller(app), testId)


@router.get(f"{SCHEDULES}/<scheduleId>", summary="One schedule", tags=["schedules"], responses=responses(Schedule, *COMMON_ERRORS, 404))
def get_schedule(testId: str, scheduleId: str) -> Schedule:  # noqa: N803
    return schedules.get(get_stores(), current_caller(app), testId, scheduleId)


@router.patch(
    f"{SCHEDULES}/<scheduleId>",
    summary="Change a schedule (only the fields sent)",
    tags=["schedules"],
    responses=responses(Schedule, *BODY_ERRORS, 404, 410, 503),
)
def patch_schedule(testId: str, scheduleId: str, body: UpdateScheduleRequest) -> Schedule:  # noqa: N803
    return schedules.update(get_stores(), default_schedules, current_caller(app), testId, scheduleId, body)


@router.delete(
    f"{SCHEDULES}/<scheduleId>",
    summary="Delete a schedule",
    tags=["schedules"],
    responses=responses(None, *COMMON_ERRORS, 404, 503, status=204, description="Deleted"),
)
def delete_schedule(testId: str, scheduleId: str) -> Response[None]:  # noqa: N803
    schedules.delete(get_stores(), default_schedules, current_caller(app), testId, scheduleId)
    return Response(status_code=204)


def _rewrite_rules(account_id: str) -> None:
    triggers.resync(get_stores(), default_rules, account_id)


@router.post(
    EVENT_SOURCES,
    summary="Say which tenant owns an event source (operators only)",
    description="A CodeDeploy application, an AWS account or a custom source: only its owner's triggers see its events. "
    "201 when assigned now, 200 when that tenant owned it already; 409 when another tenant does.",
    tags=["event sources"],
    responses={
        **responses(EventSource, *BODY_ERRORS, 409, status=201, description="Assigned"),
        **responses(EventSource, status=200, description="That tenant owned it already"),
    },
)
def create_event_source(body: CreateEventSourceRequest) -> Response[EventSource]:
    source, created = event_sources.create(get_stores(), _rewrite_rules, current_caller(app), body)
    return json_response(source, 201 if created else 200, headers={"Location": f"{EVENT_SOURCES}/{source.id}"})


@router.get(
    EVENT_SOURCES,
    summary="The event sources your tenant owns (operators: any tenant's, or all)",
    tags=["event sources"],
    responses=responses(EventSourceList, *COMMON_ERRORS),
)
def list_event_sources(ownerAccountId: Annotated[str | None, Query(max_length=64)] = None) -> EventSourceList:  # noqa: N803
    return event_sources.list_sources(get_stores(), current_caller(app), ownerAccountId)


@router.delete(
    f"{EVENT_SOURCES}/<sourceId>",
    summary="Take an event source away from its tenant (operators only)",
    tags=["event sources"],
    responses=responses(None, *COMMON_ERRORS, 404, status=204, description="Removed; the tenant's rules are written again"),
)
def delete_event_source(sourceId: str) -> Response[None]:  # noqa: N803
    event_sources.delete(get_stores(), _rewrite_rules, current_caller(app), sourceId)
    return Response(status_code=204)


app, api_handler = api_function(router)


@logger.inject_lambda_context
@metrics.log_metrics
def _automation_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("action") == "sync":
        stores = get_stores()
        return {"rules": triggers.resync(stores, default_rules), "schedules": schedules.resync(stores, default_schedules)}
    outcome = firing.handle(get_stores(), default_starter, event)
    logger.info("automation delivery handled", extra={"outcome": outcome})
    return outcome


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "routeKey" in event or "requestContext" in event:
        return api_handler(event, context)
    return _automation_handler(event, context)
