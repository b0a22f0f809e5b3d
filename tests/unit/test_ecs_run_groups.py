"""Each launch's own security group (backends/ecs/network.py): created tagged, in its VPC, with its
two ingress rules; deleted with a bounded wait while Fargate still holds it; what is left, the
sweeper's `collect_leftover_security_groups` deletes once it is free, sparing active runs' groups.

EC2 is moto's, made to refuse deleting a group an interface uses or a rule names, as EC2 does
(`groups_held_by_interfaces`, the ECS stand-in's); the bounded wait runs on a fake clock."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from support.aws import use_moto_credentials
from support.ecs_standin import groups_held_by_interfaces

from load_manager.backends.ecs.network import (
    IN_USE,
    RunGroupSpec,
    collect_leftover_security_groups,
    create_run_group,
    delete_run_groups,
    launch_groups,
)

REGION = "us-east-1"


@pytest.fixture
def ec2(monkeypatch):
    use_moto_credentials(monkeypatch)
    with mock_aws(), groups_held_by_interfaces():
        yield boto3.client("ec2", region_name=REGION)


@pytest.fixture
def vpc(ec2) -> dict[str, str]:
    vpc_id = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
    control = ec2.create_security_group(GroupName="lambda", Description="run_workflow", VpcId=vpc_id)["GroupId"]
    return {"vpc": vpc_id, "subnet": subnet, "control": control}


def spec(vpc: dict[str, str], run_id: str = "run-1", launch_id: str = "launch-1", managed_by: str = "lm-test") -> RunGroupSpec:
    return RunGroupSpec(
        vpc_id=vpc["vpc"], run_id=run_id, launch_id=launch_id, managed_by=managed_by, web_port=8089, master_port=5557,
        control_plane_group=vpc["control"],
    )  # fmt: skip


def hold(ec2, vpc: dict[str, str], group: str) -> str:
    """A task's interface in the group (what Fargate keeps a while after the task stops)."""
    return ec2.create_network_interface(SubnetId=vpc["subnet"], Groups=[group])["NetworkInterface"]["NetworkInterfaceId"]


def exists(ec2, group: str) -> bool:
    try:
        ec2.describe_security_groups(GroupIds=[group])
    except ClientError:
        return False
    return True


def test_a_launch_group_admits_its_own_workers_and_the_control_plane_only(ec2, vpc):
    group = create_run_group(ec2, spec(vpc))
    assert create_run_group(ec2, spec(vpc)) == group  # a retried launch reuses it, rules and all
    (described,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    assert described["VpcId"] == vpc["vpc"]
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == {
        "load-manager:managed-by": "lm-test", "load-manager:run-id": "run-1", "load-manager:launch-id": "launch-1",
    }  # fmt: skip
    rules = sorted((r["IpProtocol"], r["FromPort"], r["ToPort"], [p["GroupId"] for p in r["UserIdGroupPairs"]], r["IpRanges"]) for r in described["IpPermissions"])
    assert rules == [("tcp", 5557, 5557, [group], []), ("tcp", 8089, 8089, [vpc["control"]], [])]
    assert [r["IpProtocol"] for r in described["IpPermissionsEgress"]] == ["-1"]  # the target, wherever it is
    assert launch_groups(ec2, "lm-test", "run-1", "launch-1") == [group]
    assert launch_groups(ec2, "lm-test", "run-1", None) == [group]
    assert launch_groups(ec2, "another-stack", "run-1", None) == []


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_teardown_waits_for_the_interfaces_to_go_a_bounded_time(ec2, vpc):
    group = create_run_group(ec2, spec(vpc))
    interface = hold(ec2, vpc, group)
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if fake.now >= 3:  # Fargate releases the interface 3 s in
            ec2.delete_network_interface(NetworkInterfaceId=interface)

    assert delete_run_groups(ec2, [group], timeout=60, interval=1, sleep=sleep, clock=lambda: fake.now) == {}
    assert fake.slept == [1, 2] and not exists(ec2, group)
    assert delete_run_groups(ec2, [group], timeout=60, interval=1, sleep=fake.sleep, clock=lambda: fake.now) == {}  # gone: fine


def test_a_group_still_held_after_the_wait_is_left_with_the_reason(ec2, vpc):
    group = create_run_group(ec2, spec(vpc))
    hold(ec2, vpc, group)
    fake = FakeTime()
    left = delete_run_groups(ec2, [group], timeout=30, interval=1, sleep=fake.sleep, clock=lambda: fake.now)
    assert list(left) == [group] and left[group].startswith(IN_USE)
    assert sum(fake.slept) <= 30 and fake.slept == [1, 2, 4, 8, 10]  # doubling, capped, within the budget
    assert exists(ec2, group)


def test_the_sweeper_collects_what_teardowns_left_and_spares_active_runs(ec2, vpc):
    active = create_run_group(ec2, spec(vpc, run_id="run-active"))
    held = create_run_group(ec2, spec(vpc, run_id="run-held"))
    free = create_run_group(ec2, spec(vpc, run_id="run-free"))
    foreign = create_run_group(ec2, spec(vpc, run_id="run-free", launch_id="other", managed_by="another-stack"))
    interface = hold(ec2, vpc, held)

    def keep(run_id: str, launch_id: str) -> bool:
        return run_id == "run-active"

    first = collect_leftover_security_groups(ec2, "lm-test", keep=keep, vpc_id=vpc["vpc"])
    assert (first.deleted, first.in_use, first.kept, first.failed) == ([free], [held], [active], {})
    ec2.delete_network_interface(NetworkInterfaceId=interface)  # Fargate got to it
    second = collect_leftover_security_groups(ec2, "lm-test", keep=keep)
    assert (second.deleted, second.in_use, second.kept) == ([held], [], [active])
    assert [exists(ec2, g) for g in (active, held, free, foreign)] == [True, False, False, True]  # another deployment's: untouched


def test_a_group_another_rule_names_is_in_use_until_that_rule_goes(ec2, vpc):
    a, b = create_run_group(ec2, spec(vpc, run_id="a")), create_run_group(ec2, spec(vpc, run_id="b"))
    ec2.authorize_security_group_ingress(GroupId=a, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [{"GroupId": b}]}])
    fake = FakeTime()
    assert list(delete_run_groups(ec2, [b], timeout=0, interval=1, sleep=fake.sleep, clock=lambda: fake.now)) == [b]
    assert delete_run_groups(ec2, [a, b], timeout=10, interval=1, sleep=fake.sleep, clock=lambda: fake.now) == {}


