"""(Re)write `events/<function>/<case>.json`: API Gateway HTTP API (payload 2.0) events.

    .venv/bin/python events/generate.py

The same files feed `sam local invoke <LogicalId> -e events/<function>/<case>.json` and
tests/integration/test_handler_events.py. They are generated so they stay consistent with the
template: the function folder, routeKey and whether the route carries JWT claims all come from
`template.yaml`. Output is deterministic (fixed requestId per case, fixed time), so regenerating
does not churn the committed files.

Conventions
- Placeholders stand for records that must exist first; the tests create them (only those an event
  mentions) for the tenant of `CLAIMS`, then replace the placeholder in the whole event:
  - `__TEST_ID__`: a load test made from `SEED_TEST` (it has a targetUrl), with `SEED_SCRIPTS` as
    revisions 1 and 2;
  - `__BARE_TEST_ID__`: a load test without a targetUrl (`BARE_TEST`), so a run of it has no target;
  - `__RUN_ID__`: a run of `__TEST_ID__` started with `SEED_RUN`: Pending, with its Step Functions
    execution started (the tests use moto, which does not execute the definition);
  - `__FINAL_RUN_ID__`: another such run, then ended Failed by the workflow's `fail` step;
  - `__CLUSTER_ID__`: a cluster configuration made from `SEED_CLUSTER` by an admin;
  - `__TRIGGER_ID__` / `__SCHEDULE_ID__`: a trigger (`SEED_TRIGGER`) / schedule (`SEED_SCHEDULE`) of
    `__TEST_ID__` (the tests give the handlers moto's EventBridge bus and Scheduler group).
  - `__CHANNEL_ID__`: a webhook notification channel of `__TEST_ID__` (`SEED_CHANNEL`; the tests give the
    handlers moto's EventBridge, where its connection, API destination and rule go).
  - `__VARIABLE_ID__` / `__SECRET_ID__`: a variable (`SEED_VARIABLE`) / secret (`SEED_SECRET`) of the
    tenant's account, set by an admin (a secret's value goes to the secret store of the test's data dir).
  - `__TOKEN_ID__`: an API token of the tenant (`SEED_TOKEN`), created by an admin.
  - `__EVENT_SOURCE_ID__`: the ownership, made by an operator (`OPERATOR_CLAIMS`) for every case,
    of the CodeDeploy application `checkout` by the tenant of `CLAIMS` (`SEED_EVENT_SOURCE`): its
    triggers may match that application's deployments (usecases/event_tenancy.py).
  - `__BASELINE_RUN_ID__`: a run of revision 1 of `__TEST_ID__` (`SEED_FINISHED_RUN`) driven to
    Finished by the real workflow steps with an in-memory Locust backend, then made the test's
    baseline run;
  - `__FINISHED_RUN_ID__`: such a Finished run of revision 2 (the latest), with samples, results,
    its report page and Locust's report; where the baseline is mentioned too, it is judged against it.
  A case's `expect` may mention placeholders too: they are seeded as well.
  With `sam local invoke`, create the records and replace the placeholders yourself:
  `sed 's/__TEST_ID__/<id>/g' events/scripts/get_latest.json | sam local invoke ScriptsFunction -e -`.
- Authorized routes carry `requestContext.authorizer.lambda`: the claims the API's Lambda authorizer
  passes on (sub, email, email_verified flattened as "true", custom:accountId, and `CLAIMS`'s group
  flattened as "[load-manager-editors]": role editor; `ADMIN_CLAIMS` has the admin group instead,
  `RUNNER_CLAIMS` the runners', `VIEWER_CLAIMS` none, `OPERATOR_CLAIMS` the operators'): it has
  already checked the credential. /v1/health carries none.
- Each case also declares what the handler must answer (status, error code, a subset of the JSON
  body, placeholders allowed); the test reads that from `CASES` here. A hand-written event file is
  exercised too, with the generic checks only (no 5xx, error shape, bad input changes nothing).
- `events/run_workflow/<case>.json` (`WORKFLOW_CASES`) are not HTTP events: they are the inputs the
  run lifecycle state machine hands `RunWorkflowFunction` for each step (start, poll, finalize,
  fail), samples for `sam local invoke RunWorkflowFunction -e ...` against a store holding the run.
- `events/triggers/<case>.json` of `AUTOMATION_CASES` are not HTTP events either: they are what a
  trigger's EventBridge rule and a Scheduler schedule deliver to TriggersFunction (and the `sync`
  action), with the outcome the handler must answer. Try one with
  `load-manager invoke triggers --event events/triggers/eventbridge_codedeploy_success.json` once
  the placeholders name a real trigger.
"""

from __future__ import annotations

import base64
import hashlib
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
BARE_TEST_ID = "__BARE_TEST_ID__"
RUN_ID = "__RUN_ID__"
FINAL_RUN_ID = "__FINAL_RUN_ID__"
CLUSTER_ID = "__CLUSTER_ID__"
TRIGGER_ID = "__TRIGGER_ID__"
SCHEDULE_ID = "__SCHEDULE_ID__"
FINISHED_RUN_ID = "__FINISHED_RUN_ID__"
BASELINE_RUN_ID = "__BASELINE_RUN_ID__"
EVENT_SOURCE_ID = "__EVENT_SOURCE_ID__"
VARIABLE_ID = "__VARIABLE_ID__"
SECRET_ID = "__SECRET_ID__"
CHANNEL_ID = "__CHANNEL_ID__"
TOKEN_ID = "__TOKEN_ID__"
PLACEHOLDERS = (
    TEST_ID, BARE_TEST_ID, RUN_ID, FINAL_RUN_ID, CLUSTER_ID, TRIGGER_ID, SCHEDULE_ID, FINISHED_RUN_ID, BASELINE_RUN_ID, EVENT_SOURCE_ID,
    VARIABLE_ID, SECRET_ID, CHANNEL_ID, TOKEN_ID,
)  # fmt: skip
# Path parameters filled with a placeholder unless a case names them.
DEFAULT_PARAMS = {
    "testId": TEST_ID, "runId": RUN_ID, "clusterId": CLUSTER_ID, "triggerId": TRIGGER_ID, "scheduleId": SCHEDULE_ID, "sourceId": EVENT_SOURCE_ID,
    "variableId": VARIABLE_ID, "secretId": SECRET_ID, "channelId": CHANNEL_ID, "tokenId": TOKEN_ID,
}  # fmt: skip
MISSING_ID = "0" * 32  # well-formed, never created
# The default caller edits its tenant's tests (role editor, access.py); ADMIN_CLAIMS administers it.
CLAIMS = {
    "sub": "3f1c2a9e-5b7d-4e21-9c1a-0d6b8e4f7a21", "email": "alice@example.com", "email_verified": "true", "custom:accountId": "acct-example",
    "cognito:groups": "[load-manager-editors]",
}  # fmt: skip
ADMIN_CLAIMS = {**CLAIMS, "cognito:groups": "[load-manager-admins]"}
VIEWER_CLAIMS = {k: v for k, v in CLAIMS.items() if k != "cognito:groups"}  # in no group: a viewer
RUNNER_CLAIMS = {**CLAIMS, "cognito:groups": "[load-manager-runners]"}
# One of the deployment's operators (who say which tenant owns which event source); their own tenant is another.
OPERATOR_CLAIMS = {
    "sub": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", "email": "ops@example.net", "email_verified": "true", "custom:accountId": "acct-ops",
    "cognito:groups": "[load-manager-operators]",
}  # fmt: skip
OTHER_TENANT = {
    "sub": "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "email": "bob@example.org", "email_verified": "true", "custom:accountId": "acct-other",
    "cognito:groups": "[load-manager-editors]",  # may write: its 404s are about the tenant, not the role
}  # fmt: skip
# A token whose email was never verified: the caller is named by its sub, not by that email.
UNVERIFIED_EMAIL = {**CLAIMS, "email": "mallory@example.com", "email_verified": "false"}
OTHER_TENANT_ADMIN = {**OTHER_TENANT, "cognito:groups": "[load-manager-admins]"}
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
TARGET_URL = "https://staging.example.com"
SYNTAX_ERROR = "from locust import HttpUser, task\n\n\nclass Broken(HttpUser):\n    @task\n    def index(self)\n        pass\n"
NO_USER_CLASS = "from locust import TaskSet, task\n\n\nclass Browse(TaskSet):\n    @task\n    def index(self):\n        self.client.get('/')\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    headers: dict[str, str] = field(default_factory=dict)  # extra request headers (lower-case), e.g. idempotency-key
    # Sent once (same event, this body) before the checked request: an Idempotency-Key replay.
    first_body: Any = None
    # Whether a success changes the store. None: 201/202/204 and PATCH 200 do, other 2xx do not
    # (a no-op PUT, an idempotent replay). Set it where that rule is wrong (PUT /v1/clusters: 200).
    writes: bool | None = None


