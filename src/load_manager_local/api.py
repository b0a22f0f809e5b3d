"""The HTTP API in process: route like API Gateway, authenticate with the template's Lambda
authorizer, build the v2 event, call the real handler.

Used by `load-manager serve` and by the tests, so both exercise exactly what Lambda would run. A
request without an Authorization header is the local default caller's (DEFAULT_CLAIMS); one with it
goes through the authorizer function, as API Gateway sends it (gateway_authorizer.py).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from load_manager_local.events import DEFAULT_CLAIMS, LambdaContext, attach_authorizer_context, http_event
from load_manager_local.functions import load_function, project_root
from load_manager_local.gateway_authorizer import GatewayAuthorizer, Refusal
from load_manager_local.local_functions import function_scope
from load_manager_local.template import HttpRoute, http_authorizer, http_routes


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _template_gateway() -> GatewayAuthorizer | None:
    authorizer = http_authorizer(project_root() / "template.yaml")
    return GatewayAuthorizer(authorizer) if authorizer else None


@dataclass
class InProcessApi:
    routes: list[HttpRoute] = field(default_factory=lambda: http_routes(project_root() / "template.yaml"))
    gateway: GatewayAuthorizer | None = field(default_factory=_template_gateway)
    # Powertools keeps the current event on the resolver CLASS (BaseRouter.current_event), so two
    # API handlers may never run at once in one process: each process is one execution environment,
    # as in Lambda. Concurrency across environments = several `load-manager serve` processes.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve(self, method: str, path: str) -> tuple[HttpRoute | None, dict[str, str], bool]:
        """(route, path parameters, path exists with another method)."""
        path_known = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method.upper():
                return route, params, True
            path_known = True
        return None, {}, path_known

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: dict[str, str] | None = None,
        body: bytes | str | dict | list | None = None,
        claims: dict[str, Any] | None = None,
    ) -> ApiResponse:
        """`claims` are what the authorizer would pass on (it does not run); None: the Authorization
        header's caller as the template's authorizer says, without one the local default caller."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = {"content-type": "application/json", **(headers or {})}
        route, params, path_known = self.resolve(method, path)
        if route is None:
            # API Gateway answers these itself, before any Lambda runs.
            status, message = (405, "Method Not Allowed") if path_known else (404, "Not Found")
            return ApiResponse(status, {"content-type": "application/json"}, json.dumps({"message": message}).encode())
        event = http_event(
            method.upper(),
            path,
            route_key=route.route_key,
            path_parameters=params,
            query=query,
            headers=headers,
            body=body,
        )
        if route.authorized:
            context = claims if claims is not None else self.authenticate(event)
            if isinstance(context, Refusal):  # API Gateway's own answer: no function runs
                return ApiResponse(context.status, {"content-type": "application/json"}, json.dumps({"message": context.message}).encode())
            attach_authorizer_context(event, context)
        with self.lock:
            result = self.invoke(route, event)
        return to_api_response(result)

    def authenticate(self, event: dict[str, Any]) -> dict[str, Any] | Refusal:
        """The authorizer's context for the request, or API Gateway's refusal; without an
        Authorization header, the local default caller."""
        if self.gateway is None or self.gateway.identity(event["headers"]) is None:
            return dict(DEFAULT_CLAIMS)
        with self.lock:
            return self.gateway.authorize(event, self.invoke_authorizer)

    def invoke_authorizer(self, event: dict[str, Any]) -> Any:
        """Run the authorizer function on its event, in its settings as `invoke` runs a route's."""
        assert self.gateway is not None
        authorizer = self.gateway.authorizer
        with function_scope(authorizer.function_logical_id):
            return load_function(authorizer.function).lambda_handler(event, LambdaContext(authorizer.function_logical_id))

    def invoke(self, route: HttpRoute, event: dict[str, Any]) -> dict[str, Any]:
        """Run the route's function on the event: in the settings its template environment gives it
        when a local runtime is configured in this process (local_functions.py), else in the
        process's own (a subclass may do otherwise: the template harness)."""
        with function_scope(route.function_logical_id):
            result: dict[str, Any] = load_function(route.function).lambda_handler(event, LambdaContext(route.function_logical_id))
        return result


def to_api_response(result: dict[str, Any]) -> ApiResponse:
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(values)
    return ApiResponse(int(result.get("statusCode", 200)), headers, body)
