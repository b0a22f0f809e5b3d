"""The fast lifecycle tests walk the real ASL with `support.asl`; this keeps that walker honest:
the same run through moto's real interpreter enters the same states in the same order."""

from __future__ import annotations

import json

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import ASL, create_run, statuses, walk

from load_manager.lifecycle.dispatch import run_step
from load_manager_local.stepfunctions import InProcessStepFunctions

pytestmark = pytest.mark.usefixtures("fast_settings")


def test_the_walker_and_motos_interpreter_agree_on_a_run(stores):
    walked_run, moto_run = create_run(stores, duration_seconds=1), create_run(stores, duration_seconds=1)
    walked = walk(stores, FakeBackend(), walked_run)
    backend = FakeBackend()
    with InProcessStepFunctions({"workflow": lambda event, _context: run_step(event, stores, backend.factory)}) as sfn:
        machine = sfn.create_state_machine("fast", ASL, {"RunWorkflowFunctionArn": sfn.function_arn("workflow")})
        arn = sfn.client.start_execution(
            stateMachineArn=machine, name=moto_run.id, input=json.dumps({"runId": moto_run.id, "accountId": moto_run.account_id})
        )["executionArn"]
        assert sfn.wait_for_execution(arn, timeout=20)["status"] == "SUCCEEDED"
        entered = [e["stateEnteredEventDetails"]["name"] for e in sorted(sfn.history(arn), key=lambda e: e["id"]) if "stateEnteredEventDetails" in e]
    # Polls loop for as long as the run lasts: compare the shape, not the number of loops.
    assert _collapse(walked.states) == _collapse(entered) == [
        "StartRun", "StartedOrStopped", "WaitBeforePoll", "PollRun", "IsRunOver", "Finalize", "RunEnded"
    ]
    assert statuses(stores, walked_run) == statuses(stores, moto_run)


def _collapse(states: list[str]) -> list[str]:
    """Drop repeated poll loops: Wait, PollRun, IsRunOver once."""
    out: list[str] = []
    for state in states:
        if state in out and state in ("WaitBeforePoll", "PollRun", "IsRunOver"):
            continue
        out.append(state)
    return out
