"""`serve`'s buses, rules and schedule group are the template's: read by stack.py (SAM's translator,
its parameters and conditions) for a stack name, and created in moto so that an AWS service event on
the default bus is forwarded to the stack's bus by moto's own bus target, as EventBridge forwards it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from load_manager_local.aws import BUS_NAME, SCHEDULE_GROUP, TRIGGERS_FUNCTION, LocalAws
from load_manager_local.functions import project_root
from load_manager_local.local_stack import STACK_NAME, TemplateError, read_local_stack
from load_manager_local.stack_names import generated_name

TEMPLATE = project_root() / "template.yaml"
REGION = "eu-west-1"
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"


def test_the_names_are_the_templates_for_the_local_stack_name():
    stack = read_local_stack(TEMPLATE)
    assert (stack.event_bus_name, stack.schedule_group, stack.triggers_function) == (BUS_NAME, SCHEDULE_GROUP, TRIGGERS_FUNCTION)
    assert (BUS_NAME, SCHEDULE_GROUP, TRIGGERS_FUNCTION) == (f"{STACK_NAME}-events", f"{STACK_NAME}-load-tests", f"{STACK_NAME}-triggers")
    assert stack.event_buses == (BUS_NAME,) and stack.schedule_groups == (SCHEDULE_GROUP,) and stack.name_prefix == "lm-trigger-"


def patterned(stack) -> list:
    """The rules that match events (the others are scheduled: the sweeper's, from its SAM Schedule event)."""
    return [rule for rule in stack.rules if "EventPattern" in rule.put_rule]


def test_the_forwarding_rule_follows_forwarded_event_sources_and_its_condition():
    stack = read_local_stack(TEMPLATE, stack_name="shop", region=REGION)
    (rule,) = patterned(stack)
    assert rule.name == generated_name("shop", "ForwardAwsEventsRule")
    assert rule.bus_name == "default" and json.loads(rule.put_rule["EventPattern"]) == {"source": ["aws.codedeploy"]}
    assert [t["Arn"] for t in rule.targets] == [f"arn:aws:events:{REGION}:123456789012:event-bus/shop-events"]
    (wider,) = patterned(read_local_stack(TEMPLATE, parameters={"ForwardedEventSources": "aws.codedeploy,aws.ecs"}))
    assert json.loads(wider.put_rule["EventPattern"]) == {"source": ["aws.codedeploy", "aws.ecs"]}
    assert patterned(read_local_stack(TEMPLATE, parameters={"ForwardedEventSources": ""})) == []  # Condition ForwardAwsEvents is false


def test_the_sweepers_schedule_is_the_rule_sam_makes_of_it():
    stack = read_local_stack(TEMPLATE, region=REGION)
    (scheduled,) = [rule for rule in stack.rules if "ScheduleExpression" in rule.put_rule]
    sweeper = stack.function_in("sweeper")
    assert scheduled.put_rule["ScheduleExpression"] == "rate(5 minutes)" and [t["Arn"] for t in scheduled.targets] == [sweeper.arn]


def test_an_intrinsic_it_cannot_evaluate_is_refused_not_guessed(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.read_text().replace('Name: !Sub "${AWS::StackName}-events"', "Name: !ImportValue shared-bus-name"))
    with pytest.raises(TemplateError, match="Fn::ImportValue"):  # another stack's export: nothing here knows it
        read_local_stack(template)


def test_the_state_machine_is_the_templates_under_its_name_invoking_the_workflow_function_by_its_arn():
    stack = read_local_stack(TEMPLATE, stack_name="shop", region=REGION)
    machine, workflow = stack.state_machine, stack.function_in("run_workflow")
    assert machine is not None and machine.name == generated_name("shop", "RunLifecycleStateMachine").removeprefix("shop-")
    assert machine.arn == f"arn:aws:states:{REGION}:123456789012:stateMachine:{machine.name}"
    assert {stack.functions[f].environment.get("RUN_STATE_MACHINE_ARN") for f in ("RunsFunction", "TriggersFunction", "SweeperFunction")} == {machine.arn}
    assert workflow.arn == f"arn:aws:lambda:{REGION}:123456789012:function:{workflow.name}" and workflow.arn in machine.definition
    assert "${" not in machine.definition and json.loads(machine.definition)["StartAt"]


@pytest.fixture
def local(tmp_path, monkeypatch):
    """moto with the template's buses and rules, and a listener on a rule of the stack's bus."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    received: list = []
    with mock_aws():
        aws = LocalAws({"listener": lambda event, _context: received.append(event)}, tmp_path, REGION, tick_seconds=0).start()
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="deploys", EventBusName=BUS_NAME, EventPattern=json.dumps({"source": ["aws.codedeploy"], "resources": ["arn:app"]}))
        events.put_targets(
            Rule="deploys", EventBusName=BUS_NAME, Targets=[{"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:123456789012:function:listener"}]
        )
        try:
            yield aws, events, received
        finally:
            aws.stop()


def test_an_aws_event_on_the_default_bus_reaches_the_stacks_rules_and_both_puts_are_recorded(local):
    aws, events, received = local
    detail = json.dumps({"state": "SUCCESS", "application": "checkout"})
    put = events.put_events(Entries=[
        {"Source": "aws.codedeploy", "DetailType": CODEDEPLOY, "Detail": detail, "Resources": ["arn:app"]},
        {"Source": "acme.deploys", "DetailType": CODEDEPLOY, "Detail": detail, "Resources": ["arn:app"]},  # not a forwarded source
    ])["Entries"]  # fmt: skip
    aws.drain()

    (delivered,) = received
    assert delivered["source"] == "aws.codedeploy" and delivered["resources"] == ["arn:app"] and delivered["id"] != put[0]["EventId"]
    original, other, forwarded = aws.read_events()  # the forwarded event just after the put that caused it
    forwarding_rule = generated_name(STACK_NAME, "ForwardAwsEventsRule")  # unnamed in the template: CloudFormation's name
    # The sweeper's scheduled rule is on the default bus too, and matches no event.
    assert (original["eventBusName"], original["id"], original["matchedRules"]) == ("default", put[0]["EventId"], [forwarding_rule])
    assert (other["eventBusName"], other["id"], other["matchedRules"]) == ("default", put[1]["EventId"], [])
    assert (forwarded["eventBusName"], forwarded["id"], forwarded["matchedRules"]) == (BUS_NAME, delivered["id"], ["deploys"])
    assert forwarded["forwardedFrom"] == {"eventBusName": "default", "id": put[0]["EventId"], "rule": forwarding_rule}
    assert {k: forwarded[k] for k in ("source", "detail-type", "detail", "resources", "time")} == {
        k: original[k] for k in ("source", "detail-type", "detail", "resources", "time")
    }
