"""Auto-stop with real Locust: a target that fails every request stops the run within the window
plus one poll, and the run says why (the real state machine in moto, a real target)."""

from __future__ import annotations

import pytest
from support.runs import assert_no_locust_left, create_test, start_run, wait_until_final

pytestmark = pytest.mark.slow

ALWAYS_FAILING = """from locust import HttpUser, constant, task


class Broken(HttpUser):
    wait_time = constant(0.05)

    @task
    def error(self):
        self.client.get("/error")  # the example target answers 500, every time
"""
WINDOW_SECONDS = 5


def test_a_target_failing_every_request_stops_the_run_within_the_window_plus_one_poll(client, runtime, target):
    test_id = create_test(client, ALWAYS_FAILING, target.url, criteria=[{"metric": "p95Ms", "operator": "<", "threshold": 10_000}])
    run = start_run(client, test_id, targetUsers=3, spawnRate=3, durationSeconds=120, autoStop={"failRatio": 0.9, "windowSeconds": WINDOW_SECONDS})
    final = wait_until_final(client, run["id"], timeout=60)

    assert (final["status"], final["result"]) == ("Finished", "Failed")
    reason = final["stopReason"]
    assert reason["observedFailRatio"] == 1.0 and (reason["threshold"], reason["windowSeconds"]) == (0.9, WINDOW_SECONDS)
    assert reason["failures"] == reason["requests"] > 0
    assert reason["message"].startswith("auto-stop: 100.0% of") and f"over the last {WINDOW_SECONDS} s" in reason["message"]
    # Fired at the first poll that saw a whole window: at most one poll interval after the window.
    fired_after = reason["at"] - final["startedAt"]
    assert WINDOW_SECONDS * 1000 <= fired_after <= (WINDOW_SECONDS + final["pollSeconds"]) * 1000 + 500, fired_after
    history = [(h["status"], h["actor"]) for h in final["statusHistory"]]
    assert history == [("Pending", "local@localhost"), ("Starting", "system"), ("Running", "system"), ("Stopping", "system"), ("Finished", "system")]
    assert final["statusHistory"][-1]["reason"] == reason["message"] and final["stopRequestedBy"] == "system"
    assert final["endedAt"] - final["startedAt"] < 20_000, "it stopped long before its 120 s"
    assert final["summary"]["failRatio"] == 1.0 and final["criteriaResults"][0]["passed"] is True
    assert_no_locust_left(run["id"])
