"""The HTTP API reference, rendered from the committed openapi.json (itself generated from the
resolvers and checked for drift by a test): every operation, grouped by tag, and every schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from markdown_text import prose, table

METHODS = ("get", "post", "put", "patch", "delete")
SCHEMAS_PAGE = "api-schemas.md"
_CONSTRAINTS = (
    ("minLength", "min length {}"), ("maxLength", "max length {}"), ("minimum", "≥ {}"), ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"), ("minItems", "at least {} items"), ("maxItems", "at most {} items"), ("minProperties", "at least {} keys"),
    ("pattern", "pattern `{}`"), ("contentEncoding", "{}-encoded"),
)  # fmt: skip


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def schema_anchor(name: str) -> str:
    return f"schema-{name.lower()}"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any], link_prefix: str = "") -> str:
    """A schema as words: `string`, `integer or null`, `array of [Criterion](...)`."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}]({link_prefix}#{schema_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(type_of(option, link_prefix) for option in schema[key]))
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return "array of " + type_of(schema.get("items") or {}, link_prefix)
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + type_of(schema["additionalProperties"], link_prefix)
    return str(kind) if kind else "any"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def constraints(schema: dict[str, Any]) -> list[str]:
    found = [template.format(_number(schema[key])) for key, template in _CONSTRAINTS if key in schema]
    if "contentEncoding" in schema and schema["contentEncoding"] in (schema.get("description") or ""):
        found.remove(f"{schema['contentEncoding']}-encoded")  # the description says it already
    for option in schema.get("anyOf", []):
        found += constraints(option)
    return found


def _describe(schema: dict[str, Any], extra: list[str]) -> str:
    parts = [prose(schema.get("description") or "")] + extra + constraints(schema)
    if "default" in schema:
        parts.append(f"default `{json.dumps(schema['default'])}`")
    return "; ".join(part for part in parts if part)


def _parameters(operation: dict[str, Any]) -> str:
    rows = []
    for param in operation.get("parameters", []):
        schema = param.get("schema") or {}
        required = "yes" if param.get("required") else ""
        rows.append([f"`{param['name']}`", param["in"], type_of(schema, SCHEMAS_PAGE), required, _describe(param | schema, [])])
    return table(["Parameter", "In", "Type", "Required", "Description"], rows) if rows else ""


def _body(operation: dict[str, Any]) -> str:
    body = operation.get("requestBody")
    if not body:
        return ""
    lines = [f"- `{media}`: {type_of(content.get('schema') or {}, SCHEMAS_PAGE)}" for media, content in body["content"].items()]
    return "**Request body**" + (" (required)" if body.get("required") else "") + "\n\n" + "\n".join(lines)


def _responses(operation: dict[str, Any]) -> str:
    rows = []
    for status, response in sorted(operation["responses"].items()):
        content = response.get("content") or {}
        answer = "<br>".join(f"`{media}`: {type_of(c.get('schema') or {}, SCHEMAS_PAGE)}" for media, c in content.items()) or "no body"
        rows.append([f"`{status}`", response.get("description", ""), answer])
    return table(["Status", "Meaning", "Body"], rows)


def operations(spec: dict[str, Any]) -> str:
    """Every operation under its tag (in the order tags first appear), each as a section."""
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in spec["paths"].items():
        for method in METHODS:
            if method in methods:
                operation = methods[method]
                by_tag.setdefault((operation.get("tags") or ["other"])[0], []).append((method, path, operation))
    out = []
    for tag, entries in by_tag.items():
        out.append(f"## {tag}\n")
        for method, path, operation in entries:
            out.append(_operation(method, path, operation))
    return "\n".join(out)


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    auth = "No authentication." if operation.get("security") == [] else "Bearer JWT (the API's authorizer)."
    parts = [
        f"### `{method.upper()} {path}` {{#{operation['operationId']}}}\n",
        prose(operation.get("summary") or "") + ". " + auth,
        _parameters(operation),
        _body(operation),
        "**Responses**\n\n" + _responses(operation),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def schemas(spec: dict[str, Any]) -> str:
    out = []
    for name, schema in sorted(spec["components"]["schemas"].items()):
        out.append(f"## {name} {{#{schema_anchor(name)}}}\n")
        if schema.get("description"):
            out.append(prose(schema["description"].replace("\n", " ")) + "\n")
        out.append(_schema_body(schema) + "\n")
    return "\n".join(out)


def _schema_body(schema: dict[str, Any]) -> str:
    properties = schema.get("properties")
    if not properties:
        return f"Type: {type_of(schema)}."
    required = set(schema.get("required", []))
    rows = []
    for field, sub in properties.items():
        rows.append([f"`{field}`", type_of(sub), "yes" if field in required else "", _describe(sub, [])])
    closed = "" if schema.get("additionalProperties") is not False else "\n\nOther fields are refused (422)."
    return table(["Field", "Type", "Required", "Description"], rows) + closed
