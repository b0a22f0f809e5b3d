"""Variables and secrets through the HTTP API in process (the same handlers as Lambda, SQLite, the
local file vault): a secret is written and never read back, by any route or any answer, and its value
is stored nowhere but the secret store; who may write where; what a run of a test would get."""

from __future__ import annotations

from support.roles import with_role
from support.scripts import SIMPLE, b64

TOKEN = "tok-9d3b7e21f4a8"
CLAIMS = with_role({"sub": "u1", "email": "qa@example.com", "email_verified": "true", "custom:accountId": "acct-a"}, "editor")
ADMIN = with_role(CLAIMS, "admin")
OTHER_ADMIN = {**ADMIN, "custom:accountId": "acct-b"}


def call(api, method: str, path: str, body=None, status: int = 200, claims=CLAIMS, query: str = ""):
    answer = api.request(method, path, body=body, claims=claims, query=query)
    assert answer.status == status, answer.json()
    assert TOKEN not in answer.body.decode(), f"{method} {path} answered the secret's value"
    return answer.json() if answer.body else None


def test_a_secret_is_written_never_read_back_and_stored_only_in_the_secret_store(api, stores, vault, tmp_path):
    test_id = call(api, "POST", "/v1/load-tests", {"name": "t", "scriptContent": b64(SIMPLE), "orgId": "shop", "envId": "prod"}, 201)["id"]
    first = call(api, "PUT", "/v1/secrets", {"orgId": "shop", "name": "API_TOKEN", "value": "tok-older-value"}, claims=ADMIN)
    secret = call(api, "PUT", "/v1/secrets", {"orgId": "shop", "name": "API_TOKEN", "value": TOKEN}, claims=ADMIN)
    assert (secret["id"], secret["version"], first["version"]) == (first["id"], 2, 1)
    assert set(secret) == {"id", "orgId", "projectId", "envId", "testId", "name", "version", "updatedAt", "updatedBy", "source", "reference"}
    listed = call(api, "GET", "/v1/secrets")["items"]
    assert [(s["name"], s["version"], s["source"]) for s in listed] == [("API_TOKEN", 2, "stored")] and "value" not in listed[0]
    environment = call(api, "GET", f"/v1/load-tests/{test_id}/environment")
    assert environment["secrets"] == [{"name": "API_TOKEN", "level": "org", "id": secret["id"], "version": 2, "reference": None}]
    # A refused write echoes nothing of what it was sent.
    call(api, "PUT", "/v1/secrets", {"name": "API_TOKEN", "value": TOKEN, "reference": "arn:aws:nope"}, 422, claims=ADMIN)
    call(api, "PUT", "/v1/secrets", {"name": "LOCUST_TOKEN", "value": TOKEN}, 422, claims=ADMIN)
    call(api, "PUT", "/v1/secrets", {"name": "API_TOKEN", "value": TOKEN}, 403)  # admins only
    call(api, "GET", f"/v1/load-tests/{test_id}/environment", status=404, claims=OTHER_ADMIN)
    assert call(api, "GET", "/v1/secrets", claims=OTHER_ADMIN)["items"] == []

    database = stores.load_tests.db.path
    assert TOKEN.encode() not in open(database, "rb").read() + _wal(database)
    holding = [p for p in tmp_path.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert holding == [tmp_path / "vault" / "secrets" / "acct-a" / f"{secret['id']}.json"]
    assert vault.get("acct-a", secret["id"], 1) == "tok-older-value"  # a run of version 1 still reads its own

    call(api, "DELETE", f"/v1/secrets/{secret['id']}", status=403)
    call(api, "DELETE", f"/v1/secrets/{secret['id']}", status=404, claims=OTHER_ADMIN)
    call(api, "DELETE", f"/v1/secrets/{secret['id']}", status=204, claims=ADMIN)
    assert call(api, "GET", "/v1/secrets")["items"] == [] and vault.get("acct-a", secret["id"], 2) is None


def test_variables_are_shown_and_resolved_for_a_test_most_specific_first(api, stores, vault):
    test_id = call(api, "POST", "/v1/load-tests", {"name": "t", "scriptContent": b64(SIMPLE), "orgId": "shop", "projectId": "web"}, 201)["id"]
    call(api, "PUT", "/v1/variables", {"name": "API_HOST", "value": "https://account.example"}, claims=ADMIN)
    call(api, "PUT", "/v1/variables", {"orgId": "shop", "projectId": "web", "envId": "staging", "name": "API_HOST", "value": "https://staging"}, claims=ADMIN)
    call(api, "PUT", "/v1/variables", {"testId": test_id, "name": "NUM_USERS", "value": "25"}, 403)  # a test's own too: admins only
    mine = call(api, "PUT", "/v1/variables", {"testId": test_id, "name": "NUM_USERS", "value": "25"}, claims=ADMIN)
    call(api, "PUT", "/v1/variables", {"testId": test_id, "name": "NUM_USERS", "value": "30"}, claims=ADMIN)
    listed = call(api, "GET", "/v1/variables")["items"]
    assert [(v["name"], v["value"], v["envId"], v["version"]) for v in listed] == [
        ("API_HOST", "https://account.example", None, 1), ("API_HOST", "https://staging", "staging", 1), ("NUM_USERS", "30", None, 2),
    ]  # fmt: skip

    def environment(env: str | None) -> dict[str, str]:
        answer = call(api, "GET", f"/v1/load-tests/{test_id}/environment", query=f"envId={env}" if env else "")
        return {v["name"]: f"{v['value']} ({v['level']})" for v in answer["variables"]}

    assert environment(None) == {"API_HOST": "https://account.example (account)", "NUM_USERS": "30 (test)"}
    assert environment("staging") == {"API_HOST": "https://staging (env)", "NUM_USERS": "30 (test)"}
    call(api, "DELETE", f"/v1/variables/{mine['id']}", status=403)  # the test's editor may not
    call(api, "DELETE", f"/v1/variables/{mine['id']}", status=204, claims=ADMIN)
    assert environment(None) == {"API_HOST": "https://account.example (account)"}


def _wal(database: str) -> bytes:
    try:
        return open(database + "-wal", "rb").read()
    except FileNotFoundError:
        return b""
