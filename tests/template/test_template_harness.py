"""The configuration a user gets in AWS is what these tests run (tests/support/template_harness.py):
template.yaml through SAM's translator, each function with exactly the environment CloudFormation
gives it, every AWS call it makes authorized against its role's policies as the template writes
them, and ECS Fargate as the ECS stand-in (real Locust against the example target).

Nothing is set by hand: no settings, no backend factory, no clock. The runs are started as a user
starts them: through the API, by an event on the stack's bus, by a schedule's occurrence."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from support.runs import create_test, start_run, wait_for_status, wait_until_final
from support.scripts import CRASHING_SCRIPT, ENV_PROBE
from support.template_harness import TemplateHarness

from load_manager_local.events import DEFAULT_CLAIMS
from load_manager_local.functions import project_root

pytestmark = pytest.mark.timeout(240)

USERS = 3
WORKERS = 2
# The API-started run has one worker task: the master runs no users, so its final numbers must wait
# for that worker's last report as for several (locust_web.final_stats), or the count check fails.
ONE_WORKER = 1
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"
PATTERN = {"source": ["aws.codedeploy"], "detail-type": [CODEDEPLOY], "detail": {"state": ["SUCCESS"], "application": ["checkout"]}}
ADMIN_EVENT = project_root() / "events" / "clusters" / "put_cluster.json"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One stack for the module: moto, the ECS stand-in's server and every task process it started are
    stopped afterwards, pass or fail."""
    with TemplateHarness(tmp_path_factory.mktemp("template-stack")) as harness:
        yield harness


def call(stack, method: str, path: str, body=None, status: int = 200, claims=None):
    answer = stack.api.request(method, path, body=body, claims=claims)
    assert answer.status == status, answer.json()
    return answer.json()


def decisions(stack, since: int):
    return stack.iam.decisions[since:]


def assert_allowed(stack, since: int, *wanted: tuple[str, str]) -> None:
    """IAM denied nothing since `since`, and it did decide the (principal, action) pairs named."""
    denied = stack.iam.denied(since)
    assert denied == [], "\n".join(map(str, denied))
    assert not stack.iam.errors, stack.iam.errors
    made = {(d.principal, d.action) for d in decisions(stack, since)}
    missing = [pair for pair in wanted if pair not in made]
    assert not missing, f"never checked: {missing}"


def assert_ran_on_ecs(stack, final: dict, tasks_before: int, workers: int, target) -> None:
    assert final["status"] == "Finished", final.get("failureReason")
    assert final["backend"] == "ecs"
    assert [h["status"] for h in final["statusHistory"]] == ["Pending", "Starting", "Running", "Finished"]
    started = stack.standin.tasks()[tasks_before:]
    assert sorted(t.role for t in started) == ["master"] + ["worker"] * workers
    reported = final["summary"]["totalRequests"]
    assert reported > 0
    assert reported <= target.total_requests() <= reported + USERS  # at most one request in flight per user
    assert stack.standin.wait_until_stopped(30), "a task's process outlived the run"


# ---- configuration, fast ---------------------------------------------------------------------------


def test_every_function_runs_with_the_environment_cloudformation_gives_it(stack):
    for logical_id, settings in stack.settings.items():
        environment = stack.environments[logical_id]
        assert environment["AWS_LAMBDA_FUNCTION_NAME"] == stack.function(logical_id).name
        assert settings.in_lambda and settings.default_backend == "ecs", logical_id
    runs, triggers = stack.settings["RunsFunction"], stack.settings["TriggersFunction"]
    assert runs.state_machine_arn == triggers.state_machine_arn
    assert stack.sfn.client.describe_state_machine(stateMachineArn=runs.state_machine_arn)["status"] == "ACTIVE"
    ecs = stack.settings["RunWorkflowFunction"].ecs
    (cluster,) = stack.standin.moto_ecs.describe_clusters(clusters=[ecs.cluster])["clusters"]
    assert cluster["status"] == "ACTIVE"
    for definition in (ecs.master_task_definition, ecs.worker_task_definition):
        described = stack.standin.moto_ecs.describe_task_definition(taskDefinition=definition)["taskDefinition"]
        assert described["executionRoleArn"].split("/")[-1].startswith(f"{stack.stack_name}-LocustTaskExecutionRole-")
    assert triggers.automation.event_bus_name == stack.settings["RunWorkflowFunction"].automation.event_bus_name


