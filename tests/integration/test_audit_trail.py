"""The audit trail through the real handlers, on every store adapter (AWS is moto in process): who
changed a test, its gate and its triggers, in order; what a pipeline's token did; every area of
configuration on the record, secrets by name only; a refused change leaves no record; the trail is
for admins, paginated and filtered."""

from __future__ import annotations

import base64
import json

import pytest
from support.aws import stack_on_moto
from support.fake_backend import FakeBackend
from support.roles import token_claims, with_role
from support.scripts import SIMPLE, b64, simple_variant

from load_manager.lifecycle.dispatch import run_step
from load_manager.store import get_stores

ACCOUNT = "acct-audit"
PERSON = {"email_verified": "true", "custom:accountId": ACCOUNT}
ALICE = with_role({**PERSON, "sub": "u-alice", "email": "alice@example.com"}, "editor")
BOB = with_role({**PERSON, "sub": "u-bob", "email": "bob@example.com"}, "editor")
ADMIN = with_role({**PERSON, "sub": "u-dana", "email": "dana@example.com"}, "admin")
OPERATOR = {"sub": "ops", "email": "ops@example.net", "email_verified": "true", "custom:accountId": "ops", "cognito:groups": "[load-manager-operators]"}
PATTERN = {"source": ["aws.codedeploy"], "detail-type": ["CodeDeploy Deployment State-change Notification"],
           "detail": {"state": ["SUCCESS"], "application": ["checkout"]}}  # fmt: skip


@pytest.fixture
def aws(monkeypatch):
    """The stack's Step Functions (never executing: runs stay Pending), bus and schedule group, in moto."""
    with stack_on_moto(monkeypatch):
        yield


def call(api, method: str, path: str, body=None, status: int = 200, claims=ALICE, query: str = "") -> dict:
    answer = api.request(method, path, body=body, claims=claims, query=query)
    assert answer.status == status, (method, path, answer.status, answer.json())
    return answer.json() if answer.body else {}


def audit_log(api, query: str = "") -> list[dict]:
    """Every record the query finds, oldest first, read page by page (of 2: pagination is exercised) as a client does."""
    records, cursor = [], None
    while True:
        page = call(api, "GET", "/v1/audit", claims=ADMIN, query="&".join(p for p in (query, f"cursor={cursor}" if cursor else "", "limit=2") if p))
        records += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return list(reversed(records))


def new_test(api, claims=ALICE) -> str:
    body = {"name": "Checkout", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)}
    return call(api, "POST", "/v1/load-tests", body, 201, claims)["id"]


def own_checkout(api) -> None:
    call(api, "POST", "/v1/event-sources", {"ownerAccountId": ACCOUNT, "kind": "codedeployApplication", "value": "checkout"}, 201, OPERATOR)


def test_a_tests_log_has_its_create_edit_criteria_change_and_trigger_in_order_with_their_actors(api_any_store, aws):
    api = api_any_store
    own_checkout(api)
    token = call(api, "POST", "/v1/tokens", {"name": "deploy-pipeline", "role": "editor"}, 201, ADMIN)
    pipeline = token_claims(ACCOUNT, "editor", token_id=token["id"], name="deploy-pipeline")

    test_id = new_test(api, ALICE)
    created = call(api, "GET", f"/v1/load-tests/{test_id}")
    edited = call(api, "PATCH", f"/v1/load-tests/{test_id}", {"description": "Peak traffic"}, claims=ALICE)
    gated = call(api, "PATCH", f"/v1/load-tests/{test_id}", {"criteria": [{"metric": "p95Ms", "operator": "<", "threshold": 250}]}, claims=BOB)
    body = {"name": "After deploy", "eventPattern": PATTERN, "runSettings": {"targetUsers": 2, "durationSeconds": 30}}
    trigger = call(api, "POST", f"/v1/load-tests/{test_id}/triggers", body, 201, pipeline)

    log = audit_log(api, f"target={test_id}")
    assert [(r["action"], r["actor"], r["role"]) for r in log] == [
        ("loadTest.create", "alice@example.com", "editor"),
        ("loadTest.update", "alice@example.com", "editor"),
        ("criteria.update", "bob@example.com", "editor"),
        ("trigger.create", "token:deploy-pipeline", "editor"),
    ]
    assert [(r["at"], r["seq"]) for r in log] == sorted((r["at"], r["seq"]) for r in log)
    assert [r["target"] for r in log] == [
        {"type": "loadTest", "id": test_id, "loadTestId": test_id}, {"type": "loadTest", "id": test_id, "loadTestId": test_id},
        {"type": "loadTest", "id": test_id, "loadTestId": test_id}, {"type": "trigger", "id": trigger["id"], "loadTestId": test_id},
    ]  # fmt: skip
    assert log[3]["tokenId"] == token["id"] and all(r["tokenId"] is None for r in log[:3])
    assert log[1]["changed"] == ["description"] and log[2]["changed"] == ["criteria"]
    # Each change starts from what the one before it left, and the digests are of what the API shows.
    assert log[0]["beforeDigest"] is None and log[3]["beforeDigest"] is None
    assert log[1]["beforeDigest"] == log[0]["afterDigest"] and log[2]["beforeDigest"] == log[1]["afterDigest"]
    assert len({log[0]["afterDigest"], log[1]["afterDigest"], log[2]["afterDigest"]}) == 3
    assert log[0]["afterDigest"] == digest(created, {"updatedAt", "updatedBy", "latestRevisionId", "latestRevisionNumber"})
    assert log[2]["afterDigest"] == digest(gated, {"updatedAt", "updatedBy", "latestRevisionId", "latestRevisionNumber"})
    assert edited["description"] == "Peak traffic"
    assert log[3]["afterDigest"] == digest(trigger, {"updatedAt", "updatedBy", "lastFirings"})
    # By actor: Bob changed one thing.
    assert [r["action"] for r in audit_log(api, "actor=bob@example.com")] == ["criteria.update"]


