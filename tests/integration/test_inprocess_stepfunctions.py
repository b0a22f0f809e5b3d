"""Real ASL run by moto's interpreter, its Lambda tasks dispatched to Python callables in process.

The toy definition has the shape of statemachine/run_lifecycle.asl.json (StartRun → Wait ↺ PollRun
→ Finalize, failures → MarkFailed) and is created through the same `${...}` substitutions."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError

from load_manager_local.stepfunctions import (
    InProcessStepFunctions,
    LambdaServiceError,
    parsed_program,
    render_definition,
)

RETRYABLE = ["RunNotReadyError", "Lambda.ServiceException", "Lambda.TooManyRequestsException"]

LIFECYCLE = {
    "StartAt": "StartRun",
    "TimeoutSeconds": 60,
    "States": {
        # Plain function ARN: the Lambda's result is the task result.
        "StartRun": {
            "Type": "Task",
            "Resource": "${StartRunFunctionArn}",
            "ResultPath": "$.run",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}],
            "Next": "WaitForPoll",
        },
        "WaitForPoll": {"Type": "Wait", "SecondsPath": "$.run.pollSeconds", "Next": "PollRun"},
        # Optimised integration: the result is the Invoke response, so pick the Payload.
        "PollRun": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${PollRunFunctionArn}", "Payload.$": "$"},
            "ResultSelector": {"status.$": "$.Payload.status", "polls.$": "$.Payload.polls"},
            "ResultPath": "$.poll",
            "Retry": [{"ErrorEquals": RETRYABLE, "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}],
            "Next": "IsDone",
        },
        "IsDone": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.poll.status", "StringEquals": "done", "Next": "Finalize"}],
            "Default": "WaitForPoll",
        },
        "Finalize": {
            "Type": "Task",
            "Resource": "${FinalizeFunctionArn}",
            "ResultPath": "$.result",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "MarkFailed": {
            "Type": "Task",
            "Resource": "${MarkFailedFunctionArn}",
            "Parameters": {"runId.$": "$.runId", "error.$": "$.error"},
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "RunFailed", "Cause": "the run was marked Failed"},
    },
}


class RunNotReadyError(Exception):
    pass


class FinalizeError(Exception):
    pass


class FakeRunWorkflow:
    """Scripted stand-ins for functions/run_workflow's handlers; records every call."""

    def __init__(self, polls_until_done=2, poll_failures=(), finalize_error=None, start_gate=None):
        self.polls_until_done = polls_until_done
        self.poll_failures = list(poll_failures)  # exceptions raised by the first poll attempts
        self.finalize_error = finalize_error
        self.start_gate = start_gate  # a threading.Event that StartRun waits for
        self.calls: list[tuple[str, dict]] = []
        self.contexts: list[object] = []
        self.polls = 0

    def start(self, event, context):
        self.calls.append(("start", event))
        self.contexts.append(context)
        if self.start_gate is not None:
            assert self.start_gate.wait(10), "start gate never opened"
        return {"runId": event["runId"], "pollSeconds": 0}

    def poll(self, event, context):
        self.calls.append(("poll", event))
        if self.poll_failures:
            raise self.poll_failures.pop(0)
        self.polls += 1
        return {"status": "done" if self.polls >= self.polls_until_done else "running", "polls": self.polls}

    def finalize(self, event, context):
        self.calls.append(("finalize", event))
        if self.finalize_error:
            raise self.finalize_error
        return {"summary": "ok", "polls": event["poll"]["polls"]}

    def mark_failed(self, event, context):
        self.calls.append(("mark_failed", event))
        return {"status": "Failed"}

    def called(self, name: str) -> list[dict]:
        return [event for handler, event in self.calls if handler == name]


@pytest.fixture
def sfn():
    with InProcessStepFunctions() as in_process:
        yield in_process


def lifecycle(sfn: InProcessStepFunctions, fake: FakeRunWorkflow) -> str:
    substitutions = {
        "StartRunFunctionArn": sfn.register("lm-start-run", fake.start),
        "PollRunFunctionArn": sfn.register("lm-poll-run", fake.poll),
        "FinalizeFunctionArn": sfn.register("lm-finalize", fake.finalize),
        "MarkFailedFunctionArn": sfn.register("lm-mark-failed", fake.mark_failed),
    }
    return sfn.create_state_machine("run-lifecycle", json.dumps(LIFECYCLE), substitutions)


def start(machine_arn: str, run_id: str = "run-1", payload: dict | None = None) -> dict:
    # Plain boto3, as the runs Lambda does it.
    client = boto3.client("stepfunctions")
    return client.start_execution(
        stateMachineArn=machine_arn, name=run_id, input=json.dumps(payload or {"runId": run_id})
    )


