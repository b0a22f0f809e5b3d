"""The AWS path end to end, as far as this machine allows: runs started through the API, driven by
the real state machine (moto's interpreter), the real ECS backend starting a Fargate master and two
workers on the ECS stand-in (real Locust, script downloaded from S3 by presigned URL), against the
real example target: runs that finish, one stopped, one whose polls AWS throttles for a while. The
failures Fargate and AWS produce are test_ecs_failures.py's."""

from __future__ import annotations

import pytest
from support.ecs_runs import USERS, assert_nothing_left, start
from support.runs import wait_for_status, wait_until_final

pytestmark = [pytest.mark.ecs_standin, pytest.mark.slow, pytest.mark.timeout(120)]


# One worker too: the master never runs users, so its final numbers wait for that worker's last
# report as for several (a 1-worker run once reported 110 requests of the 116 the target served).
@pytest.mark.parametrize("workers", [2, 1])
def test_a_distributed_run_finishes_with_the_masters_figures_and_the_targets_count(ecs_run, target, example_locustfile, workers):
    client, standin, collected = ecs_run
    collected.recheck = True
    run = start(client, target.url, example_locustfile, duration=4, workers=workers)
    final = wait_until_final(client, run["id"], timeout=90)
    assert final["status"] == "Finished", final.get("failureReason")
    assert [h["status"] for h in final["statusHistory"]] == ["Pending", "Starting", "Running", "Finished"]
    assert len(standin.tasks("master")) == 1 and len(standin.tasks("worker")) == workers
    assert standin.server_requests("GET", "/" + standin.settings.script_bucket), "the master downloaded the script from S3"

    served, reported = target.total_requests(), final["summary"]["totalRequests"]
    assert reported > 20
    assert reported <= served <= reported + USERS  # at most one request in flight per user
    (master,) = collected.results
    assert collected.later_totals == [master.aggregated.num_requests] == [reported], "collect read the totals before a worker's last report"
    assert final["summary"]["p95Ms"] == master.aggregated.p95_ms and final["summary"]["p99Ms"] == master.aggregated.p99_ms
    by_name = {(e.method, e.name): e for e in master.endpoints}
    for endpoint in final["endpoints"]:
        assert endpoint["p95Ms"] == by_name[(endpoint["method"], endpoint["name"])].p95_ms  # never averaged
    assert_nothing_left(standin)


def test_stopping_a_distributed_run_cancels_it(ecs_run, target, example_locustfile):
    client, standin, _ = ecs_run
    run = start(client, target.url, example_locustfile, duration=60)
    wait_for_status(client, run["id"], {"Running"}, timeout=60)
    assert client.request("POST", f"/v1/runs/{run['id']}/stop").status == 202
    final = wait_until_final(client, run["id"], timeout=60)
    assert final["status"] == "Cancelled" and final["statusHistory"][-1]["actor"] == "local@localhost"
    assert final["summary"]["totalRequests"] > 0
    assert_nothing_left(standin)


def test_a_throttled_poll_is_retried_and_the_run_finishes(ecs_run, target, example_locustfile):
    client, standin, _ = ecs_run
    run = start(client, target.url, example_locustfile, duration=6)
    wait_for_status(client, run["id"], {"Running"}, timeout=60)
    before = standin.requests["DescribeTasks"]
    standin.fail_calls("DescribeTasks", "ThrottlingException", times=2)  # every attempt of one call
    final = wait_until_final(client, run["id"], timeout=90)
    assert final["status"] == "Finished", final.get("failureReason")
    assert standin.requests["DescribeTasks"] >= before + 3, "the throttled call was made, and made again"
    assert_nothing_left(standin)
