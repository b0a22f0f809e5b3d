"""The script workflow through the real handlers (API Gateway v2 events), as a client drives it."""

from __future__ import annotations

import base64

import pytest
from support.roles import with_role
from support.scripts import AUTH_A, AUTH_B, SIMPLE, b64, simple_variant


def snapshot(stores) -> str:
    """Every table (bundle blobs too), row by row, as SQL text: byte-identical or not."""
    return "\n".join(stores.load_tests.db.connection().iterdump())


def create(api, claims=AUTH_A, **fields):
    body = {"name": "checkout", "scriptContent": b64(SIMPLE), **fields}
    response = api.request("POST", "/v1/load-tests", body=body, claims=claims)
    assert response.status == 201, response.json()
    return response.json()


def test_history_workflow(api):
    test = create(api, description="Checkout flow", projectId="shop", targetUrl="http://127.0.0.1:9")
    tid = test["id"]
    assert test["createdBy"] == "alice@example.com" and test["accountId"] == "acct-a"
    assert test["latestRevisionNumber"] == 1

    latest = api.request("GET", f"/v1/load-tests/{tid}/script", claims=AUTH_A).json()
    assert latest["revisionNumber"] == 1 and latest["description"] == "Initial version"
    assert base64.b64decode(latest["scriptContent"]).decode() == SIMPLE

    for n in (2, 3):
        r = api.request("PUT", f"/v1/load-tests/{tid}/script", body={"scriptContent": b64(simple_variant(n)), "description": f"edit {n}"}, claims=AUTH_B | {"custom:accountId": "acct-a"})
        assert r.status == 201 and r.json()["revisionNumber"] == n and r.json()["createdBy"] == "bob@example.com"

    same = api.request("PUT", f"/v1/load-tests/{tid}/script", body={"scriptContent": b64(simple_variant(3))}, claims=AUTH_A)
    assert same.status == 200 and same.json()["revisionNumber"] == 3

    page = api.request("GET", f"/v1/load-tests/{tid}/script/revisions", query="limit=2", claims=AUTH_A).json()
    assert [r["revisionNumber"] for r in page["items"]] == [3, 2] and "scriptContent" not in page["items"][0]
    rest = api.request("GET", f"/v1/load-tests/{tid}/script/revisions", query=f"limit=2&cursor={page['nextCursor']}", claims=AUTH_A).json()
    assert [r["revisionNumber"] for r in rest["items"]] == [1] and rest["nextCursor"] is None

    by_number = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/2", claims=AUTH_A).json()
    by_id = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/{by_number['id']}", claims=AUTH_A).json()
    assert by_id == by_number and base64.b64decode(by_id["scriptContent"]).decode() == simple_variant(2)

    diff = api.request("GET", f"/v1/load-tests/{tid}/script/diff", query="from=1&to=3", claims=AUTH_A).json()
    assert diff["from"]["revisionNumber"] == 1 and diff["to"]["revisionNumber"] == 3
    assert (diff["addedLines"], diff["removedLines"]) == (1, 1)
    assert '-        self.client.get("/")' in diff["unifiedDiff"] and '+        self.client.get("/items/3")' in diff["unifiedDiff"]

    rolled = api.request("POST", f"/v1/load-tests/{tid}/script/rollback", body={"revision": 1}, claims=AUTH_A)
    assert rolled.status == 201
    assert rolled.json()["revisionNumber"] == 4 and rolled.json()["description"] == "Rollback to revision 1"
    assert rolled.json()["rolledBackFrom"] == 1 and rolled.json()["sha256"] == latest["sha256"]
    # History is never rewritten: 1..4 all still there.
    numbers = [r["revisionNumber"] for r in api.request("GET", f"/v1/load-tests/{tid}/script/revisions", claims=AUTH_A).json()["items"]]
    assert numbers == [4, 3, 2, 1]
    got = api.request("GET", f"/v1/load-tests/{tid}", claims=AUTH_A).json()
    assert got["latestRevisionNumber"] == 4 and got["latestRevisionId"] == rolled.json()["id"]


