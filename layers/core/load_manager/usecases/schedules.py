"""Schedules: a cron (5 fields) or a rate, in an IANA time zone, between startAt and endAt.

Each is one EventBridge Scheduler schedule (adapters/scheduler.py), written before the record
(a refused definition leaves nothing behind). A schedule whose shortest interval is below the
run's duration is refused with a 422: its occurrences would always find the previous run active.
The caps per tenant and per test are quota holds (usecases/quotas.py): they hold under concurrent
creation. A schedule pinning a revision keeps it from retention (usecases/retention.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from load_manager import schedule_expressions as expressions
from load_manager.adapters.scheduler import ScheduleDefinition, Schedules, schedule_name
from load_manager.errors import BadRequestError, ScheduleNotFoundError, UnprocessableError
from load_manager.identity import Caller
from load_manager.ids import is_id, new_id, now_ms
from load_manager.models.automation import CreateScheduleRequest, Schedule, ScheduleList, UpdateScheduleRequest
from load_manager.models.run_requests import StartRunRequest
from load_manager.store import Stores
from load_manager.usecases import audit, quotas
from load_manager.usecases.reads import get_test
from load_manager.usecases.retention import refuse_pruned_pin

if TYPE_CHECKING:  # annotations only
    from load_manager.models.load_tests import LoadTest
    from load_manager.models.runs import Run

SchedulesFactory = Callable[[], Schedules]
NEXT_SHOWN = 3


def reference(schedule: Schedule) -> dict[str, str]:
    return {"scheduleId": schedule.id, "accountId": schedule.account_id, "loadTestId": schedule.load_test_id}


def definition(schedule: Schedule) -> ScheduleDefinition:
    return ScheduleDefinition(
        name=schedule.scheduler_name, expression=schedule.expression, timezone=schedule.timezone, start_at=schedule.start_at,
        end_at=schedule.end_at, enabled=schedule.enabled, target_input=reference(schedule),
        description=f"Load Manager schedule {schedule.name!r} of test {schedule.load_test_id}",
    )  # fmt: skip


def _checked(
    stores: Stores, caller: Caller, test: LoadTest, values: dict[str, Any], now: int
) -> tuple[expressions.ScheduleSpec, int]:
    """Validate a schedule's fields (snake_case); returns its spec and shortest interval."""
    spec = expressions.parse(values.get("cron"), values.get("rate"), values["timezone"])
    start_at, end_at = values.get("start_at"), values.get("end_at")
    if start_at is not None and end_at is not None and end_at <= start_at:
        raise UnprocessableError("endAt must be after startAt", code="InvalidScheduleWindow")
    settings: StartRunRequest = values["run_settings"]
    duration = _check_run(stores, caller, test, settings).duration_seconds  # a load profile's total, if it has one
    interval = spec.min_interval_seconds(expressions.to_datetime(max(now, start_at or 0)))
    if interval < duration:
        raise UnprocessableError(
            f"this schedule can fire every {interval} s but a run lasts {duration} s: every other occurrence would be skipped; "
            "make the schedule sparser or the run shorter",
            code="ScheduleTooFrequent",
            details={"minIntervalSeconds": interval, "durationSeconds": duration},
        )
    return spec, interval


def create(stores: Stores, scheduler: SchedulesFactory, caller: Caller, test_id: str, request: CreateScheduleRequest) -> Schedule:
    test = _test(stores, caller, test_id)
    now = now_ms()
    values = _whole_seconds(request.model_dump(exclude={"run_settings"}) | {"run_settings": request.run_settings})
    spec, interval = _checked(stores, caller, test, values, now)
    schedule_id = new_id()
    schedule = Schedule(
        id=schedule_id, account_id=caller.account_id, load_test_id=test.id, **values, expression=spec.expression,
        scheduler_name=schedule_name(schedule_id), min_interval_seconds=interval,
        created_at=now, created_by=caller.actor, updated_at=now, updated_by=caller.actor,
    )  # fmt: skip
    clock = scheduler()  # 503 without Scheduler, before anything is written
    quotas.seed_automation_holds(stores, quotas.SCHEDULES, caller.account_id, lambda: _of_account(stores, caller.account_id))
    quotas.take_automation(stores, quotas.SCHEDULES, caller.account_id, test.id, schedule.id, _exists(stores, caller.account_id))
    try:
        clock.put(definition(schedule))
        try:
            created = audit.change(caller, "schedule.create", schedule.id, load_test_id=test.id, after=schedule, at=now)
            stores.schedules.insert(schedule, audit=created)
            refuse_pruned_pin(stores, schedule.account_id, schedule.load_test_id, schedule.run_settings.revision)
        except BaseException:  # a schedule stored is taken back, on the record too
            stores.schedules.delete(
                schedule.account_id, schedule.load_test_id, schedule.id,
                audit=audit.change(caller, "schedule.delete", schedule.id, load_test_id=test.id, before=schedule),
            )  # fmt: skip
            clock.delete(schedule.scheduler_name)
            raise
    except BaseException:
        quotas.release(stores, quotas.SCHEDULES, caller.account_id, schedule.id)
        raise
    return with_next(schedule, now)