def event_types(sfn: InProcessStepFunctions, execution_arn: str) -> list[str]:
    return [event["type"] for event in sfn.history(execution_arn)]


def test_loops_until_done_then_finalizes(sfn):
    fake = FakeRunWorkflow(polls_until_done=3)
    execution = sfn.wait_for_execution(start(lifecycle(sfn, fake))["executionArn"], timeout=60)

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["run"] == {"runId": "run-1", "pollSeconds": 0}
    assert output["poll"] == {"status": "done", "polls": 3}
    assert output["result"] == {"summary": "ok", "polls": 3}
    assert [name for name, _ in fake.calls] == ["start", "poll", "poll", "poll", "finalize"]
    assert fake.called("start") == [{"runId": "run-1"}]

    # The handler got a Lambda-like context.
    context = fake.contexts[0]
    assert context.function_name == "lm-start-run"
    assert context.invoked_function_arn == sfn.function_arn("lm-start-run")
    assert context.aws_request_id and context.memory_limit_in_mb > 0
    assert 0 < context.get_remaining_time_in_millis() <= 900_000

    # Every event of a Lambda task, Wait, Choice and Succeed, counted.
    types = event_types(sfn, execution["executionArn"])
    polls = 3
    assert len(types) == 2 + 5 + polls * (2 + 5 + 2) + 5 + 2
    counts = Counter(types)
    assert counts["LambdaFunctionScheduled"] == 2  # plain ARN tasks: StartRun, Finalize
    assert counts["TaskScheduled"] == polls  # lambda:invoke tasks: PollRun
    assert counts["TaskStateEntered"] == counts["TaskStateExited"] == 2 + polls
    assert counts["WaitStateEntered"] == counts["ChoiceStateEntered"] == polls
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"


def test_retry_on_custom_error_succeeds_on_second_attempt(sfn):
    fake = FakeRunWorkflow(polls_until_done=1, poll_failures=[RunNotReadyError("master not up yet")])
    execution = sfn.wait_for_execution(start(lifecycle(sfn, fake))["executionArn"], timeout=60)

    assert execution["status"] == "SUCCEEDED"
    assert len(fake.called("poll")) == 2
    history = sfn.history(execution["executionArn"])
    failed = [event for event in history if event["type"] == "TaskFailed"]
    assert [event["taskFailedEventDetails"]["error"] for event in failed] == ["RunNotReadyError"]
    assert json.loads(failed[0]["taskFailedEventDetails"]["cause"])["errorMessage"] == "master not up yet"
    # A retry re-schedules the task inside the same state: 3 more events, no new TaskStateEntered.
    types = [event["type"] for event in history]
    at = types.index("TaskFailed")
    assert types[at : at + 4] == ["TaskFailed", "TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert len(types) == 2 + 5 + (2 + 5 + 3 + 2) + 5 + 2


def test_lambda_service_errors_are_retried_by_their_lambda_names(sfn):
    fake = FakeRunWorkflow(
        polls_until_done=1,
        poll_failures=[LambdaServiceError("TooManyRequestsException", "Rate exceeded", status=429)],
    )
    execution = sfn.wait_for_execution(start(lifecycle(sfn, fake))["executionArn"], timeout=60)

    assert execution["status"] == "SUCCEEDED"
    failed = [e for e in sfn.history(execution["executionArn"]) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["Lambda.TooManyRequestsException"]


def test_executions_of_one_definition_share_its_parse_and_retry_on_it(sfn):
    fake = FakeRunWorkflow(polls_until_done=1)
    machine = lifecycle(sfn, fake)
    before = parsed_program.cache_info()
    outcomes = []
    for run_id in ("run-a", "run-b"):
        # A Retry each, on the shared program: its attempt counter is the execution's (kept under the
        # component's heap key, fixed when the program was parsed).
        fake.poll_failures, fake.polls = [RunNotReadyError("not yet")], 0
        outcomes.append(sfn.wait_for_execution(start(machine, run_id)["executionArn"], timeout=60)["status"])

    assert outcomes == ["SUCCEEDED", "SUCCEEDED"]
    assert len(fake.called("poll")) == 4
    after = parsed_program.cache_info()
    assert (after.hits + after.misses) - (before.hits + before.misses) == 2  # each execution took its program here
    assert after.misses - before.misses <= 1  # and it was parsed at most once (never, if an earlier test did)


def test_catch_hands_the_error_to_mark_failed(sfn):
    fake = FakeRunWorkflow(polls_until_done=1, finalize_error=FinalizeError("report upload failed"))
    execution = sfn.wait_for_execution(start(lifecycle(sfn, fake))["executionArn"], timeout=60)

    # The Fail state after MarkFailed decides the execution's error and cause.
    assert execution["status"] == "FAILED"
    assert (execution["error"], execution["cause"]) == ("RunFailed", "the run was marked Failed")
    [marked] = fake.called("mark_failed")
    assert marked["runId"] == "run-1"
    assert marked["error"]["Error"] == "FinalizeError"  # the exception's class name, as in Lambda
    cause = json.loads(marked["error"]["Cause"])
    assert cause["errorType"] == "FinalizeError"
    assert cause["errorMessage"] == "report upload failed"
    assert cause["stackTrace"]
    types = event_types(sfn, execution["executionArn"])
    assert types[-3:] == ["TaskStateExited", "FailStateEntered", "ExecutionFailed"]


def test_uncaught_handler_error_fails_the_execution_with_its_class_name(sfn):
    def boom(event, context):
        raise KeyError("runId")

    definition = {"StartAt": "Boom", "States": {"Boom": {"Type": "Task", "Resource": "${Fn}", "End": True}}}
    machine = sfn.create_state_machine("boom", definition, {"Fn": sfn.register("lm-boom", boom)})
    execution = sfn.wait_for_execution(start(machine)["executionArn"], timeout=60)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "KeyError"
    assert json.loads(execution["cause"])["errorMessage"] == "'runId'"
    assert "output" not in execution
    assert event_types(sfn, execution["executionArn"]) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "ExecutionFailed",
    ]


def test_task_timeout_is_states_timeout(sfn):
    release = threading.Event()

    def slow(event, context):
        release.wait(120)  # outlives the task's timeout however late it is noticed; released at the end so no thread lingers
        return {}

    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": "${Fn}",
                "TimeoutSeconds": 1,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}],
                "End": True,
            },
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }
    machine = sfn.create_state_machine("slow", definition, {"Fn": sfn.register("lm-slow", slow)})
    try:
        execution = sfn.wait_for_execution(start(machine)["executionArn"], timeout=60)
    finally:
        release.set()

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["error"] == {"Error": "States.Timeout", "Cause": ""}
    assert "LambdaFunctionTimedOut" in event_types(sfn, execution["executionArn"])


