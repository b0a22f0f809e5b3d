"""Runs end to end: the real state machine (moto's ASL interpreter), real Locust, a real target."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from support.roles import with_role
from support.runs import assert_no_locust_left, create_test, locust_work_dirs, start_run, wait_for_status, wait_until_final
from support.scripts import CRASHING_SCRIPT, SIMPLE, b64

from load_manager.store import get_stores
from load_manager_local.runtime import WORKFLOW_FUNCTION
from load_manager_local.stepfunctions import LambdaServiceError

pytestmark = pytest.mark.slow
SLOW_IMPORT = "import time\n\ntime.sleep(5)  # Locust's start waits for its import\n" + SIMPLE


def test_run_is_pinned_counts_match_the_target_and_ends_finished(client, runtime, target, example_locustfile):
    test_id = create_test(client, example_locustfile, target.url)
    run = start_run(client, test_id, targetUsers=5, spawnRate=5, durationSeconds=6)
    assert run["status"] == "Pending" and run["revisionNumber"] == 1 and run["executionArn"]
    wait_for_status(client, run["id"], {"Running"})
    # Edit the script mid-run: the run keeps the revision it was pinned to.
    edited = client.request("PUT", f"/v1/load-tests/{test_id}/script", body={"scriptContent": b64(SIMPLE)})
    assert edited.status == 201 and edited.json()["revisionNumber"] == 2

    final = wait_until_final(client, run["id"])
    assert final["status"] == "Finished", final.get("failureReason")
    assert final["revisionNumber"] == 1 and final["scriptRevisionId"] == run["scriptRevisionId"]
    assert [h["status"] for h in final["statusHistory"]] == ["Pending", "Starting", "Running", "Finished"]
    served, reported = target.total_requests(), final["summary"]["totalRequests"]
    assert reported > 50
    assert reported <= served <= reported + 5  # at most one in-flight request per user
    assert final["summary"]["p95Ms"] is not None and final["endpoints"]
    assert sum(e["requests"] for e in final["endpoints"]) == reported
    # What its one Locust process used, recorded with the final status: CPU it really spent, at most
    # the machine's cores over its observed time; a local run costs nothing.
    usage = final["usage"]
    assert usage["basis"] == "consumed" and [(r["role"], r["count"]) for r in usage["roles"]] == [("locust", 1)]
    assert 0 < usage["vcpuSeconds"] <= usage["durationSeconds"] * (os.cpu_count() or 1) and usage["memoryGbSeconds"] > 0
    assert usage["estimatedCost"] == {"amount": 0.0, "currency": "USD", "region": None, "priceSource": "local"}
    assert os.path.getsize(final["reportLocation"]) > 10_000
    script = client.request("GET", f"/v1/runs/{run['id']}/script").json()
    assert script["revisionNumber"] == 1 and script["sha256"] == final["scriptSha256"]
    series = client.request("GET", f"/v1/runs/{run['id']}/metrics").json()
    assert len(series["time"]) >= 2 and series["complete"] and len(series["p95Ms"]) == len(series["time"])
    assert get_stores().metrics.latest(final["accountId"], run["id"]).endpoints
    execution = runtime.sfn.wait_for_execution(final["executionArn"], timeout=30)
    assert execution["status"] == "SUCCEEDED"
    assert_no_locust_left(run["id"])


def test_script_raising_at_import_fails_the_run_with_locusts_reason(client, runtime, target):
    test_id = create_test(client, CRASHING_SCRIPT, target.url)
    run = start_run(client, test_id, targetUsers=2, durationSeconds=5)
    final = wait_until_final(client, run["id"])
    assert final["status"] == "Failed"
    assert "LocustStartError" in final["failureReason"] and "boom at import" in final["failureReason"]
    assert final["statusHistory"][-1]["actor"] == "system"
    assert runtime.sfn.wait_for_execution(final["executionArn"], timeout=30)["status"] == "FAILED"
    assert_no_locust_left(run["id"])


def test_locust_crashing_mid_run_fails_the_run_with_its_exit_code(client, runtime, target):
    test_id = create_test(client, SIMPLE, target.url)
    run = start_run(client, test_id, targetUsers=3, durationSeconds=30)
    wait_for_status(client, run["id"], {"Running"})
    handle = get_stores().runs.get_handle("local", run["id"])
    pid = int(open(handle["details"]["pid_path"]).read())
    os.kill(pid, signal.SIGKILL)
    final = wait_until_final(client, run["id"])
    assert final["status"] == "Failed"
    assert "LocustCrashedError" in final["failureReason"] and "137" in final["failureReason"]
    assert_no_locust_left(run["id"])


def test_target_down_finishes_with_failures_not_a_crash(client, runtime):
    test_id = create_test(client, SIMPLE, "http://127.0.0.1:9")  # discard port: nothing listens
    run = start_run(client, test_id, targetUsers=2, durationSeconds=4)
    final = wait_until_final(client, run["id"])
    assert final["status"] == "Finished"
    assert final["summary"]["failRatio"] == 1.0 and final["summary"]["totalFailures"] > 0
    assert final["errors"] and "Connection" in final["errors"][0]["error"]
    assert_no_locust_left(run["id"])


def test_start_retried_after_a_timeout_runs_one_locust(client, runtime, target):
    """StartRun does its work but its answer is lost (the invoke times out or the Lambda service
    errs after the function ran): Step Functions retries it, and the retry must reuse the cluster."""
    real = runtime.sfn._functions[WORKFLOW_FUNCTION]
    calls = {"start": 0}

    def flaky(event, context):
        result = real(event, context)
        if event["action"] == "start":
            calls["start"] += 1
            if calls["start"] == 1:
                # moto refuses custom "States.*" errors, so the lost answer is Lambda.ServiceException,
                # which the same Retry covers.
                raise LambdaServiceError("ServiceException", "the invoke timed out after the function ran")
        return result

    runtime.sfn.register(WORKFLOW_FUNCTION, flaky)
    test_id = create_test(client, SIMPLE, target.url)
    run = start_run(client, test_id, targetUsers=3, durationSeconds=6)
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen |= locust_work_dirs(run["id"])
        current = client.request("GET", f"/v1/runs/{run['id']}").json()
        if current["status"] in ("Finished", "Failed", "Cancelled"):
            break
        time.sleep(0.2)
    assert calls["start"] == 2
    assert current["status"] == "Finished", current.get("failureReason")
    assert len(seen) == 1, f"expected one Locust cluster, saw {seen}"
    assert_no_locust_left(run["id"])


def test_stop_while_running_cancels_with_who_stopped_it(client, runtime, target):
    test_id = create_test(client, SIMPLE, target.url)
    run = start_run(client, test_id, targetUsers=3, durationSeconds=60)
    wait_for_status(client, run["id"], {"Running"})
    stop = client.request("POST", f"/v1/runs/{run['id']}/stop", claims=with_role({"sub": "s", "email": "sre@example.com", "email_verified": "true", "custom:accountId": "local"}, "runner"))
    assert stop.status == 202 and stop.json()["status"] == "Stopping"
    final = wait_until_final(client, run["id"])
    assert final["status"] == "Cancelled"
    assert final["statusHistory"][-1]["actor"] == "sre@example.com" and final["stopRequestedBy"] == "sre@example.com"
    assert final["summary"]["totalRequests"] > 0  # what ran is still collected
    again = client.request("POST", f"/v1/runs/{run['id']}/stop")
    assert again.status == 409 and again.json()["code"] == "RunAlreadyFinal"
    assert_no_locust_left(run["id"])


def test_stop_while_starting_cancels_before_load(client, runtime, target):
    # Starting lasts while Locust imports the script: a slow import keeps the run there for seconds,
    # so a poll of the test sees it however fast (or loaded) the machine is.
    test_id = create_test(client, SLOW_IMPORT, target.url)
    run = start_run(client, test_id, targetUsers=3, durationSeconds=60)
    wait_for_status(client, run["id"], {"Starting"})
    assert client.request("POST", f"/v1/runs/{run['id']}/stop").status == 202
    final = wait_until_final(client, run["id"])
    assert final["status"] == "Cancelled" and final["statusHistory"][-1]["actor"] == "local@localhost"
    assert_no_locust_left(run["id"])


def test_same_idempotency_key_gives_one_run_one_execution_one_locust(client, runtime, target):
    test_id = create_test(client, SIMPLE, target.url)
    key = {"Idempotency-Key": "release-42-smoke"}
    results: list[dict] = []

    def post() -> None:
        results.append(start_run(client, test_id, headers=key, targetUsers=2, durationSeconds=4))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0]["id"] == results[1]["id"]
    conflict = client.request("POST", f"/v1/load-tests/{test_id}/runs", body={"targetUsers": 3}, headers=key)
    assert conflict.status == 409 and conflict.json()["code"] == "IdempotencyKeyReused"
    run_id = results[0]["id"]
    seen = set()
    deadline = time.monotonic() + 60
    while client.request("GET", f"/v1/runs/{run_id}").json()["status"] not in ("Finished", "Failed", "Cancelled"):
        assert time.monotonic() < deadline
        seen |= locust_work_dirs(run_id)
        time.sleep(0.2)
    assert len(seen) == 1
    runs = client.request("GET", f"/v1/load-tests/{test_id}/runs").json()["items"]
    assert [r["id"] for r in runs] == [run_id]
    executions = runtime.sfn.client.list_executions(stateMachineArn=runtime.state_machine_arn)["executions"]
    assert [e["name"] for e in executions if e["name"] == run_id] == [run_id]


def test_a_bare_start_uses_the_tests_defaults_and_delete_waits_for_the_run(client, runtime, target):
    test_id = create_test(client, SIMPLE, target.url, defaultUsers=2, defaultSpawnRate=2, defaultDurationSeconds=60)
    response = client.request("POST", f"/v1/load-tests/{test_id}/runs")  # no body at all
    assert response.status == 201, response.json()
    run = response.json()
    assert (run["targetUsers"], run["spawnRate"], run["durationSeconds"], run["workers"]) == (2, 2.0, 60, 1)
    wait_for_status(client, run["id"], {"Running"})
    refused = client.request("DELETE", f"/v1/load-tests/{test_id}")
    assert refused.status == 409 and refused.json()["code"] == "RunActive"
    client.request("POST", f"/v1/runs/{run['id']}/stop")
    wait_until_final(client, run["id"])
    assert client.request("DELETE", f"/v1/load-tests/{test_id}").status == 204
    # The run can still be reproduced: its script is kept.
    assert client.request("GET", f"/v1/runs/{run['id']}/script").json()["revisionNumber"] == 1
