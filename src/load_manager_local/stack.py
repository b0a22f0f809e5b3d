"""The stack `template.yaml` describes, as CloudFormation sees it once `sam deploy` has run: SAM's own
translator expands it (Globals merged into every function, policy templates into role policies,
events into permissions and routes), its conditions are evaluated and its intrinsics resolved.

    stack = Stack(project_root() / "template.yaml", {"VpcId": "vpc-1", ...}, name="load-manager")
    resolver = NamingResolver(stack)                    # load_manager_local.stack_names
    for function in stack.functions(resolver).values():
        function.environment                            # exactly the variables CloudFormation would set
        stack.role_policies(function.role, resolver)    # its role's policies, SAM's expanded

What a deployed stack would answer for `Ref` and `Fn::GetAtt` comes from a `Resolver`: the stack
knows parameters and pseudo parameters itself, a resolver knows resources. `NamingResolver` names
every resource as CloudFormation would for a stack that was never deployed; a runtime that creates
some resources (moto's, for tests and `serve`) answers with those and leaves the rest to it.

Local paths (CodeUri, ContentUri, DefinitionUri) are what `sam package` uploads: they become
`s3://` locations for the translator, and `Stack.artifacts` maps each resource back to its path.
Reading and translating live in load_manager_local.stack_translate (which can keep a translation on
disk: `Stack(..., cache_dir=...)`).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from load_manager_local.stack_translate import (
    ARTIFACTS_BUCKET,
    AWS_MANAGED_POLICIES,
    CachedStack,
    cache_key,
    read_cached,
    read_sam_template,
    translate,
    translated,
    write_cached,
)

__all__ = [
    "ARTIFACTS_BUCKET", "DEFAULT_ACCOUNT_ID", "NO_VALUE", "Policy", "Resolver", "Stack", "StackFunction", "TemplateError",
    "read_sam_template", "translate",
]  # fmt: skip

DEFAULT_ACCOUNT_ID = "123456789012"
NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "AWS::NoValue"})()
_LIST_PARAMETER = re.compile(r"^(CommaDelimitedList|List<.+>)$")
_SUB = re.compile(r"\$\{([^}]+)\}")


class TemplateError(ValueError):
    """The template (or what is asked of it) is not something CloudFormation would deploy."""


class Resolver(Protocol):
    """What a deployed stack answers for its resources."""

    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...


@dataclass(frozen=True)
class Policy:
    """One policy of a role: `source` is `inline:<name>`, `managed:<logical id>` or an AWS-managed ARN."""

    source: str
    document: Mapping[str, Any]
    known: bool = True  # False: an AWS-managed policy this module does not know (no statement here)


@dataclass(frozen=True)
class StackFunction:
    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    code_dir: Path | None  # the function's code on this machine (its CodeUri)
    environment: Mapping[str, str]  # what the template sets (Globals included)
    role: str  # logical id of its role in the template ("" when the role comes from elsewhere)
    role_arn: str
    events: Mapping[str, Any] = field(default_factory=dict)  # SAM's Events, resolved


# ---- the stack -----------------------------------------------------------------------------------


class Stack:
    def __init__(
        self,
        template_path: Path,
        parameters: Mapping[str, str | list[str]] | None = None,
        *,
        name: str = "load-manager",
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
        partition: str = "aws",
        cache_dir: Path | None = None,
    ) -> None:
        """`cache_dir`: keep the translation there, and read it back when nothing it depends on
        changed (load_manager_local.stack_translate)."""
        self.name, self.region, self.account_id, self.partition = name, region, account_id, partition
        self.stack_id = f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{name}/{uuid.uuid5(uuid.NAMESPACE_URL, name)}"
        path = Path(template_path).resolve()
        identity = {"name": name, "region": region, "account": account_id, "partition": partition}
        key = cache_key(path, parameters or {}, identity) if cache_dir is not None else ""
        kept = read_cached(cache_dir, key) if cache_dir is not None else None
        if kept is None:
            kept = self._translate(path, parameters or {})
            if cache_dir is not None:
                try:
                    write_cached(cache_dir, key, kept)
                except OSError:
                    pass  # a cache that cannot be written only means translating again next time
        self.parameters: dict[str, Any] = kept.parameters
        self.artifacts: dict[str, Path] = dict(kept.artifacts)
        self.sam: dict[str, Any] = json.loads(kept.sam)
        self.template: dict[str, Any] = json.loads(kept.cfn)
        self._conditions: dict[str, bool] = {}
        self.pseudo = {
            "AWS::Region": region, "AWS::AccountId": account_id, "AWS::Partition": partition,
            "AWS::StackName": name, "AWS::StackId": self.stack_id, "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [], "AWS::NoValue": NO_VALUE,
        }  # fmt: skip

    def _translate(self, path: Path, parameters: Mapping[str, str | list[str]]) -> CachedStack:
        raw, _ = read_sam_template(path)
        values = _parameter_values(raw.get("Parameters") or {}, parameters)
        # The pseudo parameters too: the translator resolves a few intrinsics itself.
        pseudo = {"AWS::StackName": self.name, "AWS::AccountId": self.account_id, "AWS::Region": self.region, "AWS::Partition": self.partition}
        sam, cfn, artifacts = translated(path, path.stat().st_mtime, json.dumps({**values, **pseudo}, sort_keys=True), self.region, self.partition)
        return CachedStack(values, sam, cfn, dict(artifacts))

    # ---- resources and conditions ----------------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"no condition {name!r}")
            value = self.resolve(conditions[name], _NO_RESOURCES)
            if not isinstance(value, bool):
                raise TemplateError(f"condition {name!r} is not a boolean: {value!r}")
            self._conditions[name] = value
        return self._conditions[name]

    def resources(self, resource_type: str | None = None) -> dict[str, dict[str, Any]]:
        """The resources CloudFormation would create (their Condition holds), by logical id."""
        found = {}
        for logical_id, resource in (self.template.get("Resources") or {}).items():
            if resource_type is not None and resource["Type"] != resource_type:
                continue
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            found[logical_id] = resource
        return found

    def resource(self, logical_id: str) -> dict[str, Any]:
        resource = (self.template.get("Resources") or {}).get(logical_id)
        if resource is None:
            raise TemplateError(f"no resource {logical_id!r} in the template")
        if "Condition" in resource and not self.condition(resource["Condition"]):
            raise TemplateError(f"{logical_id} is not created: its condition {resource['Condition']} is false")
        return dict(resource)

    # ---- intrinsics ------------------------------------------------------------------------------

    def resolve(self, value: Any, resolver: Resolver) -> Any:
        """`value` with every intrinsic function evaluated (AWS::NoValue removed)."""
        if isinstance(value, dict):
            if len(value) == 1:
                (key, argument), *_ = value.items()
                if key == "Ref":
                    return self._ref(argument, resolver)
                if key == "Condition":
                    return self.condition(argument)
                if key.startswith("Fn::"):
                    return self._function(key, argument, resolver)
            resolved = {k: self.resolve(v, resolver) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v, resolver) for v in value) if item is not NO_VALUE]
        return value

    def _ref(self, name: str, resolver: Resolver) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        self.resource(name)
        return resolver.ref(name)

    def _function(self, key: str, argument: Any, resolver: Resolver) -> Any:
        handlers: dict[str, Callable[[Any, Resolver], Any]] = {
            "Fn::GetAtt": self._get_att, "Fn::Sub": self._sub, "Fn::Join": self._join, "Fn::If": self._if,
            "Fn::Select": self._select, "Fn::Split": self._split, "Fn::Equals": self._equals,
            "Fn::Not": lambda a, r: not self._boolean(a[0], r), "Fn::And": lambda a, r: all(self._boolean(c, r) for c in a),
            "Fn::Or": lambda a, r: any(self._boolean(c, r) for c in a),
            "Fn::Base64": lambda a, r: base64.b64encode(str(self.resolve(a, r)).encode()).decode(),
            "Fn::GetAZs": lambda a, r: [f"{self.resolve(a, r) or self.region}{zone}" for zone in "abc"],
        }  # fmt: skip
        if key not in handlers:
            raise TemplateError(f"{key} is not supported here")
        return handlers[key](argument, resolver)

    def _get_att(self, argument: Any, resolver: Resolver) -> Any:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else self.resolve(argument, resolver)
        self.resource(logical_id)
        return resolver.get_att(logical_id, attribute)

    def _sub(self, argument: Any, resolver: Resolver) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1], resolver))

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} stays a literal ${Literal}
            if name in variables:
                found = variables[name]
            elif "." in name and name not in self.pseudo:
                found = self._get_att(name, resolver)
            else:
                found = self._ref(name, resolver)
            return as_text(found)

        return _SUB.sub(value, text)

    def _join(self, argument: Any, resolver: Resolver) -> str:
        delimiter, items = argument[0], self.resolve(argument[1], resolver)
        return str(delimiter).join(as_text(item) for item in items)

    def _if(self, argument: Any, resolver: Resolver) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false, resolver)

    def _select(self, argument: Any, resolver: Resolver) -> Any:
        index, items = self.resolve(argument[0], resolver), self.resolve(argument[1], resolver)
        return items[int(index)]

    def _split(self, argument: Any, resolver: Resolver) -> list[str]:
        return str(self.resolve(argument[1], resolver)).split(str(argument[0]))

    def _equals(self, argument: Any, resolver: Resolver) -> bool:
        left, right = (self.resolve(item, resolver) for item in argument)
        return bool(as_text(left) == as_text(right)) if not isinstance(left, list) else bool(left == right)

    def _boolean(self, expression: Any, resolver: Resolver) -> bool:
        value = self.resolve(expression, resolver)
        if not isinstance(value, bool):
            raise TemplateError(f"not a condition: {expression!r}")
        return value

    # ---- what runs -------------------------------------------------------------------------------

    def functions(self, resolver: Resolver) -> dict[str, StackFunction]:
        """Every Lambda function of the stack, by logical id."""
        return {logical_id: self.function(logical_id, resolver) for logical_id in self.resources("AWS::Lambda::Function")}

    def function(self, logical_id: str, resolver: Resolver) -> StackFunction:
        properties = self.resource(logical_id).get("Properties") or {}
        variables = self.resolve((properties.get("Environment") or {}).get("Variables") or {}, resolver)
        role = properties.get("Role")
        role_id = role["Fn::GetAtt"][0] if isinstance(role, dict) and "Fn::GetAtt" in role else ""
        sam_events = ((self.sam.get("Resources") or {}).get(logical_id, {}).get("Properties") or {}).get("Events") or {}
        return StackFunction(
            logical_id=logical_id,
            name=str(resolver.ref(logical_id)),
            arn=str(resolver.get_att(logical_id, "Arn")),
            handler=str(properties.get("Handler", "")),
            runtime=str(properties.get("Runtime", "")),
            memory_size=int(properties.get("MemorySize", 128)),
            timeout=int(properties.get("Timeout", 3)),
            code_dir=self.artifacts.get(logical_id),
            environment={name: as_text(value) for name, value in variables.items()},
            role=role_id,
            role_arn=as_text(self.resolve(role, resolver)) if role is not None else "",
            events=self.resolve(sam_events, resolver),
        )

    def role_policies(self, role_logical_id: str, resolver: Resolver) -> list[Policy]:
        """A role's identity policies as the template writes them: inline, the template's own managed
        policies, and the AWS-managed ones SAM attaches."""
        properties = self.resource(role_logical_id).get("Properties") or {}
        policies = [
            Policy(f"inline:{inline.get('PolicyName', index)}", inline["PolicyDocument"])
            for index, inline in enumerate(self.resolve(properties.get("Policies") or [], resolver))
        ]
        for reference in properties.get("ManagedPolicyArns") or []:
            policies.extend(self._managed_policy(reference, resolver))
        return policies

    def _managed_policy(self, reference: Any, resolver: Resolver) -> Iterator[Policy]:
        if isinstance(reference, dict) and "Fn::If" in reference:
            name, when_true, when_false = reference["Fn::If"]
            yield from self._managed_policy(when_true if self.condition(name) else when_false, resolver)
        elif isinstance(reference, dict) and list(reference) == ["Ref"] and reference["Ref"] == "AWS::NoValue":
            return
        elif isinstance(reference, dict) and list(reference) == ["Ref"] and reference["Ref"] in self.resources("AWS::IAM::ManagedPolicy"):
            properties = self.resource(reference["Ref"]).get("Properties") or {}
            yield Policy(f"managed:{reference['Ref']}", self.resolve(properties["PolicyDocument"], resolver))
        else:
            arn = as_text(self.resolve(reference, resolver))
            known = AWS_MANAGED_POLICIES.get(arn.split(":policy/", 1)[-1]) if ":iam::aws:policy/" in arn else None
            yield Policy(arn, known or {"Version": "2012-10-17", "Statement": []}, known=known is not None)

    def state_machine_definition(self, logical_id: str, resolver: Resolver) -> str:
        """The state machine's ASL as Step Functions gets it: DefinitionSubstitutions applied."""
        properties = self.resource(logical_id).get("Properties") or {}
        if "DefinitionString" in properties:
            definition = as_text(self.resolve(properties["DefinitionString"], resolver))
        elif logical_id in self.artifacts:
            definition = self.artifacts[logical_id].read_text()
        else:
            raise TemplateError(f"{logical_id}: no definition on this machine")
        substitutions = {name: as_text(value) for name, value in self.resolve(properties.get("DefinitionSubstitutions") or {}, resolver).items()}
        missing = sorted({key for key in _SUB.findall(definition) if key not in substitutions})
        if missing:
            raise TemplateError(f"{logical_id}: placeholders without a substitution: {', '.join(missing)}")
        return _SUB.sub(lambda m: substitutions[m.group(1)], definition)


