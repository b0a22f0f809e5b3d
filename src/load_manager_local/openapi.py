"""One OpenAPI document for the whole HTTP API, generated from the functions' own resolvers.

The API functions are those with HttpApi events in `template.yaml`; each `functions/<name>/app.py`
exposes its `router`. All of them are included into one fresh resolver, so a new function (runs,
…) shows up here without touching this file. `python -m load_manager_local.openapi` prints it;
`make openapi` writes `openapi.json`, which a test keeps in step with the code.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from load_manager.models.base import GatewayError
from load_manager_local.functions import load_function, project_root
from load_manager_local.template import HttpRoute, http_routes

TITLE = "Load Manager API"
BEARER = "bearerAuth"
ERROR_REF = "#/components/schemas/ErrorResponse"
GATEWAY_ERROR_REF = "#/components/schemas/GatewayError"
# Statuses API Gateway may answer itself, before any Lambda runs, with its own body.
GATEWAY_STATUSES = ("401", "413")
# Powertools' own error schemas; our resolver never answers with them (see `_fix_errors`).
POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def api_routes() -> list[HttpRoute]:
    return http_routes(project_root() / "template.yaml")


def api_version() -> str:
    # pyproject.toml is the source of truth; installed metadata can be stale in an editable install.
    with open(project_root() / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def build_openapi() -> dict[str, Any]:
    routes = api_routes()
    resolver = APIGatewayHttpResolver(enable_validation=True)
    for name in sorted({route.function for route in routes}):
        module = load_function(name)
        if not hasattr(module, "router"):
            raise AttributeError(f"functions/{name}/app.py serves HTTP routes but exposes no `router`")
        owner = getattr(module.router, "api_resolver", None)
        resolver.include_router(module.router)
        # include_router re-points the router at this resolver; give it back to the function's own
        # `app`, or handlers reading `router.current_event` would see this document-only resolver.
        module.router.api_resolver = owner
    raw = resolver.get_openapi_json_schema(
        title=TITLE,
        version=api_version(),
        description="Serverless control plane for Locust load tests: versioned scripts, runs, metrics.",
        security_schemes={
            BEARER: HTTPBearer(
                bearerFormat="JWT or lmt_ token", description="A Cognito JWT or an API token (lmt_...), checked by the API's Lambda authorizer"
            )
        },
        security=[{BEARER: []}],
    )
    doc = json.loads(raw)
    _open_public_routes(doc, routes)
    _fix_errors(doc)
    _binary_request_bodies(doc)
    return doc


def _binary_request_bodies(doc: dict[str, Any]) -> None:
    """A route whose body is not JSON (a zip upload) declares it as `x-request-body` (Powertools
    only documents bodies it parses); here it becomes the operation's requestBody."""
    for item in doc["paths"].values():
        for method in METHODS:
            operation = item.get(method) or {}
            if "x-request-body" in operation:
                operation["requestBody"] = {"required": True, **operation.pop("x-request-body")}


def _open_public_routes(doc: dict[str, Any], routes: list[HttpRoute]) -> None:
    """The template decides which routes skip the authorizer; `security: []` overrides the global one.

    (Powertools drops an empty per-route `security`, so this cannot be said in the decorator.)
    """
    for route in routes:
        operation = doc["paths"].get(route.path, {}).get(route.method.lower())
        if operation is not None and not route.authorized:
            operation["security"] = []


def _fix_errors(doc: dict[str, Any]) -> None:
    """Say what the API really sends.

    `load_manager.http.build_resolver` turns every request validation error into an ErrorResponse,
    so Powertools' default 422 schema (HTTPValidationError) is never sent. And a 204 has no body.
    """
    for item in doc["paths"].values():
        for method in METHODS:
            for status, response in (item.get(method) or {}).get("responses", {}).items():
                if status == "204":
                    response.pop("content", None)
                    continue
                content = response.get("content", {}).get("application/json", {})
                schema = content.get("schema", {})
                if schema.get("$ref", "").rsplit("/", 1)[-1] in POWERTOOLS_ERROR_SCHEMAS:
                    schema["$ref"] = ERROR_REF
                if status in GATEWAY_STATUSES and schema.get("$ref") == ERROR_REF:
                    content["schema"] = {"anyOf": [{"$ref": ERROR_REF}, {"$ref": GATEWAY_ERROR_REF}]}
    schemas = doc.get("components", {}).get("schemas", {})
    schemas["GatewayError"] = GatewayError.model_json_schema(by_alias=True)
    for name in POWERTOOLS_ERROR_SCHEMAS:
        # Prune once unreferenced; in this order, ValidationError (used only by the other two) goes last.
        if name in schemas and f'"#/components/schemas/{name}"' not in json.dumps(doc):
            schemas.pop(name)


def render(doc: dict[str, Any]) -> str:
    """Stable text: sorted keys, fixed indentation, trailing newline (diff-friendly when committed)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    print(render(build_openapi()), end="")


if __name__ == "__main__":
    main()
