"""One security group per launch: what keeps one run's Locust tasks out of another's reach.

Every task of a launch (master and workers) carries the launch's own group, created before the
master is started and deleted at teardown:

    ingress  tcp <master port>  from the group itself        (its workers reach its master)
             tcp <web port>     from the control plane's group (the run_workflow Lambda, only it)
    egress   everything (EC2's default for a new group): the image, S3, the target under test

No other group admits it, and it admits no other run's group: a locustfile of another run that
scans the subnet finds nothing open. The deployment's own groups (`security_groups`, e.g. the
template's LocustTasksSecurityGroup, which a target may admit to recognize load generators) are
attached besides it and must never admit traffic from themselves.

Tags (the template's IAM policy lets the function authorize and delete only groups that carry
`load-manager:managed-by` = the deployment, and create them only with it):
    load-manager:managed-by   the deployment (stack name)
    load-manager:run-id       the run
    load-manager:launch-id    the launch

Deleting: Fargate releases a stopped task's network interface asynchronously (seconds to minutes
after the task stops); until then DeleteSecurityGroup answers DependencyViolation. Teardown retries
for a bounded time (`delete_run_groups`) and leaves what is still in use: a sweeper calls
`collect_leftover_security_groups` later, which deletes every group of this deployment whose run is
over, and which is safe to call at any time and from anywhere (what is in use stays).

Idempotent under the template's IAM: a run is torn down more than once (StartRun's failure path,
then MarkFailed; a sweeper racing either), and a group that no longer exists has no tags, so the
`aws:ResourceTag` condition denies deleting it (EC2 answers UnauthorizedOperation, not NotFound).
So only groups DescribeSecurityGroups still finds are deleted, asked again before every retry, and
a denied delete of a group that is no longer there counts as done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .tasks import TAG_LAUNCH_ID, TAG_RUN_ID, AwsApiError, aws_call, tag_value

TAG_MANAGED_BY = "load-manager:managed-by"
IN_USE = "DependencyViolation"
GROUP_GONE = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidGroupId.Malformed"})
DUPLICATE_GROUP = "InvalidGroup.Duplicate"
DUPLICATE_RULE = "InvalidPermission.Duplicate"
# What IAM answers when a policy condition fails, e.g. aws:ResourceTag on a group already deleted.
DENIED = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})
MAX_RETRY_INTERVAL = 10.0


@dataclass(frozen=True)
class RunGroupSpec:
    """What a launch's group needs: where, which ports, who may reach the web API, how it is tagged."""

    vpc_id: str
    run_id: str
    launch_id: str
    managed_by: str
    web_port: int
    master_port: int
    control_plane_group: str = ""  # empty: nothing outside the group reaches the web API
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        # Unique per VPC: one group per launch. EC2 allows 255 characters, not starting with sg-.
        return f"lm-run-{_slug(self.run_id)[:100]}-{_slug(self.launch_id)[:64]}"

    def ingress(self, group_id: str) -> list[dict[str, Any]]:
        rules = [_tcp(self.master_port, group_id, "Locust workers of this run to their master")]
        if self.control_plane_group:
            rules.append(_tcp(self.web_port, self.control_plane_group, "Load Manager control plane to the master web API"))
        return rules


def vpc_of_subnet(ec2: Any, subnet: str) -> str:
    """The VPC a subnet belongs to (when the deployment does not name its VPC)."""
    subnets = aws_call(ec2.describe_subnets, SubnetIds=[subnet]).get("Subnets") or []
    if not subnets:
        raise AwsApiError("InvalidSubnetID.NotFound", "DescribeSubnets", f"subnet {subnet} not found")
    return str(subnets[0]["VpcId"])


def create_run_group(ec2: Any, spec: RunGroupSpec) -> str:
    """Create the launch's group with its ingress rules; returns its id. Safe to retry: a group of
    the same name (one launch, one name) is reused and rules already there are kept."""
    tags = {**dict(spec.tags), TAG_MANAGED_BY: spec.managed_by, TAG_RUN_ID: tag_value(spec.run_id), TAG_LAUNCH_ID: spec.launch_id}
    try:
        created = aws_call(
            ec2.create_security_group,
            GroupName=spec.name,
            Description=f"Load Manager run {spec.run_id[:120]}: Locust master port from itself, web API from the control plane",
            VpcId=spec.vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )  # fmt: skip
        group_id = str(created["GroupId"])
    except AwsApiError as exc:
        if exc.code != DUPLICATE_GROUP:
            raise
        group_id = _group_named(ec2, spec.vpc_id, spec.name)
    try:
        aws_call(ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=spec.ingress(group_id))
    except AwsApiError as exc:
        if exc.code != DUPLICATE_RULE:
            raise
    return group_id


