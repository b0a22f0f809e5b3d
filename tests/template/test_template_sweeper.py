"""The sweeper as the template deploys it (tests/support/template_harness.py): SweeperFunction with
exactly the environment CloudFormation gives it, every AWS call it makes authorized against its
role's policies as template.yaml writes them, runs on the ECS stand-in (real Locust).

- A run left Pending with no execution (its request died after storing it) is started by the
  sweeper (DescribeExecution, StartExecution) and finishes on ECS.
- A run whose execution was stopped while Locust ran is failed by the sweeper, and its tasks are
  stopped and its script deleted (ListTasks, DescribeTasks, StopTask, DeleteObject), RunFinished put
  on the bus (PutEvents): all within the policies the template gives SweeperFunction.
- A run that ended Failed with its tasks still running (its teardown failed) has them stopped by one
  sweep; its security group, which Fargate holds until the tasks' interfaces are released, is
  deleted by the sweep after that (DescribeSecurityGroups, DeleteSecurityGroup).

What is set by hand is only time (a run created minutes ago, a sweep minutes later: the sweeper
leaves runs younger than its grace period alone, and the test does not wait minutes)."""

from __future__ import annotations

import time

import pytest
from support.clock import FakeClock, installed
from support.crash_points import CrashPlan, crashing_stores, invoke_with_retries
from support.runs import create_test, start_run, wait_for_status, wait_until_final
from support.template_harness import TemplateHarness

from load_manager.identity import Caller
from load_manager.ids import now_ms, wall_clock_ms
from load_manager.lifecycle.sweeper import GRACE_SECONDS
from load_manager.models.runs import ACTIVE_STATUSES, StartRunRequest, StatusChange
from load_manager.settings import settings_scope
from load_manager.store import get_stores
from load_manager.usecases import runs
from load_manager_local.events import DEFAULT_CLAIMS
from load_manager_local.sweeper_clock import SCHEDULED_EVENT

pytestmark = pytest.mark.timeout(300)

TENANT = Caller(subject=DEFAULT_CLAIMS["sub"], email=DEFAULT_CLAIMS["email"], account_id=DEFAULT_CLAIMS["custom:accountId"], groups=frozenset())
AGED_MS = (GRACE_SECONDS + 60) * 1000


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with TemplateHarness(tmp_path_factory.mktemp("sweeper-stack")) as harness:
        yield harness


def sweep_minutes_later(stack) -> dict:
    """The sweeper's next invocation, a few minutes on (past its grace period for the runs here)."""
    with installed(FakeClock(wall_clock_ms() + AGED_MS)):
        return stack.invoke("SweeperFunction", dict(SCHEDULED_EVENT))


