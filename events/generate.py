"""(Re)write `events/<function>/<case>.json`: API Gateway HTTP API (payload 2.0) events.

    .venv/bin/python events/generate.py

The same files feed `sam local invoke <LogicalId> -e events/<function>/<case>.json` and
tests/integration/test_handler_events.py. They are generated so they stay consistent with the
template: the function folder, routeKey and whether the route carries JWT claims all come from
`template.yaml`. Output is deterministic (fixed requestId per case, fixed time), so regenerating
does not churn the committed files.

Conventions
- `__TEST_ID__` stands for an existing load test's id, in rawPath, requestContext.http.path and
  pathParameters.testId. The tests create one first, for the tenant of `CLAIMS`, with `SEED_SCRIPTS`
  as revisions 1 and 2, then replace the placeholder in the whole event. With `sam local invoke`,
  replace it yourself: `sed 's/__TEST_ID__/<id>/g' events/scripts/get_latest.json | sam local invoke
  ScriptsFunction -e -`.
- Authorized routes carry `requestContext.authorizer.jwt.claims` (sub, email, custom:accountId):
  API Gateway's JWT authorizer has already checked the token. /v1/health carries none.
- Each case also declares what the handler must answer (status, error code, a subset of the JSON
  body); the test reads that from `CASES` here. A hand-written event file is exercised too, with
  the generic checks only (no 5xx, error shape, bad input changes nothing).
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_manager_local.events import http_event
from load_manager_local.template import HttpRoute, http_routes

EVENTS_DIR = Path(__file__).resolve().parent
TEMPLATE = EVENTS_DIR.parent / "template.yaml"

TEST_ID = "__TEST_ID__"
MISSING_ID = "0" * 32  # well-formed, never created
CLAIMS = {"sub": "3f1c2a9e-5b7d-4e21-9c1a-0d6b8e4f7a21", "email": "alice@example.com", "custom:accountId": "acct-example"}
OTHER_TENANT = {"sub": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "email": "bob@example.org", "custom:accountId": "acct-other"}
# Fixed so the files do not change on every run.
TIME, TIME_EPOCH_MS = "24/Nov/2025:07:00:00 +0000", 1763967600000
API_ID = "abc123def4"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
HEADERS = {
    "accept": "application/json",
    "host": DOMAIN,
    "user-agent": "curl/8.5.0",
    "x-forwarded-for": "203.0.113.10",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
}

SCRIPT_V1 = """from locust import HttpUser, between, task


class WebsiteUser(HttpUser):
    wait_time = between(1, 2)

    @task
    def index(self):
        self.client.get("/")
"""
SCRIPT_V2 = SCRIPT_V1.replace('self.client.get("/")', 'self.client.get("/")\n        self.client.get("/health")')
SCRIPT_V3 = SCRIPT_V2 + """
    @task(3)
    def items(self):
        self.client.get("/items")
