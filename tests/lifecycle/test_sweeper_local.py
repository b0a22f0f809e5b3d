"""The sweeper as `serve` runs it: functions/sweeper's handler on the local runtime's clock, moto's
Step Functions (DescribeExecution, StartExecution) executing the real ASL, real Locust against the
example target. Runs left Pending by a request that died before StartExecution are settled by one
sweep: the young one started (it then finishes with real load), the old one failed with a reason;
neither blocks its test's deletion afterwards. A run that ended with its Locust still running (a
teardown that failed) has it torn down by one sweep."""

from __future__ import annotations

import time

import pytest
from support.clock import FakeClock, installed
from support.crash_points import CrashPlan, crashing_stores, invoke_with_retries
from support.local_runtime import local_runtime
from support.runs import assert_no_locust_left, create_test, locust_work_dirs, start_run, wait_for_status, wait_until_final

from load_manager.identity import Caller
from load_manager.ids import now_ms, wall_clock_ms
from load_manager.lifecycle.sweeper import GRACE_SECONDS, RESTART_WINDOW_SECONDS
from load_manager.models.runs import ACTIVE_STATUSES, StartRunRequest, StatusChange
from load_manager.store import get_stores
from load_manager.usecases import runs
from load_manager_local.api import InProcessApi
from load_manager_local.events import DEFAULT_CLAIMS

# The caller `serve` sees without a token: the runs below are that tenant's, as the API's would be.
LOCAL = Caller(subject=DEFAULT_CLAIMS["sub"], email=DEFAULT_CLAIMS["email"], account_id=DEFAULT_CLAIMS["custom:accountId"], groups=frozenset())

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SCRIPT = """from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.2)

    @task
    def items(self):
        self.client.get("/items")
"""


def left_pending(test_id: str, age_seconds: int) -> str:
    """POST …/runs whose Lambda died right after storing the run, `age_seconds` ago."""
    from load_manager.adapters.step_functions import default_starter

    plan = CrashPlan(crash_after="runs.insert")
    request = StartRunRequest.model_validate({"durationSeconds": 2, "targetUsers": 2})
    with installed(FakeClock(wall_clock_ms() - age_seconds * 1000)):
        invoke_with_retries(plan, lambda: runs.start_run(crashing_stores(get_stores(), plan), default_starter, LOCAL, test_id, request, None), attempts=1)
    assert plan.crashed == "runs.insert"
    (run,) = get_stores().runs.list(LOCAL.account_id, test_id, status=None, limit=5, after=None)
    return run.id


def test_serve_sweeps_runs_left_pending_one_started_and_finished_one_failed(tmp_path, monkeypatch, _routes, target):
    with local_runtime(tmp_path, monkeypatch, sweep_seconds=0) as runtime:
        client = InProcessApi(routes=_routes)
        young_test, old_test = create_test(client, SCRIPT, target.url), create_test(client, SCRIPT, target.url)
        young = left_pending(young_test, age_seconds=200)
        old = left_pending(old_test, age_seconds=RESTART_WINDOW_SECONDS + 60)
        for test_id, run_id in ((young_test, young), (old_test, old)):
            assert client.request("GET", f"/v1/runs/{run_id}").json()["status"] == "Pending"
            assert client.request("DELETE", f"/v1/load-tests/{test_id}").status == 409

        assert runtime.sweeper is not None
        report = runtime.sweeper.sweep_now()
        assert report["started"] == [young] and report["failed"] == [old], report

        failed = client.request("GET", f"/v1/runs/{old}").json()
        assert failed["status"] == "Failed" and failed["failureReason"].startswith("RunAbandoned: its workflow never started")
        finished = wait_until_final(client, young, timeout=120)
        assert finished["status"] == "Finished" and finished["summary"]["totalRequests"] > 0, finished
        assert target.total_requests() > 0
        assert_no_locust_left(young)
        for test_id in (young_test, old_test):
            assert client.request("DELETE", f"/v1/load-tests/{test_id}").status == 204


def test_serve_sweeps_the_locust_a_run_left_running_when_it_ended(tmp_path, monkeypatch, _routes, target):
    with local_runtime(tmp_path, monkeypatch, sweep_seconds=0) as runtime:
        client = InProcessApi(routes=_routes)
        run_id = start_run(client, create_test(client, SCRIPT, target.url), targetUsers=1, durationSeconds=120)["id"]
        wait_for_status(client, run_id, {"Running"}, timeout=60)
        stores = get_stores()
        # Nothing drives it any more, and it ends Failed with Locust still running: what a MarkFailed
        # whose teardown failed leaves (it logs the failure and moves on).
        execution = stores.runs.get(LOCAL.account_id, run_id).execution_arn
        runtime.sfn.client.stop_execution(executionArn=execution, error="Stopped", cause="by the test")
        deadline = time.monotonic() + 60
        while runtime.sfn.client.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
        failed = StatusChange(status="Failed", at=now_ms(), actor="system", reason="X: teardown did not complete")
        assert stores.runs.transition(LOCAL.account_id, run_id, ACTIVE_STATUSES, failed, {"failure_reason": failed.reason, "ended_at": failed.at})
        assert locust_work_dirs(run_id), "its Locust still runs"
        launch_id = stores.runs.get_handle(LOCAL.account_id, run_id)["launch_id"]

        assert runtime.sweeper is not None
        assert runtime.sweeper.sweep_now()["torn_down"] == []  # it ended just now: its own teardown may still be at work
        with installed(FakeClock(wall_clock_ms() + (GRACE_SECONDS + 60) * 1000)):
            report = runtime.sweeper.sweep_now()
        assert report["torn_down"] == [f"{run_id}/{launch_id}"], report
        assert_no_locust_left(run_id)
        assert client.request("GET", f"/v1/runs/{run_id}").json()["failureReason"] == failed.reason
