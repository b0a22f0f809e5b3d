"""A channel's EventBridge resources (connection, API destination, rule, target) as the use case writes
them, read back from moto; and the local bus delivering a matched NotificationRequested to the API
destination as EventBridge does (body from InputPath, headers and query from the event, the
connection's header, retries, dead letters), to receivers on loopback. The whole path from a run
ending in `serve` is tests/e2e/test_notifications_serve.py."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from support.receivers import receiver

from load_manager.adapters import notification_targets
from load_manager.adapters.channel_credentials import file_credentials
from load_manager.identity import Caller
from load_manager.models.notifications import CreateChannelRequest, UpdateChannelRequest
from load_manager.settings import AutomationSettings, Settings, set_settings
from load_manager.usecases import notification_channels as channels
from load_manager.usecases.notification_messages import signature, signature_matches
from load_manager_local import api_destinations
from load_manager_local.aws import BUS_NAME, DEAD_LETTERS_FILE, LocalAws

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/load-manager-notify"
DLQ = "arn:aws:sqs:us-east-1:123456789012:load-manager-notify-dlq"
ADMIN = Caller(subject="u1", email="qa@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))
SECRET = "whsec_0123456789abcdef"


@pytest.fixture
def local(tmp_path, monkeypatch, stores):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setattr(api_destinations, "RETRY_DELAYS_S", (0.01, 0.01, 0.01, 0.01))  # EventBridge's back-off, without the wait
    automation = AutomationSettings(event_bus_name=BUS_NAME, notification_role_arn=ROLE, notification_dead_letter_arn=DLQ)
    set_settings(Settings(data_dir=str(tmp_path), sqlite_path=str(tmp_path / "lm.db"), automation=automation))
    with mock_aws():
        aws = LocalAws({}, tmp_path, REGION, tick_seconds=0).start()
        try:
            yield aws, boto3.client("events", region_name=REGION)
        finally:
            aws.stop()
            set_settings(None)


def targets():
    return notification_targets.default_targets()


def notify(events, channel, payload: dict, **extra) -> None:
    detail = {"eventId": f"{'r' * 32}:Notify:{channel.id}", "channelId": channel.id, "accountId": channel.account_id, "payload": payload, **extra}
    entry = {"Source": "load-manager", "DetailType": "NotificationRequested", "Detail": json.dumps(detail), "EventBusName": BUS_NAME}
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_a_webhook_channels_resources_and_a_delivery_as_eventbridge_makes_it(local, stores, tmp_path):
    aws, events = local
    with receiver() as first, receiver() as second:
        body = {"name": "ops", "kind": "webhook", "url": first.url, "signingSecret": SECRET, "authHeader": {"name": "Authorization", "value": "Bearer t0k"}}
        channel = channels.create(stores, targets, ADMIN, CreateChannelRequest.model_validate(body))
        name = channel.rule_name
        assert name == f"lm-trigger-n-{channel.id}" and channel.endpoint_host == "127.0.0.1" and channel.auth_header_name == "Authorization"
        assert "Bearer t0k" not in channel.model_dump_json() and SECRET not in channel.model_dump_json()
        rule = events.describe_rule(Name=name, EventBusName=BUS_NAME)
        pattern = {"source": ["load-manager"], "detail-type": ["NotificationRequested"], "detail": {"channelId": [channel.id], "accountId": ["acct"]}}
        assert json.loads(rule["EventPattern"]) == pattern and rule["State"] == "ENABLED"
        (target,) = events.list_targets_by_rule(Rule=name, EventBusName=BUS_NAME)["Targets"]
        destination = events.describe_api_destination(Name=name)
        assert target["Arn"] == destination["ApiDestinationArn"] and target["RoleArn"] == ROLE and target["InputPath"] == "$.detail.payload"
        assert target["HttpParameters"]["HeaderParameters"]["X-LoadManager-Signature"] == "$.detail.signature"
        assert target["HttpParameters"]["QueryStringParameters"] == {"lm_signature": "$.detail.signature", "lm_timestamp": "$.detail.timestamp"}
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 900} and target["DeadLetterConfig"] == {"Arn": DLQ}
        assert (destination["InvocationEndpoint"], destination["HttpMethod"]) == (first.url, "POST")
        connection = events.describe_connection(Name=name)
        assert connection["ConnectionArn"] == destination["ConnectionArn"] and connection["AuthorizationType"] == "API_KEY"
        assert connection["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyName"] == "Authorization"

        payload = {"text": "Load test \u201ccheckout\u201d failed", "run": {"revisionNumber": 3, "p95": 812.3}}
        notify(events, channel, payload, timestamp="1700000000", signature=signature(SECRET, 1_700_000_000, payload))
        aws.drain()
        (got,) = first.requests
        assert json.loads(got.body) == payload and got.path == "/hooks/in"
        assert signature_matches(SECRET, got.headers["x-loadmanager-timestamp"], got.headers["x-loadmanager-signature"], got.body)
        assert got.query == {"lm_signature": got.headers["x-loadmanager-signature"], "lm_timestamp": "1700000000"}
        assert got.headers["x-loadmanager-event-id"] == f"{'r' * 32}:Notify:{channel.id}"
        assert got.headers["authorization"] == "Bearer t0k", "the connection's credential"
        assert got.headers["user-agent"] == "Amazon/EventBridge/ApiDestinations" and got.headers["content-type"].startswith("application/json")

        # Another endpoint and disabled: nothing is delivered; enabled again, the new endpoint gets it.
        channels.update(stores, targets, ADMIN, channel.id, UpdateChannelRequest.model_validate({"url": second.url, "enabled": False}))
        assert events.describe_rule(Name=name, EventBusName=BUS_NAME)["State"] == "DISABLED"
        notify(events, channel, payload)
        channels.update(stores, targets, ADMIN, channel.id, UpdateChannelRequest.model_validate({"enabled": True}))
        notify(events, channel, {"text": "again"})
        aws.drain()
        assert len(first.requests) == 1 and [json.loads(r.body) for r in second.requests] == [{"text": "again"}]
        assert file_credentials(tmp_path).get("acct", channel.id).url == second.url

        channels.delete(stores, targets, ADMIN, channel.id)
        for describe in (lambda: events.describe_rule(Name=name, EventBusName=BUS_NAME), lambda: events.describe_api_destination(Name=name),
                         lambda: events.describe_connection(Name=name)):  # fmt: skip
            with pytest.raises(events.exceptions.ResourceNotFoundException):
                describe()
        assert file_credentials(tmp_path).get("acct", channel.id) is None and stores.notification_channels.get("acct", channel.id) is None


def test_failed_deliveries_are_retried_as_eventbridge_retries_then_dead_lettered(local, stores, tmp_path):
    aws, events = local
    with receiver([500, 429]) as flaky, receiver([503] * 10) as down, receiver([400]) as refusing:
        made = {
            r.url: channels.create(stores, targets, ADMIN, CreateChannelRequest.model_validate({"name": "chat", "kind": "slack", "url": r.url}))
            for r in (flaky, down, refusing)
        }
        for channel in made.values():
            notify(events, channel, {"text": channel.id})
        aws.drain()
        assert [json.loads(r.body) for r in flaky.requests] == [{"text": made[flaky.url].id}] * 3, "retried on 500 and 429"
        assert len(down.requests) == 1 + len(api_destinations.RETRY_DELAYS_S) and len(refusing.requests) == 1, "a 400 is not retried"
        assert flaky.requests[0].headers["x-loadmanager-channel"] == made[flaky.url].id, "a connection without a credential of its own"
    letters = [json.loads(line) for line in (tmp_path / DEAD_LETTERS_FILE).read_text().splitlines()]
    by_rule = {letter["rule"]: letter for letter in letters}
    assert set(by_rule) == {made[down.url].rule_name, made[refusing.url].rule_name}
    assert (by_rule[made[down.url].rule_name]["status"], by_rule[made[down.url].rule_name]["exhaustedRetryCondition"]) == (503, "MaximumRetryAttempts")
    assert (by_rule[made[refusing.url].rule_name]["retryAttempts"], by_rule[made[refusing.url].rule_name]["exhaustedRetryCondition"]) == (0, "NotRetryable")
    assert by_rule[made[down.url].rule_name]["event"]["detail"]["payload"] == {"text": made[down.url].id}
