"""moto's credentials for a test, whatever the developer's shell holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch


def use_moto_credentials(monkeypatch) -> None:
    """Fake keys, and no profile, session token or endpoint of the shell that could reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


STACK_REGION = "us-east-1"
# A state machine moto never executes: a run it starts stays Pending (active), nothing runs.
NOOP_DEFINITION = {"StartAt": "Noop", "States": {"Noop": {"Type": "Pass", "End": True}}}


@contextmanager
def stack_on_moto(monkeypatch) -> Iterator[str]:
    """The stack's AWS side on moto, with the variables the template gives the functions for it: the
    run state machine (never executed), the event bus and schedule group, the triggers function and
    the roles EventBridge assumes. Settings are read again inside and after; yields the machine's ARN."""
    import boto3
    from moto import mock_aws
    from moto.core.config import default_user_config

    from load_manager.adapters.step_functions import default_starter
    from load_manager.settings import set_settings

    use_moto_credentials(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", STACK_REGION)
    with patch.dict(default_user_config, {"stepfunctions": {"execute_state_machine": False}}), mock_aws():
        arn = boto3.client("stepfunctions", region_name=STACK_REGION).create_state_machine(
            name="lifecycle", definition=json.dumps(NOOP_DEFINITION), roleArn="arn:aws:iam::123456789012:role/states"
        )["stateMachineArn"]
        boto3.client("events", region_name=STACK_REGION).create_event_bus(Name="stack-events")
        boto3.client("scheduler", region_name=STACK_REGION).create_schedule_group(Name="stack-load-tests")
        for name, value in {
            "RUN_STATE_MACHINE_ARN": arn, "EVENT_BUS_NAME": "stack-events", "SCHEDULE_GROUP": "stack-load-tests",
            "TRIGGERS_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:stack-triggers",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/stack-scheduler",
            "NOTIFICATION_ROLE_ARN": "arn:aws:iam::123456789012:role/stack-notify",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        set_settings(None)
        default_starter.cache_clear()
        try:
            yield arn
        finally:
            default_starter.cache_clear()  # its boto3 client belongs to this mock
            set_settings(None)