def _exists(stores: Stores, account_id: str):
    return lambda test_id, schedule_id: stores.schedules.get(account_id, test_id, schedule_id) is not None


def _of_account(stores: Stores, account_id: str) -> list[Schedule]:
    return [s for s in stores.schedules.list_all() if s.account_id == account_id] if stores.schedules.count(account_id) else []


def update(
    stores: Stores, scheduler: SchedulesFactory, caller: Caller, test_id: str, schedule_id: str, request: UpdateScheduleRequest
) -> Schedule:
    current = _get(stores, caller, test_id, schedule_id)
    sent = {name: getattr(request, name) for name in request.model_fields_set}
    if not sent:
        raise BadRequestError("the body changes nothing: send at least one field", code="EmptyUpdate")
    if "cron" in sent and "rate" in sent and sent["cron"] is not None and sent["rate"] is not None:
        raise UnprocessableError("give cron or rate, not both", code="InvalidSchedule")
    if sent.get("cron") is not None:
        sent["rate"] = None
    if sent.get("rate") is not None:
        sent["cron"] = None
    for required in ("timezone", "enabled", "run_settings"):
        if required in sent and sent[required] is None:
            raise UnprocessableError(f"{required} cannot be null", code="ValidationError")
    test = _test(stores, caller, test_id)
    now = now_ms()
    sent = _whole_seconds(sent)
    values = {field: getattr(current, field) for field in CreateScheduleRequest.model_fields if field != "name"} | sent
    spec, interval = _checked(stores, caller, test, values, now)
    changes = sent | {"expression": spec.expression, "min_interval_seconds": interval, "updated_at": now, "updated_by": caller.actor}
    clock = scheduler()
    clock.put(definition(current.model_copy(update=changes)))
    updated = _store_change(stores, caller, current, changes, sent)
    try:
        refuse_pruned_pin(stores, caller.account_id, test_id, updated.run_settings.revision)
    except BaseException:  # pruned meanwhile: the schedule goes back to what it was (a change of its own, on the record)
        previous = {field: getattr(current, field) for field in changes}
        clock.put(definition(current))
        undo = audit.change(caller, "schedule.update", schedule_id, load_test_id=test_id, before=updated, after=audit.merged(updated, previous))
        stores.schedules.update(caller.account_id, test_id, schedule_id, previous, audit=undo)
        raise
    return with_next(updated, now)


def _store_change(stores: Stores, caller: Caller, current: Schedule, changes: dict[str, Any], sent: dict[str, Any]) -> Schedule:
    """One atomic merge of the changes, on the record; again from the stored schedule when another change came between."""

    def read() -> Schedule:
        latest = stores.schedules.get(caller.account_id, current.load_test_id, current.id)
        if latest is None:
            raise ScheduleNotFoundError(f"schedule {current.id!r} was deleted meanwhile")
        return latest

    def write(latest: Schedule) -> Schedule | None:
        stamped = changes | {"updated_at": audit.stamp(latest.updated_at)}
        after = audit.merged(latest, stamped)
        record = audit.change(caller, "schedule.update", latest.id, load_test_id=latest.load_test_id, before=latest, after=after, changed=sent)
        expect = {"updated_at": latest.updated_at}
        return stores.schedules.update(caller.account_id, latest.load_test_id, latest.id, stamped, audit=record, expect=expect)

    return audit.until_written(read, write, "schedule")


