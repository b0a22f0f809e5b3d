"""RunStarted and RunFinished go through the run's outbox: written by the status change that owes
them, sent by the step, by its retry, or by the sweeper, each with a stable `eventId`. Here Finalize
fails after its status write (a retryable teardown error; the function dying while it stores the
report, as a timeout kills it), and RunFinished is still published, exactly once. Real steps and
ASL, a fake backend, SQLite."""

from __future__ import annotations

import pytest
from support.asl import run as walk_asl
from support.crash_points import Crash, CrashingBackend, CrashPlan, lifecycle_handler
from support.fake_backend import FakeBackend
from support.lifecycle import ASL, create_run, statuses

from load_manager.adapters import reports
from load_manager.adapters.eventbridge import set_publisher
from load_manager.backends.base import BackendUnavailableError

pytestmark = pytest.mark.usefixtures("fast_settings")


class Recording:
    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def publish(self, detail_type, detail, resources):
        self.events.append((detail_type, detail))


@pytest.fixture
def published():
    recording = Recording()
    set_publisher(recording)
    yield recording.events
    set_publisher(None)


def test_finalize_failing_on_teardown_after_its_status_write_still_publishes_run_finished_exactly_once(stores, published):
    run = create_run(stores, duration_seconds=1)
    backend = FakeBackend()
    teardown, failures = backend.teardown, [BackendUnavailableError("ECS teardown incomplete: ThrottlingException on StopTask")]

    def throttled_once(handle):
        if failures and stores.runs.get(run.account_id, run.id).status == "Finished":
            raise failures.pop()  # after Finalize's status write: the run is final already
        return teardown(handle)

    backend.teardown = throttled_once  # type: ignore[method-assign]
    plan = CrashPlan()
    execution = walk_asl(ASL, lifecycle_handler(stores, CrashingBackend(backend, plan), plan, None), {"runId": run.id, "accountId": run.account_id})
    assert execution.status == "SUCCEEDED" and execution.retries == [("Finalize", "RetryableStepError")]
    assert statuses(stores, run) == ["Pending", "Starting", "Running", "Finished"]
    assert [(kind, detail["eventId"], detail["status"]) for kind, detail in published] == [
        ("RunStarted", f"{run.id}:RunStarted", "Running"), ("RunFinished", f"{run.id}:RunFinished", "Finished"),
    ]
    assert stores.runs.pending_events(run.account_id, run.id) == [] and backend.live_clusters() == []


def test_finalize_dying_while_it_stores_the_report_still_publishes_run_finished_exactly_once(stores, published, monkeypatch):
    run = create_run(stores, duration_seconds=1)
    backend = FakeBackend()
    save, deaths = reports.save_results_report, [Crash("Task timed out after 900.00 seconds")]

    def times_out_once(*args):
        if deaths:
            raise deaths.pop()
        return save(*args)

    monkeypatch.setattr(reports, "save_results_report", times_out_once)
    plan = CrashPlan()
    execution = walk_asl(ASL, lifecycle_handler(stores, CrashingBackend(backend, plan), plan, None), {"runId": run.id, "accountId": run.account_id})
    assert execution.status == "SUCCEEDED" and execution.retries == [("Finalize", "Lambda.Unknown")]
    assert [kind for kind, _ in published] == ["RunStarted", "RunFinished"]
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Finished" and final.results_report_location, "the retry stored the report too"
    assert stores.runs.pending_events(run.account_id, run.id) == [] and backend.live_clusters() == []


def test_event_ids_are_stable_and_documented(stores, published):
    from load_manager_local.functions import project_root

    run = create_run(stores, duration_seconds=1)
    walk_asl(ASL, lifecycle_handler(stores, CrashingBackend(FakeBackend(), CrashPlan()), CrashPlan(), None), {"runId": run.id, "accountId": run.account_id})
    assert [detail["eventId"] for _, detail in published] == [f"{run.id}:RunStarted", f"{run.id}:RunFinished"]
    # The events reference (its field table is rendered from notify.detail at `make docs`) says how ids are made.
    page = (project_root() / "docs" / "reference" / "events.md").read_text()
    assert "`detail.eventId`" in page and "`<runId>:RunStarted`" in page, "the events reference names eventId and its form"


def test_a_run_whose_workflow_cannot_start_ends_failed_with_run_finished_like_any_other(stores, published):
    from support.lifecycle import CALLER
    from support.scripts import SIMPLE, b64

    from load_manager.models.load_tests import CreateLoadTestRequest
    from load_manager.models.runs import StartRunRequest
    from load_manager.usecases import load_tests, runs

    class Refusing:
        def start(self, run):
            raise RuntimeError("AccessDeniedException: not authorized to perform states:StartExecution")

    test = load_tests.create(stores, CALLER, CreateLoadTestRequest.model_validate({"name": "t", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"}))
    with pytest.raises(runs.WorkflowStartError) as refused:
        runs.start_run(stores, Refusing, CALLER, test.id, StartRunRequest(), None)
    run = stores.runs.get(CALLER.account_id, refused.value.details["runId"])
    assert run.status == "Failed" and run.failure_reason.startswith("could not start the run workflow: AccessDenied")
    ((kind, detail),) = published
    assert (kind, detail["status"], detail["eventId"], detail["failureReason"]) == ("RunFinished", "Failed", f"{run.id}:RunFinished", run.failure_reason)


def test_a_function_without_the_bus_leaves_run_finished_in_the_outbox_and_the_sweeper_sends_it_once(stores):
    """RunsFunction has no EVENT_BUS_NAME in template.yaml: a run it fails must not lose its event
    (published to nowhere and marked sent); the sweeper, which has the bus, sends it."""
    from support.clock import FakeClock, installed
    from support.lifecycle import CALLER
    from support.scripts import SIMPLE, b64

    from load_manager.lifecycle import sweeper
    from load_manager.models.load_tests import CreateLoadTestRequest
    from load_manager.models.runs import StartRunRequest
    from load_manager.usecases import load_tests, runs

    class Refusing:
        def start(self, run):
            raise RuntimeError("AccessDeniedException: not authorized to perform states:StartExecution")

    test = load_tests.create(stores, CALLER, CreateLoadTestRequest.model_validate({"name": "t", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"}))
    set_publisher(None)  # the settings' bus: none here, as in RunsFunction's environment
    with pytest.raises(runs.WorkflowStartError) as refused:
        runs.start_run(stores, Refusing, CALLER, test.id, StartRunRequest(), None)
    run_id = refused.value.details["runId"]
    assert [e.event_id for e in stores.runs.pending_events(CALLER.account_id, run_id)] == [f"{run_id}:RunFinished"]

    recording = Recording()
    set_publisher(recording)  # the sweeper's function has the bus
    try:
        with installed(FakeClock()) as clock:
            clock.advance(600)  # past the outbox's grace
            for _ in range(2):
                sweeper.sweep(stores, FakeBackend().factory, executions=None)
    finally:
        set_publisher(None)
    assert [(kind, detail["eventId"]) for kind, detail in recording.events] == [("RunFinished", f"{run_id}:RunFinished")]
    assert stores.runs.pending_events(CALLER.account_id, run_id) == []
