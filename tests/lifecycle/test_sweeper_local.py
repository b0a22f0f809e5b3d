"""The sweeper as `serve` runs it: functions/sweeper's handler on the local runtime's clock, moto's
Step Functions (DescribeExecution, StartExecution) executing the real ASL, real Locust against the
example target. Runs left Pending by a request that died before StartExecution are settled by one
sweep: the young one started (it then finishes with real load), the old one failed with a reason;
neither blocks its test's deletion afterwards."""

from __future__ import annotations

import pytest
from support.clock import FakeClock, installed
from support.crash_points import CrashPlan, crashing_stores, invoke_with_retries
from support.local_runtime import local_runtime
from support.runs import assert_no_locust_left, create_test, wait_until_final

from load_manager.identity import Caller
from load_manager.ids import wall_clock_ms
from load_manager.lifecycle.sweeper import RESTART_WINDOW_SECONDS
from load_manager.models import StartRunRequest
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
