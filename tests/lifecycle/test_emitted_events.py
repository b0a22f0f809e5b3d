"""The events a run's lifecycle emits (RunStarted when load is confirmed, RunFinished at the end),
on the real steps and ASL with a fake backend: once each, whatever the outcome, and never at the
price of the run when the bus is down."""

from __future__ import annotations

import time

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import create_run, statuses, walk

from load_manager.adapters.eventbridge import set_publisher
from load_manager.backends.base import LocustStartError

pytestmark = pytest.mark.usefixtures("fast_settings")


class Recording:
    def __init__(self):
        self.events: list[tuple[str, dict, list[str]]] = []

    def publish(self, detail_type, detail, resources):
        self.events.append((detail_type, detail, resources))


class Down:
    """A bus that fails slowly, as an unreachable endpoint does."""

    calls = 0

    def publish(self, detail_type, detail, resources):
        Down.calls += 1
        time.sleep(0.05)
        raise ConnectionError("could not connect to the endpoint URL")


@pytest.fixture
def published():
    recording = Recording()
    set_publisher(recording)
    yield recording.events
    set_publisher(None)


def test_a_finished_run_emits_run_started_then_run_finished_once(stores, published):
    run, backend = create_run(stores, duration_seconds=1), FakeBackend()
    walk(stores, backend, run)
    assert [name for name, _, _ in published] == ["RunStarted", "RunFinished"]
    started, finished = published[0][1], published[1][1]
    assert started["runId"] == finished["runId"] == run.id and started["status"] == "Running" and started["startedAt"]
    assert started["trigger"] == {"type": "api", "caller": "qa@example.com"}
    assert finished["status"] == "Finished" and finished["result"] == "NotEvaluated"
    assert finished["summary"]["totalRequests"] > 0 and finished["endedAt"] >= finished["startedAt"]
    assert finished["links"]["run"].endswith(f"/v1/runs/{run.id}") and finished["links"]["console"].endswith(f"/runs/{run.id}")
    assert published[1][2] == [run.execution_arn]
    # A retried Finalize writes nothing, so it emits nothing either.
    from load_manager.lifecycle.steps import finalize

    finalize(stores, backend.factory, run.id, run.account_id)
    assert [name for name, _, _ in published] == ["RunStarted", "RunFinished"]


def test_a_run_that_fails_to_start_emits_only_run_finished_with_the_reason(stores, published):
    run = create_run(stores)

    def refuse(_handle):
        raise LocustStartError("Locust never reached running")

    walk(stores, FakeBackend(on_begin=refuse), run)
    assert [name for name, _, _ in published] == ["RunFinished"]
    detail = published[0][1]
    assert detail["status"] == "Failed" and "Locust never reached running" in detail["failureReason"] and detail["summary"] is None


def test_a_bus_that_is_down_never_fails_or_holds_the_run(stores):
    set_publisher(Down())
    try:
        run = create_run(stores, duration_seconds=1)
        execution = walk(stores, FakeBackend(), run)
    finally:
        set_publisher(None)
    assert execution.status == "SUCCEEDED" and statuses(stores, run)[-1] == "Finished"
    assert Down.calls == 2  # tried for both events, and the run went on
