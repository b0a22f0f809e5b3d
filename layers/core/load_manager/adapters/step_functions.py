"""Starting the run lifecycle state machine, and asking whether a run's execution still drives it.
The execution is named after the run id, so a retried start (the API's, a redelivered event's, the
sweeper's) can never start a second execution for one run."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from load_manager.adapters import aws_clients
from load_manager.settings import get_settings

if TYPE_CHECKING:  # annotations only: starting an execution (the triggers function) builds no run model
    from load_manager.models.runs import Run


class ExecutionStarter(Protocol):
    def start(self, run: Run) -> str:
        """Start (or find) the run's execution; returns its ARN."""
        ...


RUNNING = "RUNNING"


class Executions(ExecutionStarter, Protocol):
    """What the sweeper needs of Step Functions: start a run's execution, and read its status."""

    def status(self, run: Run) -> str | None:
        """The run's execution's status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED...), or None
        when it has none (DescribeExecution: ExecutionDoesNotExist)."""
        ...


def execution_input(run: Run) -> dict[str, str]:
    return {"runId": run.id, "accountId": run.account_id}


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client=None):
        if not state_machine_arn:
            raise RuntimeError("RUN_STATE_MACHINE_ARN is not set")
        self.state_machine_arn = state_machine_arn
        self._client = client

    @property
    def client(self):
        return self._client or aws_clients.client("stepfunctions")  # boto3 only when a run starts: off every other route's cold path

    def start(self, run: Run) -> str:
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=run.id, input=json.dumps(execution_input(run))
            )
            return response["executionArn"]
        except self.client.exceptions.ExecutionAlreadyExists:
            # Same name: this run's execution is already there (a retried request); it is the one.
            return self.execution_arn(run)

    def execution_arn(self, run: Run) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{run.id}"

    def status(self, run: Run) -> str | None:
        # By name under this state machine, whatever ARN the run recorded: the one it would start.
        try:
            return str(self.client.describe_execution(executionArn=self.execution_arn(run))["status"])
        except self.client.exceptions.ExecutionDoesNotExist:
            return None


@lru_cache(maxsize=1)
def default_starter() -> StepFunctionsStarter:
    return StepFunctionsStarter(get_settings().state_machine_arn)