BUNDLE_BODY = {
    "scriptContent": base64.b64encode(b"from common.users import CheckoutUser  # noqa: F401\n").decode(),
    "files": [
        {"path": "common/__init__.py", "content": ""},
        {"path": "common/users.py", "content": base64.b64encode(
            b"from locust import HttpUser, task\n\n\nclass CheckoutUser(HttpUser):\n    @task\n    def buy(self):\n        self.client.get('/')\n"
        ).decode()},
        {"path": "data/users.csv", "content": base64.b64encode(b"name\nann\n").decode()},
    ],
    "description": "Checkout bundle",
}


def _archive() -> bytes:
    """A deterministic zip of BUNDLE_BODY's files (fixed timestamps): the same bytes every time."""
    import io
    import zipfile

    files = {"locustfile.py": base64.b64decode(BUNDLE_BODY["scriptContent"])}
    files |= {f["path"]: base64.b64decode(f["content"]) for f in BUNDLE_BODY["files"]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


ARCHIVE = _archive()


CREATE_BODY = {
    "name": "Checkout API",
    "description": "Browse and checkout",
    "targetUrl": TARGET_URL,
    "projectId": "shop",
    "defaultUsers": 50,
    "scriptContent": b64(SCRIPT_V1),
    "scriptDescription": "Initial version",
}
# What the tests create for the placeholders (see the module docstring).
SEED_TEST = {"name": "Seeded", "targetUrl": TARGET_URL, "defaultUsers": 20, "scriptContent": b64(SCRIPT_V1)}
BARE_TEST = {"name": "Seeded without target", "scriptContent": b64(SCRIPT_V1)}
SEED_RUN = {"targetUsers": 3, "durationSeconds": 60}
SEED_CLUSTER = {"orgId": "seed-org", "backend": "local", "maxWorkers": 2}  # an org no seeded test is in
SEED_VARIABLE = {"name": "SEED_LEVEL", "value": "account-wide"}
SEED_SECRET = {"name": "SEED_TOKEN", "value": "seed-secret-value-0b8e"}
REFERENCE_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/acct-example/db-AbCdEf"
SEED_FINISHED_RUN = {"targetUsers": 3, "durationSeconds": 60, "criteria": [{"metric": "p95Ms", "operator": "<", "threshold": 500}]}
CRITERIA = [
    {"metric": "p95Ms", "operator": "<", "threshold": 250},
    {"metric": "failRatio", "endpoint": "GET /checkout", "operator": "<=", "threshold": 0.01},
]
REGRESSION = {"metric": "p95Ms", "maxRegressionPercent": 10}


def answered(criterion: dict[str, Any]) -> dict[str, Any]:
    """A criterion as the API answers it: every field, absent ones null."""
    return {"endpoint": None, "operator": None, "threshold": None, "maxRegressionPercent": None, **criterion}
START_BODY = {"targetUsers": 5, "durationSeconds": 30}
IDEMPOTENCY_KEY = "5e0c1d2a-7f3b-4c8e-9a6d-1b2c3d4e5f60"
CODEDEPLOY_DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"
CODEDEPLOY_PATTERN = {
    "source": ["aws.codedeploy"],
    "detail-type": [CODEDEPLOY_DETAIL_TYPE],
    "detail": {"state": ["SUCCESS"], "application": ["checkout"]},
}
RUN_REQUESTED_PATTERN = {"source": ["load-manager"], "detail-type": ["RunRequested"], "detail": {"loadTestId": [TEST_ID]}}
SEED_TRIGGER = {"name": "After checkout deploys", "eventPattern": CODEDEPLOY_PATTERN, "runSettings": {"targetUsers": 5, "durationSeconds": 30}}
SEED_EVENT_SOURCE = {"ownerAccountId": CLAIMS["custom:accountId"], "kind": "codedeployApplication", "value": "checkout"}
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
TEAMS_URL = "https://example.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi"
SEED_CHANNEL = {"name": "On-call", "kind": "webhook", "url": "https://hooks.example.com/load-manager", "signingSecret": "whsec_0123456789abcdef", "testId": TEST_ID}
SEED_TOKEN = {"name": "Seeded pipeline", "role": "runner"}
SEED_SCHEDULE = {"name": "Nightly", "cron": "0 2 * * *", "timezone": "Europe/Paris", "runSettings": {"targetUsers": 5, "durationSeconds": 600}}
ECS_SETTINGS = {
    "cluster": "load-manager",
    "masterTaskDefinition": "locust-master:3",
    "workerTaskDefinition": "locust-worker:3",
    "subnets": ["subnet-0a1b2c3d"],
    "securityGroups": ["sg-0a1b2c3d"],
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
    Case("POST /v1/load-tests", "create_with_criteria", 201, expect={"criteria": [answered(c) for c in CRITERIA], "autoStop": {"enabled": True, "failRatio": 0.5, "windowSeconds": 30}},
         body={**CREATE_BODY, "criteria": CRITERIA, "autoStop": {"failRatio": 0.5, "windowSeconds": 30}}),
    Case("POST /v1/load-tests", "create_regression_without_baseline", 422, "BaselineRequired", body={**CREATE_BODY, "criteria": [REGRESSION]}),
    Case("POST /v1/load-tests", "create_unknown_metric", 422, "ValidationError", body={**CREATE_BODY, "criteria": [{"metric": "p42Ms", "operator": "<", "threshold": 1}]}),
    Case("POST /v1/load-tests", "create_malformed_endpoint", 422, "ValidationError", body={**CREATE_BODY, "criteria": [{**CRITERIA[0], "endpoint": "/checkout"}]}),
    Case("POST /v1/load-tests", "create_threshold_and_regression", 422, "ValidationError", body={**CREATE_BODY, "criteria": [{**CRITERIA[0], "maxRegressionPercent": 5}]}),
    Case("POST /v1/load-tests", "create_bad_auto_stop", 422, "ValidationError", body={**CREATE_BODY, "autoStop": {"failRatio": 1.5, "windowSeconds": 1}}),
    Case("PATCH /v1/load-tests/{testId}", "patch_criteria", 200, expect={"criteria": [answered(c) for c in CRITERIA], "autoStop": {"enabled": False}}, body={"criteria": CRITERIA, "autoStop": {"enabled": False}}),
    Case("PATCH /v1/load-tests/{testId}", "patch_regression_without_baseline", 422, "BaselineRequired", body={"criteria": [REGRESSION]}),
    Case("PATCH /v1/load-tests/{testId}", "patch_regression_with_baseline", 200, expect={"criteria": [answered(REGRESSION)], "baselineRunId": BASELINE_RUN_ID}, body={"criteria": [REGRESSION]}),
    Case("PATCH /v1/load-tests/{testId}", "patch_empty", 400, "EmptyUpdate", body={}),
    Case("PATCH /v1/load-tests/{testId}", "patch_identity_field", 422, "IdentityFieldNotAllowed", body={"updatedBy": "mallory@example.com"}),
    Case("DELETE /v1/load-tests/{testId}", "delete", 204),
    Case("DELETE /v1/load-tests/{testId}", "delete_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}),
    # scripts
    Case("PUT /v1/load-tests/{testId}/script", "update", 201, expect={"revisionNumber": 3}, body={"scriptContent": b64(SCRIPT_V3), "description": "Add items"}),
    # A viewer reads but changes nothing (403 Forbidden naming the role, before the body is even read).
    Case("PUT /v1/load-tests/{testId}/script", "update_viewer", 403, "Forbidden", claims=VIEWER_CLAIMS, body={"scriptContent": b64(SCRIPT_V3)},
         expect={"details": {"requiredRole": "editor", "role": "viewer"}}),
    Case("PUT /v1/load-tests/{testId}/script", "update_runner", 403, "Forbidden", claims=RUNNER_CLAIMS, body={"scriptContent": b64(SCRIPT_V3)}),
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
    Case("GET /v1/load-tests/{testId}/script/diff", "diff_one_file", 200, expect={"addedLines": 1, "truncated": False}, query="from=1&to=2&path=locustfile.py"),
    Case("GET /v1/load-tests/{testId}/script/diff", "diff_file_not_found", 404, "BundleFileNotFound", query="from=1&to=2&path=data/missing.csv"),
    Case("GET /v1/load-tests/{testId}/script/diff", "diff_path_escapes", 422, "InvalidBundlePath", query="from=1&to=2&path=../secrets.txt"),
    Case("POST /v1/load-tests/{testId}/script/rollback", "rollback", 201, expect={"revisionNumber": 3, "rolledBackFrom": 1}, body={"revision": 1}),
    Case("POST /v1/load-tests/{testId}/script/rollback", "rollback_boolean_revision", 422, "ValidationError", body={"revision": True}),
    Case("POST /v1/load-tests/{testId}/script/rollback", "rollback_not_found", 404, "RevisionNotFound", body={"revision": 99}),
    Case("POST /v1/scripts/validate", "validate", 200, expect={"valid": True, "userClasses": ["WebsiteUser"]}, body={"scriptContent": b64(SCRIPT_V3)}),
    Case("POST /v1/scripts/validate", "validate_syntax_error", 200, expect={"valid": False}, body={"scriptContent": b64(SYNTAX_ERROR)}),
    Case("POST /v1/scripts/validate", "validate_invalid_base64", 422, "InvalidScriptEncoding", body={"scriptContent": "%%%"}),
    # bundles
    Case("PUT /v1/load-tests/{testId}/script", "update_bundle", 201, expect={"revisionNumber": 3, "entryPath": "locustfile.py"}, body=BUNDLE_BODY),
    Case("PUT /v1/load-tests/{testId}/script", "update_bundle_path_escapes", 422, "InvalidBundlePath",
         body={**BUNDLE_BODY, "files": [{"path": "../secrets.csv", "content": ""}]}),
    Case("PUT /v1/load-tests/{testId}/script", "update_bundle_bad_requirements", 422, "InvalidRequirements",
         body={**BUNDLE_BODY, "files": [{"path": "requirements.txt", "content": b64("-e .\n")}]}),
    Case("PUT /v1/load-tests/{testId}/script/archive", "update_archive", 201, expect={"revisionNumber": 3}, body=ARCHIVE,
         headers={"content-type": "application/zip"}, query="description=from%20zip"),
    Case("PUT /v1/load-tests/{testId}/script/archive", "update_archive_as_json", 415, "UnsupportedMediaType", body={"scriptContent": "x"}),
    Case("PUT /v1/load-tests/{testId}/script/archive", "update_archive_not_zip", 422, "InvalidArchive", body=b"\xffnot a zip",
         headers={"content-type": "application/zip"}),
    Case("GET /v1/load-tests/{testId}/script/revisions/{revisionId}/archive", "get_revision_archive", 200, params={"revisionId": "2"}),
    Case("GET /v1/load-tests/{testId}/script/revisions/{revisionId}/files/{path+}", "get_revision_file", 200,
         expect={"path": "locustfile.py", "sha256": sha256(SCRIPT_V2)}, params={"revisionId": "2", "path": "locustfile.py"}),
    Case("GET /v1/load-tests/{testId}/script/revisions/{revisionId}/files/{path+}", "get_revision_file_missing", 404, "BundleFileNotFound",
         params={"revisionId": "2", "path": "data/users.csv"}),
    Case("GET /v1/script-templates", "list_script_templates", 200),
    Case("POST /v1/load-tests", "create_from_template", 201, expect={"latestRevisionNumber": 1}, body={"name": "From a template", "templateId": "http-user"}),
    Case("POST /v1/load-tests", "create_from_unknown_template", 404, "ScriptTemplateNotFound", body={"name": "x", "templateId": "nope"}),
    Case("GET /v1/runs/{runId}/script/archive", "get_run_script_archive", 200),
    # runs
    Case("POST /v1/load-tests/{testId}/runs", "start_run", 201, body=START_BODY, expect={
        "status": "Pending", "loadTestId": TEST_ID, "accountId": CLAIMS["custom:accountId"], "revisionNumber": 2,
        "scriptSha256": sha256(SCRIPT_V2), "targetUrl": TARGET_URL, "targetUsers": 5, "durationSeconds": 30, "workers": 1,
        "result": "NotEvaluated", "createdBy": CLAIMS["email"],
    }),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_runner", 201, claims=RUNNER_CLAIMS, body=START_BODY, expect={"status": "Pending"}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_viewer", 403, "Forbidden", claims=VIEWER_CLAIMS, body=START_BODY,
         expect={"details": {"requiredRole": "runner", "role": "viewer"}}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_defaults", 201, body={}, expect={"status": "Pending", "revisionNumber": 2, "targetUsers": SEED_TEST["defaultUsers"]}),
    # A dry run: the estimate (200), nothing started, stored or held (a 200 writes nothing: the test checks it).
    Case("POST /v1/load-tests/{testId}/runs", "start_run_dry_run", 200, body=START_BODY, query="dryRun=true", claims=ADMIN_CLAIMS,
         expect={"dryRun": True, "loadTestId": TEST_ID, "wouldStart": True, "durationSeconds": START_BODY["durationSeconds"]}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_named_revision", 201, body={**START_BODY, "revision": 1}, expect={"revisionNumber": 1, "scriptSha256": sha256(SCRIPT_V1)}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_idempotent", 200, body=START_BODY, headers={"idempotency-key": IDEMPOTENCY_KEY}, first_body=START_BODY, expect={"status": "Pending"}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_idempotency_key_reused", 409, "IdempotencyKeyReused", body=START_BODY, headers={"idempotency-key": IDEMPOTENCY_KEY}, first_body={**START_BODY, "targetUsers": 7}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_invalid_idempotency_key", 400, "InvalidIdempotencyKey", body=START_BODY, headers={"idempotency-key": "not a valid key"}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_missing_target", 422, "MissingTargetUrl", params={"testId": BARE_TEST_ID}, body=START_BODY),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_over_users_quota", 422, "RunLimitExceeded", body={**START_BODY, "targetUsers": 50_000},
         expect={"details": {"quota": "usersPerRun", "limit": 20_000, "requested": 50_000}}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_unverified_email", 201, body=START_BODY, claims=UNVERIFIED_EMAIL,
         expect={"createdBy": UNVERIFIED_EMAIL["sub"]}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_missing_target_with_key", 422, "MissingTargetUrl", params={"testId": BARE_TEST_ID}, body=START_BODY, headers={"idempotency-key": IDEMPOTENCY_KEY}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_unknown_revision", 404, "RevisionNotFound", body={**START_BODY, "revision": 99}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_too_many_workers", 422, "TooManyWorkers", expect={"details": {"maxWorkers": 8}}, body={**START_BODY, "workers": 9}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_invalid_users", 422, "ValidationError", body={"targetUsers": 0}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_identity_field", 422, "IdentityFieldNotAllowed", body={**START_BODY, "createdBy": "mallory@example.com"}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}, body=START_BODY),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT, body=START_BODY),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_with_gates", 201, body={**START_BODY, "criteria": CRITERIA, "autoStop": {"enabled": False}},
         expect={"criteria": [answered(c) for c in CRITERIA], "autoStop": {"enabled": False}, "criteriaResults": [], "result": "NotEvaluated"}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_default_auto_stop", 201, body=START_BODY, expect={"autoStop": {"enabled": True, "failRatio": 0.9, "windowSeconds": 60}}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_against_baseline", 201, body={**START_BODY, "criteria": [REGRESSION], "baselineRunId": BASELINE_RUN_ID},
         expect={"baselineRunId": BASELINE_RUN_ID, "criteria": [answered(REGRESSION)]}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_regression_without_baseline", 422, "BaselineRequired", body={**START_BODY, "criteria": [REGRESSION]}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_baseline_not_finished", 422, "InvalidBaseline", body={**START_BODY, "baselineRunId": RUN_ID}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_baseline_unknown", 422, "InvalidBaseline", body={**START_BODY, "baselineRunId": MISSING_ID}),
    Case("POST /v1/load-tests/{testId}/runs", "start_run_bad_auto_stop", 422, "ValidationError", body={**START_BODY, "autoStop": {"windowSeconds": 0}}),
    Case("GET /v1/load-tests/{testId}/runs", "list_runs", 200, expect={"nextCursor": None}, query="limit=10&status=Pending"),
    Case("GET /v1/load-tests/{testId}/runs", "list_runs_bad_status", 422, "ValidationError", query="status=Done"),
    Case("GET /v1/load-tests/{testId}/runs", "list_runs_invalid_cursor", 400, "InvalidCursor", query="cursor=not-a-cursor"),
    Case("GET /v1/load-tests/{testId}/runs", "list_runs_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT),
    Case("GET /v1/runs/{runId}", "get_run", 200, expect={
        "id": RUN_ID, "loadTestId": TEST_ID, "status": "Pending", "revisionNumber": 2, "scriptSha256": sha256(SCRIPT_V2),
        "targetUsers": SEED_RUN["targetUsers"], "durationSeconds": SEED_RUN["durationSeconds"], "targetUrl": TARGET_URL,
    }),
    Case("GET /v1/runs/{runId}", "get_run_final", 200, params={"runId": FINAL_RUN_ID}, expect={"id": FINAL_RUN_ID, "status": "Failed"}),
    Case("GET /v1/runs/{runId}", "get_run_not_found", 404, "RunNotFound", params={"runId": MISSING_ID}),
    Case("GET /v1/runs/{runId}", "get_run_malformed_id", 404, "RunNotFound", params={"runId": "not-a-run-id"}),
    Case("GET /v1/runs/{runId}", "get_run_other_tenant", 404, "RunNotFound", claims=OTHER_TENANT),
    Case("GET /v1/runs/{runId}/script", "get_run_script", 200, expect={"loadTestId": TEST_ID, "revisionNumber": 2, "scriptContent": b64(SCRIPT_V2)}),
    Case("GET /v1/runs/{runId}/script", "get_run_script_not_found", 404, "RunNotFound", params={"runId": MISSING_ID}),

    Case("POST /v1/runs/{runId}/stop", "stop_run", 202, expect={"id": RUN_ID, "stopRequestedBy": CLAIMS["email"]}),
    Case("POST /v1/runs/{runId}/stop", "stop_run_final", 409, "RunAlreadyFinal", params={"runId": FINAL_RUN_ID}),
    Case("POST /v1/runs/{runId}/stop", "stop_run_not_found", 404, "RunNotFound", params={"runId": MISSING_ID}),
    Case("POST /v1/runs/{runId}/stop", "stop_run_other_tenant", 404, "RunNotFound", claims=OTHER_TENANT),
    # results
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics", 200, expect={"time": [], "complete": False, "stepMs": 1000}),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_finished", 200, params={"runId": FINISHED_RUN_ID}, query="step=60000",
         expect={"runId": FINISHED_RUN_ID, "complete": True, "stepMs": 60000, "users": [10], "rps": [50.0], "p95Ms": [20.0]}),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_endpoint", 200, params={"runId": FINISHED_RUN_ID}, query="endpoint=GET%20%2F&step=60000",
         expect={"endpoint": "GET /", "users": [10], "rps": [50.0], "p99Ms": [40.0]}),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_malformed_endpoint", 422, "ValidationError", query="endpoint=%2Fcheckout"),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_inverted_window", 400, "InvalidWindow", query="from=2000&to=1000"),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_bad_since", 400, "InvalidCursor", query="since=not-a-cursor"),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_small_step", 422, "ValidationError", query="step=10"),
    Case("GET /v1/runs/{runId}/metrics", "get_run_metrics_other_tenant", 404, "RunNotFound", claims=OTHER_TENANT),
    Case("GET /v1/runs/{runId}/stats", "get_run_stats", 200, params={"runId": FINISHED_RUN_ID},
         expect={"final": True, "status": "Finished", "summary": {"p90Ms": 15.0}, "errors": []}),
    Case("GET /v1/runs/{runId}/stats", "get_run_stats_live", 200, expect={"final": False, "status": "Pending", "endpoints": []}),
    Case("GET /v1/runs/{runId}/stats", "get_run_stats_not_found", 404, "RunNotFound", params={"runId": MISSING_ID}),
    Case("GET /v1/runs/{runId}/generators", "get_run_generators", 200, params={"runId": FINISHED_RUN_ID},
         expect={"runId": FINISHED_RUN_ID, "complete": True, "generatorSaturated": None, "generators": []}),
    Case("GET /v1/runs/{runId}/generators", "get_run_generators_other_tenant", 404, "RunNotFound", claims=OTHER_TENANT),
    Case("GET /v1/runs/{runId}/report", "get_run_report", 200, params={"runId": FINISHED_RUN_ID}),
    Case("GET /v1/runs/{runId}/report", "get_run_report_other_tenant", 404, "RunNotFound", params={"runId": FINISHED_RUN_ID}, claims=OTHER_TENANT),
    Case("GET /v1/runs/{runId}/locust-report", "get_locust_report", 200, params={"runId": FINISHED_RUN_ID}),
    Case("GET /v1/runs/{runId}/locust-report", "get_locust_report_none_yet", 404, "ReportNotFound"),
    Case("GET /v1/runs/compare", "compare", 200, query=f"base={BASELINE_RUN_ID}&target={FINISHED_RUN_ID}", expect={
        "base": {"id": BASELINE_RUN_ID, "revisionNumber": 1}, "target": {"id": FINISHED_RUN_ID, "revisionNumber": 2}, "baseIsBaseline": False,
        "sameRevision": False, "scriptDiff": {"addedLines": 1, "removedLines": 0}, "onlyInBase": [], "onlyInTarget": [],
    }),
    Case("GET /v1/runs/compare", "compare_with_baseline", 200, query=f"target={FINISHED_RUN_ID}", expect={"base": {"id": BASELINE_RUN_ID}, "baseIsBaseline": True}),
    Case("GET /v1/runs/compare", "compare_without_baseline", 422, "BaselineRequired", query=f"target={FINISHED_RUN_ID}"),
    Case("GET /v1/runs/compare", "compare_no_results", 422, "NotComparable", query=f"base={RUN_ID}&target={FINISHED_RUN_ID}"),
    Case("GET /v1/runs/compare", "compare_missing_target", 422, "ValidationError", query=f"base={FINISHED_RUN_ID}"),
    Case("GET /v1/runs/compare", "compare_other_tenant", 404, "RunNotFound", query=f"base={FINISHED_RUN_ID}&target={FINISHED_RUN_ID}", claims=OTHER_TENANT),
    Case("GET /v1/runs/compare/report", "compare_report", 200, query=f"base={BASELINE_RUN_ID}&target={FINISHED_RUN_ID}"),
    Case("GET /v1/runs/compare/report", "compare_report_unknown_run", 404, "RunNotFound", query=f"base={MISSING_ID}&target={FINISHED_RUN_ID}"),
    Case("GET /v1/load-tests/{testId}/trends", "trends", 200, query="limit=10", expect={"loadTestId": TEST_ID, "baselineRunId": BASELINE_RUN_ID}),
    Case("GET /v1/load-tests/{testId}/trends", "trends_invalid_limit", 422, "ValidationError", query="limit=0"),
    Case("GET /v1/load-tests/{testId}/trends", "trends_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT),
    Case("PUT /v1/load-tests/{testId}/baseline", "set_baseline", 200, writes=True, body={"runId": FINISHED_RUN_ID}, expect={"baselineRunId": FINISHED_RUN_ID, "updatedBy": CLAIMS["email"]}),
    Case("PUT /v1/load-tests/{testId}/baseline", "clear_baseline", 200, writes=True, body={"runId": None}, expect={"baselineRunId": None}),
    Case("PUT /v1/load-tests/{testId}/baseline", "set_baseline_not_finished", 422, "InvalidBaseline", body={"runId": RUN_ID}),
    Case("PUT /v1/load-tests/{testId}/baseline", "set_baseline_unknown_run", 422, "InvalidBaseline", body={"runId": MISSING_ID}),
    Case("PUT /v1/load-tests/{testId}/baseline", "set_baseline_missing_run_id", 422, "ValidationError", body={}),
    Case("PUT /v1/load-tests/{testId}/baseline", "set_baseline_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT, body={"runId": FINISHED_RUN_ID}),
    # clusters
    Case("GET /v1/clusters", "list_clusters", 200, expect={"items": []}),
    Case("PUT /v1/clusters", "put_cluster", 200, claims=ADMIN_CLAIMS, writes=True, body={"orgId": "shop", "backend": "local", "maxWorkers": 4}, expect={
        "accountId": CLAIMS["custom:accountId"], "orgId": "shop", "backend": "local", "maxWorkers": 4, "updatedBy": CLAIMS["email"],
    }),
    Case("PUT /v1/clusters", "put_cluster_ecs", 200, claims=ADMIN_CLAIMS, writes=True, body={"orgId": "shop", "projectId": "checkout", "backend": "ecs", "maxWorkers": 16, "ecs": ECS_SETTINGS}, expect={
        "backend": "ecs", "maxWorkers": 16, "ecs": {"cluster": ECS_SETTINGS["cluster"], "subnets": ECS_SETTINGS["subnets"]},
    }),
    Case("PUT /v1/clusters", "put_cluster_not_admin", 403, "Forbidden", body={"backend": "local"}),
    # Only the deployment's subnets and groups (the test's environment names ECS_SETTINGS' as the deployment's own).
    Case("PUT /v1/clusters", "put_cluster_subnet_not_allowed", 422, "SubnetNotAllowed", claims=ADMIN_CLAIMS, body={
        "backend": "ecs", "ecs": {**ECS_SETTINGS, "subnets": ["subnet-0bad0bad"]},
    }),
    Case("PUT /v1/clusters", "put_cluster_security_group_not_allowed", 422, "SecurityGroupNotAllowed", claims=ADMIN_CLAIMS, body={
        "backend": "ecs", "ecs": {**ECS_SETTINGS, "securityGroups": ["sg-0bad0bad"]},
    }),
    Case("PUT /v1/clusters", "put_cluster_ecs_missing_settings", 422, "MissingEcsSettings", claims=ADMIN_CLAIMS, body={"backend": "ecs"}),
    Case("PUT /v1/clusters", "put_cluster_local_with_ecs_settings", 422, "UnexpectedEcsSettings", claims=ADMIN_CLAIMS, body={"backend": "local", "ecs": ECS_SETTINGS}),
    Case("PUT /v1/clusters", "put_cluster_invalid_scope", 422, "InvalidScope", claims=ADMIN_CLAIMS, body={"envId": "prod", "backend": "local"}),
    Case("PUT /v1/clusters", "put_cluster_unknown_backend", 422, "ValidationError", claims=ADMIN_CLAIMS, body={"backend": "kubernetes"}),
    Case("PUT /v1/clusters", "put_cluster_identity_field", 422, "IdentityFieldNotAllowed", claims=ADMIN_CLAIMS, body={"backend": "local", "accountId": "acct-other"}),
    Case("DELETE /v1/clusters/{clusterId}", "delete_cluster", 204, claims=ADMIN_CLAIMS),
    Case("DELETE /v1/clusters/{clusterId}", "delete_cluster_not_admin", 403, "Forbidden"),
    Case("DELETE /v1/clusters/{clusterId}", "delete_cluster_not_found", 404, "ClusterNotFound", claims=ADMIN_CLAIMS, params={"clusterId": MISSING_ID}),
    Case("DELETE /v1/clusters/{clusterId}", "delete_cluster_other_tenant", 404, "ClusterNotFound", claims=OTHER_TENANT_ADMIN),
    # variables and secrets
    Case("GET /v1/variables", "list_variables", 200),
    Case("PUT /v1/variables", "put_variable", 200, claims=ADMIN_CLAIMS, writes=True, body={"orgId": "shop", "name": "API_HOST", "value": "https://api.example.com"},
         expect={"orgId": "shop", "name": "API_HOST", "value": "https://api.example.com", "version": 1, "updatedBy": CLAIMS["email"]}),
    Case("PUT /v1/variables", "put_variable_test_scope", 200, claims=ADMIN_CLAIMS, writes=True, body={"testId": TEST_ID, "name": "NUM_USERS", "value": "50"},
         expect={"testId": TEST_ID, "orgId": None, "name": "NUM_USERS", "version": 1}),
    Case("PUT /v1/variables", "put_variable_not_admin", 403, "Forbidden", body={"name": "API_HOST", "value": "x"}),
    Case("PUT /v1/variables", "put_variable_reserved_name", 422, "ReservedVariableName", claims=ADMIN_CLAIMS, body={"name": "LOCUST_HOST", "value": "x"}),
    Case("PUT /v1/variables", "put_variable_invalid_name", 422, "ValidationError", claims=ADMIN_CLAIMS, body={"name": "1-BAD", "value": "x"}),
    Case("PUT /v1/variables", "put_variable_invalid_scope", 422, "InvalidScope", claims=ADMIN_CLAIMS, body={"envId": "prod", "name": "API_HOST", "value": "x"}),
    Case("PUT /v1/variables", "put_variable_test_and_org", 422, "InvalidScope", claims=ADMIN_CLAIMS, body={"orgId": "shop", "testId": TEST_ID, "name": "API_HOST", "value": "x"}),
    Case("PUT /v1/variables", "put_variable_unknown_test", 404, "LoadTestNotFound", claims=ADMIN_CLAIMS, body={"testId": MISSING_ID, "name": "API_HOST", "value": "x"}),
    Case("PUT /v1/variables", "put_variable_identity_field", 422, "IdentityFieldNotAllowed", claims=ADMIN_CLAIMS, body={"name": "A", "value": "x", "updatedBy": "m@example.com"}),
    Case("DELETE /v1/variables/{variableId}", "delete_variable", 204, claims=ADMIN_CLAIMS),
    Case("DELETE /v1/variables/{variableId}", "delete_variable_not_admin", 403, "Forbidden"),
    Case("DELETE /v1/variables/{variableId}", "delete_variable_not_found", 404, "VariableNotFound", claims=ADMIN_CLAIMS, params={"variableId": MISSING_ID}),
    Case("DELETE /v1/variables/{variableId}", "delete_variable_other_tenant", 404, "VariableNotFound", claims=OTHER_TENANT_ADMIN),
    Case("GET /v1/secrets", "list_secrets", 200),
    Case("PUT /v1/secrets", "put_secret", 200, claims=ADMIN_CLAIMS, writes=True, body={"projectId": "checkout", "orgId": "shop", "name": "API_TOKEN", "value": "tok-3f9a2c71"},
         expect={"orgId": "shop", "projectId": "checkout", "name": "API_TOKEN", "source": "stored", "reference": None, "version": 1}),
    Case("PUT /v1/secrets", "put_secret_test_scope", 200, claims=ADMIN_CLAIMS, writes=True, body={"testId": TEST_ID, "name": "API_TOKEN", "value": "tok-for-one-test"},
         expect={"testId": TEST_ID, "version": 1}),
    Case("PUT /v1/secrets", "put_secret_too_short", 422, "ValidationError", claims=ADMIN_CLAIMS, body={"name": "PIN", "value": "123"}),
    Case("PUT /v1/secrets", "put_secret_value_and_reference", 422, "ValidationError", claims=ADMIN_CLAIMS,
         body={"name": "DB_PASSWORD", "value": "hunter2-long", "reference": REFERENCE_ARN}),
    Case("PUT /v1/secrets", "put_secret_reference_not_allowed", 422, "SecretReferenceNotAllowed", claims=ADMIN_CLAIMS,
         body={"name": "DB_PASSWORD", "reference": REFERENCE_ARN}),
    Case("PUT /v1/secrets", "put_secret_not_admin", 403, "Forbidden", body={"name": "API_TOKEN", "value": "tok-3f9a2c71"}),
    Case("DELETE /v1/secrets/{secretId}", "delete_secret", 204, claims=ADMIN_CLAIMS),
    Case("DELETE /v1/secrets/{secretId}", "delete_secret_not_found", 404, "SecretNotFound", claims=ADMIN_CLAIMS, params={"secretId": MISSING_ID}),
    Case("DELETE /v1/secrets/{secretId}", "delete_secret_a_variable", 404, "SecretNotFound", claims=ADMIN_CLAIMS, params={"secretId": VARIABLE_ID}),
    Case("GET /v1/load-tests/{testId}/environment", "get_test_environment", 200, query="envId=prod", expect={
        "variables": [{"name": "SEED_LEVEL", "value": "account-wide", "level": "account", "id": VARIABLE_ID, "version": 1}],
        "secrets": [{"name": "SEED_TOKEN", "level": "account", "id": SECRET_ID, "version": 1, "reference": None}],
    }),
    Case("GET /v1/load-tests/{testId}/environment", "get_test_environment_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT),
    # retention (load_tests)
    Case("PATCH /v1/load-tests/{testId}", "patch_retention", 200, expect={"revisionRetention": {"keepLast": 1}}, body={"revisionRetention": {"keepLast": 1}}),
    Case("PATCH /v1/load-tests/{testId}", "patch_retention_invalid", 422, "ValidationError", body={"revisionRetention": {"keepLast": 0}}),
    # triggers
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger", 201, body=SEED_TRIGGER, expect={
        "name": SEED_TRIGGER["name"], "loadTestId": TEST_ID, "eventPattern": CODEDEPLOY_PATTERN, "runSettings": {"targetUsers": 5, "durationSeconds": 30},
        "createdBy": CLAIMS["email"], "lastFirings": [],
    }),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_run_requested", 201, body={"name": "On request", "eventPattern": RUN_REQUESTED_PATTERN}, expect={"eventPattern": RUN_REQUESTED_PATTERN}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_pattern_not_arrays", 422, "ValidationError", body={**SEED_TRIGGER, "eventPattern": {"source": "aws.codedeploy"}}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_empty_pattern", 422, "ValidationError", body={**SEED_TRIGGER, "eventPattern": {}}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_invalid_run_settings", 422, "ValidationError", body={**SEED_TRIGGER, "runSettings": {"targetUsers": 0}}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_missing_target", 422, "MissingTargetUrl", params={"testId": BARE_TEST_ID}, body=SEED_TRIGGER),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_unknown_revision", 404, "RevisionNotFound", body={**SEED_TRIGGER, "runSettings": {"revision": 99}}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_identity_field", 422, "IdentityFieldNotAllowed", body={**SEED_TRIGGER, "createdBy": "mallory@example.com"}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}, body=SEED_TRIGGER),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT, body=SEED_TRIGGER),
    Case("GET /v1/load-tests/{testId}/triggers", "list_triggers", 200, expect={"items": []}),
    Case("GET /v1/load-tests/{testId}/triggers", "list_triggers_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}),
    Case("GET /v1/load-tests/{testId}/triggers/{triggerId}", "get_trigger", 200, expect={"id": TRIGGER_ID, "loadTestId": TEST_ID, "ruleName": f"lm-trigger-{TRIGGER_ID}"}),
    Case("GET /v1/load-tests/{testId}/triggers/{triggerId}", "get_trigger_not_found", 404, "TriggerNotFound", params={"triggerId": MISSING_ID}),
    Case("GET /v1/load-tests/{testId}/triggers/{triggerId}", "get_trigger_other_tenant", 404, "TriggerNotFound", claims=OTHER_TENANT),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger", 200, body={"enabled": False, "description": "Paused during the freeze"}, expect={
        "id": TRIGGER_ID, "enabled": False, "description": "Paused during the freeze", "name": SEED_TRIGGER["name"], "eventPattern": CODEDEPLOY_PATTERN,
        "runSettings": {"targetUsers": 5, "durationSeconds": 30}, "createdBy": CLAIMS["email"], "updatedBy": CLAIMS["email"],
    }),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_pattern", 200,
         body={"eventPattern": {**CODEDEPLOY_PATTERN, "detail": {"state": ["FAILURE"], "application": ["checkout"]}}, "runSettings": {"targetUsers": 2}},
         expect={"eventPattern": {**CODEDEPLOY_PATTERN, "detail": {"state": ["FAILURE"], "application": ["checkout"]}}, "runSettings": {"targetUsers": 2, "durationSeconds": None}, "enabled": True}),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_not_found", 404, "TriggerNotFound", params={"triggerId": MISSING_ID}, body={"enabled": False}),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_other_tenant", 404, "TriggerNotFound", claims=OTHER_TENANT, body={"enabled": False}),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_empty", 400, "EmptyUpdate", body={}),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_invalid_pattern", 422, "ValidationError", body={"eventPattern": {"source": "aws.codedeploy"}}),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_not_owned", 422, "EventSourceNotOwned",
         body={"eventPattern": {**CODEDEPLOY_PATTERN, "detail": {"state": ["SUCCESS"], "application": ["billing"]}}}),
    Case("PATCH /v1/load-tests/{testId}/triggers/{triggerId}", "patch_trigger_null_name", 422, "ValidationError", body={"name": None}),
    Case("DELETE /v1/load-tests/{testId}/triggers/{triggerId}", "delete_trigger", 204),
    Case("DELETE /v1/load-tests/{testId}/triggers/{triggerId}", "delete_trigger_not_found", 404, "TriggerNotFound", params={"triggerId": MISSING_ID}),
    Case("DELETE /v1/load-tests/{testId}/triggers/{triggerId}", "delete_trigger_other_tenant", 404, "TriggerNotFound", claims=OTHER_TENANT),
    # triggers see only their tenant's events
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_not_owned", 422, "EventSourceNotOwned", body={
        **SEED_TRIGGER, "eventPattern": {**CODEDEPLOY_PATTERN, "detail": {"state": ["SUCCESS"], "application": ["checkout", "billing"]}},
    }, expect={"details": {"field": "detail.application", "notOwned": ["billing"]}}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_prefix_on_owned_field", 422, "UnconstrainablePattern", body={
        **SEED_TRIGGER, "eventPattern": {"source": ["aws.codedeploy"], "detail": {"application": [{"prefix": "check"}]}},
    }),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_without_source", 422, "EventSourceRequired",
         body={**SEED_TRIGGER, "eventPattern": {"detail-type": ["RunRequested"]}}),
    Case("POST /v1/load-tests/{testId}/triggers", "create_trigger_other_tenants_events", 422, "EventSourceNotOwned",
         body={**SEED_TRIGGER, "eventPattern": {"source": ["load-manager"], "detail": {"accountId": ["acct-other"]}}}),
    # event sources: which tenant owns which (operators only)
    Case("POST /v1/event-sources", "create_event_source", 201, claims=OPERATOR_CLAIMS,
         body={"ownerAccountId": CLAIMS["custom:accountId"], "kind": "awsAccount", "value": "210987654321"},
         expect={"ownerAccountId": CLAIMS["custom:accountId"], "kind": "awsAccount", "value": "210987654321", "createdBy": OPERATOR_CLAIMS["email"]}),
    Case("POST /v1/event-sources", "create_event_source_again", 200, claims=OPERATOR_CLAIMS, body=SEED_EVENT_SOURCE, expect={"id": EVENT_SOURCE_ID}),
    Case("POST /v1/event-sources", "create_event_source_owned_elsewhere", 409, "EventSourceOwnedElsewhere", claims=OPERATOR_CLAIMS,
         body={**SEED_EVENT_SOURCE, "ownerAccountId": OTHER_TENANT["custom:accountId"]}),
    Case("POST /v1/event-sources", "create_event_source_not_operator", 403, "OperatorOnly", claims=ADMIN_CLAIMS,
         body={**SEED_EVENT_SOURCE, "value": "billing"}),
    Case("POST /v1/event-sources", "create_event_source_aws_source", 422, "ValidationError", claims=OPERATOR_CLAIMS,
         body={**SEED_EVENT_SOURCE, "kind": "eventSource", "value": "aws.codedeploy"}),
    Case("POST /v1/event-sources", "create_event_source_invalid_account", 422, "ValidationError", claims=OPERATOR_CLAIMS,
         body={**SEED_EVENT_SOURCE, "kind": "awsAccount", "value": "1234"}),
    Case("GET /v1/event-sources", "list_event_sources", 200),
    Case("GET /v1/event-sources", "list_event_sources_other_tenant_not_operator", 403, "OperatorOnly", query="ownerAccountId=acct-other"),
    Case("DELETE /v1/event-sources/{sourceId}", "delete_event_source", 204, claims=OPERATOR_CLAIMS),
    Case("DELETE /v1/event-sources/{sourceId}", "delete_event_source_not_found", 404, "EventSourceNotFound", claims=OPERATOR_CLAIMS,
         params={"sourceId": MISSING_ID}),
    Case("DELETE /v1/event-sources/{sourceId}", "delete_event_source_not_operator", 403, "OperatorOnly", claims=ADMIN_CLAIMS),
    # schedules
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule", 201, body={**SEED_SCHEDULE, "cron": "0 2 * * 1-5"}, expect={
        "name": "Nightly", "cron": "0 2 * * 1-5", "timezone": "Europe/Paris", "expression": "cron(0 2 ? * MON-FRI *)", "enabled": True,
        "minIntervalSeconds": 86400, "occurrences": [], "createdBy": CLAIMS["email"],
    }),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_rate", 201, body={"name": "Every 15 minutes", "rate": "15 minutes", "runSettings": {"durationSeconds": 300}}, expect={
        "rate": "15 minutes", "cron": None, "timezone": "UTC", "expression": "rate(15 minutes)", "minIntervalSeconds": 900,
    }),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_too_frequent", 422, "ScheduleTooFrequent", body={"name": "Busy", "cron": "*/5 * * * *", "runSettings": {"durationSeconds": 600}}, expect={
        "details": {"minIntervalSeconds": 300, "durationSeconds": 600},
    }),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_cron_and_rate", 422, "InvalidSchedule", body={**SEED_SCHEDULE, "rate": "1 hour"}),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_invalid_cron", 422, "InvalidCron", body={**SEED_SCHEDULE, "cron": "61 2 * * *"}),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_day_conflict", 422, "InvalidCron", body={**SEED_SCHEDULE, "cron": "0 2 1 * MON"}),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_invalid_timezone", 422, "InvalidTimezone", body={**SEED_SCHEDULE, "timezone": "Mars/Olympus_Mons"}),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_invalid_rate", 422, "InvalidRate", body={"name": "Never", "rate": "0 minutes"}),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_bad_window", 422, "InvalidScheduleWindow", body={**SEED_SCHEDULE, "startAt": TIME_EPOCH_MS, "endAt": TIME_EPOCH_MS}),
    Case("POST /v1/load-tests/{testId}/schedules", "create_schedule_not_found", 404, "LoadTestNotFound", params={"testId": MISSING_ID}, body=SEED_SCHEDULE),
    Case("GET /v1/load-tests/{testId}/schedules", "list_schedules", 200, expect={"items": []}),
    Case("GET /v1/load-tests/{testId}/schedules", "list_schedules_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT),
    Case("GET /v1/load-tests/{testId}/schedules/{scheduleId}", "get_schedule", 200, expect={"id": SCHEDULE_ID, "expression": "cron(0 2 * * ? *)", "enabled": True}),
    Case("GET /v1/load-tests/{testId}/schedules/{scheduleId}", "get_schedule_not_found", 404, "ScheduleNotFound", params={"scheduleId": MISSING_ID}),
    Case("GET /v1/load-tests/{testId}/schedules/{scheduleId}", "get_schedule_other_tenant", 404, "ScheduleNotFound", claims=OTHER_TENANT),
    Case("PATCH /v1/load-tests/{testId}/schedules/{scheduleId}", "patch_schedule_disable", 200, body={"enabled": False}, expect={"enabled": False, "nextOccurrences": []}),
    Case("PATCH /v1/load-tests/{testId}/schedules/{scheduleId}", "patch_schedule_to_rate", 200, body={"rate": "1 hour"}, expect={"cron": None, "rate": "1 hour", "expression": "rate(1 hour)"}),
    Case("PATCH /v1/load-tests/{testId}/schedules/{scheduleId}", "patch_schedule_too_frequent", 422, "ScheduleTooFrequent", body={"cron": "*/5 * * * *"}),
    Case("PATCH /v1/load-tests/{testId}/schedules/{scheduleId}", "patch_schedule_empty", 400, "EmptyUpdate", body={}),
    Case("PATCH /v1/load-tests/{testId}/schedules/{scheduleId}", "patch_schedule_not_found", 404, "ScheduleNotFound", params={"scheduleId": MISSING_ID}, body={"enabled": False}),
    Case("DELETE /v1/load-tests/{testId}/schedules/{scheduleId}", "delete_schedule", 204),
    Case("DELETE /v1/load-tests/{testId}/schedules/{scheduleId}", "delete_schedule_not_found", 404, "ScheduleNotFound", params={"scheduleId": MISSING_ID}),
    # notification channels (the URL, signing secret and auth header value are never answered)
    Case("POST /v1/notification-channels", "create_channel_webhook", 201, body={**SEED_CHANNEL, "authHeader": {"name": "Authorization", "value": "Bearer abc"}}, expect={
        "name": "On-call", "kind": "webhook", "filter": "failed", "enabled": True, "testId": TEST_ID, "endpointHost": "hooks.example.com",
        "signingSecretSet": True, "authHeaderName": "Authorization", "createdBy": CLAIMS["email"],
    }),
    Case("POST /v1/notification-channels", "create_channel_slack_org", 201, claims=ADMIN_CLAIMS,
         body={"name": "Shop team", "kind": "slack", "url": SLACK_URL, "filter": "statusChange", "orgId": "shop"},
         expect={"kind": "slack", "orgId": "shop", "testId": None, "signingSecretSet": False, "endpointHost": "hooks.slack.com"}),
    Case("POST /v1/notification-channels", "create_channel_scope_not_admin", 403, "Forbidden", body={"name": "All", "kind": "teams", "url": TEAMS_URL}),
    Case("POST /v1/notification-channels", "create_channel_webhook_without_secret", 422, "SigningSecretRequired",
         body={k: v for k, v in SEED_CHANNEL.items() if k != "signingSecret"}),
    Case("POST /v1/notification-channels", "create_channel_slack_with_secret", 422, "UnexpectedChannelField",
         body={"name": "x", "kind": "slack", "url": SLACK_URL, "signingSecret": "0123456789abcdef", "testId": TEST_ID}),
    Case("POST /v1/notification-channels", "create_channel_http_url", 422, "InvalidChannelUrl", body={**SEED_CHANNEL, "url": "http://hooks.example.com/in"}),
    Case("POST /v1/notification-channels", "create_channel_test_and_scope", 422, "InvalidScope", body={**SEED_CHANNEL, "orgId": "shop"}),
    Case("POST /v1/notification-channels", "create_channel_unknown_kind", 422, "ValidationError", body={**SEED_CHANNEL, "kind": "email"}),
    Case("POST /v1/notification-channels", "create_channel_test_not_found", 404, "LoadTestNotFound", body={**SEED_CHANNEL, "testId": MISSING_ID}),
    Case("POST /v1/notification-channels", "create_channel_other_tenant", 404, "LoadTestNotFound", claims=OTHER_TENANT, body=SEED_CHANNEL),
    Case("GET /v1/notification-channels", "list_channels", 200, expect={"items": []}, query=f"testId={MISSING_ID}"),
    Case("GET /v1/notification-channels", "list_channels_invalid_test", 400, "InvalidTestId", query="testId=nope"),
    Case("GET /v1/notification-channels/{channelId}", "get_channel", 200, expect={"id": CHANNEL_ID, "kind": "webhook", "ruleName": f"lm-trigger-n-{CHANNEL_ID}"}),
    Case("GET /v1/notification-channels/{channelId}", "get_channel_not_found", 404, "NotificationChannelNotFound", params={"channelId": MISSING_ID}),
    Case("GET /v1/notification-channels/{channelId}", "get_channel_other_tenant", 404, "NotificationChannelNotFound", claims=OTHER_TENANT),
    Case("PATCH /v1/notification-channels/{channelId}", "patch_channel", 200, body={"filter": "all", "signingSecret": "rotated-0123456789"},
         expect={"id": CHANNEL_ID, "filter": "all", "signingSecretSet": True, "updatedBy": CLAIMS["email"]}),
    Case("PATCH /v1/notification-channels/{channelId}", "patch_channel_empty", 400, "EmptyUpdate", body={}),
    Case("PATCH /v1/notification-channels/{channelId}", "patch_channel_null", 422, "NullField", body={"name": None}),
    Case("PATCH /v1/notification-channels/{channelId}", "patch_channel_kind", 422, "ValidationError", body={"kind": "slack"}),
    Case("PATCH /v1/notification-channels/{channelId}", "patch_channel_not_found", 404, "NotificationChannelNotFound", params={"channelId": MISSING_ID}, body={"enabled": False}),
    Case("DELETE /v1/notification-channels/{channelId}", "delete_channel", 204),
    Case("DELETE /v1/notification-channels/{channelId}", "delete_channel_other_tenant", 404, "NotificationChannelNotFound", claims=OTHER_TENANT),
    # API tokens (access)
    Case("POST /v1/tokens", "create_token", 201, claims=ADMIN_CLAIMS, body={"name": "GitHub Actions - checkout", "role": "runner", "expiresInDays": 30},
         expect={"name": "GitHub Actions - checkout", "role": "runner", "loadTestIds": None, "createdBy": CLAIMS["email"], "lastUsedAt": None, "revokedAt": None}),
    Case("POST /v1/tokens", "create_token_scoped", 201, claims=ADMIN_CLAIMS, body={"name": "Nightly", "role": "viewer", "loadTestIds": [TEST_ID]},
         expect={"role": "viewer", "loadTestIds": [TEST_ID]}),
    Case("POST /v1/tokens", "create_token_not_admin", 403, "Forbidden", body={"name": "ci", "role": "runner"}),
    Case("POST /v1/tokens", "create_token_unknown_test", 404, "LoadTestNotFound", claims=ADMIN_CLAIMS, body={"name": "ci", "role": "runner", "loadTestIds": [MISSING_ID]}),
    Case("POST /v1/tokens", "create_token_other_tenant_test", 404, "LoadTestNotFound", claims=OTHER_TENANT_ADMIN, body={"name": "ci", "role": "runner", "loadTestIds": [TEST_ID]}),
    Case("POST /v1/tokens", "create_token_admin_role", 422, "ValidationError", claims=ADMIN_CLAIMS, body={"name": "ci", "role": "admin"}),
    Case("POST /v1/tokens", "create_token_expiry_too_long", 422, "ValidationError", claims=ADMIN_CLAIMS, body={"name": "ci", "role": "runner", "expiresInDays": 366}),
    Case("POST /v1/tokens", "create_token_identity_field", 422, "IdentityFieldNotAllowed", claims=ADMIN_CLAIMS, body={"name": "ci", "role": "runner", "createdBy": "m@example.com"}),
    Case("GET /v1/tokens", "list_tokens", 200, claims=ADMIN_CLAIMS, expect={"items": []}),
    Case("GET /v1/tokens", "list_tokens_not_admin", 403, "Forbidden"),
    Case("DELETE /v1/tokens/{tokenId}", "revoke_token", 204, claims=ADMIN_CLAIMS),
    Case("DELETE /v1/tokens/{tokenId}", "revoke_token_not_found", 404, "TokenNotFound", claims=ADMIN_CLAIMS, params={"tokenId": MISSING_ID}),
    Case("DELETE /v1/tokens/{tokenId}", "revoke_token_other_tenant", 404, "TokenNotFound", claims=OTHER_TENANT_ADMIN),
    # The audit trail (access; admin)
    Case("GET /v1/audit", "list_audit", 200, claims=ADMIN_CLAIMS, expect={"nextCursor": None}, query=f"target={TEST_ID}&limit=50"),
    Case("GET /v1/audit", "list_audit_not_admin", 403, "Forbidden"),
    Case("GET /v1/audit", "list_audit_bad_window", 422, "InvalidAuditWindow", claims=ADMIN_CLAIMS, query="from=2000&to=1000"),
    Case("GET /v1/audit", "list_audit_invalid_cursor", 400, "InvalidCursor", claims=ADMIN_CLAIMS, query="cursor=not-a-cursor"),
    # Usage and cost (access; a viewer reads them)
    Case("GET /v1/usage", "get_usage", 200, query="groupBy=project", expect={"groupBy": "project", "currency": "USD", "truncated": False}),
    Case("GET /v1/usage", "get_usage_bad_window", 422, "InvalidUsageWindow", query="from=2000&to=1000"),
    Case("GET /v1/usage", "get_usage_window_too_long", 422, "InvalidUsageWindow", query="from=0&to=40000000000"),
    Case("GET /v1/usage", "get_usage_unknown_grouping", 422, "ValidationError", query="groupBy=team"),
    # The caller itself (access; anyone of the tenant)
    Case("GET /v1/me", "get_me", 200, expect={"subject": CLAIMS["sub"], "email": CLAIMS["email"], "accountId": CLAIMS["custom:accountId"], "role": "editor"}),
    Case("GET /v1/me", "get_me_viewer", 200, claims=VIEWER_CLAIMS, expect={"role": "viewer", "tokenId": None, "loadTestIds": None}),
    Case("GET /v1/me", "get_me_admin", 200, claims=ADMIN_CLAIMS, expect={"role": "admin"}),
]

