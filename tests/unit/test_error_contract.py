"""The error contract between the lifecycle steps and the state machine, derived from both sides:
the Retry/Catch clauses of statemachine/run_lifecycle.asl.json, and every exception class in the
`load_manager` package. Step Functions matches a Lambda error by the raised class's own name, so
what matters is the name `as_step_error` lets through, never the class hierarchy."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import pytest

import load_manager
from load_manager.backends.ecs.tasks import AwsApiError
from load_manager.lifecycle.step_errors import RETRYABLE_STEP_ERROR, RetryableStepError, as_step_error, failure_reason, is_transient
from load_manager_local.functions import project_root

ASL = json.loads((project_root() / "statemachine" / "run_lifecycle.asl.json").read_text())
TASKS = {name: state for name, state in ASL["States"].items() if state["Type"] == "Task"}
LIFECYCLE_TASKS = ("StartRun", "PollRun", "Finalize")


def retried_names(state: str) -> set[str]:
    """Error names a Task state retries, besides Step Functions' and Lambda's own."""
    names = {name for retry in TASKS[state].get("Retry", []) for name in retry["ErrorEquals"]}
    return {name for name in names if not name.startswith(("States.", "Lambda."))}


def package_exceptions() -> list[type[BaseException]]:
    """Every exception class defined anywhere in the load_manager package."""
    for module in pkgutil.walk_packages(load_manager.__path__, prefix="load_manager."):
        importlib.import_module(module.name)
    found: dict[str, type[BaseException]] = {}
    for name, module in list(importlib.sys.modules.items()):
        if name == "load_manager" or name.startswith("load_manager."):
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__.startswith("load_manager"):
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return sorted(found.values(), key=lambda c: c.__qualname__)


def instances(cls: type[BaseException]) -> list[BaseException]:
    """An instance of the class; for AWS errors, one transient and one permanent code."""
    if issubclass(cls, AwsApiError):
        return [cls("ThrottlingException", "DescribeTasks", "Rate exceeded"), cls("AccessDeniedException", "RunTask", "no")]
    try:
        return [cls("boom")]
    except TypeError:
        return [cls.__new__(cls)]


EXCEPTIONS = package_exceptions()


def test_the_package_has_the_errors_this_contract_is_about():
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"BackendError", "BackendUnavailableError", "AwsApiError", "LocustStartError", "LocustCrashedError", "RetryableStepError"} <= names


def test_every_lifecycle_task_retries_the_retryable_name_and_sends_everything_else_to_mark_failed():
    for state in LIFECYCLE_TASKS:
        assert RETRYABLE_STEP_ERROR in retried_names(state), state
        assert retried_names(state) == {RETRYABLE_STEP_ERROR}, f"{state} retries a name no step raises on purpose"
        catches = TASKS[state]["Catch"]
        assert any(c["ErrorEquals"] == ["States.ALL"] and c["Next"] == "MarkFailed" for c in catches), state
    assert RETRYABLE_STEP_ERROR in retried_names("MarkFailed")


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: c.__qualname__)
def test_each_error_reaches_the_state_machine_under_the_name_its_nature_asks_for(cls):
    for error in instances(cls):
        if not isinstance(error, Exception):
            continue
        seen = type(as_step_error(error)).__name__  # what the Lambda runtime reports as errorType
        for state in LIFECYCLE_TASKS:
            if is_transient(error):
                assert seen in retried_names(state), f"{cls.__qualname__} is transient but {state} would not retry {seen}"
            else:
                assert seen not in retried_names(state), f"{cls.__qualname__} is permanent but {state} retries {seen}"


def test_no_other_class_is_named_like_a_retried_error():
    retried = set().union(*(retried_names(s) for s in TASKS))
    named = [f"{c.__module__}.{c.__qualname__}" for c in EXCEPTIONS if c.__name__ in retried and c is not RetryableStepError]
    assert not named, f"these classes would be retried by name whatever they mean: {named}"


def test_transient_and_permanent_errors_are_told_apart():
    from load_manager.backends.base import BackendUnavailableError, LocustCrashedError, LocustStartError
    from load_manager.errors import ConcurrencyError, RunNotFoundError

    assert is_transient(BackendUnavailableError("web API timed out"))
    assert is_transient(AwsApiError("ThrottlingException", "DescribeTasks", "Rate exceeded"))
    assert is_transient(ConcurrencyError("lost races"))
    assert not is_transient(AwsApiError("AccessDeniedException", "RunTask", "not authorized"))
    assert not is_transient(LocustCrashedError("Locust exited", exit_code=137))
    assert not is_transient(LocustStartError("script raised at import"))
    assert not is_transient(RunNotFoundError("gone"))


def test_a_transient_error_that_outlasts_its_retries_reads_as_the_original():
    error = as_step_error(AwsApiError("ThrottlingException", "DescribeTasks", "Rate exceeded"))
    cause = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__})
    reason = failure_reason({"Error": type(error).__name__, "Cause": cause})
    assert reason.startswith("AwsApiError: ThrottlingException on DescribeTasks: Rate exceeded")
    assert "retries" in reason


def test_a_permanent_error_keeps_its_name_in_the_reason():
    cause = json.dumps({"errorMessage": "Locust exited during the run (exit code 137)", "errorType": "LocustCrashedError"})
    assert failure_reason({"Error": "LocustCrashedError", "Cause": cause}) == "LocustCrashedError: Locust exited during the run (exit code 137)"
