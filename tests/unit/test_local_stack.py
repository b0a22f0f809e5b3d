"""`serve`'s buses, rules and schedule group are the template's: read with its parameters and
conditions for a stack name, and created in moto so that an AWS service event on the default bus is
forwarded to the stack's bus by moto's own bus target, as EventBridge forwards it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from load_manager_local.aws import BUS_NAME, SCHEDULE_GROUP, TRIGGERS_FUNCTION, LocalAws
from load_manager_local.functions import project_root
from load_manager_local.local_stack import STACK_NAME, TemplateError, read_local_stack

TEMPLATE = project_root() / "template.yaml"
REGION = "eu-west-1"
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"


def test_the_names_are_the_templates_for_the_local_stack_name():
    stack = read_local_stack(TEMPLATE)
    assert (stack.event_bus_name, stack.schedule_group, stack.triggers_function) == (BUS_NAME, SCHEDULE_GROUP, TRIGGERS_FUNCTION)
    assert (BUS_NAME, SCHEDULE_GROUP, TRIGGERS_FUNCTION) == (f"{STACK_NAME}-events", f"{STACK_NAME}-load-tests", f"{STACK_NAME}-triggers")
    assert stack.event_buses == (BUS_NAME,) and stack.schedule_groups == (SCHEDULE_GROUP,) and stack.rule_prefix == "lm-trigger-"


def test_the_forwarding_rule_follows_forwarded_event_sources_and_its_condition():
    (rule,) = read_local_stack(TEMPLATE, stack_name="shop", region=REGION).rules
    assert rule.bus_name == "default" and json.loads(rule.put_rule["EventPattern"]) == {"source": ["aws.codedeploy"]}
    assert [t["Arn"] for t in rule.targets] == [f"arn:aws:events:{REGION}:123456789012:event-bus/shop-events"]
    (wider,) = read_local_stack(TEMPLATE, parameters={"ForwardedEventSources": "aws.codedeploy,aws.ecs"}).rules
    assert json.loads(wider.put_rule["EventPattern"]) == {"source": ["aws.codedeploy", "aws.ecs"]}
    assert read_local_stack(TEMPLATE, parameters={"ForwardedEventSources": ""}).rules == ()  # Condition ForwardAwsEvents is false


def test_an_intrinsic_it_does_not_evaluate_is_refused_not_guessed(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.read_text().replace('Name: !Sub "${AWS::StackName}-events"', "Name: !Select [0, [a, b]]"))
    with pytest.raises(TemplateError, match="Fn::Select"):
        read_local_stack(template)


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
    forwarding_rule = f"{STACK_NAME}-ForwardAwsEventsRule"
    assert (original["eventBusName"], original["id"], original["matchedRules"]) == ("default", put[0]["EventId"], [forwarding_rule])
    assert (other["eventBusName"], other["id"], other["matchedRules"]) == ("default", put[1]["EventId"], [])
    assert (forwarded["eventBusName"], forwarded["id"], forwarded["matchedRules"]) == (BUS_NAME, delivered["id"], ["deploys"])
    assert forwarded["forwardedFrom"] == {"eventBusName": "default", "id": put[0]["EventId"], "rule": forwarding_rule}
    assert {k: forwarded[k] for k in ("source", "detail-type", "detail", "resources", "time")} == {
        k: original[k] for k in ("source", "detail-type", "detail", "resources", "time")
    }