def stop_execution(stack, run_id: str) -> None:
    """Its execution is stopped by hand: nothing drives the run any more."""
    execution_arn = get_stores().runs.get(TENANT.account_id, run_id).execution_arn
    stack.sfn.client.stop_execution(executionArn=execution_arn, error="Stopped", cause="stopped by an operator")
    deadline = time.monotonic() + 60  # moto's interpreter notices the stop at its next state
    while stack.sfn.client.describe_execution(executionArn=execution_arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack.sfn.client.describe_execution(executionArn=execution_arn)["status"] == "ABORTED"


def run_groups(stack, run_id: str) -> list[str]:
    described = stack.standin.ec2.describe_security_groups(Filters=[{"Name": "tag:load-manager:run-id", "Values": [run_id]}])
    return [group["GroupId"] for group in described["SecurityGroups"]]


def assert_sweeper_allowed(stack, since: int, *actions: str) -> None:
    denied = stack.iam.denied(since)
    assert denied == [], "\n".join(map(str, denied))
    made = {(d.principal, d.action) for d in stack.iam.decisions[since:]}
    missing = [action for action in actions if ("SweeperFunction", action) not in made]
    assert not missing, f"the sweeper never called: {missing}"


def test_the_sweeper_gets_the_stacks_state_machine_bus_and_cluster(stack):
    sweeper, workflow = stack.settings["SweeperFunction"], stack.settings["RunWorkflowFunction"]
    assert sweeper.in_lambda and sweeper.store_backend == "mongo"
    assert sweeper.state_machine_arn == stack.settings["RunsFunction"].state_machine_arn
    assert sweeper.automation.event_bus_name == workflow.automation.event_bus_name
    assert sweeper.automation.public_base_url == workflow.automation.public_base_url
    assert (sweeper.ecs.cluster, sweeper.reports_bucket) == (workflow.ecs.cluster, workflow.reports_bucket)
    since = stack.iam.mark()
    assert stack.invoke("SweeperFunction", dict(SCHEDULED_EVENT))["errors"] == 0
    assert stack.iam.denied(since) == []


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_a_run_left_pending_is_started_by_the_sweeper_and_finishes_on_ecs(stack, target, example_locustfile):
    test_id = create_test(stack.api, example_locustfile, target.url)
    plan = CrashPlan(crash_after="runs.insert")  # the RunsFunction invocation died right after storing the run
    request = StartRunRequest.model_validate({"targetUsers": 2, "spawnRate": 2, "durationSeconds": 3, "workers": 1})
    # In RunsFunction's configuration (its default backend: ecs), a few minutes ago.
    with settings_scope(stack.settings["RunsFunction"]), installed(FakeClock(wall_clock_ms() - AGED_MS)):
        invoke_with_retries(plan, lambda: runs.start_run(crashing_stores(get_stores(), plan), lambda: None, TENANT, test_id, request, None), attempts=1)
    (run,) = stack.api.request("GET", f"/v1/load-tests/{test_id}/runs").json()["items"]
    assert run["status"] == "Pending" and plan.crashed == "runs.insert"

    since = stack.iam.mark()
    report = stack.invoke("SweeperFunction", dict(SCHEDULED_EVENT))
    assert report["started"] == [run["id"]], report
    final = wait_until_final(stack.api, run["id"], timeout=180)
    assert final["status"] == "Finished" and final["backend"] == "ecs" and final["summary"]["totalRequests"] > 0, final.get("failureReason")
    assert stack.standin.wait_until_stopped(30)
    assert_sweeper_allowed(stack, since, "states:DescribeExecution", "states:StartExecution")


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_a_run_whose_execution_was_stopped_is_failed_and_its_tasks_stopped_as_the_template_allows(stack, target, example_locustfile):
    test_id = create_test(stack.api, example_locustfile, target.url)
    run = start_run(stack.api, test_id, targetUsers=2, spawnRate=2, durationSeconds=600, workers=1)
    wait_for_status(stack.api, run["id"], {"Running"}, timeout=180)
    stop_execution(stack, run["id"])
    assert get_stores().runs.get(TENANT.account_id, run["id"]).status == "Running", "nothing will end it now"
    served = target.total_requests()

    since = stack.iam.mark()
    report = sweep_minutes_later(stack)
    assert report["failed"] == [run["id"]], report
    failed = stack.api.request("GET", f"/v1/runs/{run['id']}").json()
    assert failed["status"] == "Failed" and "execution ended (ABORTED)" in failed["failureReason"]
    assert stack.standin.wait_until_stopped(60), "the run's tasks outlived it"
    assert target.total_requests() >= served
    assert_sweeper_allowed(stack, since, "ecs:ListTasks", "ecs:DescribeTasks", "ecs:StopTask", "s3:DeleteObject", "events:PutEvents")


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_the_tasks_and_group_a_failed_run_left_behind_are_cleaned_by_sweeps_as_the_template_allows(stack, target, example_locustfile):
    test_id = create_test(stack.api, example_locustfile, target.url)
    run = start_run(stack.api, test_id, targetUsers=1, spawnRate=1, durationSeconds=600, workers=1)
    wait_for_status(stack.api, run["id"], {"Running"}, timeout=180)
    stop_execution(stack, run["id"])
    # It ends Failed with its tasks running, as a MarkFailed whose teardown failed leaves it.
    failed = StatusChange(status="Failed", at=now_ms(), actor="system", reason="X: teardown did not complete")
    assert get_stores().runs.transition(TENANT.account_id, run["id"], ACTIVE_STATUSES, failed, {"failure_reason": failed.reason, "ended_at": failed.at})
    launch_id = get_stores().runs.get_handle(TENANT.account_id, run["id"])["launch_id"]
    (group,) = run_groups(stack, run["id"])
    assert not stack.standin.wait_until_stopped(0.5), "its tasks still run"

    since = stack.iam.mark()
    first = sweep_minutes_later(stack)
    assert first["torn_down"] == [f"{run['id']}/{launch_id}"] and first["errors"] == 0, first
    assert stack.standin.wait_until_stopped(60), "the run's tasks outlived the sweep"
    assert stack.standin.wait_until_interfaces_released(60)
    second = sweep_minutes_later(stack)  # the group Fargate held during the first, free now
    assert group in first["groups_deleted"] + second["groups_deleted"] and second["errors"] == 0, (first, second)
    assert run_groups(stack, run["id"]) == []
    assert stack.api.request("GET", f"/v1/runs/{run['id']}").json()["failureReason"] == failed.reason
    assert_sweeper_allowed(
        stack, since, "ecs:ListTasks", "ecs:DescribeTasks", "ecs:StopTask", "s3:DeleteObject", "ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup"
    )
