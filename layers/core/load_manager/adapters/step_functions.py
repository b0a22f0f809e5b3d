"""Starting the run lifecycle state machine. The execution is named after the run id, so a retried
start can never start a second execution for one run."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Protocol

from load_manager.models import Run
from load_manager.settings import get_settings


class ExecutionStarter(Protocol):
    def start(self, run: Run) -> str:
        """Start (or find) the run's execution; returns its ARN."""
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
        if self._client is None:
            import boto3  # lazy: keeps boto3 off the cold path of every other route

            self._client = boto3.client("stepfunctions")
        return self._client

    def start(self, run: Run) -> str:
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=run.id, input=json.dumps(execution_input(run))
            )
            return response["executionArn"]
        except self.client.exceptions.ExecutionAlreadyExists:
            # Same name: this run's execution is already there (a retried request); it is the one.
            return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{run.id}"


@lru_cache(maxsize=1)
def default_starter() -> ExecutionStarter:
    return StepFunctionsStarter(get_settings().state_machine_arn)