def test_the_local_backend_cannot_be_configured_in_aws(stack):
    admin = json.loads(ADMIN_EVENT.read_text())
    claims, body = admin["requestContext"]["authorizer"]["lambda"], json.loads(admin["body"])
    assert body["backend"] == "local"
    since = stack.iam.mark()
    refused = call(stack, "PUT", "/v1/clusters", body, status=422, claims=claims)
    assert refused["code"] == "LocalBackendUnavailable", refused
    assert call(stack, "GET", "/v1/clusters", claims=claims)["items"] == []
    assert stack.iam.denied(since) == []


def test_iam_refuses_starting_a_run_when_the_runs_function_lacks_its_step_functions_policy(stack, example_locustfile):
    test_id = create_test(stack.api, example_locustfile, "http://127.0.0.1:9")
    policy = next(p.source for p in stack.iam.principals["RunsFunction"].policies if "states:StartExecution" in json.dumps(p.document))
    since = stack.iam.mark()
    with stack.iam.without("RunsFunction", source=policy):
        refused = call(stack, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 3}, status=503)
    (denied,) = stack.iam.denied(since)
    assert (denied.principal, denied.action) == ("RunsFunction", "states:StartExecution")
    run = call(stack, "GET", f"/v1/runs/{refused['details']['runId']}")
    assert run["status"] == "Failed"
    assert "AccessDeniedException" in run["failureReason"] and "not authorized to perform: states:StartExecution" in run["failureReason"]


def test_iam_refuses_launching_locust_when_the_workflow_may_not_run_tasks(stack, example_locustfile):
    test_id = create_test(stack.api, example_locustfile, "http://127.0.0.1:9")
    tasks_before = len(stack.standin.tasks())
    since = stack.iam.mark()
    with stack.iam.without("RunWorkflowFunction", sid="RunLocustTasks"):
        run = start_run(stack.api, test_id, targetUsers=1, durationSeconds=3, workers=1)
        final = wait_until_final(stack.api, run["id"], timeout=90)
    assert final["status"] == "Failed"
    assert "AccessDeniedException on RunTask" in final["failureReason"] and "not authorized to perform: ecs:RunTask" in final["failureReason"]
    assert {(d.principal, d.action) for d in stack.iam.denied(since)} == {("RunWorkflowFunction", "ecs:RunTask")}
    assert len(stack.standin.tasks()) == tasks_before, "no task was started"


# ---- whole runs on the ECS stand-in ------------------------------------------------------------------


# Sends the secret as a header and names its requests after the value's digest (the script never holds
# it). The master imports it too: without API_TOKEN neither it nor the worker task would start.
SECRET_PROBE = """import hashlib
import os

from locust import HttpUser, between, task

TOKEN = os.environ["API_TOKEN"]
DIGEST = hashlib.sha256(TOKEN.encode()).hexdigest()[:16]


class Probe(HttpUser):
    wait_time = between(0.05, 0.2)

    @task
    def index(self):
        self.client.get("/", name=f"token-{DIGEST} {os.environ['REGION_NAME']}", headers={"Authorization": f"Bearer {TOKEN}"})
"""
TOKEN = "tok-0e8d4c2a6b1f9357"


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_a_run_started_through_the_api_runs_on_ecs_and_finishes(stack, target):
    # With a secret and a variable: both reach the master and the worker task as environment
    # variables, and the value is nowhere in what ECS was asked (RunTask) or answers (DescribeTasks).
    admin = {**DEFAULT_CLAIMS, "cognito:groups": f"[{stack.settings['ClustersFunction'].admin_group}]"}
    test_id = create_test(stack.api, SECRET_PROBE, target.url)
    tasks_before, since = len(stack.standin.tasks()), stack.iam.mark()
    secret = call(stack, "PUT", "/v1/secrets", {"name": "API_TOKEN", "value": TOKEN}, claims=admin)
    run = start_run(stack.api, test_id, targetUsers=USERS, spawnRate=USERS, durationSeconds=3, workers=ONE_WORKER, variables={"REGION_NAME": "eu"})
    assert run["backend"] == "ecs" and [s["version"] for s in run["secrets"]] == [1]
    wait_for_status(stack.api, run["id"], {"Running", "Stopping", "Finished", "Failed"}, timeout=120)
    assert not objects_holding(stack, TOKEN), "once every task has its archive, the archives that carry the run's secrets are gone"
    final = wait_until_final(stack.api, run["id"], timeout=120)
    assert_ran_on_ecs(stack, final, tasks_before, workers=ONE_WORKER, target=target)
    assert {e["name"] for e in final["endpoints"]} == {f"token-{hashlib.sha256(TOKEN.encode()).hexdigest()[:16]} eu"}
    assert_secret_kept_from_ecs(stack, tasks_before, secret["id"])
    assert_allowed(
        stack, since,
        ("ClustersFunction", "secretsmanager:PutSecretValue"), ("ClustersFunction", "secretsmanager:CreateSecret"),
        ("RunWorkflowFunction", "secretsmanager:GetSecretValue"),
        ("RunsFunction", "states:StartExecution"), ("RunLifecycleStateMachineRole", "lambda:InvokeFunction"),
        ("RunWorkflowFunction", "s3:PutObject"), ("RunWorkflowFunction", "s3:GetObject"), ("RunWorkflowFunction", "ecs:RunTask"),
        ("RunWorkflowFunction", "ecs:TagResource"), ("RunWorkflowFunction", "iam:PassRole"), ("RunWorkflowFunction", "ecs:DescribeTasks"),
        ("RunWorkflowFunction", "ecs:ListTasks"), ("RunWorkflowFunction", "ecs:StopTask"), ("RunWorkflowFunction", "s3:DeleteObject"),
        ("RunWorkflowFunction", "events:PutEvents"),
    )  # fmt: skip


