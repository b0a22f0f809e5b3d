"""The AWS path end to end when it fails, as Fargate and AWS make it fail (the ECS stand-in, the real
state machine and ECS backend, real Locust): a task killed mid-run, a script that raises at import,
a requirements.txt pip cannot install, AWS throttling every poll. Each run ends Failed with the
reason, and nothing is left running."""

from __future__ import annotations

import re
import signal
import time

import pytest
from support.ecs_runs import USERS, assert_nothing_left, start
from support.runs import create_test, start_run, wait_for_status, wait_until_final
from support.scripts import CRASHING_SCRIPT, b64

pytestmark = [pytest.mark.ecs_standin, pytest.mark.slow, pytest.mark.timeout(120)]


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


def test_a_master_whose_script_raises_at_import_fails_the_run_with_locusts_log(ecs_run, target):
    client, standin, _ = ecs_run
    run = start(client, target.url, CRASHING_SCRIPT, duration=30)
    final = wait_until_final(client, run["id"], timeout=60)
    assert final["status"] == "Failed"
    reason = final["failureReason"]
    # Locust's own words, read back from the task's CloudWatch Logs stream, then ECS's account. The
    # workers import the script too and may stop first: whichever task is found stopped is named.
    assert re.match(r"LocustStartError: (the Locust master task|Locust worker task \S+) stopped \(exit code 1\)", reason), reason
    assert "RuntimeError: boom at import" in reason, reason
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
