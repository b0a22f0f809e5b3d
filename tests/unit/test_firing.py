"""From a delivery to a run: what EventBridge and Scheduler hand the triggers function, and what
it does with it (started, duplicate, failed, skipped, ignored), on the real use cases and SQLite;
the rule and Scheduler ports are fakes, Step Functions is `RecordingStarter`."""

from __future__ import annotations

import pytest
from support.automation_fakes import FakeRules, FakeSchedules
from support.lifecycle import CALLER, RecordingStarter
from support.scripts import SIMPLE, b64

from load_manager.errors import ConcurrencyError
from load_manager.identity import Caller
from load_manager.models.automation import CreateEventSourceRequest, CreateScheduleRequest, CreateTriggerRequest
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.usecases import event_sources, firing, load_tests, runs, schedules, triggers

PATTERN = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"]}}


@pytest.fixture
def bus():
    return FakeRules()


@pytest.fixture
def clock():
    return FakeSchedules()


OPERATOR = Caller(subject="ops", email="ops@example.net", account_id="ops", groups=frozenset({"load-manager-operators"}))


def own(stores, kind: str, value: str, account: str = "acct") -> None:
    """An operator says `account` owns this event source (its triggers may then see its events)."""
    request = CreateEventSourceRequest.model_validate({"ownerAccountId": account, "kind": kind, "value": value})
    event_sources.create(stores, lambda _account: None, OPERATOR, request)


