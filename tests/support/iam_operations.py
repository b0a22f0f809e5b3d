"""What AWS authorizes an API call as: `requests_for(service, operation, params, facts)` gives the
action(s), the resource ARN(s) and the condition keys the request carries, implied actions included
(ecs:RunTask with tags is also ecs:TagResource with ecs:CreateAction=RunTask; RunTask passes the
task definition's roles: iam:PassRole with iam:PassedToService=ecs-tasks.amazonaws.com; a
schedule's target role: iam:PassRole to scheduler.amazonaws.com; EC2's tag-on-create is
ec2:CreateTags with ec2:CreateAction). The resource types and condition keys are those of AWS's
Service Authorization Reference. An operation not mapped here is an error (iam_check.py), so
nothing a function calls slips past unchecked: map it when the code starts calling it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class UnmappedOperationError(AssertionError):
    """A function called an operation this checker cannot authorize: map it in `requests_for`."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)  # condition keys the request carries (aws:TagKeys: several)


@dataclass
class Facts:
    """What mapping an operation needs beyond its parameters."""

    region: str
    account_id: str
    partition: str = "aws"
    task_definition: Callable[[str], Mapping[str, Any]] = lambda ref: {"taskDefinitionArn": ref}
    security_group: Callable[[str], Mapping[str, Any]] = lambda group_id: {}  # DescribeSecurityGroups' answer: VpcId, Tags

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account_id}:{resource}"


