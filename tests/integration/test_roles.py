"""Roles (layers/core/load_manager/access.py) through the real handlers, in process.

Every route of openapi.json x every role, for people (Cognito groups) and API tokens: 403 Forbidden,
naming the role needed, exactly when the caller's role is below the route's line in ROUTE_ROLES;
and the table has a line for every route of openapi.json and of template.yaml, and no other.
A viewer's script save changes nothing. A token scoped to one test finds no other test, nor its
runs, scripts, results, triggers or schedules: a 404 exactly as another tenant's. GET /v1/me says
who the API takes the caller for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.results import finished_run
from support.roles import token_claims, with_role
from support.scripts import SIMPLE, b64, simple_variant

from load_manager.access import PUBLIC, ROLES, ROUTE_ROLES, role_at_least
from load_manager_local.template import http_routes

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")
PERSON = {"sub": "person-1", "email": "pat@example.com", "email_verified": "true", "custom:accountId": "acct-roles"}
OTHER_TENANT = with_role({"sub": "person-2", "email": "eve@example.org", "email_verified": "true", "custom:accountId": "acct-other"}, "editor")
NOTHING = "0" * 32  # a well-formed id of nothing


def _openapi_routes() -> list[str]:
    paths = json.loads((ROOT / "openapi.json").read_text())["paths"]
    return sorted(f"{method.upper()} {path}" for path, operations in paths.items() for method in operations if method in METHODS)


def _template_key(openapi_route: str) -> str:
    # OpenAPI has no greedy parameter: the template's `{path+}` is `{path}` there.
    return openapi_route.replace("{path}", "{path+}")


OPENAPI_ROUTES = _openapi_routes()


def test_every_route_of_openapi_and_of_the_template_has_one_line_and_no_line_is_stray():
    openapi = {_template_key(route) for route in OPENAPI_ROUTES}
    template = {route.route_key for route in http_routes(ROOT / "template.yaml")}
    assert openapi == template, "openapi.json and template.yaml disagree: run `make openapi`"
    assert sorted(openapi - set(ROUTE_ROLES)) == [], "routes without a line in access.ROUTE_ROLES"
    assert sorted(set(ROUTE_ROLES) - openapi) == [], "lines of access.ROUTE_ROLES for no route"
    assert set(ROUTE_ROLES.values()) <= {*ROLES, PUBLIC}
    assert [key for key, need in ROUTE_ROLES.items() if need == PUBLIC] == ["GET /v1/health"]


def test_roles_include_the_ones_before_them():
    for i, have in enumerate(ROLES):
        assert [role_at_least(have, need) for need in ROLES] == [j <= i for j in range(len(ROLES))]
    assert not role_at_least("owner", "viewer") and not role_at_least("admin", "owner")


@pytest.fixture
def callers(api):
    """(kind, role) -> claims: a person in each role's group, and a live API token of each role a token may have."""
    made = {("person", role): with_role(PERSON, role) for role in ROLES}
    admin = made[("person", "admin")]
    for role in ("viewer", "runner", "editor"):
        answer = api.request("POST", "/v1/tokens", body={"name": f"ci-{role}", "role": role}, claims=admin)
        assert answer.status == 201, answer.json()
        made[("token", role)] = token_claims(PERSON["custom:accountId"], role, token_id=answer.json()["id"], name=f"ci-{role}")
    return made


def _path(route: str) -> str:
    path = route.split(" ", 1)[1].replace("{path}", "locustfile.py")
    while "{" in path:
        start = path.index("{")
        path = path[:start] + NOTHING + path[path.index("}", start) + 1 :]
    return path


