"""A small, synchronous walker of statemachine/run_lifecycle.asl.json, for the fast lifecycle tests.

It honours what the lifecycle's contract rests on, as Step Functions does: Task Parameters and
ResultSelector (simple `$.a.b` paths), Retry by error name (MaxAttempts, IntervalSeconds,
BackoffRate), Catch with ResultPath, Choice on a boolean, Wait, Succeed and Fail. Nothing sleeps:
each Wait and each retry's interval advances a fake clock, installed as the layer's clock for the
walk, by the seconds Step Functions would wait, so the run's own deadlines and durations see the
time they would in AWS, however fast the machine. A Lambda task's
error is the raised class's name with the runtime's JSON cause. Anything else in the definition is
refused, so the walker cannot silently drift from the ASL. moto's interpreter runs the same
definition for real in the slow tests; a test checks both agree on the happy path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from support.clock import FakeClock, installed

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ExecutionFailedError(Exception):
    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass
class Execution:
    status: str  # SUCCEEDED | FAILED
    output: Any
    states: list[str] = field(default_factory=list)  # every state entered, in order
    attempts: dict[str, int] = field(default_factory=dict)  # Task invocations per state
    retries: list[tuple[str, str]] = field(default_factory=list)  # (state, error) of each retry
    error: str | None = None


def _get(data: Any, path: str) -> Any:
    if path == "$":
        return data
    for part in path.removeprefix("$.").split("."):
        data = data[part]
    return data


def _render(template: Any, data: Any) -> Any:
    if isinstance(template, dict):
        rendered = {}
        for key, value in template.items():
            if key.endswith(".$"):
                rendered[key[:-2]] = _get(data, value)
            else:
                rendered[key] = _render(value, data)
        return rendered
    return template


def _matches(names: list[str], error: str) -> bool:
    return error in names or "States.ALL" in names


def run(
    definition: dict[str, Any], handler: Handler, execution_input: dict[str, Any], max_transitions: int = 10_000, clock: FakeClock | None = None
) -> Execution:
    with installed(clock or FakeClock()) as fake:
        return _walk(definition, handler, execution_input, max_transitions, fake)


def _walk(definition: dict[str, Any], handler: Handler, execution_input: dict[str, Any], max_transitions: int, clock: FakeClock) -> Execution:
    states = definition["States"]
    name, data = definition["StartAt"], execution_input
    execution = Execution(status="RUNNING", output=None)
    for _ in range(max_transitions):
        state = states[name]
        execution.states.append(name)
        kind = state["Type"]
        if kind == "Task":
            try:
                name, data = _task(name, state, data, handler, execution, clock)
            except ExecutionFailedError as failed:  # an error no Catch takes ends the execution
                execution.status, execution.error = "FAILED", failed.error
                return execution
        elif kind == "Choice":
            name = next((c["Next"] for c in state["Choices"] if _get(data, c["Variable"]) is c["BooleanEquals"]), state["Default"])
        elif kind == "Wait":
            clock.advance(_get(data, state["SecondsPath"]) if "SecondsPath" in state else state["Seconds"])
            name = state["Next"]
        elif kind == "Succeed":
            execution.status, execution.output = "SUCCEEDED", data
            return execution
        elif kind == "Fail":
            execution.status, execution.error = "FAILED", state.get("Error")
            return execution
        else:
            raise NotImplementedError(f"state type {kind} is not walked by this fake")
    raise RuntimeError(f"no end after {max_transitions} transitions")


def _task(name: str, state: dict[str, Any], data: Any, handler: Handler, execution: Execution, clock: FakeClock) -> tuple[str, Any]:
    if state["Resource"] != "arn:aws:states:::lambda:invoke":
        raise NotImplementedError(f"{name}: only lambda:invoke tasks are walked")
    payload = _render(state["Parameters"]["Payload"], data)
    retries_used: dict[int, int] = {}
    while True:
        execution.attempts[name] = execution.attempts.get(name, 0) + 1
        try:
            result = handler(json.loads(json.dumps(payload)))
        except Exception as exc:  # noqa: BLE001 - every handler failure is a function error
            error = type(exc).__name__
            cause = json.dumps({"errorMessage": str(exc), "errorType": error})
            retry = next((i for i, r in enumerate(state.get("Retry", [])) if _matches(r["ErrorEquals"], error)), None)
            if retry is not None and retries_used.get(retry, 0) < state["Retry"][retry].get("MaxAttempts", 3):
                policy = state["Retry"][retry]
                clock.advance(policy.get("IntervalSeconds", 1) * policy.get("BackoffRate", 2.0) ** retries_used.get(retry, 0))
                retries_used[retry] = retries_used.get(retry, 0) + 1
                execution.retries.append((name, error))
                continue
            catch = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], error)), None)
            if catch is None:
                raise ExecutionFailedError(error, cause) from exc
            caught = dict(data)
            caught[catch["ResultPath"].removeprefix("$.")] = {"Error": error, "Cause": cause}
            return catch["Next"], caught
        selected = _render(state.get("ResultSelector", {}), {"Payload": result}) if "ResultSelector" in state else result
        return state["Next"], selected