def test_list_paginates_and_filters_by_project(api):
    created = [create(api, projectId="p1" if i % 2 else "p2") for i in range(5)]
    ids = [t["id"] for t in sorted(created, key=lambda t: (t["createdAt"], t["id"]))]  # ties broken by id
    create(api, claims=AUTH_B)
    first = api.request("GET", "/v1/load-tests", query="limit=2", claims=AUTH_A).json()
    second = api.request("GET", "/v1/load-tests", query=f"limit=2&cursor={first['nextCursor']}", claims=AUTH_A).json()
    third = api.request("GET", "/v1/load-tests", query=f"limit=2&cursor={second['nextCursor']}", claims=AUTH_A).json()
    listed = [t["id"] for page in (first, second, third) for t in page["items"]]
    assert listed == list(reversed(ids)) and third["nextCursor"] is None
    p1 = api.request("GET", "/v1/load-tests", query="projectId=p1", claims=AUTH_A).json()["items"]
    assert sorted(t["id"] for t in p1) == sorted(t["id"] for t in created if t["projectId"] == "p1")


def test_patch_edits_metadata_and_records_the_editor(api):
    tid = create(api)["id"]
    body = {"name": "renamed", "targetUrl": "https://shop.example.com", "defaultUsers": 50, "defaultSpawnRate": 5, "defaultDurationSeconds": 600}
    patched = api.request("PATCH", f"/v1/load-tests/{tid}", body=body, claims=AUTH_B | {"custom:accountId": "acct-a"}).json()
    assert patched["name"] == "renamed" and patched["defaultUsers"] == 50 and patched["updatedBy"] == "bob@example.com"
    assert patched["createdBy"] == "alice@example.com"
    cleared = api.request("PATCH", f"/v1/load-tests/{tid}", body={"targetUrl": None}, claims=AUTH_A).json()
    assert cleared["targetUrl"] is None and cleared["name"] == "renamed"


def test_delete_hides_the_test(api):
    tid = create(api)["id"]
    assert api.request("DELETE", f"/v1/load-tests/{tid}", claims=AUTH_A).status == 204
    assert api.request("GET", f"/v1/load-tests/{tid}", claims=AUTH_A).status == 404
    assert api.request("GET", f"/v1/load-tests/{tid}/script", claims=AUTH_A).status == 404
    assert api.request("DELETE", f"/v1/load-tests/{tid}", claims=AUTH_A).status == 404


def test_identity_comes_from_claims_only(api):
    r = api.request("POST", "/v1/load-tests", body={"name": "x", "scriptContent": b64(SIMPLE), "createdBy": "mallory"}, claims=AUTH_A)
    assert r.status == 422 and r.json()["code"] == "IdentityFieldNotAllowed"
    assert api.request("GET", "/v1/load-tests", claims={"sub": "x"}).json()["code"] == "MissingTenantClaim"
    sub_only = create(api, claims=with_role({"sub": "svc-123", "custom:accountId": "acct-a"}, "editor"))
    assert sub_only["createdBy"] == "svc-123"


def _ids(api):
    test = create(api)
    other_test = create(api)
    other_tenant = create(api, claims=AUTH_B)
    return test["id"], other_test, other_tenant