def test_start_with_the_same_name_runs_once(sfn):
    gate = threading.Event()
    fake = FakeRunWorkflow(polls_until_done=1, start_gate=gate)
    machine = lifecycle(sfn, fake)
    try:
        first = start(machine, "run-7")
        # Same name and input while RUNNING: the same execution comes back (as on AWS).
        again = start(machine, "run-7")
        assert again["executionArn"] == first["executionArn"]
        assert again["startDate"] == first["startDate"]
        # Same name, different input: refused.
        with pytest.raises(ClientError) as refused:
            start(machine, "run-7", {"runId": "run-7", "other": True})
        assert refused.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    finally:
        gate.set()
    execution = sfn.wait_for_execution(first["executionArn"], timeout=60)

    assert execution["status"] == "SUCCEEDED"
    assert len(fake.called("start")) == 1
    # Once closed, even an identical start is refused: a run id can never run twice.
    with pytest.raises(ClientError) as closed:
        start(machine, "run-7")
    assert closed.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_stop_interrupts_a_wait_and_leaves_no_thread(sfn):
    definition = {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 300, "End": True}}}
    machine = sfn.create_state_machine("sleeper", definition)
    execution_arn = start(machine, "sleepy", {})["executionArn"]
    deadline = time.monotonic() + 60  # the interpreter's thread enters the Wait when it gets the CPU
    while "WaitStateEntered" not in event_types(sfn, execution_arn):
        assert time.monotonic() < deadline, event_types(sfn, execution_arn)
        time.sleep(0.05)
    before = time.monotonic()

    sfn.stop_running_executions(timeout=60)

    assert time.monotonic() - before < 60, "the stop did not interrupt the 300 s wait"
    assert sfn.client.describe_execution(executionArn=execution_arn)["status"] == "ABORTED"
    assert event_types(sfn, execution_arn) == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    # Only moto's interpreter threads are named after these functions. The execution says ABORTED
    # from its own thread, which returns just after: give it the CPU to do so.
    interpreter = tuple(f"({name})" for name in ("_execution_logic", "_exec_and_notify", "eval"))
    deadline = time.monotonic() + 30
    while (lingering := [t.name for t in threading.enumerate() if t.name.endswith(interpreter)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not lingering, lingering


def test_definition_placeholders_must_all_be_substituted():
    with pytest.raises(KeyError, match="PollRunFunctionArn"):
        render_definition(json.dumps(LIFECYCLE), {"StartRunFunctionArn": "arn:x"})