def test_every_route_times_every_role_is_refused_exactly_below_its_line(api, callers):
    refused, allowed = 0, 0
    for route in OPENAPI_ROUTES:
        need = ROUTE_ROLES[_template_key(route)]
        method = route.split(" ", 1)[0]
        for (kind, role), claims in callers.items():
            answer = api.request(method, _path(route), body={} if method in ("POST", "PUT", "PATCH") else None, claims=claims)
            body = answer.json() if answer.body and answer.headers.get("content-type", "").startswith("application/json") else {}
            where = f"{route} as a {kind} {role}: {answer.status} {body}"
            if not role_at_least(role, need):
                refused += 1
                assert answer.status == 403 and body.get("code") == "Forbidden", where
                assert body["details"] == {"requiredRole": need, "role": role} and f"the {need} role" in body["message"], where
            else:
                allowed += 1
                assert not (answer.status == 403 and body.get("code") == "Forbidden"), where
                assert answer.status not in (401,), where
    assert refused and allowed  # both sides of every line were walked


def test_the_public_route_needs_no_caller(api):
    assert api.request("GET", "/v1/health").status == 200
    assert api.request("GET", "/v1/health", claims=with_role(PERSON, "viewer")).status == 200


def test_a_viewers_script_save_is_refused_and_changes_nothing(api, stores):
    editor, viewer, runner = (with_role(PERSON, role) for role in ("editor", "viewer", "runner"))
    created = api.request("POST", "/v1/load-tests", body={"name": "checkout", "scriptContent": b64(SIMPLE)}, claims=editor).json()
    path = f"/v1/load-tests/{created['id']}/script"
    before = api.request("GET", f"{path}/revisions", claims=viewer).json()["items"]
    test_before = stores.load_tests.get(PERSON["custom:accountId"], created["id"])
    for claims, role in ((viewer, "viewer"), (runner, "runner")):
        answer = api.request("PUT", path, body={"scriptContent": b64(simple_variant(1)), "description": "sneaky"}, claims=claims)
        assert answer.status == 403, answer.json()
        assert answer.json() == {
            "code": "Forbidden", "message": f"this needs the editor role (or higher); the caller is a {role}",
            "details": {"requiredRole": "editor", "role": role},
        }  # fmt: skip
        # Refused before the body is read: an invalid one is refused the same way.
        assert api.request("PUT", path, body={"scriptContent": "%%%"}, claims=claims).json()["code"] == "Forbidden"
    assert api.request("GET", f"{path}/revisions", claims=viewer).json()["items"] == before
    assert api.request("GET", path, claims=viewer).json()["scriptContent"] == b64(SIMPLE)
    assert stores.load_tests.get(PERSON["custom:accountId"], created["id"]) == test_before
    # The editor may: the refusal above was the role's, not the request's.
    assert api.request("PUT", path, body={"scriptContent": b64(simple_variant(1))}, claims=editor).status == 201


def _store_run(stores, account: str, test_id: str):
    revision = stores.revisions.get_by_number(account, test_id, 1)
    run = finished_run(account, test_id, revision.id, 1, 1_700_000_000_000, 60)
    stores.runs.insert(run)
    return run


