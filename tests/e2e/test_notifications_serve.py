"""Notifications through `load-manager serve` as a user starts it: a run of real Locust against the
example target fails its criteria, and its end reaches two receivers on loopback by itself (serve's
bus delivers each channel's NotificationRequested to its API destination, as EventBridge does): the
webhook's body checks against its HMAC signature as the how-to's receiver checks it, and the Slack
channel's body is an incoming-webhook message. The signing secret is nowhere in the data directory
but its credential file."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import boto3
import pytest
import requests
from support.polling import eventually
from support.receivers import receiver
from support.scripts import SIMPLE, b64
from support.serve import serve

from load_manager_local.aws import BUS_NAME

pytestmark = pytest.mark.slow
SECRET = "whsec_e2e_0123456789abcdef"
TOLERANCE_S = 1200  # the how-to's: EventBridge retries for 15 minutes, plus clock skew


def verified(body: bytes, headers: dict[str, str], secret: str) -> dict:
    """The how-to's receiver (docs/how-to/notifications.md): timestamp fresh, HMAC over the canonical body."""
    timestamp, given = headers["x-loadmanager-timestamp"], headers["x-loadmanager-signature"]
    assert abs(time.time() - int(timestamp)) < TOLERANCE_S, "a replay of an old message is refused"
    payload = json.loads(body)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + canonical, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, given), "the signature matches the body"
    return payload


def test_a_failing_runs_end_reaches_a_signed_webhook_and_a_slack_channel(tmp_path, target):
    with receiver() as hook, receiver() as slack, serve(tmp_path) as url:
        body = {"name": "checkout", "targetUrl": target.url, "scriptContent": b64(SIMPLE), "orgId": "shop"}
        test = requests.post(f"{url}/v1/load-tests", json=body, timeout=10).json()
        webhook = {"name": "ops", "kind": "webhook", "url": hook.url, "signingSecret": SECRET, "testId": test["id"]}
        created = requests.post(f"{url}/v1/notification-channels", json=webhook, timeout=10)
        assert created.status_code == 201, created.text
        assert "url" not in created.json() and SECRET not in created.text and created.json()["signingSecretSet"] is True
        chat = requests.post(f"{url}/v1/notification-channels", json={"name": "team", "kind": "slack", "url": slack.url, "orgId": "shop"}, timeout=10)
        assert chat.status_code == 201, chat.text  # the local user administers its tenant: an org's channel

        criteria = [{"metric": "rps", "operator": ">=", "threshold": 100000}, {"metric": "failRatio", "operator": "<=", "threshold": 0.5}]
        run = requests.post(f"{url}/v1/load-tests/{test['id']}/runs", json={"targetUsers": 2, "spawnRate": 2, "durationSeconds": 4, "criteria": criteria}, timeout=10).json()
        ended = eventually(lambda: (r := requests.get(f"{url}/v1/runs/{run['id']}", timeout=10).json())["status"] in ("Finished", "Failed") and r, timeout=120)
        assert ended and (ended["status"], ended["result"]) == ("Finished", "Failed"), ended
        assert eventually(lambda: hook.requests and slack.requests, timeout=60), "both endpoints were called by serve's bus"

        (delivery,) = hook.requests
        payload = verified(delivery.body, delivery.headers, SECRET)
        assert payload["eventId"] == delivery.headers["x-loadmanager-event-id"] == f"{run['id']}:Notify:{created.json()['id']}"
        assert (payload["loadTest"]["name"], payload["run"]["revisionNumber"], payload["run"]["verdict"]) == ("checkout", 1, "Failed")
        assert [c["criterion"]["metric"] for c in payload["failedCriteria"]] == ["rps"], "the failed criterion, not the passed one"
        assert payload["links"]["console"] == f"{url}/runs/{run['id']}"
        assert 'Load test \u201ccheckout\u201d failed 1 of 2 criteria (revision 1)' in payload["text"]

        (message,) = slack.requests
        slack_body = json.loads(message.body)
        assert set(slack_body) == {"text", "blocks"} and f"<{url}/runs/{run['id']}|open the run>" in slack_body["text"]
        assert [b["type"] for b in slack_body["blocks"]] == ["header", "section", "section", "actions"]
        assert slack_body["blocks"][0]["text"]["type"] == "plain_text" and "rps" in slack_body["blocks"][2]["text"]["text"]
        assert "x-loadmanager-signature" not in message.headers

    holding = [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert len(holding) == 1 and holding[0].parts[0] == "notification-channels", holding

    with serve(tmp_path) as url:  # moto forgot the channels' EventBridge resources; serve wrote them again at start
        events = boto3.client("events", endpoint_url=f"{url}/aws", region_name="eu-west-1", aws_access_key_id="local", aws_secret_access_key="local")
        rule = created.json()["ruleName"]
        (target,) = events.list_targets_by_rule(Rule=rule, EventBusName=BUS_NAME)["Targets"]
        assert target["Arn"] == events.describe_api_destination(Name=rule)["ApiDestinationArn"] and target["InputPath"] == "$.detail.payload"
