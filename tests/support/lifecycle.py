"""Driving the run lifecycle without Step Functions or Locust: a run in the store, the real ASL
walked by `support.asl` over the real steps, a fake backend."""

from __future__ import annotations

import json

from load_manager.identity import Caller
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import Run, StartRunRequest
from load_manager.usecases import load_tests, runs
from load_manager_local.functions import project_root
from support import asl
from support.fake_backend import FakeBackend
from support.scripts import SIMPLE, b64

ASL = json.loads((project_root() / "statemachine" / "run_lifecycle.asl.json").read_text())
CALLER = Caller(subject="u1", email="qa@example.com", account_id="acct", groups=frozenset())


class RecordingStarter:
    """Stands in for Step Functions' StartExecution; the test runs the lifecycle itself."""

    def start(self, run: Run) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:lifecycle:{run.id}"


def create_run(stores, duration_seconds: int = 2) -> Run:
    request = CreateLoadTestRequest.model_validate({"name": "fast", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    test = load_tests.create(stores, CALLER, request)
    start = StartRunRequest.model_validate({"durationSeconds": duration_seconds})
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test.id, start, None)
    return run


def walk(stores, backend: FakeBackend, run: Run) -> asl.Execution:
    return asl.run(ASL, lambda event: run_step(event, stores, backend.factory), {"runId": run.id, "accountId": run.account_id})


def statuses(stores, run: Run) -> list[str]:
    return [change.status for change in stores.runs.get(run.account_id, run.id).status_history]


def run_through(stores, backend: FakeBackend, run: Run, polls: int = 1) -> None:
    """StartRun, `polls` PollRuns and Finalize, called as the state machine would, without waiting
    for the run's duration (what the fast tests need when the path through the ASL is not the point)."""
    for action in ("start", *["poll"] * polls, "finalize"):
        run_step({"action": action, "runId": run.id, "accountId": run.account_id}, stores, backend.factory)