def test_a_token_scoped_to_one_test_finds_no_other_as_another_tenant_would_not(api, stores):
    account = PERSON["custom:accountId"]
    admin, editor = with_role(PERSON, "admin"), with_role(PERSON, "editor")
    mine, other = (
        api.request("POST", "/v1/load-tests", body={"name": name, "scriptContent": b64(SIMPLE)}, claims=editor).json()["id"] for name in ("mine", "other")
    )
    my_run, other_run = _store_run(stores, account, mine), _store_run(stores, account, other)
    created = api.request("POST", "/v1/tokens", body={"name": "nightly", "role": "editor", "loadTestIds": [mine]}, claims=admin).json()
    token = token_claims(account, "editor", token_id=created["id"], name="nightly", load_test_ids=[mine])

    reads = [
        "/v1/load-tests/{t}", "/v1/load-tests/{t}/script", "/v1/load-tests/{t}/script/revisions", "/v1/load-tests/{t}/script/revisions/1",
        "/v1/load-tests/{t}/runs", "/v1/load-tests/{t}/trends", "/v1/load-tests/{t}/triggers", "/v1/load-tests/{t}/schedules",
        "/v1/load-tests/{t}/environment", "/v1/runs/{r}", "/v1/runs/{r}/stats", "/v1/runs/{r}/metrics", "/v1/runs/{r}/script",
        "/v1/runs/{r}/generators",
    ]  # fmt: skip
    for template in reads:
        seen = api.request("GET", template.format(t=mine, r=my_run.id), claims=token)
        assert seen.status == 200, (template, seen.json())
        hidden = api.request("GET", template.format(t=other, r=other_run.id), claims=token)
        elsewhere = api.request("GET", template.format(t=other, r=other_run.id), claims=OTHER_TENANT)
        assert hidden.status == 404 and (hidden.status, hidden.json()["code"]) == (elsewhere.status, elsewhere.json()["code"]), template
    compare = api.request("GET", "/v1/runs/compare", query=f"base={my_run.id}&target={other_run.id}", claims=token)
    assert compare.status == 404 and compare.json()["code"] == "RunNotFound"

    # Writes to the other test are 404 too, and change nothing; creating a test would leave the scope.
    assert api.request("PUT", f"/v1/load-tests/{other}/script", body={"scriptContent": b64(simple_variant(2))}, claims=token).status == 404
    assert api.request("PATCH", f"/v1/load-tests/{other}", body={"description": "x"}, claims=token).status == 404
    assert api.request("POST", f"/v1/runs/{other_run.id}/stop", claims=token).status == 404
    assert stores.revisions.latest(account, other).revision_number == 1
    refused = api.request("POST", "/v1/load-tests", body={"name": "new", "scriptContent": b64(SIMPLE)}, claims=token)
    assert refused.status == 403 and refused.json()["code"] == "Forbidden"
    assert api.request("PUT", f"/v1/load-tests/{mine}/script", body={"scriptContent": b64(simple_variant(3))}, claims=token).status == 201

    # Lists hold only what the scope holds; the person sees both.
    assert [t["id"] for t in api.request("GET", "/v1/load-tests", claims=token).json()["items"]] == [mine]
    assert {t["id"] for t in api.request("GET", "/v1/load-tests", claims=editor).json()["items"]} == {mine, other}
    assert api.request("GET", "/v1/load-tests", query="limit=1", claims=token).json()["nextCursor"] is None
    for test_id, name in ((mine, "MINE"), (other, "OTHERS")):
        assert api.request("PUT", "/v1/variables", body={"testId": test_id, "name": name, "value": "1"}, claims=admin).status == 200
    assert [v["name"] for v in api.request("GET", "/v1/variables", claims=token).json()["items"]] == ["MINE"]


def test_me_says_who_the_api_takes_the_caller_for(api):
    for role in ROLES:
        me = api.request("GET", "/v1/me", claims=with_role(PERSON, role))
        assert me.status == 200, me.json()
        assert me.json() == {
            "subject": "person-1", "email": "pat@example.com", "accountId": "acct-roles", "role": role, "tokenId": None, "tokenName": None, "loadTestIds": None,
        }  # fmt: skip
    unverified = api.request("GET", "/v1/me", claims={**PERSON, "email_verified": "false"}).json()
    assert (unverified["subject"], unverified.get("email"), unverified["role"]) == ("person-1", None, "viewer")

    editor = with_role(PERSON, "editor")
    test_id = api.request("POST", "/v1/load-tests", body={"name": "t", "scriptContent": b64(SIMPLE)}, claims=editor).json()["id"]
    created = api.request("POST", "/v1/tokens", body={"name": "deploys", "role": "runner", "loadTestIds": [test_id]}, claims=with_role(PERSON, "admin"))
    token_id = created.json()["id"]
    me = api.request("GET", "/v1/me", claims=token_claims("acct-roles", "runner", token_id=token_id, name="deploys", load_test_ids=[test_id]))
    assert me.json() == {
        "subject": f"token:{token_id}", "email": None, "accountId": "acct-roles", "role": "runner", "tokenId": token_id, "tokenName": "deploys", "loadTestIds": [test_id],
    }  # fmt: skip
    assert api.request("GET", "/v1/me", claims={"sub": "x"}).json()["code"] == "MissingTenantClaim"
