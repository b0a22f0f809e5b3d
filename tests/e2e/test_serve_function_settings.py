"""What template.yaml says of each function is what `serve` does.

Each function runs with the settings its template environment gives it, as CloudFormation would set
it (stack.py: SAM's translator, every intrinsic resolved, the resources named as CloudFormation
names them for the stack `load-manager`), except for the documented local deviations
(load_manager_local.local_functions), and the resources those settings name are the ones serve runs.
In process, the runtime is built as `serve` builds it (runtime.start_local_runtime, then the server's
URL); as a subprocess, serve is started as a user starts it and looked at through its own APIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from support.polling import eventually
from support.scripts import SIMPLE, b64
from support.serve import serve

from load_manager.settings import Settings, get_settings, set_settings
from load_manager.store import set_stores
from load_manager_local.api import InProcessApi
from load_manager_local.functions import project_root
from load_manager_local.local_stack import LOCAL_PARAMETERS
from load_manager_local.runtime import WORKFLOW_FUNCTION, function_settings, set_public_base_url, start_local_runtime
from load_manager_local.stack import Stack, StackFunction, function_environment
from load_manager_local.stack_names import NamingResolver
from load_manager_local.stepfunctions import function_name_of

pytestmark = pytest.mark.slow

REGION = "us-east-1"
SERVE_URL = "http://127.0.0.1:18080"  # what serve hands set_public_base_url once it listens
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"
PATTERN = {"source": ["aws.codedeploy"], "detail-type": [CODEDEPLOY], "detail": {"application": ["checkout"]}}


def template_functions(region: str) -> dict[str, StackFunction]:
    """Every function of template.yaml for the stack `load-manager`, as CloudFormation would make it
    (no VPC on this machine: the parameters without a default are empty)."""
    stack = Stack(project_root() / "template.yaml", LOCAL_PARAMETERS, name="load-manager", region=region)
    return stack.functions(NamingResolver(stack))


def documented_deviations(template_environment: dict[str, str], data: Path) -> dict[str, Any]:
    """Settings field (dotted) -> its value under serve, where serve departs from Lambda."""
    expected: dict[str, Any] = {
        "store_backend": "sqlite", "mongodb_secret_id": "",  # SQLite in the data dir, not MongoDB
        "data_dir": str(data), "sqlite_path": str(data / "load_manager.db"),
        "default_backend": "local",  # Locust on this machine
        "in_lambda": False,  # no AWS_LAMBDA_FUNCTION_NAME: the local backend is allowed
        "min_poll_seconds": 1,
    }  # fmt: skip
    if "REPORTS_BUCKET" in template_environment:
        expected["reports_bucket"] = ""  # reports in the data dir
    if {"REPORTS_BUCKET", "SCRIPTS_BUCKET"} & template_environment.keys():
        expected["ecs.scripts_bucket"] = ""
    if "PUBLIC_BASE_URL" in template_environment:
        expected["automation.public_base_url"] = SERVE_URL  # links point at serve
    if template_environment.get("SECRETS_PREFIX"):
        expected["secrets_prefix"] = ""  # secrets' values in a private file of the data dir, not Secrets Manager
    if template_environment.get("NOTIFICATION_SECRET_PREFIX"):
        expected["automation.notification_secret_prefix"] = ""  # channel credentials in a private file of the data dir
    if template_environment.get("SECRET_REFERENCE_ARN_PREFIX"):
        expected["secret_reference_arn_prefix"] = ""  # no Secrets Manager secret to reference
    if template_environment.get("JWT_ISSUER"):
        expected["jwt_issuer"] = ""  # the template's user pool does not exist here: JWTs decoded unverified (authn/jwts.py)
    if template_environment.get("JWT_AUDIENCE"):
        expected["jwt_audience"] = ()
    return expected


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Settings) or hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The local runtime in this process, as `serve` builds it."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION"):  # restored afterwards
        monkeypatch.setenv(name, REGION if "REGION" in name else "local")
    lifecycle = start_local_runtime(tmp_path / "data")
    set_public_base_url(SERVE_URL)
    try:
        yield lifecycle
    finally:
        lifecycle.stop()
        set_stores(None)
        set_settings(None)


def test_each_function_has_its_template_settings_but_for_the_documented_deviations(served, tmp_path):
    data = tmp_path / "data"
    effective, template = function_settings(), template_functions(served.sfn.region)
    assert set(effective) == set(template) and "RunWorkflowFunction" in effective
    for logical_id, function in template.items():
        in_lambda = flat(Settings.from_env(function_environment(function, served.sfn.region)))  # its cold start in Lambda
        here = flat(effective[logical_id])
        expected = documented_deviations(dict(function.environment), data)
        assert {key for key in in_lambda if here[key] != in_lambda[key]} == set(expected), logical_id
        assert {key: here[key] for key in expected} == expected, logical_id
    assert get_settings() == effective["RunWorkflowFunction"]  # outside any function: the workflow's


def test_the_resources_the_settings_name_are_the_ones_serve_runs(served):
    settings, region = function_settings(), served.sfn.region
    with_machine = [f for f, s in template_functions(region).items() if "RUN_STATE_MACHINE_ARN" in s.environment]
    assert {settings[f].state_machine_arn for f in with_machine} == {served.state_machine_arn}
    definition = json.loads(served.sfn.client.describe_state_machine(stateMachineArn=served.state_machine_arn)["definition"])
    assert served.sfn.function_arn(WORKFLOW_FUNCTION) in json.dumps(definition)  # its tasks invoke the workflow function, registered
    assert WORKFLOW_FUNCTION in served.sfn.registry
    automation = settings["TriggersFunction"].automation
    assert function_name_of(automation.triggers_function_arn) in served.sfn.registry
    assert boto3.client("events", region_name=region).describe_event_bus(Name=automation.event_bus_name)["Name"] == automation.event_bus_name
    assert boto3.client("scheduler", region_name=region).get_schedule_group(Name=automation.schedule_group)["Name"] == automation.schedule_group
    assert {settings[f].automation.event_bus_name for f in ("RunWorkflowFunction", "SweeperFunction")} == {automation.event_bus_name}


def automate(post: Callable[[str, dict], tuple[int, dict]]) -> tuple[dict, dict]:
    """A test with a trigger and a schedule, made through the API; (trigger, schedule)."""
    answers = [post("/v1/event-sources", {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "checkout"})]
    answers.append(post("/v1/load-tests", {"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)}))
    test_id = answers[-1][1]["id"]
    answers.append(post(f"/v1/load-tests/{test_id}/triggers", {"name": "deploys", "eventPattern": PATTERN}))
    answers.append(post(f"/v1/load-tests/{test_id}/schedules", {"name": "nightly", "cron": "0 3 * * *"}))
    assert [status for status, _ in answers] == [201] * 4, answers
    return answers[2][1], answers[3][1]


def test_a_route_runs_in_its_functions_settings(served, _routes):
    """Creating a trigger and a schedule needs the triggers function's settings (the process default,
    the workflow's, names no triggers function): the rule and schedule carry exactly its template values."""
    client = InProcessApi(routes=_routes)
    automation = function_settings()["TriggersFunction"].automation
    assert get_settings().automation.triggers_function_arn == ""  # the workflow's environment has none
    trigger, schedule = automate(lambda path, body: ((a := client.request("POST", path, body=body)).status, a.json()))
    events, scheduler = (boto3.client(service, region_name=served.sfn.region) for service in ("events", "scheduler"))
    (target,) = events.list_targets_by_rule(Rule=trigger["ruleName"], EventBusName=automation.event_bus_name)["Targets"]
    assert (target["Arn"], target["DeadLetterConfig"]["Arn"]) == (automation.triggers_function_arn, automation.dead_letter_arn)
    scheduled = scheduler.get_schedule(Name=schedule["schedulerName"], GroupName=automation.schedule_group)["Target"]
    assert (scheduled["Arn"], scheduled["RoleArn"]) == (automation.triggers_function_arn, automation.scheduler_role_arn)


