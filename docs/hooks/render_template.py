"""template.yaml's parameters and outputs, and the environment the template gives each function,
read from the template itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from markdown_text import code, prose, table


class Tagged(dict):
    """An intrinsic function, shown in its short form: {"Ref": "X"} is `!Ref X`."""

    def __str__(self) -> str:
        ((name, value),) = self.items()
        tag = name.removeprefix("Fn::")
        if tag == "GetAtt" and isinstance(value, list) and all(isinstance(part, str) for part in value):
            value = ".".join(value)  # as written: !GetAtt Function.Arn
        return f"!{tag} {json.dumps(value) if not isinstance(value, str) else value}"


def _tagged(value: Any) -> Any:
    """The template with each intrinsic function (a one-key {"Ref" or "Condition" or "Fn::...": ...}) a Tagged."""
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    if not isinstance(value, dict):
        return value
    found = {key: _tagged(item) for key, item in value.items()}
    if len(found) == 1 and any(key in ("Ref", "Condition") or key.startswith("Fn::") for key in found):
        return Tagged(found)
    return found


def load(path: Path) -> dict[str, Any]:
    from load_manager_local.template import parse_template

    return _tagged(parse_template(path.read_text()))


def environments(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{"Globals" or a function's logical id: {VARIABLE: value as written}}."""
    found = {"Globals": ((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables") or {}}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            if variables:
                found[logical_id] = variables
    return found


def _refs(value: Any) -> set[str]:
    """Names a value refers to: !Ref X, !Sub "${X}", and those nested in !Join and friends."""
    if isinstance(value, Tagged):
        ((tag, inner),) = value.items()
        if tag == "Ref" and isinstance(inner, str):
            return {inner}
        if tag == "Fn::Sub":
            text = inner if isinstance(inner, str) else inner[0]
            return {part.split("}", 1)[0].split(".")[0] for part in text.split("${")[1:]}
        return _refs(inner)
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_refs(item) for item in value.values())) if value else set()
    return set()


def parameter_variables(template: dict[str, Any]) -> dict[str, list[str]]:
    """{parameter: ["VARIABLE (where)", ...]}: the function environment each parameter reaches."""
    found: dict[str, list[str]] = {}
    for where, variables in environments(template).items():
        for name, value in variables.items():
            for ref in _refs(value):
                found.setdefault(ref, []).append(f"{code(name)} ({where})")
    return found


def parameters(template: dict[str, Any]) -> str:
    """Each parameter as a definition: name, type and default; description and allowed values;
    the function environment it reaches."""
    reaches = parameter_variables(template)
    out = []
    for name, spec in template["Parameters"].items():
        value = spec.get("Default")
        default = "**required**" if "Default" not in spec else "default " + code(json.dumps(value) if value == "" else value)
        allowed = []
        if "AllowedValues" in spec:
            allowed.append("One of " + ", ".join(code(v) for v in spec["AllowedValues"]) + ".")
        for key, words in (("MinValue", "At least"), ("MaxValue", "At most"), ("AllowedPattern", "Matches")):
            if key in spec:
                allowed.append(f"{words} {code(spec[key])}.")
        paragraphs = [" ".join([prose(spec.get("Description", "")).rstrip(".") + "." if spec.get("Description") else ""] + allowed).strip()]
        if name in reaches:
            paragraphs.append("Sets " + ", ".join(reaches[name]) + ".")
        term = f'<a id="param-{name}"></a>`{name}` ({code(spec["Type"])}, {default})'
        out.append(term + "\n:   " + "\n\n    ".join(p for p in paragraphs if p) + "\n")
    return "\n".join(out)


def outputs(template: dict[str, Any]) -> str:
    rows = []
    for name, spec in template.get("Outputs", {}).items():
        condition = f" (only when {code(spec['Condition'])})" if "Condition" in spec else ""
        rows.append([code(name), prose(spec.get("Description", "")) + condition])
    return table(["Output", "What it is"], rows)
