"""From a state machine task's input to a step, and from a step's failure to the error name the
state machine acts on (`step_errors`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from load_manager.backends import BackendFactory
from load_manager.lifecycle import steps
from load_manager.lifecycle.step_errors import as_step_error
from load_manager.store import Stores


class StepInput(BaseModel):
    """The Payload each Task state of run_lifecycle.asl.json sends."""

    model_config = ConfigDict(populate_by_name=True)

    action: Literal["start", "poll", "finalize", "fail"]
    run_id: str = Field(alias="runId", min_length=1)
    account_id: str = Field(alias="accountId", min_length=1)
    error: dict[str, Any] = Field(default_factory=dict, description="Step Functions' {Error, Cause} (MarkFailed)")


def run_step(event: dict[str, Any], stores: Stores, backends: BackendFactory) -> dict[str, Any]:
    step = StepInput.model_validate(event)
    try:
        if step.action == "fail":
            return steps.mark_failed(stores, backends, step.run_id, step.account_id, step.error)
        action = {"start": steps.start, "poll": steps.poll, "finalize": steps.finalize}[step.action]
        return action(stores, backends, step.run_id, step.account_id)
    except Exception as exc:
        error = as_step_error(exc)
        if error is exc:
            raise
        raise error from exc
