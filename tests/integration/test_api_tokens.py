"""API tokens through the real handlers: created by an admin (shown once, stored as a hash), used
with the claims authentication passes for them (usecases/tokens.token_claims, as the Lambda
authorizer and `serve` do), revoked at once: the very next request is a 401, whatever the
authorizer cached, and before any role check."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from load_manager.ids import now_ms, use_clock
from load_manager.settings import get_settings
from load_manager.store import get_stores
from load_manager.usecases import tokens
from load_manager_local.events import DEFAULT_CLAIMS

ADMIN = DEFAULT_CLAIMS
VIEWER = {k: v for k, v in DEFAULT_CLAIMS.items() if k != "cognito:groups"}
OTHER_ADMIN = {**DEFAULT_CLAIMS, "custom:accountId": "other", "sub": "other-admin", "email": "admin@other.example"}
SCRIPT = "from locust import HttpUser, task\n\n\nclass U(HttpUser):\n    @task\n    def index(self):\n        self.client.get('/')\n"


def as_token(api, method: str, path: str, token: str, body: dict | None = None):
    """The request as authentication lets an API token through: its claims where the Lambda authorizer puts them."""
    record = tokens.resolve(api_stores(), token, now_ms())
    assert record is not None, "authentication would refuse this token"
    return as_claims(api, method, path, dict(tokens.token_claims(record, get_settings().tenant_claim)), body)


def as_claims(api, method: str, path: str, claims: dict, body: dict | None = None):
    """The request with `claims` where the Lambda authorizer passes them (requestContext.authorizer.lambda)."""
    return api.request(method, path, body=body, claims=claims)


def api_stores():
    return get_stores()


def create_test(api, claims=ADMIN) -> str:
    response = api.request("POST", "/v1/load-tests", body={"name": "t", "scriptContent": base64.b64encode(SCRIPT.encode()).decode()}, claims=claims)
    assert response.status == 201, response.json()
    return response.json()["id"]


def create_token(api, claims=ADMIN, **body):
    return api.request("POST", "/v1/tokens", body={"name": "ci", "role": "runner", **body}, claims=claims)


def test_a_token_is_shown_once_and_stored_only_as_its_hash(api, stores, tmp_path):
    created = create_token(api, name="GitHub Actions", role="editor", expiresInDays=7)
    assert created.status == 201, created.json()
    assert created.headers["cache-control"] == "no-store"
    answer = created.json()
    token = answer["token"]
    assert token.startswith("lmt_") and len(token) == 4 + 43 and answer["prefix"] == token[:12]
    assert answer["expiresAt"] - answer["createdAt"] == 7 * 86_400_000
    assert (answer["role"], answer["createdBy"], answer["loadTestIds"], answer["lastUsedAt"], answer["revokedAt"]) == (
        "editor", "local@localhost", None, None, None)  # fmt: skip
    listed = api.request("GET", "/v1/tokens", claims=ADMIN).json()["items"]
    assert [t["id"] for t in listed] == [answer["id"]]
    assert "token" not in listed[0] and "tokenHash" not in listed[0] and token not in json.dumps(listed)
    # Nowhere on disk: the database (and its write-ahead log) hold the sha256 only.
    disk = b"".join(p.read_bytes() for p in Path(stores.tokens.db.path).parent.iterdir() if p.is_file())
    assert token.encode() not in disk and tokens.hash_token(token).encode() in disk


def test_a_token_acts_with_its_role_and_records_its_use_until_revoked(api, stores):
    test_id = create_test(api)
    runner = create_token(api, role="runner").json()
    read = as_token(api, "GET", f"/v1/load-tests/{test_id}", runner["token"])
    assert read.status == 200, read.json()
    assert api.request("GET", "/v1/tokens", claims=ADMIN).json()["items"][0]["lastUsedAt"] is not None
    edit = as_token(api, "PATCH", f"/v1/load-tests/{test_id}", runner["token"], {"description": "x"})
    assert (edit.status, edit.json()["code"]) == (403, "Forbidden")  # a runner is no editor
    mint = as_token(api, "POST", "/v1/tokens", runner["token"], {"name": "more", "role": "runner"})
    assert mint.status == 403  # tokens are an admin's, never a token's

    claims = dict(tokens.token_claims(tokens.resolve(stores, runner["token"], now_ms()), get_settings().tenant_claim))
    assert api.request("DELETE", f"/v1/tokens/{runner['id']}", claims=ADMIN).status == 204
    # The authorizer may have cached its answer: the claims still arrive, the function refuses them at once.
    refused = as_claims(api, "GET", f"/v1/load-tests/{test_id}", claims)
    assert (refused.status, refused.json()["code"]) == (401, "TokenRevoked")
    below_role = as_claims(api, "PATCH", f"/v1/load-tests/{test_id}", claims, {"description": "x"})
    assert (below_role.status, below_role.json()["code"]) == (401, "TokenRevoked")  # 401 before any role check
    assert tokens.resolve(stores, runner["token"], now_ms()) is None
    assert api.request("DELETE", f"/v1/tokens/{runner['id']}", claims=ADMIN).status == 204  # again: no change, no error
    (listed,) = api.request("GET", "/v1/tokens", claims=ADMIN).json()["items"]
    assert listed["revokedAt"] is not None


def test_an_expired_token_is_refused_by_authentication_and_by_every_function(api, stores):
    created = create_token(api, role="viewer", expiresInDays=1).json()
    claims = dict(tokens.token_claims(tokens.resolve(stores, created["token"], now_ms()), get_settings().tenant_claim))
    later = created["expiresAt"] + 1
    previous = use_clock(lambda: later)
    try:
        assert tokens.resolve(stores, created["token"], now_ms()) is None
        refused = as_claims(api, "GET", "/v1/load-tests", claims)
        assert (refused.status, refused.json()["code"]) == (401, "TokenExpired")
    finally:
        use_clock(previous)


def test_a_token_that_was_never_issued_is_refused(api):
    claims = {"sub": "token:forged", "custom:accountId": "local", "lm:principal": "token", "lm:tokenId": "0" * 32,
              "lm:tokenName": "forged", "lm:role": "editor", "lm:loadTestIds": ""}  # fmt: skip
    refused = as_claims(api, "GET", "/v1/load-tests", claims)
    assert (refused.status, refused.json()["code"]) == (401, "TokenRevoked")


def test_a_tokens_scope_names_tests_of_the_account_and_bad_requests_change_nothing(api, stores):
    test_id = create_test(api)
    other_test = create_test(api, claims=OTHER_ADMIN)
    scoped = create_token(api, loadTestIds=[test_id, test_id])
    assert scoped.status == 201 and scoped.json()["loadTestIds"] == [test_id]
    for body, status, code in (
        ({"loadTestIds": [other_test]}, 404, "LoadTestNotFound"),  # another tenant's: as a missing one
        ({"loadTestIds": ["0" * 32]}, 404, "LoadTestNotFound"),
        ({"loadTestIds": ["not-an-id"]}, 422, "ValidationError"),
        ({"loadTestIds": [test_id] * 51}, 422, "ValidationError"),
        ({"loadTestIds": []}, 422, "ValidationError"),  # no scope would read as every test
        ({"role": "admin"}, 422, "ValidationError"),
        ({"expiresInDays": 0}, 422, "ValidationError"),
        ({"expiresInDays": 366}, 422, "ValidationError"),
        ({"name": " "}, 422, "ValidationError"),
        ({"name": "x" * 101}, 422, "ValidationError"),
        ({"createdBy": "mallory@example.com"}, 422, "IdentityFieldNotAllowed"),
    ):
        refused = create_token(api, **body)
        assert (refused.status, refused.json()["code"]) == (status, code), body
    assert create_token(api, claims=VIEWER).status == 403
    assert api.request("GET", "/v1/tokens", claims=VIEWER).status == 403
    assert api.request("DELETE", f"/v1/tokens/{scoped.json()['id']}", claims=VIEWER).status == 403
    assert len(stores.tokens.list("local")) == 1
    assert len(stores.holds.holds("local", tokens.POOL)) == 1


def test_revoking_another_tenants_token_is_a_404_and_changes_nothing(api, stores):
    mine = create_token(api).json()
    refused = api.request("DELETE", f"/v1/tokens/{mine['id']}", claims=OTHER_ADMIN)
    assert (refused.status, refused.json()["code"]) == (404, "TokenNotFound")
    assert api.request("GET", "/v1/tokens", claims=OTHER_ADMIN).json()["items"] == []
    assert stores.tokens.get("local", mine["id"]).revoked_at is None


@pytest.mark.parametrize("limit", [1, 3])
def test_tokens_are_listed_newest_first_in_pages(api, limit):
    made = [create_token(api, name=f"ci-{n}").json()["id"] for n in range(4)]
    seen, cursor = [], None
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = api.request("GET", "/v1/tokens", query=query, claims=ADMIN).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 4
    bad = api.request("GET", "/v1/tokens", query="cursor=bogus", claims=ADMIN)
    assert (bad.status, bad.json()["code"]) == (400, "InvalidCursor")