def test_serve_as_a_user_starts_it_names_and_uses_the_templates_resources(tmp_path):
    triggers = template_functions(REGION)["TriggersFunction"].environment  # what CloudFormation would give the function
    output: list[str] = []
    with serve(tmp_path, extra_env={"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}, output=output) as url:
        banner = eventually(lambda: next((line for line in output if "EventBridge and Scheduler APIs" in line), None))
        assert banner and f"bus {triggers['EVENT_BUS_NAME']}, schedule group {triggers['SCHEDULE_GROUP']}" in banner
        trigger, schedule = automate(lambda path, body: ((r := requests.post(f"{url}{path}", json=body, timeout=10)).status_code, r.json()))

        keys = {"endpoint_url": f"{url}/aws", "region_name": REGION, "aws_access_key_id": "local", "aws_secret_access_key": "local"}
        events, scheduler = (boto3.client(service, **keys) for service in ("events", "scheduler"))
        (target,) = events.list_targets_by_rule(Rule=trigger["ruleName"], EventBusName=triggers["EVENT_BUS_NAME"])["Targets"]
        assert (target["Arn"], target["DeadLetterConfig"]["Arn"]) == (triggers["TRIGGERS_FUNCTION_ARN"], triggers["AUTOMATION_DLQ_ARN"])
        scheduled = scheduler.get_schedule(Name=schedule["schedulerName"], GroupName=triggers["SCHEDULE_GROUP"])["Target"]
        assert (scheduled["Arn"], scheduled["RoleArn"]) == (triggers["TRIGGERS_FUNCTION_ARN"], triggers["SCHEDULER_ROLE_ARN"])
