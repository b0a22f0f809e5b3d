"""template.yaml as CloudFormation deploys it (SAM's translator, src/load_manager_local/stack.py),
without any AWS: every function's environment makes Lambda settings that run Locust on ECS, and the
IAM evaluator the template harness checks calls with (tests/support/iam_check.py) decides as IAM
does, down to the Locust tasks' execution role, which no code of ours exercises."""

from __future__ import annotations

import pytest
from support.iam_check import evaluate
from support.iam_operations import Facts, Request, UnmappedOperationError, requests_for

from load_manager.settings import Settings, SettingsError
from load_manager_local.functions import project_root
from load_manager_local.stack import Policy, Stack, TemplateError, function_environment
from load_manager_local.stack_names import NamingResolver

NETWORK = {"VpcId": "vpc-0a1b2c3d", "SubnetIds": ["subnet-0a", "subnet-0b"], "LambdaSecurityGroupId": "sg-0lambda"}
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(project_root() / "template.yaml", NETWORK, name="lm-unit", region=REGION, account_id=ACCOUNT)


@pytest.fixture(scope="module")
def resolver(stack) -> NamingResolver:
    return NamingResolver(stack)


def allow(action, resource, condition=None, sid="S") -> Policy:
    statement = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **({"Condition": condition} if condition else {})}
    return Policy("inline:test", {"Statement": [statement]})


# ---- the environment every function gets ----------------------------------------------------------


def test_every_function_runs_locust_on_ecs_inside_lambda(stack, resolver):
    functions = stack.functions(resolver)
    assert {"RunsFunction", "TriggersFunction", "RunWorkflowFunction"} <= set(functions)
    for logical_id, function in functions.items():
        settings = Settings.from_env(function_environment(function, REGION))
        assert settings.in_lambda, logical_id
        assert settings.default_backend == "ecs", f"{logical_id} would record runs on the local backend"


def test_a_function_without_the_ecs_default_fails_its_cold_start(stack, resolver):
    # What RunsFunction and TriggersFunction had before DEFAULT_CLUSTER_BACKEND moved to Globals.
    environment = function_environment(stack.function("RunsFunction", resolver), REGION)
    del environment["DEFAULT_CLUSTER_BACKEND"]
    with pytest.raises(SettingsError, match="DEFAULT_CLUSTER_BACKEND=local inside AWS Lambda"):
        Settings.from_env(environment)


def test_intrinsics_resolve_as_cloudformation_resolves_them(stack, resolver):
    workflow = stack.function("RunWorkflowFunction", resolver).environment
    assert workflow["ECS_SUBNETS"] == "subnet-0a,subnet-0b"  # Fn::Join over a List<Subnet::Id>
    assert workflow["ECS_ASSIGN_PUBLIC_IP"] == "false"  # Fn::If on AssignLocustPublicIp
    assert workflow["ECS_CLUSTER"] == "lm-unit-locust"  # Ref of a cluster named by Fn::Sub with AWS::StackName
    assert workflow["PUBLIC_BASE_URL"].startswith("https://") and workflow["PUBLIC_BASE_URL"].endswith(".execute-api.us-east-1.amazonaws.com")
    public = Stack(project_root() / "template.yaml", {**NETWORK, "PublicBaseUrl": "https://lm.example.com", "AssignPublicIp": "ENABLED"}, name="lm-unit")
    resolved = public.function("RunWorkflowFunction", NamingResolver(public)).environment
    assert (resolved["PUBLIC_BASE_URL"], resolved["ECS_ASSIGN_PUBLIC_IP"]) == ("https://lm.example.com", "true")


def test_parameters_are_checked_as_cloudformation_checks_them():
    with pytest.raises(TemplateError, match="VpcId has no default"):
        Stack(project_root() / "template.yaml", {}, name="lm-unit")
    with pytest.raises(TemplateError, match="not one of"):
        Stack(project_root() / "template.yaml", {**NETWORK, "AssignPublicIp": "MAYBE"}, name="lm-unit")


def test_every_role_policy_of_a_function_is_known(stack, resolver):
    for logical_id, function in stack.functions(resolver).items():
        policies = stack.role_policies(function.role, resolver)
        assert policies and all(p.known for p in policies), f"{logical_id}: {[p.source for p in policies if not p.known]}"
    workflow = {p.source for p in stack.role_policies("RunWorkflowFunctionRole", resolver)}
    assert {"managed:MongoDbSecretReadPolicy", "managed:RunWorkflowEcsPolicy"} <= workflow


# ---- the Locust tasks' execution role (used by ECS's awslogs driver, not by our code) ---------------