def tag_conditioned(ec2, managed_by: str = "lm-test") -> list[str]:
    """DeleteSecurityGroup as the template's IAM allows it: only on a group tagged
    load-manager:managed-by=<stack>. A group that no longer exists has no tags, so it is denied
    (UnauthorizedOperation), not NotFound. Returns the groups each DeleteSecurityGroup asked for."""
    asked: list[str] = []

    def authorize(params, **_):
        group = params["GroupId"]
        asked.append(group)
        found = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroups"]
        tags = {t["Key"]: t["Value"] for t in (found[0].get("Tags") or [])} if found else {}
        if tags.get("load-manager:managed-by") != managed_by:
            error = {"Code": "UnauthorizedOperation", "Message": f"not authorized to perform: ec2:DeleteSecurityGroup on {group}"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "DeleteSecurityGroup")

    ec2.meta.events.register("provide-client-params.ec2.DeleteSecurityGroup", authorize)
    return asked


def test_tearing_down_twice_asks_ec2_first_and_is_never_denied(ec2, vpc):
    asked = tag_conditioned(ec2)
    group = create_run_group(ec2, spec(vpc))
    fake = FakeTime()
    assert delete_run_groups(ec2, [group], timeout=60, interval=1, sleep=fake.sleep, clock=lambda: fake.now) == {}
    # MarkFailed after StartRun's own teardown: the recorded group is gone, and not asked for again.
    assert delete_run_groups(ec2, [group], timeout=60, interval=1, sleep=fake.sleep, clock=lambda: fake.now) == {}
    assert asked == [group] and not exists(ec2, group)


def test_a_group_another_teardown_deletes_while_this_one_waits_is_not_asked_for_again(ec2, vpc):
    asked = tag_conditioned(ec2)
    group = create_run_group(ec2, spec(vpc))
    interface = hold(ec2, vpc, group)
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        ec2.delete_network_interface(NetworkInterfaceId=interface)
        ec2.delete_security_group(GroupId=group)  # a racing teardown (or the sweeper) got there first

    assert delete_run_groups(ec2, [group], timeout=60, interval=1, sleep=sleep, clock=lambda: fake.now) == {}
    assert asked == [group, group], "the racing delete, and none from the waiting teardown after it"


def test_a_denied_delete_of_a_group_deleted_since_it_was_described_counts_as_done(ec2, vpc):
    group = create_run_group(ec2, spec(vpc, run_id="run-over"))
    raced = []

    def racing_sweep(params, **_):
        if not raced:  # between DescribeSecurityGroups and this delete, someone else deleted it
            raced.append(params["GroupId"])
            moto = boto3.client("ec2", region_name=REGION)
            moto.delete_security_group(GroupId=params["GroupId"])

    ec2.meta.events.register("provide-client-params.ec2.DeleteSecurityGroup", racing_sweep)
    tag_conditioned(ec2)  # registered after: sees the group already gone, denies as IAM would
    swept = collect_leftover_security_groups(ec2, "lm-test", vpc_id=vpc["vpc"])
    assert (swept.deleted, swept.failed) == ([group], {})
    assert raced == [group]


def test_a_sweep_tries_at_most_its_limit_of_groups(ec2, vpc):
    groups = [create_run_group(ec2, spec(vpc, run_id=f"run-{i}")) for i in range(3)]
    first = collect_leftover_security_groups(ec2, "lm-test", vpc_id=vpc["vpc"], limit=2)
    assert len(first.deleted) == 2
    second = collect_leftover_security_groups(ec2, "lm-test", vpc_id=vpc["vpc"], limit=2)
    assert sorted(first.deleted + second.deleted) == sorted(groups)
