"""No Task state of the run lifecycle may give up on a Lambda before Lambda does.

A Task's `TimeoutSeconds` does not stop the function it invoked: when it fires, Step Functions
retries (`States.Timeout` is retried) while the first invocation is still running, and two PollRuns
(or two Finalizes) then work on the same run at once. So each Task's timeout must be at least the
timeout of the function its `FunctionName` (or `Resource`) names, plus a margin for the invocation's
own latency and a cold start's init. Derived from the ASL and template.yaml (the state machine's
DefinitionSubstitutions, each function's Timeout, Globals, Lambda's default), so neither can drift.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from load_manager_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
LAMBDA_DEFAULT_TIMEOUT = 3  # seconds, when neither the function nor Globals set one
# Init of a cold start (up to 10 s) and the Invoke round trip run before the function's own clock.
INVOKE_MARGIN_SECONDS = 15
FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}


def state_machines() -> dict[str, dict[str, Any]]:
    """Each state machine of the template whose definition is a file: logical id -> resource."""
    return {
        name: resource for name, resource in TEMPLATE["Resources"].items()
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in resource["Properties"]
    }  # fmt: skip


def tasks(states: dict[str, Any]):
    """(name, state) of every Task, inside Parallel branches and Map iterators too."""
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from tasks(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from tasks(state[key]["States"])


def function_of(task: dict[str, Any], substitutions: dict[str, Any]) -> str:
    """The logical id of the function a Task invokes, through the state machine's substitutions."""
    resource = task["Resource"]
    target = task.get("Parameters", {}).get("FunctionName") if resource.startswith("arn:aws:states:::lambda:invoke") else resource
    match = re.fullmatch(r"\$\{(\w+)\}", str(target))
    assert match, f"the Task names its function as {target!r}, not through a DefinitionSubstitution"
    value = substitutions[match.group(1)]  # `!GetAtt Fn.Arn`, `!Ref Fn` or `!Sub "${Fn.Arn}"`, as long forms
    names = [word for word in re.findall(r"[A-Za-z0-9]+", json.dumps(value)) if TEMPLATE["Resources"].get(word, {}).get("Type") in FUNCTION_TYPES]
    assert len(names) == 1, f"substitution {match.group(1)} = {value!r} names no single function"
    return names[0]


def function_timeout(logical_id: str) -> int:
    own = TEMPLATE["Resources"][logical_id]["Properties"].get("Timeout")
    return int(own if own is not None else TEMPLATE.get("Globals", {}).get("Function", {}).get("Timeout", LAMBDA_DEFAULT_TIMEOUT))


def problems(definition: dict[str, Any], substitutions: dict[str, Any]) -> list[str]:
    found = []
    for name, task in tasks(definition["States"]):
        function = function_of(task, substitutions)
        wanted = function_timeout(function) + INVOKE_MARGIN_SECONDS
        timeout = task.get("TimeoutSeconds")
        if timeout is None or timeout < wanted:
            found.append(f"{name}: TimeoutSeconds {timeout} < {function}'s Timeout {function_timeout(function)} s + {INVOKE_MARGIN_SECONDS} s")
    return found


def _definition(machine: dict[str, Any]) -> dict[str, Any]:
    return json.loads((ROOT / machine["Properties"]["DefinitionUri"]).read_text())


def test_every_task_waits_at_least_as_long_as_its_function_can_run():
    machines = state_machines()
    assert machines, "template.yaml declares no state machine with a definition file"
    checked = 0
    for machine in machines.values():
        definition = _definition(machine)
        substitutions = machine["Properties"].get("DefinitionSubstitutions", {})
        assert problems(definition, substitutions) == []
        checked += sum(1 for _ in tasks(definition["States"]))
    assert checked >= 4  # StartRun, PollRun, Finalize, MarkFailed: the check really looked at them


def test_the_check_catches_a_task_that_gives_up_before_its_function():
    machine = state_machines()["RunLifecycleStateMachine"]
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    broken = copy.deepcopy(_definition(machine))
    broken["States"]["PollRun"]["TimeoutSeconds"] = 120  # what it was: shorter than the function's 900 s
    assert [p.split(":")[0] for p in problems(broken, substitutions)] == ["PollRun"]
    del broken["States"]["Finalize"]["TimeoutSeconds"]
    assert [p.split(":")[0] for p in problems(broken, substitutions)] == ["PollRun", "Finalize"]


def test_the_function_timeouts_come_from_the_template_and_its_globals():
    assert function_timeout("RunWorkflowFunction") == TEMPLATE["Resources"]["RunWorkflowFunction"]["Properties"]["Timeout"]
    no_timeout = next(n for n, r in TEMPLATE["Resources"].items() if r["Type"] in FUNCTION_TYPES and "Timeout" not in r["Properties"])
    assert function_timeout(no_timeout) == TEMPLATE["Globals"]["Function"]["Timeout"]
