"""From an EventBridge delivery or a Scheduler occurrence to a run, through `runs.start_run`.

Deduplication (EventBridge and Scheduler deliver at least once, and a producer may put the same
event twice) uses start_run's idempotency keys, scoped per trigger or schedule:
- an event: `event <triggerId> <digest>`, the digest being sha256 of the event's source,
  detail-type, resources and detail. EventBridge gives every PutEvents a new `id`, so the id alone
  would start a second run for a re-put event; the content does not change between them;
- an occurrence: `schedule <scheduleId> <scheduled time in ms>`.

Tenants: the rule only matches the trigger's tenant's events (usecases/event_tenancy.py), and the
function checks it again on each delivery against what the tenant owns now: an event that is not
the tenant's (a rule written before an ownership was taken away, a rule someone edited by hand)
is ignored, counted, and never recorded in that trigger's `lastFirings`.

What happened is recorded on the trigger (`lastFirings`) or schedule (`occurrences`). A firing
that cannot start a run (deleted test, pruned revision, missing target...) is recorded as failed
and answered normally: the function does not raise, so neither Lambda nor EventBridge retries it.
Only what may pass (a store outage, a lost race) raises, and is retried (the key makes that safe).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from load_manager.access import RUNNER
from load_manager.adapters.step_functions import ExecutionStarter
from load_manager.errors import LoadManagerError
from load_manager.identity import Caller
from load_manager.ids import now_ms
from load_manager.models.automation import ScheduleOccurrence, TriggerFiring
from load_manager.models.run_requests import EventTrigger, ScheduleTrigger, StartRunRequest
from load_manager.observability import count, logger
from load_manager.store import Stores
from load_manager.usecases import event_sources
from load_manager.usecases.event_tenancy import belongs

KEEP_FIRINGS = 20
KEEP_OCCURRENCES = 50
Starter = Callable[[], ExecutionStarter]


class _Reference(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)  # built on first delivery, not at import (models/base.py)

    account_id: str = Field(alias="accountId", min_length=1)
    load_test_id: str = Field(alias="loadTestId", min_length=1)


class TriggerReference(_Reference):
    trigger_id: str = Field(alias="triggerId", min_length=1)


class ScheduleReference(_Reference):
    schedule_id: str = Field(alias="scheduleId", min_length=1)


def event_digest(event: dict[str, Any]) -> str:
    content = {key: event.get(key) for key in ("source", "detail-type", "resources", "detail")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _start(
    stores: Stores, starter: Starter, caller: Caller, test_id: str, settings: StartRunRequest, key: str, trigger
) -> dict[str, Any]:
    """start_run, with what happened as {outcome, run_id, code, reason}; transient errors raise."""
    from load_manager.usecases import runs  # lazy: the runs use case costs 6 ms at import (bench/cold_import.py --lazy), deliveries only

    try:
        run, created = runs.start_run(stores, starter, caller, test_id, settings, key, trigger=trigger)
    except LoadManagerError as exc:
        if getattr(exc, "retryable", False):
            raise
        run_id = exc.details.get("runId") if isinstance(exc.details, dict) else None
        count("AutomatedRunsNotStarted")
        return {"outcome": "failed", "run_id": run_id, "code": exc.code, "reason": exc.message}
    return {"outcome": "started" if created else "duplicate", "run_id": run.id}


def fire_event(stores: Stores, starter: Starter, payload: dict[str, Any]) -> dict[str, Any]:
    """A rule's delivery: `{"loadManagerTrigger": {...}, "event": <the EventBridge event>}`."""
    reference = TriggerReference.model_validate(payload["loadManagerTrigger"])
    raw = payload.get("event")
    event: dict[str, Any] = raw if isinstance(raw, dict) else {}
    trigger = stores.triggers.get(reference.account_id, reference.load_test_id, reference.trigger_id)
    if trigger is None:  # deleted while its rule still existed (or a rule nobody owns)
        count("TriggerEventsIgnored")
        logger.warning("event for a trigger that does not exist", extra={"triggerId": reference.trigger_id})
        return {"outcome": "ignored", "reason": "no such trigger"}
    if not belongs(event, trigger.account_id, event_sources.owned(stores, trigger.account_id)):
        count("TriggerEventsForeign")  # the bus is shared; tenants are not: nothing of it is recorded
        logger.warning("event that is not the trigger's tenant's ignored", extra={"triggerId": trigger.id, "source": event.get("source")})
        return {"outcome": "ignored", "reason": "not this tenant's event"}
    digest = event_digest(event)
    event_id = str(event.get("id") or digest)
    started_by = EventTrigger(
        trigger_id=trigger.id, event_id=event_id, source=str(event.get("source") or ""),
        detail_type=str(event.get("detail-type") or ""), event_digest=digest,
    )  # fmt: skip
    # A trigger starts runs as a runner would (its run.start record says so), never more.
    caller = Caller(subject=f"trigger:{trigger.id}", email=None, account_id=trigger.account_id, groups=frozenset(), role=RUNNER)
    if not trigger.enabled:  # matched before its rule was disabled (EventBridge retries a delivery for up to an hour)
        result: dict[str, Any] = {"outcome": "skipped", "reason": "the trigger is disabled"}
    else:
        result = _start(stores, starter, caller, trigger.load_test_id, trigger.run_settings, f"event {trigger.id} {digest}", started_by)
    firing = TriggerFiring(at=now_ms(), event_id=event_id, source=started_by.source, detail_type=started_by.detail_type, **result)
    stores.triggers.record_firing(trigger.account_id, trigger.id, firing, KEEP_FIRINGS)
    count(f"TriggerFirings{firing.outcome.capitalize()}")
    return firing.model_dump(by_alias=True, exclude_none=True)


