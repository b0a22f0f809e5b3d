"""Runs without a human through `load-manager serve`, as a user drives it: boto3 against its /aws
endpoint (EventBridge PutEvents, Scheduler), the HTTP API, `load-manager events tail`; real Locust
against a real target, runs kept tiny."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from support.polling import eventually
from support.scripts import SIMPLE, b64
from support.serve import serve

from load_manager_local.aws import BUS_NAME, SCHEDULE_GROUP

pytestmark = pytest.mark.slow
CLI = Path(sys.executable).parent / "load-manager"
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"


def deploy_event(deployment: str) -> dict:
    detail = {"state": "SUCCESS", "application": "checkout", "deploymentId": deployment}
    return {"Source": "aws.codedeploy", "DetailType": CODEDEPLOY, "Detail": json.dumps(detail), "EventBusName": BUS_NAME}


def aws_client(service: str, url: str):
    # Any region and any keys: serve answers for its own bus whatever the client signs for.
    return boto3.client(service, endpoint_url=f"{url}/aws", region_name="eu-west-1", aws_access_key_id="local", aws_secret_access_key="local")


def tail(data_dir: Path) -> list[dict]:
    out = subprocess.run(
        [str(CLI), "events", "tail", "--data-dir", str(data_dir), "--source", "load-manager", "--json", "-n", "0"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def test_events_put_through_serves_aws_endpoint_start_one_run_and_schedules_fire_on_the_real_clock(tmp_path, target):
    with serve(tmp_path) as url:
        # The local user operates the deployment too: it says its tenant owns the application.
        owned = {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "checkout"}
        assert requests.post(f"{url}/v1/event-sources", json=owned, timeout=10).status_code == 201
        test_id = requests.post(f"{url}/v1/load-tests", json={"name": "deployed", "targetUrl": target.url, "scriptContent": b64(SIMPLE)}, timeout=10).json()["id"]
        pattern = {"source": ["aws.codedeploy"], "detail-type": [CODEDEPLOY], "detail": {"state": ["SUCCESS"], "application": ["checkout"]}}
        trigger = requests.post(
            f"{url}/v1/load-tests/{test_id}/triggers", timeout=10,
            json={"name": "after deploy", "eventPattern": pattern, "runSettings": {"targetUsers": 1, "durationSeconds": 1}},
        ).json()  # fmt: skip
        events = aws_client("events", url)
        first, second = (events.put_events(Entries=[deploy_event("d-1")]) for _ in range(2))
        assert first["FailedEntryCount"] == second["FailedEntryCount"] == 0

        firings = eventually(lambda: len(requests.get(f"{url}/v1/load-tests/{test_id}/triggers/{trigger['id']}", timeout=10).json()["lastFirings"]) == 2, timeout=60)
        assert firings, "both deliveries were handled"
        (run,) = requests.get(f"{url}/v1/load-tests/{test_id}/runs", timeout=10).json()["items"]
        assert run["trigger"]["type"] == "event" and run["trigger"]["eventId"] == first["Entries"][0]["EventId"]
        ended = eventually(lambda: requests.get(f"{url}/v1/runs/{run['id']}", timeout=10).json()["status"] == "Finished", timeout=120)
        assert ended, "the triggered run finished"
        ours = eventually(lambda: (found := tail(tmp_path)) and found[-1]["detail-type"] == "RunFinished" and found, timeout=60)
        assert [(e["detail-type"], e["detail"]["runId"]) for e in ours] == [("RunStarted", run["id"]), ("RunFinished", run["id"])]
        assert ours[1]["detail"]["links"]["run"] == f"{url}/v1/runs/{run['id']}"

        # The clock serve runs: a rate schedule starting a few seconds from now fires then. (Far
        # enough ahead that the schedule exists before its start on a loaded machine: serve fires
        # no occurrence from before a schedule was created.)
        start = int(time.time() * 1000) + 6000
        schedule = requests.post(
            f"{url}/v1/load-tests/{test_id}/schedules", timeout=10,
            json={"name": "soon", "rate": "1 minute", "startAt": start, "runSettings": {"targetUsers": 1, "durationSeconds": 1}},
        ).json()  # fmt: skip
        assert aws_client("scheduler", url).get_schedule(Name=schedule["schedulerName"], GroupName=SCHEDULE_GROUP)["ScheduleExpression"] == "rate(1 minute)"
        path = f"{url}/v1/load-tests/{test_id}/schedules/{schedule['id']}"
        occurrences = eventually(lambda: requests.get(path, timeout=10).json()["occurrences"], timeout=60)
        assert [(o["at"], o["outcome"]) for o in occurrences] == [(start - start % 1000, "started")], occurrences
        scheduled = requests.get(f"{url}/v1/runs/{occurrences[0]['runId']}", timeout=10).json()
        assert scheduled["trigger"] == {"type": "schedule", "scheduleId": schedule["id"], "occurrenceAt": occurrences[0]["at"]}
        assert requests.delete(path, timeout=10).status_code == 204  # (its run need not finish: this test is about the clock)

    with serve(tmp_path) as url:  # moto forgot the rules; serve wrote them again from the store
        aws_client("events", url).put_events(Entries=[deploy_event("d-2")])
        runs = eventually(lambda: len(requests.get(f"{url}/v1/load-tests/{test_id}/runs", timeout=10).json()["items"]) == 3, timeout=60)
        assert runs, "the trigger fired after a restart"