def test_the_task_execution_role_may_create_and_write_the_locust_log_streams(stack, resolver):
    # AWS Service Authorization Reference, CloudWatch Logs: CreateLogStream and PutLogEvents are
    # authorized on the log-stream resource type, arn:...:log-group:<group>:log-stream:<stream>
    # (older editions listed CreateLogStream under log-group; the template follows the current one).
    # The awslogs driver names the stream <prefix>/<container>/<task id>.
    policies = stack.role_policies("LocustTaskExecutionRole", resolver)
    group = resolver.name("LocustLogGroup")
    stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:master/locust/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        allowed, reason = evaluate(policies, Request(action, stream))
        assert allowed, reason
    other = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/anything:log-stream:x"
    assert not evaluate(policies, Request("logs:PutLogEvents", other))[0], "only Locust's own log group"
    assert not evaluate(policies, Request("logs:CreateLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"))[0]


def test_the_locust_task_role_has_no_permission(stack, resolver):
    assert stack.role_policies("LocustTaskRole", resolver) == []


# ---- the evaluator -------------------------------------------------------------------------------------


def test_an_explicit_deny_wins_over_any_allow():
    deny = Policy("inline:deny", {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    assert evaluate([allow("s3:GetObject", "*"), deny], Request("s3:GetObject", "arn:aws:s3:::b/k")) == (False, "explicitly denied by inline:deny#0")
    assert evaluate([allow("s3:GetObject", "*")], Request("s3:PutObject", "arn:aws:s3:::b/k"))[0] is False  # implicit deny


def test_actions_match_case_insensitively_and_resources_with_wildcards():
    policies = [allow("ECS:describe*", "arn:aws:secretsmanager:us-east-1:1:secret:db-??????")]
    assert evaluate(policies, Request("ecs:DescribeTasks", "arn:aws:secretsmanager:us-east-1:1:secret:db-Ab12Cd"))[0]
    assert not evaluate(policies, Request("ecs:DescribeTasks", "arn:aws:secretsmanager:us-east-1:1:secret:db-Ab12C"))[0]
    assert not evaluate(policies, Request("ecs:DescribeTasks", "arn:aws:secretsmanager:us-east-1:1:secret:DB-Ab12Cd"))[0]


def test_conditions_need_their_keys_unless_negated_or_if_exists():
    cluster = "arn:aws:ecs:us-east-1:1:cluster/locust"
    equals = [allow("ecs:StopTask", "*", {"ArnEquals": {"ecs:cluster": cluster}})]
    assert evaluate(equals, Request("ecs:StopTask", "t", {"ecs:cluster": cluster}))[0]
    assert not evaluate(equals, Request("ecs:StopTask", "t", {"ecs:cluster": cluster + "-other"}))[0]
    assert not evaluate(equals, Request("ecs:StopTask", "t"))[0], "a missing key satisfies no positive operator"
    assert evaluate([allow("ecs:StopTask", "*", {"StringNotEquals": {"ecs:cluster": cluster}})], Request("ecs:StopTask", "t"))[0]
    assert evaluate([allow("ecs:StopTask", "*", {"ArnEqualsIfExists": {"ecs:cluster": cluster}})], Request("ecs:StopTask", "t"))[0]
    like = [allow("lambda:InvokeFunction", "*", {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:1:rule/bus/lm-trigger-*"}})]
    assert evaluate(like, Request("lambda:InvokeFunction", "f", {"AWS:SourceArn": "arn:aws:events:us-east-1:1:rule/bus/lm-trigger-7"}))[0]
    with pytest.raises(NotImplementedError):
        evaluate([allow("s3:GetObject", "*", {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}})], Request("s3:GetObject", "x"))


def test_run_task_is_authorized_as_run_tag_and_pass_role():
    roles = {"taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/m:3", "executionRoleArn": "arn:aws:iam::1:role/exec", "taskRoleArn": "arn:aws:iam::1:role/task"}
    facts = Facts(REGION, "1", task_definition=lambda ref: roles)
    params = {"cluster": "locust", "taskDefinition": "m:3", "tags": [{"key": "k", "value": "v"}]}
    requests = requests_for("ecs", "RunTask", params, facts)
    assert [(r.action, dict(r.context)) for r in requests] == [
        ("ecs:RunTask", {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/locust"}),
        ("ecs:TagResource", {"ecs:CreateAction": "RunTask"}),
        ("iam:PassRole", {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
        ("iam:PassRole", {"iam:PassedToService": "ecs-tasks.amazonaws.com"}),
    ]
    assert requests[1].resource.startswith("arn:aws:ecs:us-east-1:1:task/locust/")
    assert {r.resource for r in requests[2:]} == {"arn:aws:iam::1:role/exec", "arn:aws:iam::1:role/task"}
    schedule = requests_for("scheduler", "CreateSchedule", {"Name": "lm-trigger-1", "GroupName": "g", "Target": {"RoleArn": "arn:aws:iam::1:role/s"}}, facts)
    assert [(r.action, r.resource) for r in schedule] == [
        ("scheduler:CreateSchedule", "arn:aws:scheduler:us-east-1:1:schedule/g/lm-trigger-1"), ("iam:PassRole", "arn:aws:iam::1:role/s"),
    ]  # fmt: skip
    with pytest.raises(UnmappedOperationError):
        requests_for("ecs", "DeleteCluster", {"cluster": "locust"}, facts)
