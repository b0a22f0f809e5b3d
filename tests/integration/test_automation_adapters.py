"""The AWS adapters of runs without a human, against moto: EventBridge rules (one per trigger, the
triggers function as target), EventBridge Scheduler schedules, and the publisher of our events.
What moto cannot say (quotas, AWS's own refusals) is played by a client that answers like AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from load_manager.adapters.eventbridge import TARGET_ID, EventBridgePublisher, EventBridgeRules
from load_manager.adapters.scheduler import EventBridgeSchedules, ScheduleDefinition
from load_manager.errors import AutomationLimitError, AutomationUnavailableError, UnprocessableError

REGION = "us-east-1"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:stack-triggers"
ROLE = "arn:aws:iam::123456789012:role/stack-scheduler"
DLQ = "arn:aws:sqs:us-east-1:123456789012:stack-dead-letters"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.client("events", region_name=REGION).create_event_bus(Name="stack-events")
        boto3.client("scheduler", region_name=REGION).create_schedule_group(Name="stack-load-tests")
        yield


def test_a_trigger_is_one_rule_whose_target_sends_the_reference_and_the_whole_event(aws):
    rules = EventBridgeRules("stack-events", FUNCTION, DLQ)
    pattern = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"]}}
    reference = {"triggerId": "t1", "accountId": "acct", "loadTestId": "x"}
    rules.put("lm-trigger-t1", pattern, reference, "after deploy")
    rules.put("lm-trigger-t1", pattern, reference, "after deploy")  # idempotent
    client = boto3.client("events", region_name=REGION)
    (rule,) = client.list_rules(EventBusName="stack-events")["Rules"]
    assert json.loads(rule["EventPattern"]) == pattern and rule["State"] == "ENABLED"
    (target,) = client.list_targets_by_rule(Rule="lm-trigger-t1", EventBusName="stack-events")["Targets"]
    assert target["Id"] == TARGET_ID and target["Arn"] == FUNCTION and target["DeadLetterConfig"] == {"Arn": DLQ}
    template = target["InputTransformer"]["InputTemplate"]
    assert "<aws.events.event.json>" in template
    assert json.loads(template.replace("<aws.events.event.json>", '{"id": "e"}')) == {"loadManagerTrigger": reference, "event": {"id": "e"}}
    rules.put("lm-trigger-t1", pattern, reference, "after deploy", enabled=False)  # a disabled trigger: the rule stays, off
    assert client.describe_rule(Name="lm-trigger-t1", EventBusName="stack-events")["State"] == "DISABLED"
    assert len(client.list_targets_by_rule(Rule="lm-trigger-t1", EventBusName="stack-events")["Targets"]) == 1
    rules.put("lm-trigger-t1", pattern, reference, "after deploy", enabled=True)
    assert client.describe_rule(Name="lm-trigger-t1", EventBusName="stack-events")["State"] == "ENABLED"
    rules.delete("lm-trigger-t1")
    rules.delete("lm-trigger-t1")  # already gone: fine
    assert client.list_rules(EventBusName="stack-events")["Rules"] == []


class RefusingEvents:
    """Answers PutRule as EventBridge does when it refuses (moto enforces neither quota nor syntax)."""

    def __init__(self, code: str, message: str):
        self.code, self.message = code, message

    def put_rule(self, **_kwargs):
        raise ClientError({"Error": {"Code": self.code, "Message": self.message}}, "PutRule")


@pytest.mark.parametrize(
    ("code", "error", "api_code"),
    [
        ("LimitExceededException", AutomationLimitError, "AutomationLimitReached"),  # the 300 rules of the bus
        ("InvalidEventPatternException", UnprocessableError, "InvalidEventPattern"),
        ("ThrottlingException", AutomationUnavailableError, "AutomationUnavailable"),
    ],
)
def test_eventbridge_refusals_become_named_errors(code, error, api_code):
    rules = EventBridgeRules("stack-events", FUNCTION, client=RefusingEvents(code, "The requested resource exceeds the maximum number allowed."))
    with pytest.raises(error) as raised:
        rules.put("lm-trigger-t1", {"source": ["x"]}, {}, "")
    assert raised.value.code == api_code


def test_without_a_bus_triggers_are_unavailable_not_broken():
    with pytest.raises(AutomationUnavailableError):
        EventBridgeRules("", FUNCTION)


def definition(**fields) -> ScheduleDefinition:
    values = {
        "name": "lm-trigger-s1", "expression": "cron(0 2 ? * MON-FRI *)", "timezone": "Europe/Paris", "start_at": None, "end_at": None,
        "enabled": True, "target_input": {"scheduleId": "s1", "accountId": "acct", "loadTestId": "x"},
    }  # fmt: skip
    return ScheduleDefinition(**(values | fields))


def test_a_schedule_is_one_scheduler_schedule_created_then_updated(aws):
    clock = EventBridgeSchedules("stack-load-tests", FUNCTION, ROLE, DLQ)
    soon = datetime.now(UTC) + timedelta(days=1)
    clock.put(definition(start_at=int(soon.timestamp() * 1000)))
    client = boto3.client("scheduler", region_name=REGION)
    stored = client.get_schedule(Name="lm-trigger-s1", GroupName="stack-load-tests")
    assert stored["ScheduleExpression"] == "cron(0 2 ? * MON-FRI *)" and stored["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert stored["State"] == "ENABLED" and stored["FlexibleTimeWindow"] == {"Mode": "OFF"} and "StartDate" in stored
    target = stored["Target"]
    assert (target["Arn"], target["RoleArn"], target["DeadLetterConfig"]) == (FUNCTION, ROLE, {"Arn": DLQ})
    sent = json.loads(target["Input"])
    assert sent["loadManagerSchedule"]["scheduleId"] == "s1" and sent["scheduledTime"] == "<aws.scheduler.scheduled-time>"

    past = datetime.now(UTC) - timedelta(days=1)
    clock.put(definition(expression="rate(15 minutes)", start_at=int(past.timestamp() * 1000), enabled=True))
    updated = client.get_schedule(Name="lm-trigger-s1", GroupName="stack-load-tests")
    assert updated["ScheduleExpression"] == "rate(15 minutes)" and updated.get("StartDate") is None  # Scheduler refuses past starts
    clock.put(definition(end_at=int(past.timestamp() * 1000)))
    assert client.get_schedule(Name="lm-trigger-s1", GroupName="stack-load-tests")["State"] == "DISABLED"  # its window is over
    clock.delete("lm-trigger-s1")
    clock.delete("lm-trigger-s1")
    assert client.list_schedules(GroupName="stack-load-tests")["Schedules"] == []


def test_published_events_reach_whoever_listens_on_the_bus(aws):
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="listener")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="finished", EventBusName="stack-events", EventPattern=json.dumps({"source": ["load-manager"], "detail-type": ["RunFinished"], "detail": {"result": ["Failed"]}}))
    events.put_targets(Rule="finished", EventBusName="stack-events", Targets=[{"Id": "q", "Arn": queue_arn}])
    publisher = EventBridgePublisher("stack-events")
    publisher.publish("RunFinished", {"runId": "r1", "status": "Finished", "result": "Failed"}, [])
    publisher.publish("RunFinished", {"runId": "r2", "status": "Finished", "result": "Passed"}, [])  # not matched
    publisher.publish("RunStarted", {"runId": "r3", "status": "Running"}, [])
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    (received,) = [json.loads(m["Body"]) for m in messages]
    assert received["source"] == "load-manager" and received["detail-type"] == "RunFinished" and received["detail"]["runId"] == "r1"
