"""AWS services publish to the default bus: through `load-manager serve`, a CodeDeploy event put
there (no EventBusName, as CodeDeploy puts it) is forwarded to the stack's bus by the template's
ForwardAwsEventsRule and starts the matching trigger's run; `load-manager events tail` shows both
puts. Real Locust against a real target, the run kept tiny."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from support.polling import eventually
from support.scripts import SIMPLE, b64
from support.serve import serve

from load_manager.models.runs import FINAL_STATUSES
from load_manager_local.auth import make_unsigned_jwt
from load_manager_local.aws import BUS_NAME
from load_manager_local.events import DEFAULT_CLAIMS
from load_manager_local.local_stack import local_stack

pytestmark = pytest.mark.slow
CLI = Path(sys.executable).parent / "load-manager"
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"
DETAIL = {"region": "us-east-1", "deploymentId": "d-EXAMPLE123", "deploymentGroup": "checkout-prod", "state": "SUCCESS", "application": "checkout"}


def recorded(data_dir: Path) -> list[dict]:
    out = subprocess.run(
        [str(CLI), "events", "tail", "--data-dir", str(data_dir), "--json", "-n", "0"], capture_output=True, text=True, timeout=30, check=True
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_a_codedeploy_success_on_the_default_bus_starts_the_triggers_run(tmp_path, target):
    with serve(tmp_path) as url:
        # An operator says the local tenant owns the application: its triggers may then match its deployments.
        operator = make_unsigned_jwt({**DEFAULT_CLAIMS, "sub": "ops", "cognito:groups": ["load-manager-operators"]})
        owned = {"ownerAccountId": DEFAULT_CLAIMS["custom:accountId"], "kind": "codedeployApplication", "value": DETAIL["application"]}
        answer = requests.post(f"{url}/v1/event-sources", json=owned, headers={"Authorization": f"Bearer {operator}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        test_id = requests.post(
            f"{url}/v1/load-tests", json={"name": "deployed", "targetUrl": target.url, "scriptContent": b64(SIMPLE)}, timeout=10
        ).json()["id"]
        pattern = {"source": ["aws.codedeploy"], "detail-type": [CODEDEPLOY], "detail": {"state": ["SUCCESS"], "application": ["checkout"]}}
        answer = requests.post(
            f"{url}/v1/load-tests/{test_id}/triggers", timeout=10,
            json={"name": "after deploy", "eventPattern": pattern, "runSettings": {"targetUsers": 1, "durationSeconds": 2}},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        trigger = answer.json()
        events = boto3.client("events", endpoint_url=f"{url}/aws", region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
        entry = {
            "Source": "aws.codedeploy",
            "DetailType": CODEDEPLOY,
            "Detail": json.dumps(DETAIL),
            "Resources": ["arn:aws:codedeploy:us-east-1:123456789012:application:checkout"],
        }
        (put,) = events.put_events(Entries=[entry])["Entries"]

        trigger_path = f"{url}/v1/load-tests/{test_id}/triggers/{trigger['id']}"
        firings = eventually(lambda: requests.get(trigger_path, timeout=10).json()["lastFirings"], timeout=60)
        assert firings, "the forwarded event reached the trigger"
        (firing,) = firings
        assert firing["outcome"] == "started" and firing["source"] == "aws.codedeploy" and firing["detailType"] == CODEDEPLOY
        (run,) = requests.get(f"{url}/v1/load-tests/{test_id}/runs", timeout=10).json()["items"]
        assert run["id"] == firing["runId"] and run["trigger"]["triggerId"] == trigger["id"] and run["trigger"]["eventId"] == firing["eventId"]

        # events.jsonl: the put on the default bus, then its forwarded copy, which the trigger's rule matched.
        original, forwarded = [e for e in recorded(tmp_path) if e["source"] == "aws.codedeploy"]
        # The template's ForwardAwsEventsRule (the sweeper's scheduled rule, on the default bus too, matches no event).
        forwarding_rules = [rule.name for rule in local_stack().rules if "EventPattern" in rule.put_rule]
        assert (original["eventBusName"], original["id"], original["matchedRules"]) == ("default", put["EventId"], forwarding_rules)
        assert (forwarded["eventBusName"], forwarded["id"], forwarded["matchedRules"]) == (BUS_NAME, firing["eventId"], [trigger["ruleName"]])
        assert forwarded["forwardedFrom"]["id"] == put["EventId"] and forwarded["detail"] == DETAIL == original["detail"]
        assert forwarded["resources"] == entry["Resources"] and trigger["eventBusName"] == BUS_NAME

        final = eventually(lambda: (r := requests.get(f"{url}/v1/runs/{run['id']}", timeout=10).json())["status"] in FINAL_STATUSES and r, timeout=120)
        assert final and final["status"] == "Finished", final