class _NoResources:
    """Conditions may only use parameters and pseudo parameters."""

    def ref(self, logical_id: str) -> Any:
        raise TemplateError(f"a condition cannot refer to the resource {logical_id}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        raise TemplateError(f"a condition cannot refer to {logical_id}.{attribute}")


_NO_RESOURCES = _NoResources()


def as_text(value: Any) -> str:
    """A value where CloudFormation wants a string (environment variables, Sub, Join)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_text(v) for v in value)
    return str(value)


def _parameter_values(declared: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"the template has no parameter {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name not in given and "Default" not in spec:
            raise TemplateError(f"parameter {name} has no default: give it a value")
        value = given.get(name, spec.get("Default"))
        listed = bool(_LIST_PARAMETER.match(str(spec.get("Type", "String"))))
        if listed:
            value = [str(v) for v in value] if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        else:
            value = as_text(value)
        allowed = [as_text(v) for v in spec.get("AllowedValues") or []]
        if allowed and any(v not in allowed for v in (value if listed else [value])):
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


def lambda_runtime_environment(function: StackFunction, region: str, credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    """What Lambda's runtime itself sets in a function's environment (reserved variables; the
    template cannot set them). `credentials`: the role's session (AWS_ACCESS_KEY_ID, ...)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{function.name}/[$LATEST]local",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "_HANDLER": function.handler,
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        **dict(credentials or {}),
    }


def function_environment(function: StackFunction, region: str, credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of the function's process in Lambda: the template's, then the runtime's."""
    return {**dict(function.environment), **lambda_runtime_environment(function, region, credentials)}
