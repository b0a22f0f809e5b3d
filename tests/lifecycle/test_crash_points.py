"""Nothing stuck, nothing orphaned, nothing lost, after any single crash.

For each step that moves a run (the API's start, an event firing, a schedule occurrence, and the
lifecycle's StartRun, PollRun, Finalize, MarkFailed), the function dies right after each of its
store writes and AWS/backend calls in turn (support.crash_points: the same scenario played once
without a crash counts them). Then AWS does what it would:
- a lifecycle step's death reaches Step Functions as `Lambda.Unknown`, which the ASL retries;
- an event or an occurrence is delivered again (Lambda retries a failed asynchronous invocation
  twice); a client of the API is assumed to give up (the harshest case: nobody retries);
- every execution started runs over the real ASL (support.asl), and the sweeper runs every
  5 minutes (twice here, executions it starts run in between).

Every crash point must end with:
- the run in the final state the same scenario reaches without a crash (status, result, reason),
  exactly one run per request, event or occurrence (no run at all only when the API request died
  before the run was stored: its client got an error);
- 0 clusters left (`FakeBackend.live_clusters() == []`) and exactly one ever launched;
- the test's `lastRun` (what the list of tests shows) that run as it ended;
- the outbox empty, and the events delivered "once" in the sense a consumer can rely on: each of
  RunStarted and RunFinished delivered under its one stable `eventId` (`<runId>:<type>`), never two
  ids for a type, never an event the no-crash scenario does not send; and exactly one delivery of
  each, except the one whose PutEvents the function died right after (at-least-once: it is
  delivered again by the next drain, with the same id, so a consumer deduplicating by `eventId` sees
  it once).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from support.clock import FakeClock, installed
from support.crash_points import (
    CrashingBackend,
    CrashPlan,
    FakeStepFunctions,
    RecordingBus,
    crashing_stores,
    invoke_with_retries,
    lifecycle_handler,
)
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER
from support.scripts import SIMPLE, b64

from load_manager.adapters import reports
from load_manager.adapters.eventbridge import set_publisher
from load_manager.lifecycle.notify import event_id
from load_manager.lifecycle.sweeper import sweep
from load_manager.models.automation import CreateScheduleRequest, CreateTriggerRequest
from load_manager.models.load_tests import CreateLoadTestRequest, LastRun
from load_manager.models.runs import Run, StartRunRequest
from load_manager.store import set_stores
from load_manager.store.sqlite import build_sqlite_stores
from load_manager.usecases import firing, load_tests, runs, schedules, triggers

pytestmark = pytest.mark.usefixtures("fast_settings")

SWEEP_EVERY_SECONDS = 300
STEPS = ("api", "event", "schedule", "start", "poll", "finalize", "mark-failed")
ACTIONS = {"start": "start", "poll": "poll", "finalize": "finalize", "mark-failed": "fail"}


class _Rules:
    def put(self, *args, **kwargs) -> None: ...

    def delete(self, name) -> None: ...


class _Schedules:
    def put(self, definition) -> None: ...

    def delete(self, name) -> None: ...


@dataclass
class Outcome:
    calls: list[str]
    crashed: str | None
    run: Run | None
    runs_of_test: int
    deliveries: list[tuple[str, dict]]
    clusters: int
    live_clusters: int
    pending_events: list = field(default_factory=list)
    last_run: LastRun | None = None  # what the list of tests says of the test's newest run


def fresh_stores(kind: str, directory, name: str):
    if kind == "sqlite":
        return build_sqlite_stores(str(directory / f"{name}.db"))
    from support.locked_mongomock import locked_database

    from load_manager.store.mongo import build_mongo_stores

    return build_mongo_stores(locked_database(name))


def play(kind: str, directory, monkeypatch, step: str, crash_at: int | None) -> Outcome:
    """The scenario of `step`, its function dying after its `crash_at`-th call (None: no crash)."""
    stores = fresh_stores(kind, directory, f"{step}-{crash_at}")
    set_stores(stores)
    plan = CrashPlan(crash_at)
    fake = FakeBackend()
    if step == "mark-failed":  # Locust dies after the first sample: the next poll sees it, MarkFailed ends the run
        fake.on_sample = lambda handle: fake.crash(handle, exit_code=137)
    backend, crashing, bus = CrashingBackend(fake, plan), crashing_stores(stores, plan), RecordingBus(plan)
    set_publisher(bus)
    for name in ("save_report", "save_results_report"):  # S3 PutObject in AWS
        original = getattr(reports, name)
        monkeypatch.setattr(reports, name, lambda *args, _original=original, _name=name: _after(plan, f"s3.PutObject({_name})", _original(*args)))
    sfn = FakeStepFunctions(plan, lifecycle_handler(crashing, backend, plan, ACTIONS.get(step)))
    try:
        with installed(FakeClock()) as clock:
            test = load_tests.create(stores, CALLER, CreateLoadTestRequest.model_validate(
                {"name": "crash", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"}))  # fmt: skip
            request = StartRunRequest.model_validate({"durationSeconds": 30 if step == "mark-failed" else 2})
            _source(step, stores, crashing, sfn, plan, clock, test.id, request)
            sfn.run_pending(clock)
            for _ in range(2):
                clock.advance(SWEEP_EVERY_SECONDS)
                sweep(crashing, backend.factory, sfn)
                sfn.run_pending(clock)
    finally:
        set_publisher(None)
    listed = stores.runs.list(CALLER.account_id, test.id, status=None, limit=10, after=None)
    run = listed[0] if listed else None
    return Outcome(
        calls=plan.calls, crashed=plan.crashed, run=run, runs_of_test=len(listed), deliveries=bus.deliveries,
        clusters=len(fake.clusters), live_clusters=len(fake.live_clusters()),
        pending_events=stores.runs.pending_events(run.account_id, run.id) if run else [],
        last_run=stores.load_tests.list(CALLER.account_id, project_id=None, limit=1, after=None)[0].last_run,
    )  # fmt: skip


def _after(plan: CrashPlan, name: str, result):
    plan.after(name)
    return result


def _source(step, stores, crashing, sfn, plan, clock, test_id, request) -> None:
    """What asks for the run: the API (nobody retries), an event or an occurrence (delivered again
    while the function dies), or, for the lifecycle's own steps, the API unharmed."""
    starter = lambda: sfn  # noqa: E731 - the use case takes a factory
    a_minute = lambda: clock.advance(60)  # noqa: E731
    if step == "api":
        invoke_with_retries(plan, lambda: runs.start_run(crashing, starter, CALLER, test_id, request, None), attempts=1)
    elif step == "event":
        body = {"name": "on request", "eventPattern": {"source": ["load-manager"], "detail-type": ["RunRequested"]}, "runSettings": {"durationSeconds": 2}}
        trigger = triggers.create(stores, _Rules, CALLER, test_id, CreateTriggerRequest.model_validate(body))
        event = {
            "version": "0", "id": "evt-1", "source": "load-manager", "detail-type": "RunRequested", "account": "123456789012",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {"accountId": CALLER.account_id, "loadTestId": test_id},
        }  # fmt: skip
        payload = {"loadManagerTrigger": triggers.rule_reference(trigger), "event": event}
        invoke_with_retries(plan, lambda: firing.handle(crashing, starter, payload), attempts=3, between=a_minute)
    elif step == "schedule":
        body = {"name": "every minute", "cron": "* * * * *", "runSettings": {"durationSeconds": 2}}
        schedule = schedules.create(stores, _Schedules, CALLER, test_id, CreateScheduleRequest.model_validate(body))
        at = datetime.fromtimestamp(clock.ms // 60_000 * 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = {"loadManagerSchedule": schedules.reference(schedule), "scheduledTime": at, "executionId": "x", "attempt": "1"}
        invoke_with_retries(plan, lambda: firing.handle(crashing, starter, payload), attempts=3, between=a_minute)
    else:
        runs.start_run(stores, starter, CALLER, test_id, request, None)


def problems(step: str, outcome: Outcome, reference: Outcome) -> list[str]:
    """What is wrong with `outcome`, the no-crash `reference` being what is right."""
    found = []
    if outcome.run is None:
        died_before_storing = "runs.insert" not in outcome.calls
        if not (step == "api" and died_before_storing):
            found.append("no run")
        if outcome.deliveries or outcome.clusters:
            found.append("events or clusters for a run that does not exist")
        return found
    run, expected = outcome.run, reference.run
    assert expected is not None
    if (run.status, run.result, run.failure_reason) != (expected.status, expected.result, expected.failure_reason):
        found.append(f"ended {run.status}/{run.result} ({run.failure_reason}), not {expected.status}/{expected.result}")
    if outcome.runs_of_test != 1:
        found.append(f"{outcome.runs_of_test} runs")
    if outcome.live_clusters or outcome.clusters != 1:
        found.append(f"{outcome.clusters} clusters launched, {outcome.live_clusters} left")
    if outcome.pending_events:
        found.append(f"events left in the outbox: {outcome.pending_events}")
    if outcome.last_run != LastRun.of(run):
        found.append(f"the list says its last run is {outcome.last_run}")
    return found + event_problems(outcome, reference)


def event_problems(outcome: Outcome, reference: Outcome) -> list[str]:
    assert outcome.run is not None
    expected_types = sorted({kind for kind, _ in reference.deliveries})
    counts = Counter(kind for kind, _ in outcome.deliveries)
    found = []
    if sorted(counts) != expected_types:
        found.append(f"event types {sorted(counts)}, not {expected_types}")
    for kind in expected_types:
        ids = {detail["eventId"] for delivered, detail in outcome.deliveries if delivered == kind}
        if ids != {event_id(outcome.run.id, kind)}:
            found.append(f"{kind} ids {ids}")
        redelivered = outcome.crashed == f"events.PutEvents({kind})"
        if counts[kind] != (2 if redelivered else 1):
            found.append(f"{kind} delivered {counts[kind]} times")
    finished = [detail for kind, detail in outcome.deliveries if kind == "RunFinished"]
    if finished and finished[-1]["status"] != outcome.run.status:
        found.append(f"RunFinished says {finished[-1]['status']}")
    return found


@pytest.mark.parametrize("kind", ["sqlite", "mongomock"])
def test_every_single_crash_ends_final_with_nothing_left_and_each_event_once(kind, tmp_path, monkeypatch, capsys):
    tried: dict[str, list[str]] = {}
    failures: list[str] = []
    for step in STEPS:
        reference = play(kind, tmp_path, monkeypatch, step, None)
        assert reference.run is not None and reference.run.status in ("Finished", "Failed"), step
        assert not problems(step, reference, reference), (step, problems(step, reference, reference))
        assert reference.calls, f"{step}: the scenario armed no call"
        tried[step] = reference.calls
        for n, call in enumerate(reference.calls, start=1):
            outcome = play(kind, tmp_path, monkeypatch, step, n)
            assert outcome.crashed == call, f"{step}: crash point {n} is {outcome.crashed}, expected {call}"
            failures += [f"{step} #{n} after {call}: {p}" for p in problems(step, outcome, reference)]
    total = sum(len(calls) for calls in tried.values())
    with capsys.disabled():
        print(f"\n[{kind}] crash points tried: {total} ({', '.join(f'{step} {len(calls)}' for step, calls in tried.items())})")
        for step, calls in tried.items():
            print(f"  {step}: {' > '.join(calls)}")
        print(f"crash points ending final, 0 clusters left, RunStarted/RunFinished once per eventId: {total - len({f.split(':')[0] for f in failures})}/{total}")
    assert not failures, "\n".join(failures)
    # The reference scenarios themselves: a normal run, and one Locust kills (MarkFailed's).
    assert total >= 40
