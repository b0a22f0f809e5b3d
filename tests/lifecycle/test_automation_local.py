"""Runs without a human, in the local runtime: moto's EventBridge and Scheduler in process, the real
triggers function and run lifecycle state machine, real Locust against a real target.

The schedule test drives Scheduler's clock itself (`fire_due` at the minutes it wants), so it
shows a minute-by-minute schedule without waiting for minutes to pass; tests/e2e checks the clock
that `serve` runs in real time.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import boto3
import pytest
from support.local_runtime import local_runtime
from support.roles import with_role
from support.runs import assert_no_locust_left, create_test, wait_for_status, wait_until_final
from support.scripts import SIMPLE, b64

from load_manager_local.api import InProcessApi
from load_manager_local.aws import BUS_NAME, SCHEDULE_GROUP

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


def emitted(local, until: str, timeout: float = 60) -> list[dict]:
    """Load Manager's own events on the local bus, once one of type `until` is there."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        ours = [e for e in local.aws.read_events() if e["source"] == "load-manager"]
        if any(e["detail-type"] == until for e in ours) or time.monotonic() > deadline:
            return ours
        time.sleep(0.1)


def own(client, account: str, value: str) -> dict:
    """The local user is the deployment's operator too: it says which tenant owns the application."""
    return call(client, "POST", "/v1/event-sources", {"ownerAccountId": account, "kind": "codedeployApplication", "value": value}, 201)


def test_a_codedeploy_success_put_twice_starts_one_run_that_emits_run_started_and_run_finished(local, client, target):
    own(client, "local", "checkout")
    test_id = create_test(client, SIMPLE, target.url)
    trigger = call(client, "POST", f"/v1/load-tests/{test_id}/triggers",
                   {"name": "after checkout deploys", "eventPattern": PATTERN, "runSettings": {"targetUsers": 2, "durationSeconds": 2}}, 201)  # fmt: skip
    events = boto3.client("events", region_name=local.sfn.region)  # in this process: moto's EventBridge
    entry = {
        "Source": "aws.codedeploy", "DetailType": CODEDEPLOY, "EventBusName": BUS_NAME,
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
    final = wait_until_final(client, run["id"])
    reported, served = final["summary"]["totalRequests"], target.total_requests()
    assert final["status"] == "Finished" and 0 < reported <= served <= reported + 2  # at most one request in flight per user (2)
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
    # The first minute after Scheduler created it (the clock fires nothing from before), not after
    # reading this clock: a minute may begin in between.
    scheduler = boto3.client("scheduler", region_name=local.sfn.region)
    created = scheduler.get_schedule(Name=schedule["schedulerName"], GroupName=SCHEDULE_GROUP)["CreationDate"].astimezone(UTC)
    first_minute = created.replace(second=0, microsecond=0) + timedelta(minutes=1)

    assert [f.at for f in local.aws.scheduler.fire_due(first_minute)] == [first_minute]
    local.aws.drain()
    (run,) = call(client, "GET", f"/v1/load-tests/{test_id}/runs")["items"]
    wait_for_status(client, run["id"], {"Running"}, timeout=90)

    assert [f.at for f in local.aws.scheduler.fire_due(first_minute + timedelta(minutes=1))] == [first_minute + timedelta(minutes=1)]
    local.aws.drain()
    occurrences = call(client, "GET", f"/v1/load-tests/{test_id}/schedules/{schedule['id']}")["occurrences"]
    at = int(first_minute.timestamp() * 1000)
    assert [(o["at"], o["outcome"], o["runId"]) for o in occurrences] == [(at + 60_000, "skipped", run["id"]), (at, "started", run["id"])]
    assert occurrences[0]["reason"] == f"the previous run {run['id']} of this test is still Running"
    assert len(call(client, "GET", f"/v1/load-tests/{test_id}/runs")["items"]) == 1  # skipped, not queued

    call(client, "POST", f"/v1/runs/{run['id']}/stop", status=202)  # nobody waits the 60 s out
    assert wait_until_final(client, run["id"])["status"] == "Cancelled"
    assert_no_locust_left(run["id"])


GLOBEX = with_role({"sub": "b", "email": "bo@globex.example", "email_verified": "true", "custom:accountId": "globex"}, "editor")


def test_the_local_bus_never_hands_a_tenant_another_tenants_events(local, client):
    """Tenant `local`'s widest triggers, and tenant globex's events put on the bus moto matches on: the
    triggers function is handed none of them. Tenant local's test loses its target first, so any event
    delivered to its triggers would be recorded (failed, MissingTargetUrl) without running Locust
    (deleting it would delete its triggers too)."""
    own(client, "local", "checkout")
    own(client, "globex", "billing")
    test_id = create_test(client, SIMPLE, "http://127.0.0.1:9")
    patterns = {
        "deploys": {"source": ["aws.codedeploy"]},
        "load-manager": {"source": ["load-manager"]},
        "run requests": {"source": ["load-manager"], "detail-type": ["RunRequested"]},
    }
    made = {name: call(client, "POST", f"/v1/load-tests/{test_id}/triggers", {"name": name, "eventPattern": p}, 201) for name, p in patterns.items()}
    refused = client.request("POST", f"/v1/load-tests/{test_id}/triggers", body={"name": "any", "eventPattern": {"detail-type": ["RunRequested"]}})
    assert refused.status == 422 and refused.json()["code"] == "EventSourceRequired"
    body = {"name": "globex's", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"}
    globex_test = client.request("POST", "/v1/load-tests", body=body, claims=GLOBEX).json()["id"]
    call(client, "PATCH", f"/v1/load-tests/{test_id}", {"targetUrl": None})
    events = boto3.client("events", region_name=local.sfn.region)

    def put(source: str, detail_type: str, detail: dict) -> str:
        entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": BUS_NAME}
        return events.put_events(Entries=[entry])["Entries"][0]["EventId"]

    put("aws.codedeploy", CODEDEPLOY, {"state": "SUCCESS", "application": "billing", "deploymentId": "d-globex"})
    put("load-manager", "RunRequested", {"loadTestId": test_id, "accountId": "globex", "requestId": "from-globex"})
    put("load-manager", "RunFinished", {"runId": "r", "loadTestId": globex_test, "accountId": "globex", "status": "Finished"})
    put("load-manager", "RunRequested", {"loadTestId": test_id, "requestId": "no-tenant"})
    local.aws.drain()
    for name, trigger in made.items():
        assert call(client, "GET", f"/v1/load-tests/{test_id}/triggers/{trigger['id']}")["lastFirings"] == [], name

    # The control: tenant local's own deployment is delivered (and recorded: its test has no target).
    own_deploy = put("aws.codedeploy", CODEDEPLOY, {"state": "SUCCESS", "application": "checkout", "deploymentId": "d-local"})
    local.aws.drain()
    (firing,) = call(client, "GET", f"/v1/load-tests/{test_id}/triggers/{made['deploys']['id']}")["lastFirings"]
    assert (firing["eventId"], firing["outcome"], firing["code"]) == (own_deploy, "failed", "MissingTargetUrl")
    assert all(call(client, "GET", f"/v1/load-tests/{test_id}/triggers/{made[n]['id']}")["lastFirings"] == [] for n in ("load-manager", "run requests"))