def scheduled_time(payload: dict[str, Any]) -> int:
    """Scheduler's `<aws.scheduler.scheduled-time>` (ISO 8601, UTC) in epoch ms."""
    text = str(payload.get("scheduledTime") or "")
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise ValueError(f"scheduledTime {text!r} is not an ISO 8601 time") from None


def fire_schedule(stores: Stores, starter: Starter, payload: dict[str, Any]) -> dict[str, Any]:
    """A Scheduler occurrence: `{"loadManagerSchedule": {...}, "scheduledTime": "...Z", ...}`."""
    reference = ScheduleReference.model_validate(payload["loadManagerSchedule"])
    at = scheduled_time(payload)
    schedule = stores.schedules.get(reference.account_id, reference.load_test_id, reference.schedule_id)
    if schedule is None:
        count("ScheduleOccurrencesIgnored")
        return {"outcome": "ignored", "reason": "no such schedule"}
    if any(o.at == at and o.outcome != "duplicate" for o in schedule.occurrences):
        return {"outcome": "duplicate", "at": at}  # a redelivery of an occurrence already recorded
    key = f"schedule {schedule.id} {at}"
    result = _decide(stores, schedule, at, key)
    if result is None:
        caller = Caller(subject=f"schedule:{schedule.id}", email=None, account_id=schedule.account_id, groups=frozenset(), role=RUNNER)
        started_by = ScheduleTrigger(schedule_id=schedule.id, occurrence_at=at)
        result = _start(stores, starter, caller, schedule.load_test_id, schedule.run_settings, key, started_by)
    occurrence = ScheduleOccurrence(at=at, fired_at=now_ms(), **result)
    if occurrence.outcome != "duplicate":
        stores.schedules.record_occurrence(schedule.account_id, schedule.id, occurrence, KEEP_OCCURRENCES)
    count(f"ScheduleOccurrences{occurrence.outcome.capitalize()}")
    return occurrence.model_dump(by_alias=True, exclude_none=True)


def _decide(stores: Stores, schedule, at: int, key: str) -> dict[str, Any] | None:
    """Why this occurrence starts nothing, or None to start a run."""
    if stores.idempotency.get(schedule.account_id, key, now_ms()) is not None:
        # Claimed by an earlier delivery: start_run answers its run ("duplicate"), or stores it and
        # starts it if that delivery died in between. Before the active-run check, which it would trip.
        return None
    if not schedule.enabled:
        return {"outcome": "skipped", "reason": "the schedule is disabled"}
    if (schedule.start_at is not None and at < schedule.start_at) or (schedule.end_at is not None and at > schedule.end_at):
        return {"outcome": "skipped", "reason": "the occurrence is outside the schedule's startAt/endAt"}
    active = stores.runs.find_active(schedule.account_id, schedule.load_test_id)
    if active is not None:
        return {"outcome": "skipped", "run_id": active.id, "reason": f"the previous run {active.id} of this test is still {active.status}"}
    return None


def handle(stores: Stores, starter: Starter, payload: dict[str, Any]) -> dict[str, Any]:
    """Dispatch a non-HTTP invocation of the triggers function."""
    try:
        if "loadManagerTrigger" in payload:
            return fire_event(stores, starter, payload)
        if "loadManagerSchedule" in payload:
            return fire_schedule(stores, starter, payload)
    except (ValidationError, ValueError) as exc:  # a malformed delivery: retrying cannot fix it
        count("AutomationDeliveriesMalformed")
        logger.error("malformed delivery", extra={"error": str(exc)})
        return {"outcome": "ignored", "reason": f"malformed delivery: {exc}"[:500]}
    raise ValueError("not a Load Manager trigger or schedule delivery")