@pytest.fixture
def test_id(stores):
    own(stores, "codedeployApplication", "shop")  # the application of `codedeploy()` events
    request = CreateLoadTestRequest.model_validate({"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
    return load_tests.create(stores, CALLER, request).id


def codedeploy(event_id: str, deployment: str = "d-1", state: str = "SUCCESS") -> dict:
    return {
        "version": "0", "id": event_id, "detail-type": "CodeDeploy Deployment State-change Notification", "source": "aws.codedeploy",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"state": state, "application": "shop", "deploymentId": deployment},
    }  # fmt: skip


def deliver(stores, trigger, event: dict) -> dict:
    return firing.handle(stores, RecordingStarter, {"loadManagerTrigger": triggers.rule_reference(trigger), "event": event})


def make_trigger(stores, bus, test_id, **settings):
    request = CreateTriggerRequest.model_validate({"name": "after deploy", "eventPattern": PATTERN, "runSettings": {"durationSeconds": 5, **settings}})
    return triggers.create(stores, lambda: bus, CALLER, test_id, request)


def test_a_redelivered_or_re_put_event_starts_one_run(stores, bus, test_id):
    trigger = make_trigger(stores, bus, test_id)
    # The rule: the trigger's pattern AND the applications its tenant owns (the bus is shared).
    assert bus.rules[trigger.rule_name]["pattern"] == {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"], "application": ["shop"]}}
    assert trigger.event_pattern == PATTERN
    first = deliver(stores, trigger, codedeploy("id-1"))
    again = deliver(stores, trigger, codedeploy("id-1"))  # EventBridge's at-least-once delivery
    re_put = deliver(stores, trigger, codedeploy("id-2"))  # the producer put it twice: a new id, the same event
    other = deliver(stores, trigger, codedeploy("id-3", deployment="d-2"))  # the next deployment
    assert first["outcome"] == "started" and again["outcome"] == re_put["outcome"] == "duplicate"
    assert first["runId"] == again["runId"] == re_put["runId"] != other["runId"]
    listed = stores.runs.list("acct", test_id, status=None, limit=10, after=None)
    assert len(listed) == 2
    run = stores.runs.get("acct", first["runId"])
    assert run.trigger.type == "event" and run.trigger.trigger_id == trigger.id and run.trigger.event_id == "id-1"
    assert run.trigger.source == "aws.codedeploy" and run.created_by == f"trigger:{trigger.id}" and run.duration_seconds == 5
    firings = triggers.get(stores, CALLER, test_id, trigger.id).last_firings
    assert [(f.event_id, f.outcome) for f in firings] == [("id-3", "started"), ("id-2", "duplicate"), ("id-1", "duplicate"), ("id-1", "started")]


def test_an_event_for_a_deleted_test_is_recorded_and_answered_normally(stores, bus, test_id):
    trigger = make_trigger(stores, bus, test_id)
    load_tests.delete(stores, CALLER, test_id)
    answer = deliver(stores, trigger, codedeploy("id-1"))  # no exception: nothing for Lambda to retry
    assert answer["outcome"] == "failed" and answer["code"] == "LoadTestNotFound"
    (recorded,) = triggers.list_for_test(stores, CALLER, test_id).items[0].last_firings  # still listed for the deleted test
    assert recorded.code == "LoadTestNotFound" and "not found" in recorded.reason
    triggers.delete(stores, lambda: bus, CALLER, test_id, trigger.id)
    assert bus.rules == {} and stores.triggers.count("acct") == 0


def test_an_event_whose_run_cannot_start_is_recorded_with_the_reason(stores, bus, test_id):
    trigger = make_trigger(stores, bus, test_id, revision=1)
    stores.load_tests.update("acct", test_id, {"target_url": None})
    answer = deliver(stores, trigger, codedeploy("id-1"))
    assert answer["outcome"] == "failed" and answer["code"] == "MissingTargetUrl"


def test_transient_failures_raise_so_the_delivery_is_retried(stores, bus, test_id, monkeypatch):
    trigger = make_trigger(stores, bus, test_id)

    def busy(*_args, **_kwargs):
        raise ConcurrencyError("too many concurrent writes")

    monkeypatch.setattr(runs, "start_run", busy)
    with pytest.raises(ConcurrencyError):
        deliver(stores, trigger, codedeploy("id-1"))
    assert triggers.get(stores, CALLER, test_id, trigger.id).last_firings == []


def test_what_is_not_ours_to_run_is_ignored(stores, bus, test_id):
    trigger = make_trigger(stores, bus, test_id)
    foreign = {**codedeploy("id-1"), "source": "load-manager", "detail": {"accountId": "another-tenant", "runId": "r"}}
    assert deliver(stores, trigger, foreign)["outcome"] == "ignored"
    gone = trigger.model_copy(update={"id": "0" * 32})
    assert deliver(stores, gone, codedeploy("id-2"))["outcome"] == "ignored"
    malformed = firing.handle(stores, RecordingStarter, {"loadManagerTrigger": {"triggerId": trigger.id}})
    assert malformed["outcome"] == "ignored" and "malformed" in malformed["reason"]
    with pytest.raises(ValueError):
        firing.handle(stores, RecordingStarter, {"detail-type": "Scheduled Event"})
    assert stores.runs.list("acct", test_id, status=None, limit=5, after=None) == []


def test_create_refuses_triggers_that_could_never_start_a_run_and_writes_no_rule(stores, bus, test_id):
    from load_manager.errors import AutomationLimitError, RevisionNotFoundError

    with pytest.raises(RevisionNotFoundError):
        make_trigger(stores, bus, test_id, revision=7)
    assert bus.rules == {} and stores.triggers.count("acct") == 0
    from load_manager.settings import get_settings, set_settings

    settings = get_settings()
    set_settings(settings.model_copy(update={"automation": settings.automation.model_copy(update={"max_per_test": 2})}))
    try:
        make_trigger(stores, bus, test_id)
        make_trigger(stores, bus, test_id)
        with pytest.raises(AutomationLimitError):
            make_trigger(stores, bus, test_id)
    finally:
        set_settings(None)
    assert len(bus.rules) == 2


class FailingInsert:
    def __init__(self, real):
        self.real = real

    def insert(self, _item, **_options):
        raise RuntimeError("database unavailable")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_record_that_cannot_be_written_takes_its_rule_back(stores, bus, test_id):
    from dataclasses import replace

    broken = replace(stores, triggers=FailingInsert(stores.triggers))
    with pytest.raises(RuntimeError):
        make_trigger(broken, bus, test_id)
    assert bus.rules == {}


# ---- schedules ----------------------------------------------------------------------------------


def make_schedule(stores, clock, test_id, **fields):
    body = {"name": "every minute", "cron": "* * * * *", "runSettings": {"durationSeconds": 60}, **fields}
    return schedules.create(stores, lambda: clock, CALLER, test_id, CreateScheduleRequest.model_validate(body))


def occurrence(stores, schedule, at: str) -> dict:
    payload = {"loadManagerSchedule": schedules.reference(schedule), "scheduledTime": at, "executionId": "x", "attempt": "1"}
    return firing.handle(stores, RecordingStarter, payload)


def test_an_occurrence_finding_the_previous_run_active_is_skipped_with_its_reason(stores, clock, test_id):
    schedule = make_schedule(stores, clock, test_id)
    assert clock.schedules[schedule.scheduler_name].expression == "cron(* * * * ? *)"
    first = occurrence(stores, schedule, "2026-01-01T10:00:00Z")
    second = occurrence(stores, schedule, "2026-01-01T10:01:00Z")
    assert first["outcome"] == "started"
    assert second["outcome"] == "skipped" and second["runId"] == first["runId"]
    assert second["reason"] == f"the previous run {first['runId']} of this test is still Pending"
    # Redelivered occurrences start nothing and record nothing new.
    assert occurrence(stores, schedule, "2026-01-01T10:00:00Z")["outcome"] == "duplicate"
    assert occurrence(stores, schedule, "2026-01-01T10:01:00Z")["outcome"] == "duplicate"
    recorded = schedules.get(stores, CALLER, test_id, schedule.id).occurrences
    assert [(o.at, o.outcome) for o in recorded] == [(1767261660000, "skipped"), (1767261600000, "started")]
    run = stores.runs.get("acct", first["runId"])
    assert run.trigger.type == "schedule" and run.trigger.schedule_id == schedule.id and run.trigger.occurrence_at == 1767261600000


def test_an_occurrence_whose_first_delivery_started_its_run_is_a_duplicate_not_a_skip(stores, clock, test_id):
    """The run of an occurrence is active when that occurrence is redelivered: its own key is found first."""
    schedule = make_schedule(stores, clock, test_id)
    first = occurrence(stores, schedule, "2026-01-01T10:00:00Z")
    stores.schedules.update("acct", test_id, schedule.id, {"occurrences": []})  # as if the record had not been written
    again = occurrence(stores, schedule, "2026-01-01T10:00:00Z")
    assert again == {"at": 1767261600000, "firedAt": pytest.approx(0, abs=10**13), "outcome": "duplicate", "runId": first["runId"]}
    assert len(stores.runs.list("acct", test_id, status=None, limit=5, after=None)) == 1 and first["runId"]


def test_disabled_or_out_of_window_occurrences_are_skipped(stores, clock, test_id):
    schedule = make_schedule(stores, clock, test_id, startAt=1767261600000, endAt=1767265200000)
    assert occurrence(stores, schedule, "2026-01-01T09:59:00Z")["outcome"] == "skipped"
    assert occurrence(stores, schedule, "2026-01-01T11:01:00Z")["outcome"] == "skipped"
    stores.schedules.update("acct", test_id, schedule.id, {"enabled": False})
    skipped = occurrence(stores, schedule, "2026-01-01T10:30:00Z")
    assert skipped["outcome"] == "skipped" and skipped["reason"] == "the schedule is disabled"
    assert stores.runs.list("acct", test_id, status=None, limit=5, after=None) == []


def test_a_schedule_more_frequent_than_its_runs_is_refused_and_nothing_is_written(stores, clock, test_id):
    from load_manager.errors import UnprocessableError

    with pytest.raises(UnprocessableError) as refused:
        make_schedule(stores, clock, test_id, runSettings={"durationSeconds": 61})
    assert refused.value.code == "ScheduleTooFrequent" and refused.value.details == {"minIntervalSeconds": 60, "durationSeconds": 61}
    # The test's default duration counts when runSettings say nothing.
    stores.load_tests.update("acct", test_id, {"default_duration_seconds": 900})
    with pytest.raises(UnprocessableError):
        make_schedule(stores, clock, test_id, cron="*/10 * * * *", runSettings={})
    assert clock.schedules == {} and stores.schedules.count("acct", test_id) == 0
    assert make_schedule(stores, clock, test_id, cron="*/15 * * * *", runSettings={}).min_interval_seconds == 900


def test_patch_rewrites_the_scheduler_schedule_and_rechecks_the_interval(stores, clock, test_id):
    from load_manager.errors import UnprocessableError
    from load_manager.models.automation import UpdateScheduleRequest

    schedule = make_schedule(stores, clock, test_id, cron="0 2 * * *", timezone="Europe/Paris", runSettings={"durationSeconds": 600})
    patch = UpdateScheduleRequest.model_validate({"rate": "15 minutes", "enabled": False})
    changed = schedules.update(stores, lambda: clock, CALLER, test_id, schedule.id, patch)
    assert (changed.cron, changed.rate, changed.expression, changed.enabled, changed.next_occurrences) == (None, "15 minutes", "rate(15 minutes)", False, [])
    assert clock.schedules[schedule.scheduler_name].expression == "rate(15 minutes)" and clock.schedules[schedule.scheduler_name].enabled is False
    with pytest.raises(UnprocessableError):
        schedules.update(stores, lambda: clock, CALLER, test_id, schedule.id, UpdateScheduleRequest.model_validate({"rate": "5 minutes"}))
    assert clock.schedules[schedule.scheduler_name].expression == "rate(15 minutes)"  # refused: nothing rewritten
    schedules.delete(stores, lambda: clock, CALLER, test_id, schedule.id)
    assert clock.schedules == {}


def test_next_occurrences_follow_the_time_zone_and_the_window(stores, clock, test_id):
    from datetime import UTC, datetime

    def ms(*when: int) -> int:
        return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)

    window = {"startAt": ms(2030, 7, 1, 14), "endAt": ms(2030, 7, 4)}
    schedule = make_schedule(stores, clock, test_id, cron="0 9 * * *", timezone="America/New_York", **window)
    assert schedule.next_occurrences == [ms(2030, 7, 2, 13), ms(2030, 7, 3, 13)]  # 09:00 EDT, and the window ends


def test_without_a_bus_or_scheduler_nothing_is_written_not_even_a_quota_hold(stores, test_id):
    from load_manager.errors import AutomationUnavailableError

    def unavailable():
        raise AutomationUnavailableError("no event bus is configured")

    with pytest.raises(AutomationUnavailableError):
        triggers.create(stores, unavailable, CALLER, test_id, CreateTriggerRequest.model_validate({"name": "t", "eventPattern": PATTERN}))
    with pytest.raises(AutomationUnavailableError):
        schedules.create(stores, unavailable, CALLER, test_id, CreateScheduleRequest.model_validate({"name": "s", "cron": "0 3 * * *"}))
    assert stores.triggers.count("acct") == stores.schedules.count("acct") == 0
    assert stores.holds.holds("acct", "triggers") == stores.holds.holds("acct", "schedules") == []
