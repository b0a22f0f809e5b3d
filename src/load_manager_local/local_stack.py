"""The stack template.yaml describes, as `serve` (and `load-manager invoke`) run it on this machine.

template.yaml is read by load_manager_local.stack (SAM's translator, conditions, every intrinsic) for
a stack named `STACK_NAME`, every resource named as CloudFormation names it for a stack that was
never deployed (stack_names.NamingResolver). What the local runtime creates takes those names, so
what the template says of them holds as written:
- in moto (aws.py): every AWS::Events::EventBus, AWS::Scheduler::ScheduleGroup and AWS::Events::Rule
  whose Condition holds (ForwardAwsEventsRule forwards the `ForwardedEventSources` from the default
  bus to the stack's);
- in moto's Step Functions (runtime.py): the state machine, its definition with its
  DefinitionSubstitutions, under its name, so its ARN is the one RUN_STATE_MACHINE_ARN gives;
- the functions, by the names their ARNs say (the state machine's task, the rules' and schedules'
  target), each with the environment the template gives it (local_functions.py applies the local
  deviations to it).

Parameters take their defaults unless given; those without one (the VPC, its subnets, the Lambda's
security group) are empty: no VPC exists on this machine (`LOCAL_PARAMETERS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_manager_local.functions import project_root
from load_manager_local.stack import DEFAULT_ACCOUNT_ID, Stack, StackFunction, TemplateError, as_text
from load_manager_local.stack_names import NamingResolver

__all__ = ["LOCAL_PARAMETERS", "STACK_NAME", "LocalRule", "LocalStack", "LocalStateMachine", "TemplateError", "local_stack", "read_local_stack"]

STACK_NAME = "load-manager"
TRIGGERS_CODE_DIR = "triggers"  # the function every rule and schedule targets (functions/triggers)
# The parameters CloudFormation would insist on (no default): no VPC on this machine. Empty, the
# functions' ECS_* subnets and groups are empty too, as `serve` always had them.
LOCAL_PARAMETERS: dict[str, str] = {"VpcId": "", "SubnetIds": "", "LambdaSecurityGroupId": ""}


@dataclass(frozen=True)
class LocalRule:
    """One AWS::Events::Rule as PutRule and PutTargets take it."""

    name: str
    bus_name: str
    put_rule: dict[str, Any]
    targets: list[dict[str, Any]]


@dataclass(frozen=True)
class LocalStateMachine:
    """The stack's AWS::StepFunctions::StateMachine: its name, the ARN the functions are given, the
    definition with its substitutions applied, and the role the template gives it."""

    logical_id: str
    name: str
    arn: str
    definition: str
    role_arn: str


@dataclass(frozen=True)
class LocalStack:
    stack_name: str
    event_buses: tuple[str, ...]
    schedule_groups: tuple[str, ...]
    rules: tuple[LocalRule, ...]
    # What the triggers function's environment names
    event_bus_name: str
    schedule_group: str
    name_prefix: str  # TRIGGER_RULE_PREFIX: what its rules and its schedules are named after
    triggers_function: str
    region: str = "us-east-1"
    account_id: str = DEFAULT_ACCOUNT_ID
    functions: Mapping[str, StackFunction] = field(default_factory=dict)  # by logical id, environment as the template gives it
    state_machine: LocalStateMachine | None = None

    def function_in(self, code_dir: str) -> StackFunction:
        """The function whose code is functions/<code_dir>."""
        found = [f for f in self.functions.values() if f.code_dir is not None and f.code_dir.name == code_dir]
        if len(found) != 1:
            raise TemplateError(f"{len(found)} functions with CodeUri functions/{code_dir}/ in the template (expected one)")
        return found[0]


def read_local_stack(
    template_path: Path, *, stack_name: str = STACK_NAME, region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID,
    parameters: Mapping[str, str] | None = None, cache_dir: Path | None = None,
) -> LocalStack:  # fmt: skip
    """`cache_dir`: where SAM's translation is kept between starts (stack_translate)."""
    given = {**LOCAL_PARAMETERS, **(parameters or {})}
    stack = Stack(template_path, given, name=stack_name, region=region, account_id=account_id, cache_dir=cache_dir)
    resolver = NamingResolver(stack)
    functions = stack.functions(resolver)
    triggers = next((f for f in functions.values() if f.code_dir is not None and f.code_dir.name == TRIGGERS_CODE_DIR), None)
    if triggers is None:
        raise TemplateError(f"no function with CodeUri functions/{TRIGGERS_CODE_DIR}/ in the template")
    environment = triggers.environment
    return LocalStack(
        stack_name=stack_name,
        event_buses=tuple(resolver.name(logical_id) for logical_id in stack.resources("AWS::Events::EventBus")),
        schedule_groups=tuple(resolver.name(logical_id) for logical_id in stack.resources("AWS::Scheduler::ScheduleGroup")),
        rules=tuple(_rule(stack, resolver, logical_id) for logical_id in stack.resources("AWS::Events::Rule")),
        event_bus_name=environment["EVENT_BUS_NAME"],
        schedule_group=environment["SCHEDULE_GROUP"],
        name_prefix=environment["TRIGGER_RULE_PREFIX"],
        triggers_function=triggers.name,
        region=region,
        account_id=account_id,
        functions=functions,
        state_machine=_state_machine(stack, resolver),
    )


_LOCAL_STACKS: dict[tuple[str, str], LocalStack] = {}


def local_stack(region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID, *, cache_dir: Path | None = None) -> LocalStack:
    """What `serve` runs: the project's template, parameters at their defaults (once per process)."""
    if (region, account_id) not in _LOCAL_STACKS:
        template = project_root() / "template.yaml"
        _LOCAL_STACKS[(region, account_id)] = read_local_stack(template, region=region, account_id=account_id, cache_dir=cache_dir)
    return _LOCAL_STACKS[(region, account_id)]


def _rule(stack: Stack, resolver: NamingResolver, logical_id: str) -> LocalRule:
    properties = stack.resolve(stack.resource(logical_id).get("Properties") or {}, resolver)
    name, bus = resolver.name(logical_id), as_text(properties.get("EventBusName") or "default").split("/")[-1]
    put_rule: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": properties.get("State", "ENABLED")}
    if "EventPattern" in properties:
        pattern = properties["EventPattern"]
        put_rule["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    put_rule |= {key: properties[key] for key in ("Description", "ScheduleExpression", "RoleArn") if key in properties}
    return LocalRule(name=name, bus_name=bus, put_rule=put_rule, targets=list(properties.get("Targets") or []))


def _state_machine(stack: Stack, resolver: NamingResolver) -> LocalStateMachine | None:
    machines = list(stack.resources("AWS::StepFunctions::StateMachine"))
    if len(machines) > 1:
        raise TemplateError(f"the local runtime runs one state machine; the template has {', '.join(machines)}")
    if not machines:
        return None
    (logical_id,) = machines
    role = (stack.resource(logical_id).get("Properties") or {}).get("RoleArn")
    return LocalStateMachine(
        logical_id=logical_id,
        name=resolver.name(logical_id),
        arn=as_text(resolver.ref(logical_id)),
        definition=stack.state_machine_definition(logical_id, resolver),
        role_arn=as_text(stack.resolve(role, resolver)) if role is not None else "",
    )
