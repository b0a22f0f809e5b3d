"""The AWS path end to end, as far as this machine allows: runs started through the API, driven by
the real state machine (moto's interpreter), the real ECS backend starting a Fargate master and two
workers on the ECS stand-in (real Locust, script downloaded from S3 by presigned URL), against the
real example target. Faults are injected where AWS and Fargate would produce them."""

from __future__ import annotations

import re
import signal
import time
from dataclasses import dataclass, field

import pytest
from support.ecs_standin import EcsStandIn
from support.runs import create_test, start_run, wait_for_status, wait_until_final
from support.scripts import b64

from load_manager.backends.base import ClusterHandle, FinalResults
from load_manager.backends.ecs import EcsLocustBackend
from load_manager.backends.locust_stats import total_requests
from load_manager.backends.locust_web import STATS_CACHE_SECONDS, WORKER_REPORT_SECONDS
from load_manager.lifecycle.dispatch import run_step
from load_manager.settings import set_settings
from load_manager.store import get_stores, set_stores
from load_manager_local.api import InProcessApi
from load_manager_local.runtime import WORKFLOW_FUNCTION, LocalRunLifecycle, configure_local_runtime

pytestmark = [pytest.mark.ecs_standin, pytest.mark.slow, pytest.mark.timeout(120)]

USERS = 4


@dataclass
class Collected:
    """What the master answered at Finalize, to hold the run's figures against."""

    results: list[FinalResults] = field(default_factory=list)
    # With `recheck`, the master's total once more, read long after collect (past a worker report
    # interval and the stats cache): collect must already have had every worker's last report.
    recheck: bool = False
    later_totals: list[int] = field(default_factory=list)


@pytest.fixture
def ecs_run(ecs_standin: EcsStandIn, tmp_path, _routes):
    """The local runtime with every run on the ECS backend, whose clients are the stand-in's."""
    collected = Collected()

    class RecordingEcsBackend(EcsLocustBackend):
        def collect(self, handle: ClusterHandle) -> FinalResults:
            results = super().collect(handle)
            collected.results.append(results)
            if collected.recheck:
                time.sleep(WORKER_REPORT_SECONDS + STATS_CACHE_SECONDS + 1)
                collected.later_totals.append(total_requests(self._api(handle).stats()))
            return results

    def factory(_cluster) -> EcsLocustBackend:
        return RecordingEcsBackend(
            ecs_standin.settings, ecs_client=ecs_standin.ecs, s3_client=ecs_standin.s3, logs_client=ecs_standin.logs,
            start_timeout=60, swarm_timeout=15, stop_timeout=20, poll_interval=0.2,
        )  # fmt: skip

    # A failed test leaves runs active; the runtime's own backend (no stand-in hooks: Fargate never
    # releases the interfaces) tears them down at stop, trying each group once rather than for 120 s.
    configure_local_runtime(tmp_path / "data", default_backend="ecs", ecs={"group_delete_timeout_seconds": 0})
    lifecycle = LocalRunLifecycle().start()
    lifecycle.sfn.register(WORKFLOW_FUNCTION, lambda event, _context: run_step(event, get_stores(), factory))
    try:
        yield InProcessApi(routes=_routes), ecs_standin, collected
    finally:
        lifecycle.stop()
        set_stores(None)
        set_settings(None)


def start(client, target_url: str, script: str, duration: int, workers: int = 2) -> dict:
    test_id = create_test(client, script, target_url)
    run = start_run(client, test_id, targetUsers=USERS, spawnRate=USERS, durationSeconds=duration, workers=workers)
    assert run["backend"] == "ecs"
    return run


def assert_nothing_left(standin: EcsStandIn) -> None:
    assert standin.wait_until_stopped(15), "a task's process outlived the run"
    running = standin.moto_ecs.list_tasks(cluster=standin.settings.cluster, desiredStatus="RUNNING")["taskArns"]
    assert running == [], "ECS still has running tasks"


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