# Inputs of RunWorkflowFunction, exactly as statemachine/run_lifecycle.asl.json builds them.
WORKFLOW_FUNCTION = "run_workflow"
WORKFLOW_STEPS = ("start", "poll", "finalize", "fail")
_LAMBDA_ERROR = {"errorMessage": "Locust master exited with code 1 before the swarm started", "errorType": "LocustCrashedError"}
WORKFLOW_CASES: dict[str, dict[str, Any]] = {
    "start": {"action": "start", "runId": RUN_ID, "accountId": CLAIMS["custom:accountId"]},
    "poll": {"action": "poll", "runId": RUN_ID, "accountId": CLAIMS["custom:accountId"]},
    "finalize": {"action": "finalize", "runId": RUN_ID, "accountId": CLAIMS["custom:accountId"]},
    # MarkFailed: the Catch's `$.error` (Step Functions' {Error, Cause}; a Lambda's Cause is its error as JSON).
    "fail": {
        "action": "fail", "runId": RUN_ID, "accountId": CLAIMS["custom:accountId"],
        "error": {"Error": "LocustCrashedError", "Cause": json.dumps(_LAMBDA_ERROR)},
    },
}


# What a trigger's rule and a schedule deliver to TriggersFunction (not HTTP events), and the
# subset of the answer the handler must give.
AUTOMATION_FUNCTION = "triggers"
_ACCOUNT = CLAIMS["custom:accountId"]
_CODEDEPLOY_EVENT = {
    "version": "0", "id": "c3b1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d", "detail-type": CODEDEPLOY_DETAIL_TYPE, "source": "aws.codedeploy",
    "account": "123456789012", "time": "2025-11-24T07:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:codedeploy:us-east-1:123456789012:application:checkout"],
    "detail": {"region": "us-east-1", "deploymentId": "d-EXAMPLE123", "instanceGroupId": "9f1c3b2a-1111-2222-3333-444455556666",
               "deploymentGroup": "checkout-prod", "state": "SUCCESS", "application": "checkout"},
}  # fmt: skip
AUTOMATION_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "eventbridge_codedeploy_success": (
        {"loadManagerTrigger": {"triggerId": TRIGGER_ID, "accountId": _ACCOUNT, "loadTestId": TEST_ID}, "event": _CODEDEPLOY_EVENT},
        {"outcome": "started", "eventId": _CODEDEPLOY_EVENT["id"], "source": "aws.codedeploy"},
    ),
    "eventbridge_run_requested": (
        {"loadManagerTrigger": {"triggerId": TRIGGER_ID, "accountId": _ACCOUNT, "loadTestId": TEST_ID}, "event": {
            **_CODEDEPLOY_EVENT, "id": "7d2f0c1e-9a8b-4c3d-2e1f-0a9b8c7d6e5f", "source": "load-manager", "detail-type": "RunRequested",
            "resources": [], "detail": {"loadTestId": TEST_ID, "accountId": _ACCOUNT, "requestedBy": "release-pipeline#1234"},
        }},
        {"outcome": "started", "source": "load-manager", "detailType": "RunRequested"},
    ),
    "eventbridge_other_tenants_deployment": (
        {"loadManagerTrigger": {"triggerId": TRIGGER_ID, "accountId": _ACCOUNT, "loadTestId": TEST_ID}, "event": {
            **_CODEDEPLOY_EVENT, "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e",
            "detail": {**_CODEDEPLOY_EVENT["detail"], "application": "billing", "deploymentId": "d-OTHERTENANT"},
        }},
        {"outcome": "ignored", "reason": "not this tenant's event"},
    ),
    "eventbridge_other_tenants_run_requested": (
        {"loadManagerTrigger": {"triggerId": TRIGGER_ID, "accountId": _ACCOUNT, "loadTestId": TEST_ID}, "event": {
            **_CODEDEPLOY_EVENT, "id": "2b3c4d5e-6f70-4b8c-9d0e-1f2a3b4c5d6f", "source": "load-manager", "detail-type": "RunRequested",
            "resources": [], "detail": {"loadTestId": TEST_ID, "accountId": OTHER_TENANT["custom:accountId"]},
        }},
        {"outcome": "ignored", "reason": "not this tenant's event"},
    ),
    "eventbridge_unknown_trigger": (
        {"loadManagerTrigger": {"triggerId": MISSING_ID, "accountId": _ACCOUNT, "loadTestId": TEST_ID}, "event": _CODEDEPLOY_EVENT},
        {"outcome": "ignored"},
    ),
    "scheduler_occurrence": (
        {"loadManagerSchedule": {"scheduleId": SCHEDULE_ID, "accountId": _ACCOUNT, "loadTestId": TEST_ID},
         "scheduledTime": "2025-11-24T01:00:00Z", "executionId": "5b6c7d8e-0f1a-4b2c-9d3e-4f5a6b7c8d9e", "attempt": "1"},
        {"outcome": "started", "at": 1763946000000},
    ),
    "sync": ({"action": "sync"}, {}),
}


def routes_by_key() -> dict[str, HttpRoute]:
    return {route.route_key: route for route in http_routes(TEMPLATE)}


def build_event(case: Case, route: HttpRoute) -> dict[str, Any]:
    params = {name: DEFAULT_PARAMS.get(name, "") for name in _path_params(route.path)} | case.params
    path = route.path.format(**params)
    headers = dict(HEADERS) | case.headers
    body = case.body
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if body is not None:
        headers["content-type"] = case.headers.get("content-type", "application/json")
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
    if case.base64_body and not event["isBase64Encoded"]:
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
    """Relative path (`<function>/<case>.json`) -> event, for every case (HTTP and workflow)."""
    routes = routes_by_key()
    events = {}
    for case in CASES:
        route = routes[case.route]  # KeyError: the case names a route the template no longer has
        relative = Path(route.function) / f"{case.name}.json"
        if relative in events:
            raise ValueError(f"two cases write {relative}")
        events[relative] = build_event(case, route)
    for name, event in WORKFLOW_CASES.items():
        events[Path(WORKFLOW_FUNCTION) / f"{name}.json"] = event
    for name, (event, _) in AUTOMATION_CASES.items():
        events[Path(AUTOMATION_FUNCTION) / f"{name}.json"] = event
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
