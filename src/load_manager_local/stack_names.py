"""Names of a stack that was never deployed: every resource named as CloudFormation would name it.

`NamingResolver` answers `Ref` and `Fn::GetAtt` for any resource of a `Stack` without creating
anything: a name property the template sets, else `<stack>-<logical id>-<suffix>` (CloudFormation's
random suffix, here derived from both so it is stable), and the ARN of that name. A runtime that
really creates some resources (in moto) records their answers in `known`; the rest keep these names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from load_manager_local.stack import Stack, TemplateError, as_text


def name_suffix(stack_name: str, logical_id: str) -> str:
    """CloudFormation's random suffix, derived from the stack and the resource so it is stable."""
    return hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()[:12].upper()


def generated_name(stack_name: str, logical_id: str, max_length: int = 64, *, lowercase: bool = False) -> str:
    """`<stack>-<logical id>-<suffix>`, as CloudFormation names a resource the template leaves unnamed."""
    suffix = name_suffix(stack_name, logical_id)
    name = f"{stack_name}-{logical_id}"[: max_length - len(suffix) - 1] + f"-{suffix}"
    return name.lower() if lowercase else name


# Per type: the property that names it, and whether a generated name is lowercase; then its ARN.
_NAMES: dict[str, tuple[str, bool]] = {
    "AWS::Lambda::Function": ("FunctionName", False), "AWS::IAM::Role": ("RoleName", False),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", False), "AWS::S3::Bucket": ("BucketName", True),
    "AWS::Events::EventBus": ("Name", False), "AWS::Scheduler::ScheduleGroup": ("Name", False),
    "AWS::ECS::Cluster": ("ClusterName", False), "AWS::ECS::TaskDefinition": ("Family", False),
    "AWS::Logs::LogGroup": ("LogGroupName", False), "AWS::SQS::Queue": ("QueueName", False),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", False), "AWS::Lambda::LayerVersion": ("LayerName", False),
    "AWS::Events::Rule": ("Name", False), "AWS::SNS::Topic": ("TopicName", False),
}  # fmt: skip
_ARNS: dict[str, str] = {
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{n}", "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{n}",
    "AWS::IAM::ManagedPolicy": "arn:{p}:iam::{a}:policy/{n}", "AWS::S3::Bucket": "arn:{p}:s3:::{n}",
    "AWS::Events::EventBus": "arn:{p}:events:{r}:{a}:event-bus/{n}", "AWS::Scheduler::ScheduleGroup": "arn:{p}:scheduler:{r}:{a}:schedule-group/{n}",
    "AWS::ECS::Cluster": "arn:{p}:ecs:{r}:{a}:cluster/{n}", "AWS::ECS::TaskDefinition": "arn:{p}:ecs:{r}:{a}:task-definition/{n}:1",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{n}:*", "AWS::SQS::Queue": "arn:{p}:sqs:{r}:{a}:{n}",
    "AWS::StepFunctions::StateMachine": "arn:{p}:states:{r}:{a}:stateMachine:{n}", "AWS::Lambda::LayerVersion": "arn:{p}:lambda:{r}:{a}:layer:{n}:1",
    "AWS::Cognito::UserPool": "arn:{p}:cognito-idp:{r}:{a}:userpool/{n}", "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{n}",
    "AWS::Events::Rule": "arn:{p}:events:{r}:{a}:rule/{n}",  # a rule of another bus than the default: rule/<bus>/<name>
}  # fmt: skip
_REF_IS_ARN = {
    "AWS::IAM::ManagedPolicy", "AWS::ECS::TaskDefinition", "AWS::StepFunctions::StateMachine", "AWS::Lambda::LayerVersion", "AWS::SNS::Topic",
}  # fmt: skip


class NamingResolver:
    """Every resource named as CloudFormation would name it, nothing created. Subclass (or give
    `known`) to answer with what a runtime really created."""

    def __init__(self, stack: Stack, known: Mapping[tuple[str, str], Any] | None = None) -> None:
        self.stack = stack
        self.known: dict[tuple[str, str], Any] = dict(known or {})  # (logical id, "Ref" | attribute) -> value

    def name(self, logical_id: str) -> str:
        resource = self.stack.resource(logical_id)
        prop, lowercase = _NAMES.get(resource["Type"], ("", False))
        explicit = (resource.get("Properties") or {}).get(prop) if prop else None
        if explicit is not None:
            return as_text(self.stack.resolve(explicit, self))
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            return f"{logical_id}-{name_suffix(self.stack.name, logical_id)}"  # state machines: <logical id>-<suffix>
        return generated_name(self.stack.name, logical_id, 63 if lowercase else 64, lowercase=lowercase)

    def arn(self, logical_id: str) -> str:
        resource_type = self.stack.resource(logical_id)["Type"]
        if resource_type not in _ARNS:
            raise TemplateError(f"no ARN known for {logical_id} ({resource_type})")
        stack, name = self.stack, self.name(logical_id)
        if resource_type == "AWS::Events::Rule":
            bus = as_text(stack.resolve((stack.resource(logical_id).get("Properties") or {}).get("EventBusName", "default"), self))
            name = name if bus in ("default", "") else f"{bus.rsplit('/', 1)[-1]}/{name}"
        return _ARNS[resource_type].format(p=stack.partition, r=stack.region, a=stack.account_id, n=name)

    def ref(self, logical_id: str) -> Any:
        if (logical_id, "Ref") in self.known:
            return self.known[(logical_id, "Ref")]
        resource_type = self.stack.resource(logical_id)["Type"]
        if resource_type in _REF_IS_ARN:
            return self.get_att(logical_id, "Arn")
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{self.stack.region}.amazonaws.com/{self.stack.account_id}/{self.name(logical_id)}"
        if resource_type == "AWS::EC2::SecurityGroup":
            return "sg-" + hashlib.sha256(logical_id.encode()).hexdigest()[:17]
        if resource_type == "AWS::ApiGatewayV2::Api":
            return hashlib.sha256(f"{self.stack.name}/{logical_id}".encode()).hexdigest()[:10]
        return self.name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self.known:
            return self.known[(logical_id, attribute)]
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName", "LogGroupName"):
            return self.name(logical_id)
        if attribute in ("GroupId", "Id"):
            return self.ref(logical_id)
        if attribute in ("DomainName", "RegionalDomainName"):
            return f"{self.ref(logical_id)}.s3.{self.stack.region}.amazonaws.com"
        if attribute == "ApiEndpoint":
            return f"https://{self.ref(logical_id)}.execute-api.{self.stack.region}.amazonaws.com"
        raise TemplateError(f"no attribute {attribute} known for {logical_id}")