def assert_usage_recorded(stack, run_id: str, tasks_before: int, workers: int) -> None:
    """The run's usage, recorded once its tasks are torn down: the workers' vCPU-seconds are within 10 %
    of workers x the worker task's vCPU (the template's definition) x how long the worker tasks ran
    (their processes' own start and exit); the master is counted beside them, and the cost is priced."""
    from support.polling import eventually

    usage = eventually(lambda: call(stack, "GET", f"/v1/runs/{run_id}")["usage"], timeout=60)
    assert usage is not None, "no usage recorded after the teardown"
    ecs = stack.settings["RunWorkflowFunction"].ecs
    vcpu = int(stack.standin.moto_ecs.describe_task_definition(taskDefinition=ecs.worker_task_definition)["taskDefinition"]["cpu"]) / 1024
    started = stack.standin.tasks()[tasks_before:]
    ran = [(t.stopped_at - t.started_at).total_seconds() for t in started if t.role == "worker"]
    assert len(ran) == workers and all(seconds > 0 for seconds in ran)
    roles = {r["role"]: r for r in usage["roles"]}
    assert (roles["master"]["count"], roles["worker"]["count"], usage["loadGenerators"]) == (1, workers, workers + 1)
    expected = workers * vcpu * (sum(ran) / workers)
    assert abs(roles["worker"]["vcpuSeconds"] - expected) <= 0.1 * expected, (roles["worker"], expected)
    assert usage["vcpuSeconds"] == pytest.approx(roles["master"]["vcpuSeconds"] + roles["worker"]["vcpuSeconds"], abs=0.01)
    assert usage["basis"] == "allocated" and usage["durationSeconds"] >= 3  # the run's 3 s of load at least
    cost = usage["estimatedCost"]
    assert (cost["currency"], cost["region"], cost["priceSource"]) == ("USD", "us-east-1", "table") and cost["amount"] > 0


def objects_holding(stack, value: str) -> list[str]:
    """The keys of the stack's bucket whose object holds `value`."""
    bucket, s3 = stack.settings["RunWorkflowFunction"].ecs.scripts_bucket, stack.standin._moto_s3
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [key for key in keys if value.encode() in s3.get_object(Bucket=bucket, Key=key)["Body"].read()]


