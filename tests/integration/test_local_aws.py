"""What the local runtime adds to moto so the bus and Scheduler behave as the stack's: Lambda rule
targets (rendered as EventBridge renders them), the record of every event, Scheduler's clock, and
the APIs under serve's /aws. Handlers here are plain functions; the real triggers function is
exercised end to end in tests/lifecycle/test_automation_local.py and tests/e2e."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import botocore.session
import pytest
from moto import mock_aws

from load_manager_local.aws import BUS_NAME, SCHEDULE_GROUP, AwsGateway, LocalAws, render_input
from load_manager_local.scheduler import LocalScheduler

REGION = "us-east-1"
EVENT = {
    "version": "0", "id": "e-1", "detail-type": "CodeDeploy Deployment State-change Notification", "source": "aws.codedeploy",
    "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": ["arn:r"],
    "detail": {"state": "SUCCESS", "application": "shop"},
}  # fmt: skip


def test_targets_get_the_event_as_eventbridge_renders_it():
    transformer = {"InputTransformer": {"InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": '{"s": "<state>", "rule": "<aws.events.rule-name>", "event": <aws.events.event.json>}'}}
    assert render_input(transformer, EVENT, "r1", "arn:rule") == {"s": "SUCCESS", "rule": "r1", "event": EVENT}
    assert render_input({"Input": '{"fixed": true}'}, EVENT, "r1", "arn") == {"fixed": True}
    assert render_input({"InputPath": "$.detail"}, EVENT, "r1", "arn") == EVENT["detail"]
    assert render_input({}, EVENT, "r1", "arn") == EVENT


@pytest.fixture
def local(tmp_path, monkeypatch):
    """moto, with the bus, a recording handler registered as `listener`, and no clock ticking."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    received: list = []

    def listener(event, _context):
        received.append(event)
        if event.get("fail"):
            raise RuntimeError("boom")
        return {"ok": True}

    with mock_aws():
        aws = LocalAws({"listener": listener}, tmp_path, REGION, tick_seconds=0).start()
        try:
            yield aws, received
        finally:
            aws.stop()


def test_rules_deliver_to_lambda_targets_with_moto_matching_and_every_event_is_recorded(local):
    aws, received = local
    events = boto3.client("events", region_name=REGION)
    pattern = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"], "application": [{"prefix": "sh"}]}}
    events.put_rule(Name="deploys", EventBusName=BUS_NAME, EventPattern=json.dumps(pattern))
    template = '{"ref": "t1", "event": <aws.events.event.json>}'
    events.put_targets(Rule="deploys", EventBusName=BUS_NAME, Targets=[
        {"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:listener", "InputTransformer": {"InputPathsMap": {}, "InputTemplate": template}},
    ])  # fmt: skip
    entries = [
        {"Source": "aws.codedeploy", "DetailType": "x", "Detail": json.dumps({"state": "SUCCESS", "application": "shop"}), "EventBusName": BUS_NAME},
        {"Source": "aws.codedeploy", "DetailType": "x", "Detail": json.dumps({"state": "FAILURE", "application": "shop"}), "EventBusName": BUS_NAME},
        {"Source": "aws.codedeploy", "DetailType": "x", "Detail": json.dumps({"state": "SUCCESS", "application": "web"}), "EventBusName": BUS_NAME},
    ]
    ids = [e["EventId"] for e in events.put_events(Entries=entries)["Entries"]]
    aws.drain()
    (delivered,) = received
    assert delivered["ref"] == "t1" and delivered["event"]["id"] == ids[0] and delivered["event"]["detail"]["application"] == "shop"
    assert delivered["event"]["time"].endswith("Z") and "ingestion-time" not in delivered["event"]
    recorded = aws.read_events()
    assert [r["id"] for r in recorded] == ids and [r["matchedRules"] for r in recorded] == [["deploys"], [], []]
    assert {r["eventBusName"] for r in recorded} == {BUS_NAME}
    # A disabled rule matches nothing (a disabled trigger), as in EventBridge; enabled again, it delivers.
    events.disable_rule(Name="deploys", EventBusName=BUS_NAME)
    events.put_events(Entries=entries[:1])
    events.enable_rule(Name="deploys", EventBusName=BUS_NAME)
    again = events.put_events(Entries=entries[:1])["Entries"][0]["EventId"]
    aws.drain()
    assert [e["event"]["id"] for e in received] == [ids[0], again]
    assert [r["matchedRules"] for r in aws.read_events()[3:]] == [[], ["deploys"]]