def digest(resource: dict, left_out: set[str]) -> str:
    import hashlib

    document = {k: v for k, v in resource.items() if k not in left_out}
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def test_a_refused_change_leaves_no_record(api_any_store, aws):
    api = api_any_store
    own_checkout(api)
    test_id = new_test(api)
    before = audit_log(api)
    regression = [{"metric": "p95Ms", "maxRegressionPercent": 10}]
    assert api.request("PATCH", f"/v1/load-tests/{test_id}", body={"criteria": regression}, claims=BOB).json()["code"] == "BaselineRequired"
    assert api.request("PATCH", f"/v1/load-tests/{test_id}", body={"description": "x"}, claims=with_role(BOB, "viewer")).status == 403
    not_owned = {**PATTERN, "detail": {"application": ["someone-elses"]}}
    body = {"name": "x", "eventPattern": not_owned, "runSettings": {"durationSeconds": 30}}
    assert api.request("POST", f"/v1/load-tests/{test_id}/triggers", body=body, claims=ALICE).status == 422
    call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 30}, 201, with_role(BOB, "runner"))
    conflict = api.request("DELETE", f"/v1/load-tests/{test_id}", claims=ALICE)
    assert conflict.status == 409 and conflict.json()["code"] == "RunActive"
    same = api.request("PUT", f"/v1/load-tests/{test_id}/script", body={"scriptContent": b64(SIMPLE)}, claims=ALICE)
    assert same.status == 200  # identical content: no revision, so nothing to record
    after = audit_log(api)
    assert [r["id"] for r in after[: len(before)]] == [r["id"] for r in before]
    assert [r["action"] for r in after[len(before) :]] == ["run.start"]  # the one change that was made