def launch_groups(ec2: Any, managed_by: str, run_id: str, launch_id: str | None) -> list[str]:
    """The groups of one launch (or, without a launch id, of every launch of the run), by their tags."""
    filters = [{"Name": f"tag:{TAG_MANAGED_BY}", "Values": [managed_by]}, {"Name": f"tag:{TAG_RUN_ID}", "Values": [tag_value(run_id)]}]
    if launch_id:
        filters.append({"Name": f"tag:{TAG_LAUNCH_ID}", "Values": [launch_id]})
    return [str(group["GroupId"]) for group in _described_groups(ec2, filters)]


def delete_run_groups(
    ec2: Any, group_ids: Iterable[str], *, timeout: float, interval: float,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
) -> dict[str, str]:  # fmt: skip
    """Delete the groups, retrying while a task's network interface still uses one (for at most
    `timeout` seconds in all, waiting `interval` at first and longer each time). Returns what could
    not be deleted: group id -> why (the sweeper's work). Groups already gone are fine: each round
    asks only for those EC2 still describes (another teardown or a sweep may have deleted one)."""
    pending = list(dict.fromkeys(group_ids))
    deadline = clock() + timeout
    left: dict[str, str] = {}
    while pending:
        pending = existing_groups(ec2, pending)
        in_use = []
        for group_id in pending:
            outcome = _delete(ec2, group_id)
            if outcome == IN_USE:
                in_use.append(group_id)
            elif outcome:
                left[group_id] = outcome
        pending = in_use
        if pending and clock() + interval > deadline:
            left.update({group_id: f"{IN_USE}: still in use after {timeout:g} s" for group_id in pending})
            break
        if pending:
            sleep(interval)
            interval = min(interval * 2, MAX_RETRY_INTERVAL)
    return left


@dataclass
class LeftoverGroups:
    """What one sweep did: deleted, still in use (try again later), kept (run active), failed."""

    deleted: list[str] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def collect_leftover_security_groups(
    ec2: Any, managed_by: str, *, keep: Callable[[str, str], bool] = lambda run_id, launch_id: False, vpc_id: str | None = None,
    limit: int | None = None,
) -> LeftoverGroups:  # fmt: skip
    """Delete every run group of this deployment (`managed_by`) that `keep(run_id, launch_id)` does
    not claim, each tried once: what a teardown left (its tasks' network interfaces were not yet
    released) or never reached (the function died mid-launch). The sweeper passes `keep` = "this
    run is still active (Pending, Starting, Running, Stopping)": a group whose run is active may
    be about to be attached. A group still in use stays for the next sweep. `limit`: at most that
    many deletes are tried (the rest wait for the next call)."""
    filters = [{"Name": f"tag:{TAG_MANAGED_BY}", "Values": [managed_by]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    found = LeftoverGroups()
    for group in _described_groups(ec2, filters):
        group_id = str(group["GroupId"])
        labels = {str(t.get("Key")): str(t.get("Value")) for t in group.get("Tags") or []}
        if keep(labels.get(TAG_RUN_ID, ""), labels.get(TAG_LAUNCH_ID, "")):
            found.kept.append(group_id)
            continue
        if limit is not None and len(found.deleted) + len(found.in_use) + len(found.failed) >= limit:
            break
        outcome = _delete(ec2, group_id)
        if outcome == IN_USE:
            found.in_use.append(group_id)
        elif outcome:
            found.failed[group_id] = outcome
        else:
            found.deleted.append(group_id)
    return found


# ---- helpers ------------------------------------------------------------------------------------


def existing_groups(ec2: Any, group_ids: Iterable[str]) -> list[str]:
    """Those of `group_ids` EC2 still describes, in order. A filter, not GroupIds: one id already
    deleted must not fail the whole call. If EC2 cannot be asked, all of them (deleting says more)."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return []
    try:
        found = {str(group["GroupId"]) for group in _described_groups(ec2, [{"Name": "group-id", "Values": wanted}])}
    except AwsApiError:
        return wanted
    return [group_id for group_id in wanted if group_id in found]


def _delete(ec2: Any, group_id: str) -> str:
    """Empty when deleted (or already gone), IN_USE while an interface uses it, else the error."""
    try:
        aws_call(ec2.delete_security_group, GroupId=group_id)
    except AwsApiError as exc:
        if exc.code in GROUP_GONE:
            return ""
        if exc.code in DENIED and not existing_groups(ec2, [group_id]):
            return ""  # deleted since it was described (a racing teardown): a tag condition denies a missing group
        return IN_USE if exc.code == IN_USE else str(exc)
    return ""


def _described_groups(ec2: Any, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pages = aws_call(ec2.get_paginator("describe_security_groups").paginate, Filters=filters)
    return [group for page in pages for group in page.get("SecurityGroups") or []]


def _group_named(ec2: Any, vpc_id: str, name: str) -> str:
    groups = _described_groups(ec2, [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}])
    if not groups:
        raise AwsApiError(DUPLICATE_GROUP, "CreateSecurityGroup", f"group {name} exists but cannot be found")
    return str(groups[0]["GroupId"])


def _tcp(port: int, source_group: str, description: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": source_group, "Description": description}]}


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", value) or "x"
