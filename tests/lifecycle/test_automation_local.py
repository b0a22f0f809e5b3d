"""Runs without a human, in the local runtime: moto's EventBridge and Scheduler in process, the real
triggers function and run lifecycle state machine, real Locust against a real target.

The schedule test drives Scheduler's clock itself (`fire_due` at the minutes it wants), so it
shows a minute-by-minute schedule without waiting for minutes to pass; tests/e2e checks the clock
that `serve` runs in real time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from support.local_runtime import local_runtime
from support.runs import assert_no_locust_left, create_test, wait_for_status, wait_until_final
from support.scripts import SIMPLE

from load_manager_local.api import InProcessApi

pytestmark = pytest.mark.slow

CODEDEPLOY = "CodeDeploy Deployment State-change Notification"
PATTERN = {"source": ["aws.codedeploy"], "detail-type": [CODEDEPLOY], "detail": {"state": ["SUCCESS"], "application": ["checkout"]}}


@pytest.fixture
def local(tmp_path, monkeypatch):
    """The local runtime with Scheduler's clock stopped (tests move it with fire_due)."""
    with local_runtime(tmp_path, monkeypatch, scheduler_tick_seconds=0) as runtime:
        yield runtime


@pytest.fixture
def client(local, _routes):
    return InProcessApi(routes=_routes)


def call(client, method: str, path: str, body=None, status: int = 200):
    answer = client.request(method, path, body=body)
    assert answer.status == status, answer.json()
    return answer.json()


def emitted(local, until: str, timeout: float = 15) -> list[dict]:
    """Load Manager's own events on the local bus, once one of type `until` is there."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        ours = [e for e in local.aws.read_events() if e["source"] == "load-manager"]
        if any(e["detail-type"] == until for e in ours) or time.monotonic() > deadline:
            return ours
        time.sleep(0.1)


def test_a_codedeploy_success_put_twice_starts_one_run_that_emits_run_started_and_run_finished(local, client, target):
    test_id = create_test(client, SIMPLE, target.url)
    trigger = call(client, "POST", f"/v1/load-tests/{test_id}/triggers",
                   {"name": "after checkout deploys", "eventPattern": PATTERN, "runSettings": {"targetUsers": 2, "durationSeconds": 2}}, 201)  # fmt: skip
    events = boto3.client("events", region_name=local.sfn.region)  # in this process: moto's EventBridge
    entry = {
        "Source": "aws.codedeploy", "DetailType": CODEDEPLOY, "EventBusName": "load-manager",
        "Detail": json.dumps({"state": "SUCCESS", "application": "checkout", "deploymentId": "d-42", "deploymentGroup": "prod"}),
    }  # fmt: skip
    ignored = {**entry, "Detail": json.dumps({"state": "FAILURE", "application": "checkout", "deploymentId": "d-43"})}
    put = [events.put_events(Entries=[e])["Entries"][0]["EventId"] for e in (entry, entry, ignored)]
    local.aws.drain()

    (run,) = call(client, "GET", f"/v1/load-tests/{test_id}/runs")["items"]
    assert run["trigger"] == {
        "type": "event", "triggerId": trigger["id"], "eventId": put[0], "source": "aws.codedeploy", "detailType": CODEDEPLOY,
        "eventDigest": run["trigger"]["eventDigest"],
    }  # fmt: skip
    final = wait_until_final(client, run["id"], timeout=60)
    assert final["status"] == "Finished" and final["summary"]["totalRequests"] == target.total_requests() > 0
    firings = call(client, "GET", f"/v1/load-tests/{test_id}/triggers/{trigger['id']}")["lastFirings"]
    assert [(f["eventId"], f["outcome"], f["runId"]) for f in firings] == [(put[1], "duplicate", run["id"]), (put[0], "started", run["id"])]

    ours = emitted(local, until="RunFinished")  # published once Locust is torn down, just after the status
    assert [(e["detail-type"], e["detail"]["runId"]) for e in ours] == [("RunStarted", run["id"]), ("RunFinished", run["id"])]
    finished = ours[1]["detail"]
    assert finished["status"] == "Finished" and finished["result"] == "NotEvaluated" and finished["trigger"]["triggerId"] == trigger["id"]
    assert finished["summary"]["totalRequests"] == final["summary"]["totalRequests"]
    assert finished["links"]["run"].endswith(f"/v1/runs/{run['id']}")
    assert_no_locust_left(run["id"])


def test_a_schedule_every_minute_with_60_s_runs_skips_the_occurrence_that_finds_its_run_still_going(local, client, target):
    test_id = create_test(client, SIMPLE, target.url)
    body = {"name": "every minute", "cron": "* * * * *", "runSettings": {"targetUsers": 1, "durationSeconds": 60}}
    schedule = call(client, "POST", f"/v1/load-tests/{test_id}/schedules", body, 201)  # 60 s runs every 60 s: allowed
    assert schedule["expression"] == "cron(* * * * ? *)" and schedule["minIntervalSeconds"] == 60
    first_minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)

    assert [f.at for f in local.aws.scheduler.fire_due(first_minute)] == [first_minute]
    local.aws.drain()
    (run,) = call(client, "GET", f"/v1/load-tests/{test_id}/runs")["items"]
    wait_for_status(client, run["id"], {"Running"}, timeout=30)

    assert [f.at for f in local.aws.scheduler.fire_due(first_minute + timedelta(minutes=1))] == [first_minute + timedelta(minutes=1)]
    local.aws.drain()
    occurrences = call(client, "GET", f"/v1/load-tests/{test_id}/schedules/{schedule['id']}")["occurrences"]
    at = int(first_minute.timestamp() * 1000)
    assert [(o["at"], o["outcome"], o["runId"]) for o in occurrences] == [(at + 60_000, "skipped", run["id"]), (at, "started", run["id"])]
    assert occurrences[0]["reason"] == f"the previous run {run['id']} of this test is still Running"
    assert len(call(client, "GET", f"/v1/load-tests/{test_id}/runs")["items"]) == 1  # skipped, not queued

    call(client, "POST", f"/v1/runs/{run['id']}/stop", status=202)  # nobody waits the 60 s out
    assert wait_until_final(client, run["id"], timeout=60)["status"] == "Cancelled"
    assert_no_locust_left(run["id"])