def test_every_area_of_configuration_is_on_the_record_and_secrets_by_name_only(api_any_store, aws, vault):
    api = api_any_store
    own_checkout(api)
    test_id = new_test(api, ALICE)
    base = f"/v1/load-tests/{test_id}"
    call(api, "PUT", f"{base}/script", {"scriptContent": b64(simple_variant(2))}, 201)
    call(api, "POST", f"{base}/script/rollback", {"revision": 1}, 201)
    call(api, "PATCH", base, {"autoStop": {"enabled": False}})
    call(api, "PUT", f"{base}/baseline", {"runId": None}, claims=with_role(BOB, "runner"))
    trigger = call(api, "POST", f"{base}/triggers", {"name": "t", "eventPattern": PATTERN, "runSettings": {"durationSeconds": 30}}, 201)
    call(api, "PATCH", f"{base}/triggers/{trigger['id']}", {"enabled": False})
    call(api, "DELETE", f"{base}/triggers/{trigger['id']}", status=204)
    schedule = call(api, "POST", f"{base}/schedules", {"name": "n", "cron": "0 2 * * *", "timezone": "UTC", "runSettings": {"durationSeconds": 30}}, 201)
    call(api, "PATCH", f"{base}/schedules/{schedule['id']}", {"enabled": False})
    call(api, "DELETE", f"{base}/schedules/{schedule['id']}", status=204)
    cluster = call(api, "PUT", "/v1/clusters", {"orgId": "shop", "backend": "local", "maxWorkers": 2}, claims=ADMIN)
    call(api, "PUT", "/v1/clusters", {"orgId": "shop", "backend": "local", "maxWorkers": 3}, claims=ADMIN)
    call(api, "DELETE", f"/v1/clusters/{cluster['id']}", status=204, claims=ADMIN)
    variable = call(api, "PUT", "/v1/variables", {"name": "API_HOST", "value": "api.example.com"}, claims=ADMIN)
    call(api, "DELETE", f"/v1/variables/{variable['id']}", status=204, claims=ADMIN)
    secret = call(api, "PUT", "/v1/secrets", {"name": "API_KEY", "value": "s3cr3t-v4lue"}, claims=ADMIN)
    call(api, "PUT", "/v1/secrets", {"name": "API_KEY", "value": "an0ther-v4lue"}, claims=ADMIN)
    call(api, "DELETE", f"/v1/secrets/{secret['id']}", status=204, claims=ADMIN)
    channel = call(api, "POST", "/v1/notification-channels",
                   {"name": "On-call", "kind": "webhook", "url": "https://hooks.example.com/x", "signingSecret": "whsec_0123456789abcdef", "testId": test_id},
                   201)  # fmt: skip
    call(api, "PATCH", f"/v1/notification-channels/{channel['id']}", {"enabled": False})
    call(api, "DELETE", f"/v1/notification-channels/{channel['id']}", status=204)
    token = call(api, "POST", "/v1/tokens", {"name": "ci", "role": "runner", "loadTestIds": [test_id]}, 201, ADMIN)
    ci = token_claims(ACCOUNT, "runner", token_id=token["id"], name="ci", load_test_ids=[test_id])
    run = call(api, "POST", f"{base}/runs", {"durationSeconds": 30}, 201, ci)
    call(api, "POST", f"/v1/runs/{run['id']}/stop", status=202, claims=ci)
    call(api, "DELETE", f"/v1/tokens/{token['id']}", status=204, claims=ADMIN)
    call(api, "DELETE", f"/v1/tokens/{token['id']}", status=204, claims=ADMIN)  # revoked already: no second record
    error = {"Error": "LocustCrashedError", "Cause": json.dumps({"errorMessage": "gone"})}
    run_step({"action": "fail", "runId": run["id"], "accountId": ACCOUNT, "error": error}, get_stores(), FakeBackend().factory)  # not on the record
    call(api, "DELETE", base, status=204)

    log = audit_log(api)
    assert [r["action"] for r in log] == [
        "loadTest.create", "script.update", "script.rollback", "autoStop.update", "baseline.update",
        "trigger.create", "trigger.update", "trigger.delete", "schedule.create", "schedule.update", "schedule.delete",
        "cluster.create", "cluster.update", "cluster.delete", "variable.create", "variable.delete", "secret.create", "secret.update",
        "secret.delete", "notificationChannel.create", "notificationChannel.update", "notificationChannel.delete",
        "token.create", "run.start", "run.stop", "token.revoke", "loadTest.delete",
    ]  # fmt: skip
    by_action = {r["action"]: r for r in log}
    assert by_action["run.start"]["actor"] == "token:ci" and by_action["run.start"]["tokenId"] == token["id"]
    assert by_action["run.start"]["target"] == {"type": "run", "id": run["id"], "loadTestId": test_id}
    assert by_action["run.stop"]["beforeDigest"] == by_action["run.start"]["afterDigest"] != by_action["run.stop"]["afterDigest"]
    assert by_action["script.rollback"]["beforeDigest"] == by_action["script.update"]["afterDigest"]
    assert by_action["script.update"]["beforeDigest"] == by_action["script.rollback"]["afterDigest"]  # back to revision 1
    assert by_action["loadTest.delete"]["afterDigest"] is None and by_action["cluster.delete"]["afterDigest"] is None
    # A secret's records: its name and version, never its value (not even as a digest of it).
    import hashlib

    names = {r["action"]: r for r in log if r["target"]["type"] == "secret"}
    assert names["secret.update"]["beforeDigest"] == names["secret.create"]["afterDigest"] != names["secret.update"]["afterDigest"]
    whole = json.dumps(log)
    for value in ("s3cr3t-v4lue", "an0ther-v4lue", "whsec_0123456789abcdef", "hooks.example.com/x", "api.example.com"):
        assert value not in whole and hashlib.sha256(value.encode()).hexdigest() not in whole
    assert base64.b64encode(b"s3cr3t-v4lue").decode() not in whole
    # A test's log is its own and what belongs to it; a token's, its creation and revocation.
    assert [r["action"] for r in audit_log(api, f"target={token['id']}")] == ["token.create", "token.revoke"]
    assert "cluster.create" not in [r["action"] for r in audit_log(api, f"target={test_id}")]


def test_the_trail_is_for_admins_in_a_window_and_never_another_tenants(api_any_store, aws):
    api = api_any_store
    test_id = new_test(api)
    denied = api.request("GET", "/v1/audit", claims=ALICE)
    assert denied.status == 403 and denied.json()["details"]["requiredRole"] == "admin"
    other_admin = with_role({**ADMIN, "custom:accountId": "acct-other"}, "admin")
    assert call(api, "GET", "/v1/audit", claims=other_admin)["items"] == []
    assert call(api, "GET", "/v1/audit", claims=other_admin, query=f"target={test_id}")["items"] == []
    at = audit_log(api)[0]["at"]
    assert len(audit_log(api, f"from={at}&to={at + 1}")) == 1 and audit_log(api, f"from={at + 1}") == []
    assert audit_log(api, f"to={at}") == []
    window = api.request("GET", "/v1/audit", claims=ADMIN, query="from=2000&to=1000")
    assert window.status == 422 and window.json()["code"] == "InvalidAuditWindow"
    assert api.request("GET", "/v1/audit", claims=ADMIN, query="cursor=bm90LWEtY3Vyc29y").json()["code"] == "InvalidCursor"
    assert api.request("GET", "/v1/audit", claims=ADMIN, query="limit=0").status == 422