def assert_secret_kept_from_ecs(stack, tasks_before: int, secret_id: str) -> None:
    """The value is in Secrets Manager, under the stack's tenant prefix, and in nothing ECS, S3 or the
    workflow's history holds: RunTask's overrides (each task's command and environment), DescribeTasks,
    the run's objects (the archives that carried it are gone), the execution's events."""
    started = stack.standin.tasks()[tasks_before:]
    described = stack.standin.moto_ecs.describe_tasks(cluster=started[0].cluster, tasks=[t.arn for t in started], include=["TAGS"])["tasks"]
    assert len(described) == len(started) and all(t["overrides"]["containerOverrides"][0]["environment"] for t in described)
    assert TOKEN not in json.dumps(described, default=str)
    assert not any(TOKEN in json.dumps([t.argv, t.environment]) for t in started)
    assert not objects_holding(stack, TOKEN)
    sfn = stack.sfn.client
    for execution in sfn.list_executions(stateMachineArn=stack.settings["RunsFunction"].state_machine_arn)["executions"]:
        assert TOKEN not in json.dumps(sfn.get_execution_history(executionArn=execution["executionArn"])["events"], default=str)
    name = f"{stack.stack_name}/tenants/{DEFAULT_CLAIMS['custom:accountId']}/{secret_id}"
    assert stack._client("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == TOKEN


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_a_run_started_by_an_event_on_the_stacks_bus_runs_on_ecs_and_finishes(stack, target, example_locustfile):
    test_id = create_test(stack.api, example_locustfile, target.url)
    tasks_before, since = len(stack.standin.tasks()), stack.iam.mark()
    # An operator assigns the CodeDeploy application to the tenant: only then may its triggers match its deployments.
    operator = {**DEFAULT_CLAIMS, "sub": "ops", "cognito:groups": f"[{stack.settings['TriggersFunction'].operator_group}]"}
    owned = {"ownerAccountId": DEFAULT_CLAIMS["custom:accountId"], "kind": "codedeployApplication", "value": "checkout"}
    call(stack, "POST", "/v1/event-sources", owned, 201, claims=operator)
    settings = {"targetUsers": USERS, "spawnRate": USERS, "durationSeconds": 3, "workers": WORKERS}
    trigger = call(stack, "POST", f"/v1/load-tests/{test_id}/triggers", {"name": "after checkout deploys", "eventPattern": PATTERN, "runSettings": settings}, 201)
    bus = stack.settings["TriggersFunction"].automation.event_bus_name
    detail = {"state": "SUCCESS", "application": "checkout", "deploymentId": "d-42", "deploymentGroup": "prod"}
    (event_id,) = stack.put_events([{"Source": "aws.codedeploy", "DetailType": CODEDEPLOY, "EventBusName": bus, "Detail": json.dumps(detail)}])
    stack.drain()
    (run,) = call(stack, "GET", f"/v1/load-tests/{test_id}/runs")["items"]
    assert (run["trigger"]["triggerId"], run["trigger"]["eventId"], run["backend"]) == (trigger["id"], event_id, "ecs")
    final = wait_until_final(stack.api, run["id"], timeout=120)
    assert_ran_on_ecs(stack, final, tasks_before, workers=WORKERS, target=target)
    assert_usage_recorded(stack, run["id"], tasks_before, workers=WORKERS)
    assert_allowed(
        stack, since,
        ("TriggersFunction", "events:PutRule"), ("TriggersFunction", "events:PutTargets"), ("events.amazonaws.com", "lambda:InvokeFunction"),
        ("TriggersFunction", "states:StartExecution"), ("RunWorkflowFunction", "ecs:RunTask"),
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_a_run_started_by_a_schedule_runs_on_ecs_and_finishes(stack, target):
    # The scheduled run's locustfile checks, on the master and on each worker task, that no AWS
    # credential or database setting reached it (support.scripts.ENV_PROBE refuses to start if so).
    test_id = create_test(stack.api, ENV_PROBE, target.url)
    tasks_before, since = len(stack.standin.tasks()), stack.iam.mark()
    settings = {"targetUsers": USERS, "spawnRate": USERS, "durationSeconds": 3, "workers": WORKERS}
    schedule = call(stack, "POST", f"/v1/load-tests/{test_id}/schedules", {"name": "every minute", "cron": "* * * * *", "runSettings": settings}, 201)
    next_minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    fired = stack.fire_schedules(next_minute)  # Scheduler's clock, at the schedule's next occurrence
    # Two when a minute began between creating the schedule and reading the clock: the second finds
    # the first's run active and is skipped, so either way one run starts.
    assert fired[-1].at == next_minute and len(fired) <= 2, fired
    stack.drain()
    (run,) = call(stack, "GET", f"/v1/load-tests/{test_id}/runs")["items"]
    assert (run["trigger"]["type"], run["trigger"]["scheduleId"], run["backend"]) == ("schedule", schedule["id"], "ecs")
    final = wait_until_final(stack.api, run["id"], timeout=120)
    assert_ran_on_ecs(stack, final, tasks_before, workers=WORKERS, target=target)
    assert [e["name"] for e in final["endpoints"]] == ["environment-clean"]
    assert_allowed(
        stack, since,
        ("TriggersFunction", "scheduler:CreateSchedule"), ("TriggersFunction", "iam:PassRole"), ("SchedulerInvokeRole", "lambda:InvokeFunction"),
        ("TriggersFunction", "states:StartExecution"), ("RunWorkflowFunction", "ecs:RunTask"),
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.ecs_standin
def test_a_locustfile_failing_on_fargate_fails_the_run_with_its_log_read_as_the_template_allows(stack, target):
    # The failure path makes calls a good run never makes: the stopped task's definition and its
    # CloudWatch Logs stream (ReadLocustTaskDefinitions, ReadStoppedLocustTasksLogs).
    test_id = create_test(stack.api, CRASHING_SCRIPT, target.url)
    since = stack.iam.mark()
    run = start_run(stack.api, test_id, targetUsers=1, durationSeconds=30, workers=1)
    final = wait_until_final(stack.api, run["id"], timeout=120)
    assert final["status"] == "Failed"
    assert "RuntimeError: boom at import" in final["failureReason"], final["failureReason"]
    assert "could not read" not in final["failureReason"], "the task's log stream was read"
    assert_allowed(stack, since, ("RunWorkflowFunction", "ecs:DescribeTaskDefinition"), ("RunWorkflowFunction", "logs:GetLogEvents"))
    assert stack.standin.wait_until_stopped(30)


# ---- notifications (the failed start costs no Locust: RunTask is refused) ----------------------------


def test_a_failed_runs_notification_is_published_signed_as_the_template_allows(stack, example_locustfile):
    from support.polling import eventually

    from load_manager.usecases.notification_messages import signature_matches

    secret = "whsec_template_0123456789"
    test_id = create_test(stack.api, example_locustfile, "http://127.0.0.1:9")
    sqs, events = stack._client("sqs"), stack._client("events")  # an observer on the stack's bus (not a function of the stack)
    queue = sqs.create_queue(QueueName="notifications-observer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.settings["RunWorkflowFunction"].automation.event_bus_name
    events.put_rule(Name="observer", EventBusName=bus, EventPattern=json.dumps({"detail-type": ["NotificationRequested"]}))
    events.put_targets(Rule="observer", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    since = stack.iam.mark()
    body = {"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/lm", "signingSecret": secret, "testId": test_id}
    channel = call(stack, "POST", "/v1/notification-channels", body, status=201)
    (target,) = events.list_targets_by_rule(Rule=channel["ruleName"], EventBusName=bus)["Targets"]
    assert target["Arn"] == events.describe_api_destination(Name=channel["ruleName"])["ApiDestinationArn"]
    assert target["RoleArn"] == stack.settings["NotificationsFunction"].automation.notification_role_arn
    assert target["DeadLetterConfig"]["Arn"] == stack.settings["NotificationsFunction"].automation.notification_dead_letter_arn

    with stack.iam.without("RunWorkflowFunction", sid="RunLocustTasks"):
        run = start_run(stack.api, test_id, targetUsers=1, durationSeconds=3, workers=1)
        assert wait_until_final(stack.api, run["id"], timeout=90)["status"] == "Failed"
    messages = eventually(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"), timeout=30)
    (message,) = messages
    assert secret not in message["Body"], "the signing secret never goes on the bus"
    detail = json.loads(message["Body"])["detail"]
    assert (detail["eventId"], detail["payload"]["run"]["verdict"]) == (f"{run['id']}:Notify:{channel['id']}", "Error")
    assert signature_matches(secret, detail["timestamp"], detail["signature"], json.dumps(detail["payload"]).encode())
    assert {(d.principal, d.action) for d in stack.iam.denied(since)} == {("RunWorkflowFunction", "ecs:RunTask")}
    made = {(d.principal, d.action) for d in decisions(stack, since)}
    assert {
        ("NotificationsFunction", "events:CreateConnection"), ("NotificationsFunction", "secretsmanager:CreateSecret"),
        ("NotificationsFunction", "events:CreateApiDestination"), ("NotificationsFunction", "events:PutRule"),
        ("NotificationsFunction", "events:PutTargets"), ("NotificationsFunction", "iam:PassRole"),
        ("RunWorkflowFunction", "secretsmanager:GetSecretValue"), ("RunWorkflowFunction", "events:PutEvents"),
    } <= made  # fmt: skip
    deleting = stack.iam.mark()
    call(stack, "DELETE", f"/v1/notification-channels/{channel['id']}", status=204)
    assert_allowed(
        stack, deleting, ("NotificationsFunction", "events:DeleteRule"), ("NotificationsFunction", "events:DeleteApiDestination"),
        ("NotificationsFunction", "events:DeleteConnection"), ("NotificationsFunction", "secretsmanager:DeleteSecret"),
    )  # fmt: skip