BAD_INPUTS = [
    # (name, method, path template, body, query, expected status, expected code)
    ("invalid base64", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": "%%%not-base64"}, "", 422, "InvalidScriptEncoding"),
    ("non utf-8", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": base64.b64encode(b"\xff\xfe\xfd").decode()}, "", 422, "InvalidScriptEncoding"),
    ("syntax error", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": b64("class U(:\n")}, "", 422, "ScriptSyntaxError"),
    ("no user class", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": b64("print(1)\n")}, "", 422, "NoLocustUserClass"),
    ("over the size limit", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": b64("#" * (1024 * 1024 + 1))}, "", 413, "ScriptTooLarge"),
    ("malformed json", "PUT", "/v1/load-tests/{tid}/script", "{not json", "", 400, "MalformedJson"),
    ("missing scriptContent", "PUT", "/v1/load-tests/{tid}/script", {"description": "x"}, "", 422, "ValidationError"),
    ("unknown field", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": b64(SIMPLE), "colour": "red"}, "", 422, "ValidationError"),
    ("wrong type", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": 42}, "", 422, "ValidationError"),
    ("mongo operator in body", "PUT", "/v1/load-tests/{tid}/script", {"scriptContent": {"$gt": ""}}, "", 422, "ValidationError"),
    ("negative users", "PATCH", "/v1/load-tests/{tid}", {"defaultUsers": -1}, "", 422, "ValidationError"),
    ("huge users", "PATCH", "/v1/load-tests/{tid}", {"defaultUsers": 10**12}, "", 422, "ValidationError"),
    ("huge duration", "PATCH", "/v1/load-tests/{tid}", {"defaultDurationSeconds": 10**30}, "", 422, "ValidationError"),
    ("null name", "PATCH", "/v1/load-tests/{tid}", {"name": None}, "", 422, "ValidationError"),
    ("empty patch", "PATCH", "/v1/load-tests/{tid}", {}, "", 400, "EmptyUpdate"),
    ("bad target url", "PATCH", "/v1/load-tests/{tid}", {"targetUrl": "ftp://x"}, "", 422, "ValidationError"),
    ("unknown test", "GET", "/v1/load-tests/" + "0" * 32, None, "", 404, "LoadTestNotFound"),
    ("mongo operator as id", "GET", "/v1/load-tests/%7B%22%24gt%22%3A%22%22%7D", None, "", 404, "LoadTestNotFound"),
    ("unknown revision", "GET", "/v1/load-tests/{tid}/script/revisions/99", None, "", 404, "RevisionNotFound"),
    ("revision zero", "GET", "/v1/load-tests/{tid}/script/revisions/0", None, "", 404, "RevisionNotFound"),
    ("huge revision number", "GET", "/v1/load-tests/{tid}/script/revisions/99999999999999999999999", None, "", 404, "RevisionNotFound"),
    ("revision of another test", "GET", "/v1/load-tests/{tid}/script/revisions/{other_rev}", None, "", 404, "RevisionNotFound"),
    ("another tenant's test", "GET", "/v1/load-tests/{other_tenant}", None, "", 404, "LoadTestNotFound"),
    ("another tenant's script", "PUT", "/v1/load-tests/{other_tenant}/script", {"scriptContent": b64(SIMPLE + "#\n")}, "", 404, "LoadTestNotFound"),
    ("diff to out of range", "GET", "/v1/load-tests/{tid}/script/diff", None, "from=1&to=2", 404, "RevisionNotFound"),
    ("diff from negative", "GET", "/v1/load-tests/{tid}/script/diff", None, "from=-1&to=1", 404, "RevisionNotFound"),
    ("diff missing to", "GET", "/v1/load-tests/{tid}/script/diff", None, "from=1", 422, "ValidationError"),
    ("rollback to unknown", "POST", "/v1/load-tests/{tid}/script/rollback", {"revision": 7}, "", 404, "RevisionNotFound"),
    ("bad cursor", "GET", "/v1/load-tests", None, "cursor=garbage", 400, "InvalidCursor"),
    ("limit zero", "GET", "/v1/load-tests", None, "limit=0", 422, "ValidationError"),
    ("limit huge", "GET", "/v1/load-tests/{tid}/script/revisions", None, "limit=100000", 422, "ValidationError"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(api, stores, case):
    _, method, path, body, query, status, code = case
    tid, other_test, other_tenant = _ids(api)
    path = path.format(tid=tid, other_rev=other_test["latestRevisionId"], other_tenant=other_tenant["id"])
    before = snapshot(stores)
    response = api.request(method, path, body=body, query=query, claims=AUTH_A,
                           headers={"content-type": "application/json"} if isinstance(body, str) else None)
    assert response.status == status, response.json()
    error = response.json()
    assert error["code"] == code and error["message"]
    if status == 422 and code == "ValidationError":
        assert error["details"]
    assert snapshot(stores) == before