def _name(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _ecs_cluster(f: Facts, value: str | None) -> str:
    value = value or "default"
    return value if value.startswith("arn:") else f.arn("ecs", f"cluster/{value}")


def _ecs_task(f: Facts, cluster: str, task: str) -> str:
    return task if task.startswith("arn:") else f.arn("ecs", f"task/{_name(cluster)}/{task}")


def _ecs_run_task(p: Mapping[str, Any], f: Facts) -> list[Request]:
    cluster = _ecs_cluster(f, p.get("cluster"))
    definition = f.task_definition(p["taskDefinition"])
    requests = [Request("ecs:RunTask", str(definition["taskDefinitionArn"]), {"ecs:cluster": cluster})]
    if p.get("tags"):  # tags at launch are authorized as TagResource on the task being created
        requests.append(Request("ecs:TagResource", f.arn("ecs", f"task/{_name(cluster)}/{uuid.uuid4().hex}"), {"ecs:CreateAction": "RunTask"}))
    overrides = p.get("overrides") or {}
    for key in ("taskRoleArn", "executionRoleArn"):
        role = overrides.get(key) or definition.get(key)
        if role:
            requests.append(Request("iam:PassRole", str(role), {"iam:PassedToService": "ecs-tasks.amazonaws.com"}))
    return requests


def _ecs_on_tasks(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        cluster = _ecs_cluster(f, p.get("cluster"))
        tasks = p.get("tasks") or [p["task"]]
        return [Request(action, _ecs_task(f, cluster, str(task)), {"ecs:cluster": cluster}) for task in tasks]

    return requests


def _s3_object(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        found = [Request(action, f"arn:{f.partition}:s3:::{p['Bucket']}/{p['Key']}")]
        if p.get("ACL"):
            found.append(Request("s3:PutObjectAcl", found[0].resource))
        if p.get("Tagging"):
            found.append(Request("s3:PutObjectTagging", found[0].resource))
        return found

    return requests


def _event_bus(f: Facts, value: str | None) -> str:
    value = value or "default"
    return value if value.startswith("arn:") else f.arn("events", f"event-bus/{value}")


def _events_rule(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        bus = _name(str(p.get("EventBusName") or "default"))
        rule = str(p.get("Name") or p["Rule"])
        found = [Request(action, f.arn("events", f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}"))]
        for target in p.get("Targets") or []:
            if target.get("RoleArn"):
                found.append(Request("iam:PassRole", str(target["RoleArn"]), {"iam:PassedToService": "events.amazonaws.com"}))
        return found

    return requests


def _secret(f: Facts, value: str) -> str:
    """A secret named without its ARN is authorized on its ARN: name + "-" + six characters."""
    return value if value.startswith("arn:") else f.arn("secretsmanager", f"secret:{value}-Ab12Cd")


def _events_connection(action: str, secret_action: str | None) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    # A connection's credential is a secret EventBridge creates, updates and deletes with the caller's
    # rights (`events!connection/<name>/<id>`): the Secrets Manager permissions AmazonEventBridgeFullAccess
    # grants for that reason, on that name.
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        found = [Request(action, f.arn("events", f"connection/{p['Name']}"))]
        if secret_action:
            found.append(Request(secret_action, _secret(f, f"events!connection/{p['Name']}/{uuid.uuid4()}")))
        return found

    return requests


def _events_api_destination(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    # CreateApiDestination and UpdateApiDestination name a connection too (both resource types required).
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        found = [Request(action, f.arn("events", f"api-destination/{p['Name']}"))]
        if p.get("ConnectionArn"):
            found.append(Request(action, str(p["ConnectionArn"])))
        return found

    return requests


def _events_put_events(p: Mapping[str, Any], f: Facts) -> list[Request]:
    return [
        Request("events:PutEvents", _event_bus(f, e.get("EventBusName")), {"events:source": str(e.get("Source")), "events:detail-type": str(e.get("DetailType"))})
        for e in p["Entries"]
    ]


def _schedule(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        found = [Request(action, f.arn("scheduler", f"schedule/{p.get('GroupName') or 'default'}/{p['Name']}"))]
        role = (p.get("Target") or {}).get("RoleArn")
        if role:
            found.append(Request("iam:PassRole", str(role), {"iam:PassedToService": "scheduler.amazonaws.com"}))
        return found

    return requests


def _logs_stream(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    # GetLogEvents, CreateLogStream and PutLogEvents are authorized on the log stream (AWS Service
    # Authorization Reference, CloudWatch Logs: resource type log-stream*).
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        group = str(p.get("logGroupName") or _name(str(p.get("logGroupIdentifier"))))
        return [Request(action, f.arn("logs", f"log-group:{group}:log-stream:{p['logStreamName']}"))]

    return requests


def _simple(action: str, resource: Callable[[Mapping[str, Any], Facts], str]) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    return lambda p, f: [Request(action, resource(p, f))]


def _tags(tags: Sequence[Mapping[str, Any]], prefix: str) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {f"{prefix}/{t['Key']}": str(t["Value"]) for t in tags}
    if prefix == "aws:RequestTag":
        context["aws:TagKeys"] = [str(t["Key"]) for t in tags]
    return context


def _ec2_group(f: Facts, group_id: str) -> tuple[str, dict[str, str | list[str]]]:
    """A security group's ARN, and the keys a request on it carries (its tags, its VPC)."""
    described = f.security_group(group_id)
    context = _tags(described.get("Tags") or [], "aws:ResourceTag")
    if described.get("VpcId"):
        context["ec2:Vpc"] = f.arn("ec2", f"vpc/{described['VpcId']}")
    return f.arn("ec2", f"security-group/{group_id}"), context


def _ec2_create_security_group(p: Mapping[str, Any], f: Facts) -> list[Request]:
    # Authorized on the group being created and on its VPC; tags given at creation are also
    # ec2:CreateTags with ec2:CreateAction=CreateSecurityGroup (EC2's tag-on-create).
    vpc = f.arn("ec2", f"vpc/{p['VpcId']}")
    tags = [t for spec in p.get("TagSpecifications") or [] for t in spec.get("Tags") or []]
    group = f.arn("ec2", "security-group/*")
    requested = _tags(tags, "aws:RequestTag")
    found = [Request("ec2:CreateSecurityGroup", group, {**requested, "ec2:Vpc": vpc}), Request("ec2:CreateSecurityGroup", vpc, {"ec2:Vpc": vpc})]
    if tags:
        found.append(Request("ec2:CreateTags", group, {**requested, "ec2:CreateAction": "CreateSecurityGroup"}))
    return found


def _ec2_on_group(action: str) -> Callable[[Mapping[str, Any], Facts], list[Request]]:
    def requests(p: Mapping[str, Any], f: Facts) -> list[Request]:
        arn, context = _ec2_group(f, str(p["GroupId"]))
        return [Request(action, arn, context)]

    return requests


OPERATIONS: dict[tuple[str, str], Callable[[Mapping[str, Any], Facts], list[Request]]] = {
    ("ecs", "RunTask"): _ecs_run_task,
    ("ecs", "DescribeTasks"): _ecs_on_tasks("ecs:DescribeTasks"),
    ("ecs", "StopTask"): _ecs_on_tasks("ecs:StopTask"),
    # ListTasks names no task (its resource type is the container instance, none here): "*", by cluster.
    ("ecs", "ListTasks"): lambda p, f: [Request("ecs:ListTasks", "*", {"ecs:cluster": _ecs_cluster(f, p.get("cluster"))})],
    ("ecs", "DescribeTaskDefinition"): _simple("ecs:DescribeTaskDefinition", lambda p, f: "*"),  # no resource-level permission
    ("s3", "PutObject"): _s3_object("s3:PutObject"),
    ("s3", "GetObject"): _s3_object("s3:GetObject"),
    ("s3", "HeadObject"): _s3_object("s3:GetObject"),
    ("s3", "DeleteObject"): _s3_object("s3:DeleteObject"),
    ("stepfunctions", "StartExecution"): _simple("states:StartExecution", lambda p, f: str(p["stateMachineArn"])),
    ("stepfunctions", "DescribeExecution"): _simple("states:DescribeExecution", lambda p, f: str(p["executionArn"])),
    ("stepfunctions", "StopExecution"): _simple("states:StopExecution", lambda p, f: str(p["executionArn"])),
    ("events", "PutEvents"): _events_put_events,
    ("events", "PutRule"): _events_rule("events:PutRule"),
    ("events", "PutTargets"): _events_rule("events:PutTargets"),
    ("events", "RemoveTargets"): _events_rule("events:RemoveTargets"),
    ("events", "DeleteRule"): _events_rule("events:DeleteRule"),
    ("events", "DescribeRule"): _events_rule("events:DescribeRule"),
    ("scheduler", "CreateSchedule"): _schedule("scheduler:CreateSchedule"),
    ("scheduler", "UpdateSchedule"): _schedule("scheduler:UpdateSchedule"),
    ("scheduler", "DeleteSchedule"): _schedule("scheduler:DeleteSchedule"),
    ("scheduler", "GetSchedule"): _schedule("scheduler:GetSchedule"),
    ("logs", "GetLogEvents"): _logs_stream("logs:GetLogEvents"),
    ("logs", "CreateLogStream"): _logs_stream("logs:CreateLogStream"),
    ("logs", "PutLogEvents"): _logs_stream("logs:PutLogEvents"),
    ("secretsmanager", "GetSecretValue"): _simple("secretsmanager:GetSecretValue", lambda p, f: _secret(f, p["SecretId"])),
    ("secretsmanager", "CreateSecret"): _simple("secretsmanager:CreateSecret", lambda p, f: _secret(f, p["Name"])),
    ("secretsmanager", "PutSecretValue"): _simple("secretsmanager:PutSecretValue", lambda p, f: _secret(f, p["SecretId"])),
    ("secretsmanager", "DeleteSecret"): _simple("secretsmanager:DeleteSecret", lambda p, f: _secret(f, p["SecretId"])),
    ("events", "CreateConnection"): _events_connection("events:CreateConnection", "secretsmanager:CreateSecret"),
    ("events", "UpdateConnection"): _events_connection("events:UpdateConnection", "secretsmanager:PutSecretValue"),
    ("events", "DeleteConnection"): _events_connection("events:DeleteConnection", "secretsmanager:DeleteSecret"),
    ("events", "DescribeConnection"): _events_connection("events:DescribeConnection", None),
    ("events", "CreateApiDestination"): _events_api_destination("events:CreateApiDestination"),
    ("events", "UpdateApiDestination"): _events_api_destination("events:UpdateApiDestination"),
    ("events", "DeleteApiDestination"): _events_api_destination("events:DeleteApiDestination"),
    ("events", "DescribeApiDestination"): _events_api_destination("events:DescribeApiDestination"),
    ("lambda", "Invoke"): _simple("lambda:InvokeFunction", lambda p, f: p["FunctionName"] if p["FunctionName"].startswith("arn:") else f.arn("lambda", f"function:{p['FunctionName']}")),
    ("sqs", "SendMessage"): _simple("sqs:SendMessage", lambda p, f: f.arn("sqs", str(p["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1])),
    ("sts", "GetCallerIdentity"): lambda p, f: [],  # needs no permission
    # EC2's Describe* take no resource-level permission.
    ("ec2", "DescribeSubnets"): _simple("ec2:DescribeSubnets", lambda p, f: "*"),
    ("ec2", "DescribeSecurityGroups"): _simple("ec2:DescribeSecurityGroups", lambda p, f: "*"),
    ("ec2", "CreateSecurityGroup"): _ec2_create_security_group,
    ("ec2", "AuthorizeSecurityGroupIngress"): _ec2_on_group("ec2:AuthorizeSecurityGroupIngress"),
    ("ec2", "RevokeSecurityGroupIngress"): _ec2_on_group("ec2:RevokeSecurityGroupIngress"),
    ("ec2", "RevokeSecurityGroupEgress"): _ec2_on_group("ec2:RevokeSecurityGroupEgress"),
    ("ec2", "DeleteSecurityGroup"): _ec2_on_group("ec2:DeleteSecurityGroup"),
}


def requests_for(service: str, operation: str, params: Mapping[str, Any], facts: Facts) -> list[Request]:
    mapped = OPERATIONS.get((service, operation))
    if mapped is None:
        raise UnmappedOperationError(f"{service}.{operation} is not mapped to the IAM actions it needs (tests/support/iam_check.py)")
    return mapped(params, facts)