"""
SEED_SCRIPTS = (SCRIPT_V1, SCRIPT_V2)  # revisions 1 and 2 of the test behind __TEST_ID__
SYNTAX_ERROR = "from locust import HttpUser, task\n\n\nclass Broken(HttpUser):\n    @task\n    def index(self)\n        pass\n"
NO_USER_CLASS = "from locust import TaskSet, task\n\n\nclass Browse(TaskSet):\n    @task\n    def index(self):\n        self.client.get('/')\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class Case:
    route: str  # template route key, e.g. "GET /v1/load-tests/{testId}"
    name: str
    status: int
    code: str | None = None  # expected error code
    expect: dict[str, Any] = field(default_factory=dict)  # expected subset of the JSON body
    params: dict[str, str] = field(default_factory=dict)  # path parameters besides testId
    query: str = ""
    body: Any = None  # dict/list -> JSON; str -> sent as is; non-UTF-8 bytes -> base64, as API Gateway does
    claims: dict[str, Any] | None = None  # None: CLAIMS on authorized routes
    base64_body: bool = False  # as API Gateway sends a body it treats as binary


CREATE_BODY = {
    "name": "Checkout API",
    "description": "Browse and checkout",
    "targetUrl": "https://staging.example.com",
    "projectId": "shop",
    "defaultUsers": 50,
    "scriptContent": b64(SCRIPT_V1),
    "scriptDescription": "Initial version",
}

CASES = [
    # load_tests
    Case("GET /v1/health", "health", 200, expect={"status": "ok"}),
    Case("POST /v1/load-tests", "create", 201, expect={"name": "Checkout API", "latestRevisionNumber": 1, "createdBy": CLAIMS["email"]}, body=CREATE_BODY),
    Case("POST /v1/load-tests", "create_base64_body", 201, expect={"latestRevisionNumber": 1}, body=CREATE_BODY, base64_body=True),
    Case("POST /v1/load-tests", "create_invalid_base64", 422, "InvalidScriptEncoding", body={**CREATE_BODY, "scriptContent": "not base64!"}),
    Case("POST /v1/load-tests", "create_malformed_json", 400, "MalformedJson", body='{"name": "Checkout API", "scriptContent": '),
    Case("POST /v1/load-tests", "create_non_utf8_body", 400, "MalformedBody", body=b'{"name": "Checkout \xff"}'),
    Case("POST /v1/load-tests", "create_identity_field", 422, "IdentityFieldNotAllowed", body={**CREATE_BODY, "createdBy": "mallory@example.com"}),
    Case("POST /v1/load-tests", "create_missing_script", 422, "ValidationError", body={"name": "Checkout API"}),
    Case("POST /v1/load-tests", "create_syntax_error", 422, "ScriptSyntaxError", expect={"details": {"line": 6}}, body={**CREATE_BODY, "scriptContent": b64(SYNTAX_ERROR)}),
    Case("POST /v1/load-tests", "create_no_user_class", 422, "NoLocustUserClass", body={**CREATE_BODY, "scriptContent": b64(NO_USER_CLASS)}),
    Case("GET /v1/load-tests", "list", 200, expect={"nextCursor": None}, query="limit=10"),
    Case("GET /v1/load-tests", "list_invalid_limit", 422, "ValidationError", query="limit=0"),
    Case("GET /v1/load-tests", "list_invalid_cursor", 400, "InvalidCursor", query="cursor=not-a-cursor"),
    Case("GET /v1/load-tests/{testId}", "get", 200, expect={"latestRevisionNumber": 2}),
    Case("GET /v1/load-tests/{testId}", "get_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}),
    Case("GET /v1/load-tests/{testId}", "get_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT),
    Case("PATCH /v1/load-tests/{testId}", "patch", 200, expect={"defaultUsers": 100, "updatedBy": CLAIMS["email"]}, body={"description": "Peak traffic", "defaultUsers": 100}),
    Case("PATCH /v1/load-tests/{testId}", "patch_empty", 400, "EmptyUpdate", body={}),
    Case("PATCH /v1/load-tests/{testId}", "patch_identity_field", 422, "IdentityFieldNotAllowed", body={"updatedBy": "mallory@example.com"}),
    Case("DELETE /v1/load-tests/{testId}", "delete", 204),
    Case("DELETE /v1/load-tests/{testId}", "delete_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}),
    # scripts
    Case("PUT /v1/load-tests/{testId}/script", "update", 201, expect={"revisionNumber": 3}, body={"scriptContent": b64(SCRIPT_V3), "description": "Add items"}),
    Case("PUT /v1/load-tests/{testId}/script", "update_unchanged", 200, expect={"revisionNumber": 2}, body={"scriptContent": b64(SCRIPT_V2)}),
    Case("PUT /v1/load-tests/{testId}/script", "update_syntax_error", 422, "ScriptSyntaxError", expect={"details": {"line": 6}}, body={"scriptContent": b64(SYNTAX_ERROR)}),
    Case("PUT /v1/load-tests/{testId}/script", "update_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}, body={"scriptContent": b64(SCRIPT_V3)}),
    Case("GET /v1/load-tests/{testId}/script", "get_latest", 200, expect={"revisionNumber": 2, "scriptContent": b64(SCRIPT_V2)}),
    Case("GET /v1/load-tests/{testId}/script/revisions", "list_revisions", 200, expect={"nextCursor": None}, query="limit=10"),
    Case("GET /v1/load-tests/{testId}/script/revisions/{revisionId}", "get_revision", 200, expect={"revisionNumber": 1, "scriptContent": b64(SCRIPT_V1)}, params={"revisionId": "1"}),
    Case("GET /v1/load-tests/{testId}/script/revisions/{revisionId}", "get_revision_not_found", 404, "RevisionNotFound", params={"revisionId": "99"}),
    Case("GET /v1/load-tests/{testId}/script/diff", "diff", 200, expect={"addedLines": 1, "removedLines": 0}, query="from=1&to=2"),
    Case("GET /v1/load-tests/{testId}/script/diff", "diff_out_of_range", 404, "RevisionNotFound", query="from=1&to=99"),
    Case("GET /v1/load-tests/{testId}/script/diff", "diff_missing_to", 422, "ValidationError", query="from=1"),
    Case("POST /v1/load-tests/{testId}/script/rollback", "rollback", 201, expect={"revisionNumber": 3, "rolledBackFrom": 1}, body={"revision": 1}),
    Case("POST /v1/load-tests/{testId}/script/rollback", "rollback_boolean_revision", 422, "ValidationError", body={"revision": True}),
    Case("POST /v1/load-tests/{testId}/script/rollback", "rollback_not_found", 404, "RevisionNotFound", body={"revision": 99}),
    Case("POST /v1/scripts/validate", "validate", 200, expect={"valid": True, "userClasses": ["WebsiteUser"]}, body={"scriptContent": b64(SCRIPT_V3)}),
    Case("POST /v1/scripts/validate", "validate_syntax_error", 200, expect={"valid": False}, body={"scriptContent": b64(SYNTAX_ERROR)}),
    Case("POST /v1/scripts/validate", "validate_invalid_base64", 422, "InvalidScriptEncoding", body={"scriptContent": "%%%"}),
]


def routes_by_key() -> dict[str, HttpRoute]:
    return {route.route_key: route for route in http_routes(TEMPLATE)}


def build_event(case: Case, route: HttpRoute) -> dict[str, Any]:
    params = {name: TEST_ID if name == "testId" else "" for name in _path_params(route.path)} | case.params
    path = route.path.format(**params)
    headers = dict(HEADERS)
    body = case.body
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if body is not None:
        headers["content-type"] = "application/json"
    event = http_event(
        route.method,
        path,
        route_key=route.route_key,
        path_parameters=params,
        query=case.query,
        headers=headers,
        body=body,
        claims=(case.claims or CLAIMS) if route.authorized else None,
    )
    if case.base64_body:
        event["body"], event["isBase64Encoded"] = b64(event["body"]), True
    context = event["requestContext"]
    context.update(apiId=API_ID, domainName=DOMAIN, domainPrefix=API_ID)
    context["http"]["sourceIp"] = HEADERS["x-forwarded-for"]
    # Deterministic: the same case always yields the same bytes.
    context.update(requestId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{route.function}/{case.name}")), time=TIME, timeEpoch=TIME_EPOCH_MS)
    return event


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def build_all() -> dict[Path, dict[str, Any]]:
    """Relative path (`<function>/<case>.json`) -> event, for every case."""
    routes = routes_by_key()
    events = {}
    for case in CASES:
        route = routes[case.route]  # KeyError: the case names a route the template no longer has
        events[Path(route.function) / f"{case.name}.json"] = build_event(case, route)
    return events


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2) + "\n"


def main() -> None:
    generated = build_all()
    for relative, event in generated.items():
        target = EVENTS_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(event))
    extra = sorted(p.relative_to(EVENTS_DIR) for p in EVENTS_DIR.glob("*/*.json") if p.relative_to(EVENTS_DIR) not in generated)
    print(f"wrote {len(generated)} events under {EVENTS_DIR}", file=sys.stderr)
    for path in extra:
        print(f"not generated here (kept, tested with generic checks only): {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