def test_a_failing_handler_is_retried_twice_then_dead_lettered(local, tmp_path):
    aws, received = local
    aws.deliveries.submit("listener", {"fail": True}, "test")
    aws.drain()
    assert len(received) == 3
    (letter,) = [json.loads(line) for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()]
    assert letter["function"] == "listener" and "boom" in letter["error"] and letter["payload"] == {"fail": True}


def make_schedule(name: str, expression: str, **extra) -> None:
    boto3.client("scheduler", region_name=REGION).create_schedule(
        Name=name, GroupName=SCHEDULE_GROUP, ScheduleExpression=expression, FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:listener", "RoleArn": "arn:aws:iam::123456789012:role/r",
                "Input": json.dumps({"name": name, "at": "<aws.scheduler.scheduled-time>", "try": "<aws.scheduler.attempt-number>"})},
        **extra,
    )  # fmt: skip


def test_the_clock_fires_due_occurrences_once_in_the_schedules_time_zone(local):
    aws, received = local
    scheduler = LocalScheduler(aws.deliveries.submit, REGION, started_at=datetime(2026, 1, 1, tzinfo=UTC))
    make_schedule("paris", "cron(0 9 ? * MON-FRI *)", ScheduleExpressionTimezone="Europe/Paris")
    make_schedule("off", "cron(* * * * ? *)", State="DISABLED")
    make_schedule("once", "at(2030-01-01T09:30:00)", ScheduleExpressionTimezone="UTC")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    monday = now + timedelta(days=(7 - now.weekday()) % 7 or 7)  # next Monday, 00:00 UTC
    start = monday.replace(hour=0, minute=0)
    scheduler.fire_due(start)  # weekdays between now and then, whatever today is
    aws.drain()
    received.clear()
    fired = scheduler.fire_due(start + timedelta(days=1))  # Monday: 09:00 in Paris is 08:00 UTC in winter, 07:00 in summer
    again = scheduler.fire_due(start + timedelta(days=1))  # nothing new: each occurrence fires once
    aws.drain()
    assert [(f.schedule, f.at.hour in (7, 8)) for f in fired] == [("paris", True)] and again == []
    assert received == [{"name": "paris", "at": fired[0].at.strftime("%Y-%m-%dT%H:%M:%SZ"), "try": "1"}]
    assert [f.schedule for f in scheduler.fire_due(datetime(2030, 1, 1, 9, 31, tzinfo=UTC))][-1] == "once"


def test_rates_count_from_their_start_date_and_stop_at_their_end(local):
    aws, _ = local
    now = datetime.now(UTC).replace(microsecond=0)
    scheduler = LocalScheduler(aws.deliveries.submit, REGION, started_at=now)
    make_schedule("rate", "rate(10 minutes)", StartDate=now + timedelta(minutes=1), EndDate=now + timedelta(minutes=25))
    fired = scheduler.fire_due(now + timedelta(hours=1))
    assert [f.at - now for f in fired] == [timedelta(minutes=1), timedelta(minutes=11), timedelta(minutes=21)]


def signed(service: str, region: str, target: str, body: dict) -> tuple[dict, bytes]:
    """The headers and body a real AWS SDK sends (signed), captured before they leave."""
    session = botocore.session.get_session()
    client = session.create_client(service, region_name=region, endpoint_url="http://127.0.0.1:9/aws", aws_access_key_id="k", aws_secret_access_key="s")
    captured = {}

    def capture(request, **_kwargs):
        captured.update(headers={k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}, body=request.body)
        raise StopIteration

    client.meta.events.register("before-send", capture)
    with pytest.raises(StopIteration):
        getattr(client, target)(**body)
    return captured["headers"], captured["body"]


def test_the_aws_endpoint_answers_events_and_scheduler_in_any_signed_region(local):
    gateway = AwsGateway(REGION)
    headers, body = signed("events", "eu-west-3", "put_events", {"Entries": [{"Source": "ci", "DetailType": "RunRequested", "Detail": "{}", "EventBusName": BUS_NAME}]})
    answer = gateway.respond("POST", "/aws", "", headers, body)
    assert answer.status == 200 and answer.json()["FailedEntryCount"] == 0
    headers, body = signed("scheduler", "ap-south-1", "list_schedules", {})
    assert gateway.respond("GET", "/aws/schedules", "", headers, body).json()["Schedules"] == []
    headers, body = signed("s3", REGION, "list_buckets", {})
    assert gateway.respond("GET", "/aws/", "", headers, body).status == 400
    assert gateway.respond("POST", "/aws", "", {"Content-Type": "application/json"}, b"{}").status == 400
    local[0].drain()
    assert [e["source"] for e in local[0].read_events()] == ["ci"]
