"""Auto-stop with real Locust: a target that fails every request stops the run within the window
plus one poll, and the run says why (the real state machine in moto, a real target)."""

from __future__ import annotations

import pytest
from support.runs import assert_no_locust_left, create_test, start_run, wait_until_final

from load_manager.store import get_stores

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
    final = wait_until_final(client, run["id"], timeout=120)

    assert (final["status"], final["result"]) == ("Finished", "Failed")
    reason = final["stopReason"]
    assert reason["observedFailRatio"] == 1.0 and (reason["threshold"], reason["windowSeconds"]) == (0.9, WINDOW_SECONDS)
    assert reason["failures"] == reason["requests"] > 0
    assert reason["message"].startswith("auto-stop: 100.0% of") and f"over the last {WINDOW_SECONDS} s" in reason["message"]
    # Fired at the first poll that saw a whole window: its sample is the first one taken once the
    # window had passed (judged by the polls' own times: how far apart they are depends on the machine).
    window_ends = final["startedAt"] + WINDOW_SECONDS * 1000
    polls = [sample.at for sample in get_stores().metrics.list(final["accountId"], run["id"], limit=1000)]
    assert reason["at"] in polls and reason["at"] >= window_ends, (reason["at"], window_ends, polls)
    assert [at for at in polls if window_ends <= at < reason["at"]] == [], (reason["at"], window_ends, polls)
    history = [(h["status"], h["actor"]) for h in final["statusHistory"]]
    assert history == [("Pending", "local@localhost"), ("Starting", "system"), ("Running", "system"), ("Stopping", "system"), ("Finished", "system")]
    assert final["statusHistory"][-1]["reason"] == reason["message"] and final["stopRequestedBy"] == "system"
    assert final["endedAt"] - final["startedAt"] < 60_000, "it stopped long before its 120 s"
    assert final["summary"]["failRatio"] == 1.0 and final["criteriaResults"][0]["passed"] is True
    assert_no_locust_left(run["id"])