@pytest.mark.parametrize(
    ("role", "reason"),
    [("worker", "Locust worker task {id} stopped"), ("master", "the Locust master task stopped")],
)
def test_a_task_killed_mid_run_fails_the_run_with_the_reason(ecs_run, target, example_locustfile, role, reason):
    client, standin, _ = ecs_run
    run = start(client, target.url, example_locustfile, duration=60)
    wait_for_status(client, run["id"], {"Running"}, timeout=60)
    victim = standin.tasks(role)[0]
    standin.kill_task(victim.arn, signal.SIGKILL)
    final = wait_until_final(client, run["id"], timeout=60)
    assert final["status"] == "Failed"
    assert final["failureReason"].startswith("LocustCrashedError: " + reason.format(id=victim.id))
    assert "exit code 137" in final["failureReason"]
    assert "could not read" not in final["failureReason"], "the task's log stream was read"
    assert_nothing_left(standin)


CRASHING_SCRIPT = """from locust import HttpUser, task
raise RuntimeError("boom at import, on Fargate")


class U(HttpUser):
    @task
    def t(self):
        self.client.get("/")
"""


def test_a_master_whose_script_raises_at_import_fails_the_run_with_locusts_log(ecs_run, target):
    client, standin, _ = ecs_run
    run = start(client, target.url, CRASHING_SCRIPT, duration=30)
    final = wait_until_final(client, run["id"], timeout=60)
    assert final["status"] == "Failed"
    reason = final["failureReason"]
    # Locust's own words, read back from the task's CloudWatch Logs stream, then ECS's account. The
    # workers import the script too and may stop first: whichever task is found stopped is named.
    assert re.match(r"LocustStartError: (the Locust master task|Locust worker task \S+) stopped \(exit code 1\)", reason), reason
    assert "RuntimeError: boom at import, on Fargate" in reason, reason
    assert "stop code: EssentialContainerExited" in reason, reason
    assert_nothing_left(standin)


def test_a_failed_install_on_fargate_fails_the_run_with_pips_own_message(ecs_run, target, example_locustfile, tmp_path):
    """As locally: the run ends Failed saying the install failed, with pip's ERROR lines (the
    bootstrap's last line, read back from the task's CloudWatch Logs stream). pip looks where the
    image says (here: only a folder of wheels, `image_environment`), and finds no such package."""
    client, standin, _ = ecs_run
    standin.image_environment.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path))
    requirements = [{"path": "requirements.txt", "content": b64("lm-not-anywhere==9.9\n")}]
    test_id = create_test(client, example_locustfile, target.url, files=requirements)
    run = start_run(client, test_id, targetUsers=USERS, spawnRate=USERS, durationSeconds=30, workers=1)
    final = wait_until_final(client, run["id"], timeout=90)
    assert final["status"] == "Failed"
    reason = final["failureReason"]
    # Every task installs the requirements: whichever is found stopped first is named.
    stopped = r"LocustStartError: (the Locust master task|Locust worker task \S+) stopped: "
    assert re.match(stopped + re.escape("installing the bundle's requirements.txt failed (exit code 3)"), reason), reason
    said = "load-manager: installing requirements.txt failed (pip exit code 1): ERROR: Could not find a version that satisfies the requirement lm-not-anywhere==9.9"
    assert said in reason and "ERROR: No matching distribution found for lm-not-anywhere==9.9" in reason, reason
    assert "could not read" not in reason, "the task's log stream was read"
    assert target.total_requests() == 0
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


def test_throttling_on_every_poll_fails_the_run_with_the_aws_error_code(ecs_run, target, example_locustfile):
    client, standin, _ = ecs_run
    run = start(client, target.url, example_locustfile, duration=60)
    wait_for_status(client, run["id"], {"Running"}, timeout=60)
    began = time.monotonic()
    standin.fail_calls("DescribeTasks", "ThrottlingException", times=10_000)
    final = wait_until_final(client, run["id"], timeout=90)
    assert final["status"] == "Failed"
    assert final["failureReason"].startswith("AwsApiError: ThrottlingException on DescribeTasks")
    assert time.monotonic() - began >= 2 + 4 + 8, "the workflow retried before giving up"
    standin.clear_faults()
    assert_nothing_left(standin)
