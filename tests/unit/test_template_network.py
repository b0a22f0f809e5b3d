"""template.yaml's side of run isolation: no group shared by every run admits anything; the
run_workflow function may make and change only this stack's run groups, in its VPC; each function
that needs it knows which subnets and groups a cluster configuration may choose. IAM is decided by
the evaluator the template harness checks calls with (tests/support/iam_check.py)."""

from __future__ import annotations

import pytest
from support.iam_check import evaluate
from support.iam_operations import Request

from load_manager.settings import Settings
from load_manager_local.functions import project_root
from load_manager_local.stack import Stack
from load_manager_local.stack_names import NamingResolver

ACCOUNT, REGION, STACK = "123456789012", "us-east-1", "lm-unit"
NETWORK = {
    "VpcId": "vpc-0a1b2c3d", "SubnetIds": ["subnet-0a", "subnet-0b"], "LambdaSecurityGroupId": "sg-0lambda",
    "AllowedLocustSubnetIds": ["subnet-0c"], "AllowedLocustSecurityGroupIds": ["sg-0extra"],
}  # fmt: skip
VPC = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0a1b2c3d"
GROUP = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0123456789abcdef0"
RUN_TAGS = {"aws:RequestTag/load-manager:managed-by": STACK, "aws:RequestTag/load-manager:run-id": "r1", "aws:RequestTag/load-manager:launch-id": "l1"}


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(project_root() / "template.yaml", NETWORK, name=STACK, region=REGION, account_id=ACCOUNT)


@pytest.fixture(scope="module")
def workflow(stack):
    return stack.role_policies("RunWorkflowFunctionRole", NamingResolver(stack))


def test_no_group_every_run_carries_admits_anything(stack):
    shared = stack.resource("LocustTasksSecurityGroup")["Properties"]
    assert "SecurityGroupIngress" not in shared
    for logical_id in stack.resources("AWS::EC2::SecurityGroupIngress"):
        target = stack.resource(logical_id)["Properties"].get("GroupId")
        assert target != {"Ref": "LocustTasksSecurityGroup"}, f"{logical_id} opens the group every run carries"


def test_the_workflow_creates_run_groups_only_in_its_vpc_and_only_tagged_as_this_stacks(workflow):
    def allowed(request: Request) -> bool:
        return evaluate(workflow, request)[0]

    assert allowed(Request("ec2:CreateSecurityGroup", VPC, {"ec2:Vpc": VPC}))
    assert not allowed(Request("ec2:CreateSecurityGroup", f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0other", {}))
    assert allowed(Request("ec2:CreateSecurityGroup", GROUP, RUN_TAGS))
    assert not allowed(Request("ec2:CreateSecurityGroup", GROUP, {**RUN_TAGS, "aws:RequestTag/load-manager:managed-by": "another-stack"}))
    assert not allowed(Request("ec2:CreateSecurityGroup", GROUP, {"aws:RequestTag/load-manager:managed-by": STACK}))  # no run/launch tag
    assert allowed(Request("ec2:CreateTags", GROUP, {"ec2:CreateAction": "CreateSecurityGroup", **RUN_TAGS}))
    assert not allowed(Request("ec2:CreateTags", GROUP, RUN_TAGS))  # tagging an existing group would make it "ours"


def test_the_workflow_changes_and_deletes_only_this_stacks_run_groups(workflow):
    ours = {"aws:ResourceTag/load-manager:managed-by": STACK, "ec2:Vpc": VPC}
    for action in ("ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"):
        assert evaluate(workflow, Request(action, GROUP, ours))[0], action
        assert not evaluate(workflow, Request(action, GROUP, {"ec2:Vpc": VPC}))[0], action  # the Lambda's, a target's, any other
        assert not evaluate(workflow, Request(action, GROUP, {**ours, "aws:ResourceTag/load-manager:managed-by": "another-stack"}))[0]
        assert not evaluate(workflow, Request(action, GROUP, {**ours, "ec2:Vpc": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0other"}))[0]
    for action in ("ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupEgress", "ec2:ModifyNetworkInterfaceAttribute"):
        assert not evaluate(workflow, Request(action, GROUP, ours))[0], action
    assert evaluate(workflow, Request("ec2:DescribeSecurityGroups", "*"))[0]


def test_the_functions_know_what_a_cluster_configuration_may_choose(stack):
    functions = stack.functions(NamingResolver(stack))
    clusters = Settings.from_env(functions["ClustersFunction"].environment).ecs
    workflow = Settings.from_env(functions["RunWorkflowFunction"].environment).ecs
    tasks_group = workflow.security_groups[0]
    for ecs in (clusters, workflow):
        assert set(ecs.allowed_subnets) == {"subnet-0a", "subnet-0b", "subnet-0c"}
        assert set(ecs.allowed_security_groups) == {tasks_group, "sg-0extra"}
        assert ecs.assign_public_ip is False
    assert (workflow.vpc_id, workflow.control_plane_security_group, workflow.managed_by) == ("vpc-0a1b2c3d", "sg-0lambda", STACK)
    default = Stack(project_root() / "template.yaml", {k: NETWORK[k] for k in ("VpcId", "SubnetIds", "LambdaSecurityGroupId")}, name=STACK)
    ecs = Settings.from_env(default.functions(NamingResolver(default))["ClustersFunction"].environment).ecs
    assert set(ecs.allowed_subnets) == {"subnet-0a", "subnet-0b"} and len(ecs.allowed_security_groups) == 1  # by default: its own only