def _whole_seconds(values: dict[str, Any]) -> dict[str, Any]:
    """startAt/endAt to the second: Scheduler's times (and `scheduledTime`) have no milliseconds."""
    for key in ("start_at", "end_at"):
        if values.get(key) is not None:
            values[key] -= values[key] % 1000
    return values


def _get(stores: Stores, caller: Caller, test_id: str, schedule_id: str) -> Schedule:
    schedule = stores.schedules.get(caller.account_id, test_id, schedule_id) if is_id(test_id) and is_id(schedule_id) else None
    if schedule is None or not caller.sees_test(test_id):
        raise ScheduleNotFoundError(f"schedule {schedule_id!r} of load test {test_id!r} not found")
    return schedule


def get(stores: Stores, caller: Caller, test_id: str, schedule_id: str) -> Schedule:
    return with_next(_get(stores, caller, test_id, schedule_id), now_ms())


def list_for_test(stores: Stores, caller: Caller, test_id: str) -> ScheduleList:
    items = stores.schedules.list(caller.account_id, test_id) if is_id(test_id) and caller.sees_test(test_id) else []
    if not items:
        _test(stores, caller, test_id)  # 404 for an unknown (or unseen) test
    now = now_ms()
    return ScheduleList(items=[with_next(item, now) for item in items])


def delete(stores: Stores, scheduler: SchedulesFactory, caller: Caller, test_id: str, schedule_id: str) -> None:
    schedule = _get(stores, caller, test_id, schedule_id)
    scheduler().delete(schedule.scheduler_name)

    def write(latest: Schedule | None) -> bool | None:  # gone meanwhile: deleted by another request, and recorded by it
        record = audit.change(caller, "schedule.delete", schedule_id, load_test_id=test_id, before=latest)
        expect = {"updated_at": latest.updated_at} if latest else None
        return latest is None or stores.schedules.delete(caller.account_id, test_id, schedule_id, audit=record, expect=expect) or None

    audit.until_written(lambda: stores.schedules.get(caller.account_id, test_id, schedule_id), write, "schedule")
    quotas.release(stores, quotas.SCHEDULES, caller.account_id, schedule_id)


def occurrences(schedule: Schedule, after_ms: int) -> list[int]:
    """The next scheduled times after `after_ms` (epoch ms), within the schedule's window."""
    spec = expressions.parse(schedule.cron, schedule.rate, schedule.timezone)
    after = expressions.to_datetime(max(after_ms, (schedule.start_at or 0) - 1))
    out = []
    for when in islice(spec.occurrences(after, anchor=rate_anchor(schedule)), NEXT_SHOWN):
        at = expressions.to_epoch_ms(when)
        if schedule.end_at is not None and at > schedule.end_at:
            break
        out.append(at)
    return out


def rate_anchor(schedule: Schedule) -> datetime:
    """A rate's first occurrence: its startAt, else one interval after it was created."""
    if schedule.start_at is not None:
        return expressions.to_datetime(schedule.start_at)
    seconds = expressions.parse_rate(schedule.rate)[0] if schedule.rate else 0
    return expressions.to_datetime(schedule.created_at + seconds * 1000)


def with_next(schedule: Schedule, now: int) -> Schedule:
    upcoming = occurrences(schedule, now) if schedule.enabled else []
    return schedule.model_copy(update={"next_occurrences": upcoming})


def resync(stores: Stores, scheduler: SchedulesFactory) -> int:
    clock = scheduler()
    schedules = stores.schedules.list_all()
    for schedule in schedules:
        clock.put(definition(schedule))
    return len(schedules)


def _test(stores: Stores, caller: Caller, test_id: str) -> LoadTest:
    """The caller's load test (404 if it has none)."""
    return get_test(stores, caller, test_id)


def _check_run(stores: Stores, caller: Caller, test: LoadTest, settings: StartRunRequest) -> Run:
    """The run these settings would start, checked as a start checks it (4xx now, not at each firing)."""
    from load_manager.usecases import runs  # lazy: the runs use case costs 6 ms at import (bench/cold_import.py --lazy)

    return runs.check_request(stores, caller, test, settings)
