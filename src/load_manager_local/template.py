"""Read the HTTP routes that `template.yaml` declares, so the local runtime serves exactly those; and
the one reading of the template's YAML (parse_template) that everything else here uses."""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc] # libyaml's parser: 0.45 s -> 0.04 s here
    """CloudFormation's short forms (!Ref X, !Sub s, !GetAtt A.b, ...) as the long forms CloudFormation
    defines ({"Ref": "X"}, {"Fn::Sub": s}, {"Fn::GetAtt": ["A", "b"]}), without touching
    yaml.SafeLoader itself (samtranslator's own helper registers on it, process-wide)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value = str(loader.construct_scalar(node)).split(".", 1)
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def parse_template(text: str) -> dict[str, Any]:
    """A CloudFormation/SAM template's YAML, short-form intrinsics read as their long forms."""
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def ref_target(value: Any) -> str | None:
    """X of `{"Ref": "X"}` (`!Ref X`); None for anything else."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def get_att_target(value: Any) -> tuple[str, str] | None:
    """(logical id, attribute) of `{"Fn::GetAtt": ["A", "b"]}` (`!GetAtt A.b`); None for anything else."""
    if isinstance(value, dict) and len(value) == 1:
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and len(target) == 2 and all(isinstance(part, str) for part in target):
            return target[0], target[1]
    return None


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway syntax: /v1/load-tests/{testId}
    function: str  # directory under functions/
    function_logical_id: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, path: str) -> dict[str, str] | None:
        # `{name+}` is API Gateway's greedy parameter: the rest of the path, slashes included,
        # handed over URL-decoded.
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern) + "$"
        found = re.match(pattern, path)
        if not found:
            return None
        greedy = set(re.findall(r"\{(\w+)\+\}", self.path))
        return {name: unquote(value) if name in greedy else value for name, value in found.groupdict().items()}


@dataclass(frozen=True)
class HttpAuthorizer:
    """The HTTP API's default Lambda authorizer, as the template declares it."""

    function: str  # directory under functions/
    function_logical_id: str
    name: str  # its name under the API's Auth.Authorizers
    identity_headers: tuple[str, ...]  # lower case, as API Gateway hands headers over
    ttl_seconds: int  # Identity.ReauthorizeEvery: how long API Gateway caches an answer per identity


def load_template(path: Path) -> dict[str, Any]:
    """The template as data: parsed once per version of the file (every in-process API and serve reads
    it for its routes and its authorizer), a copy each time so that no caller changes another's."""
    stat = path.stat()
    return copy.deepcopy(_parsed(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed(path: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    return parse_template(Path(path).read_text())


def http_routes(template_path: Path) -> list[HttpRoute]:
    template = load_template(template_path)
    routes = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        code_uri = resource["Properties"]["CodeUri"].rstrip("/")
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event["Properties"]
            auth = (props.get("Auth") or {}).get("Authorizer")
            routes.append(
                HttpRoute(
                    method=props["Method"].upper(),
                    path=props["Path"],
                    function=code_uri.split("/")[-1],
                    function_logical_id=logical_id,
                    authorized=auth != "NONE",
                )
            )
    # Literal segments win over parameters, as in API Gateway.
    return sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path)))


def http_authorizer(template_path: Path) -> HttpAuthorizer | None:
    """The default authorizer of the template's HTTP API when it is a Lambda function (None: none)."""
    template = load_template(template_path)
    resources = template.get("Resources", {})
    for resource in resources.values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        auth = resource.get("Properties", {}).get("Auth") or {}
        name = auth.get("DefaultAuthorizer")
        declared = (auth.get("Authorizers") or {}).get(name) or {}
        target = get_att_target(declared.get("FunctionArn"))  # !GetAtt AuthorizerFunction.Arn
        if target is None or target[1] != "Arn":  # a JWT authorizer, or an ARN this reader cannot follow
            return None
        logical_id = target[0]
        identity = declared.get("Identity") or {}
        return HttpAuthorizer(
            function=resources[logical_id]["Properties"]["CodeUri"].rstrip("/").split("/")[-1],
            function_logical_id=logical_id,
            name=str(name),
            identity_headers=tuple(str(h).lower() for h in identity.get("Headers") or ("Authorization",)),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
        )
    return None
