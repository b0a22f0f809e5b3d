"""The stack's event buses, rules and schedule groups as template.yaml declares them, for `serve`.

`serve` creates in moto what the template would create in AWS: every AWS::Events::EventBus,
AWS::Scheduler::ScheduleGroup and AWS::Events::Rule whose Condition holds (ForwardAwsEventsRule
forwards the `ForwardedEventSources` from the default bus to the stack's), named as CloudFormation
names them for a stack called `STACK_NAME`; and the triggers function gets the names its template
environment gives it (EVENT_BUS_NAME, SCHEDULE_GROUP, TRIGGER_RULE_PREFIX, its FunctionName).

Parameters take their defaults unless overridden. Only the intrinsics these resources use are
evaluated (Ref, Fn::Sub, Fn::GetAtt …Arn, Fn::If, Fn::Not, Fn::Equals, Fn::Join, Condition);
anything else is refused rather than guessed. `template.load_template` drops the short-form tags
(`!Not [!Equals …]` would read as a plain list), so the file is read here keeping them.
A resource without a name property gets `<stack>-<logical id>` (CloudFormation adds a random suffix).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from moto.core.models import DEFAULT_ACCOUNT_ID

from load_manager_local.functions import project_root

STACK_NAME = "load-manager"
TRIGGERS_CODE_URI = "functions/triggers"
_NAME_PROPERTIES = ("Name", "FunctionName", "RoleName")
_ARNS = {
    "AWS::Events::EventBus": "arn:{partition}:events:{region}:{account}:event-bus/{name}",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{name}",
    "AWS::Serverless::Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
}
_SUB = re.compile(r"\$\{([^!}][^}]*)\}")


class TemplateError(ValueError):
    """The template asks for something this reader does not evaluate."""


class _IntrinsicLoader(yaml.SafeLoader):
    """Short-form tags in their long form: `!Ref X` -> {"Ref": "X"}, `!Sub s` -> {"Fn::Sub": s}."""


def _long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


_IntrinsicLoader.add_multi_constructor("!", _long_form)


@dataclass(frozen=True)
class LocalRule:
    """One AWS::Events::Rule as PutRule and PutTargets take it."""

    name: str
    bus_name: str
    put_rule: dict[str, Any]
    targets: list[dict[str, Any]]


@dataclass(frozen=True)
class LocalStack:
    stack_name: str
    event_buses: tuple[str, ...]
    schedule_groups: tuple[str, ...]
    rules: tuple[LocalRule, ...]
    # What the triggers function's environment names
    event_bus_name: str
    schedule_group: str
    rule_prefix: str
    triggers_function: str


class _Evaluator:
    """The few intrinsics of the resources above, for one stack name, region and account."""

    def __init__(self, template: Mapping[str, Any], stack_name: str, region: str, account_id: str, parameters: Mapping[str, str]):
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self._conditions: dict[str, Any] = template.get("Conditions") or {}
        self.names = {"stack": stack_name, "region": region, "account": account_id, "partition": "aws"}
        self.values: dict[str, Any] = {
            "AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": account_id, "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }  # fmt: skip
        for name, declared in (template.get("Parameters") or {}).items():
            value = str(parameters.get(name, declared.get("Default", "")))
            self.values[name] = value.split(",") if declared.get("Type") == "CommaDelimitedList" else value
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref, "Fn::Sub": self._sub, "Fn::GetAtt": self._get_att, "Fn::Join": self._join,
            "Fn::If": lambda a: self(a[1] if self.condition(a[0]) else a[2]),
            "Fn::Not": lambda a: not self(a[0]), "Fn::Equals": lambda a: self(a[0]) == self(a[1]), "Condition": self.condition,
        }  # fmt: skip

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key in self._functions:
                return self._functions[key](argument)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not evaluated by the local stack reader")
        return {k: self(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            raise TemplateError(f"no condition {name!r} in the template")
        return bool(self(self._conditions[name]))

    def exists(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def physical_name(self, logical_id: str) -> str:
        properties = self.resources[logical_id].get("Properties") or {}
        named = next((properties[key] for key in _NAME_PROPERTIES if key in properties), None)
        return str(self(named)) if named is not None else f"{self.names['stack']}-{logical_id}"

    def _ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.resources:
            return self.physical_name(name)
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def _get_att(self, argument: list[str]) -> str:
        logical_id, attribute = argument
        kind = (self.resources.get(logical_id) or {}).get("Type")
        if attribute != "Arn" or kind not in _ARNS:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not evaluated by the local stack reader")
        return _ARNS[kind].format(**self.names, name=self.physical_name(logical_id))

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self(argument[1]))

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            return self._get_att(name.split(".", 1)) if "." in name else str(self._ref(name))

        return _SUB.sub(value, text).replace("${!", "${")

    def _join(self, argument: list[Any]) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self(items))


def read_local_stack(
    template_path: Path, *, stack_name: str = STACK_NAME, region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID,
    parameters: Mapping[str, str] | None = None,
) -> LocalStack:  # fmt: skip
    template = _parsed(template_path)
    evaluate = _Evaluator(template, stack_name, region, account_id, parameters or {})
    present = [(logical_id, resource["Type"]) for logical_id, resource in evaluate.resources.items() if evaluate.exists(logical_id)]
    rules = tuple(_rule(evaluate, logical_id) for logical_id, kind in present if kind == "AWS::Events::Rule")
    triggers = _triggers_function(evaluate.resources)
    environment = (evaluate.resources[triggers]["Properties"].get("Environment") or {}).get("Variables") or {}
    return LocalStack(
        stack_name=stack_name,
        event_buses=tuple(evaluate.physical_name(logical_id) for logical_id, kind in present if kind == "AWS::Events::EventBus"),
        schedule_groups=tuple(evaluate.physical_name(logical_id) for logical_id, kind in present if kind == "AWS::Scheduler::ScheduleGroup"),
        rules=rules,
        event_bus_name=evaluate(environment["EVENT_BUS_NAME"]),
        schedule_group=evaluate(environment["SCHEDULE_GROUP"]),
        rule_prefix=evaluate(environment["TRIGGER_RULE_PREFIX"]),
        triggers_function=evaluate.physical_name(triggers),
    )


@functools.cache
def local_stack(region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID) -> LocalStack:
    """What `serve` creates: the project's template, parameters at their defaults."""
    return read_local_stack(project_root() / "template.yaml", region=region, account_id=account_id)


@functools.cache
def _parsed(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_IntrinsicLoader)  # noqa: S506 - SafeLoader subclass


def _rule(evaluate: _Evaluator, logical_id: str) -> LocalRule:
    properties = evaluate(evaluate.resources[logical_id].get("Properties") or {})
    name, bus = evaluate.physical_name(logical_id), str(properties.get("EventBusName") or "default").split("/")[-1]
    put_rule: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": properties.get("State", "ENABLED")}
    if "EventPattern" in properties:
        pattern = properties["EventPattern"]
        put_rule["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    put_rule |= {key: properties[key] for key in ("Description", "ScheduleExpression", "RoleArn") if key in properties}
    return LocalRule(name=name, bus_name=bus, put_rule=put_rule, targets=list(properties.get("Targets") or []))


def _triggers_function(resources: Mapping[str, Any]) -> str:
    for logical_id, resource in resources.items():
        code_uri = str((resource.get("Properties") or {}).get("CodeUri", "")).rstrip("/")
        if resource.get("Type") == "AWS::Serverless::Function" and code_uri == TRIGGERS_CODE_URI:
            return logical_id
    raise TemplateError(f"no function with CodeUri {TRIGGERS_CODE_URI}/ in the template")
