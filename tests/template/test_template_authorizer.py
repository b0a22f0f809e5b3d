"""The API's Lambda authorizer as the template deploys it (tests/support/template_harness.py): the
stack is given an existing issuer (JwtIssuer, JwtAudience), here a test RSA key published as a JWKS
on loopback (tests/support/jwks.py); every request with an Authorization header goes through the
AuthorizerFunction with the environment CloudFormation gives it, invoked as API Gateway would (the
permission SAM writes), its answers cached for the template's TTL. Fast: no Locust, no run."""

from __future__ import annotations

import pytest
from support.jwks import JwksIssuer, tampered
from support.scripts import SIMPLE, b64
from support.template_harness import APIGATEWAY_PRINCIPAL, TemplateHarness

from load_manager.authn import jwts
from load_manager_local.auth import make_unsigned_jwt

pytestmark = pytest.mark.timeout(180)

ACME, GLOBEX = {"custom:accountId": "acme"}, {"custom:accountId": "globex"}
EDITORS = {"cognito:groups": ["load-manager-editors"]}
ADMINS = {"cognito:groups": ["load-manager-admins"]}
PERMISSION = "permission:HttpApiLambdaAuthorizerAuthorizerPermission"  # what SAM writes for EnableFunctionDefaultPermissions
UNAUTHORIZED = {"message": "Unauthorized"}


@pytest.fixture(scope="module")
def issuer():
    with JwksIssuer() as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory, issuer):
    parameters = {"JwtIssuer": issuer.url, "JwtAudience": [issuer.client_id]}
    try:
        with TemplateHarness(tmp_path_factory.mktemp("authorizer-stack"), parameters) as harness:
            yield harness
    finally:
        jwts._clients.clear()  # this issuer's key set, cached by the execution environment


def call(stack, method: str, path: str, token: str | None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return stack.api.request(method, path, headers=headers, body=body)


def test_the_authorizer_gets_the_issuer_and_audience_of_the_stacks_parameters(stack, issuer):
    environment, settings = stack.environments["AuthorizerFunction"], stack.settings["AuthorizerFunction"]
    assert (environment["JWT_ISSUER"], environment["JWT_AUDIENCE"]) == (issuer.url, issuer.client_id)
    assert settings.in_lambda and settings.jwt_issuer == issuer.url and settings.jwt_audience == (issuer.client_id,)
    assert stack.api.gateway is not None and stack.api.gateway.authorizer.ttl_seconds == 60


def test_a_cognito_id_token_signed_by_the_issuers_key_is_answered_for_its_tenant(stack, issuer):
    since = stack.iam.mark()
    editor = issuer.id_token(email="ed@acme.example", **ACME, **EDITORS)
    created = call(stack, "POST", "/v1/load-tests", editor, {"name": "checkout", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    assert created.status == 201, created.json()
    assert created.json()["createdBy"] == "ed@acme.example"
    listed = call(stack, "GET", "/v1/load-tests", issuer.id_token(**ACME))  # a person in no group: a viewer, who may read
    assert listed.status == 200 and created.json()["id"] in [t["id"] for t in listed.json()["items"]]
    other = issuer.id_token(**GLOBEX, **EDITORS)
    assert call(stack, "GET", f"/v1/load-tests/{created.json()['id']}", other).status == 404  # another tenant's, as ever
    assert stack.iam.denied(since) == []
    invoked = [d for d in stack.iam.decisions[since:] if d.principal == APIGATEWAY_PRINCIPAL]
    assert invoked and all(d.action == "lambda:InvokeFunction" and d.resource.endswith(stack.function("AuthorizerFunction").name) for d in invoked)


@pytest.mark.parametrize(
    "make",
    [
        lambda i: i.id_token(lifetime=-5, **ACME, **EDITORS),
        lambda i: i.id_token(aud="another-client", **ACME, **EDITORS),
        lambda i: tampered(i.id_token(**GLOBEX), **{"custom:accountId": "acme", "cognito:groups": ["load-manager-admins"]}),
        lambda i: make_unsigned_jwt({"iss": i.url, "aud": i.client_id, "exp": 9_999_999_999, **ACME, **ADMINS}),
    ],
    ids=["expired", "wrong-audience", "tampered", "unsigned"],
)
def test_a_token_the_issuer_did_not_vouch_for_is_a_401_and_changes_nothing(stack, issuer, make):
    reader = issuer.id_token(**ACME)
    before = call(stack, "GET", "/v1/load-tests", reader).json()["items"]
    refused = call(stack, "POST", "/v1/load-tests", make(issuer), {"name": "intruder", "scriptContent": b64(SIMPLE)})
    assert (refused.status, refused.json()) == (401, UNAUTHORIZED)
    assert call(stack, "GET", "/v1/load-tests", reader).json()["items"] == before


def test_a_jwt_claiming_an_admin_tokens_role_is_a_person_of_no_group(stack, issuer):
    forged = issuer.id_token(**ACME, **{"lm:principal": "token", "lm:role": "admin", "lm:tokenId": "0" * 32, "lm:tokenName": "root"})
    refused = call(stack, "POST", "/v1/tokens", forged, {"name": "mine", "role": "editor"})
    assert refused.status == 403 and refused.json()["details"] == {"requiredRole": "admin", "role": "viewer"}
    assert call(stack, "GET", "/v1/load-tests", forged).status == 200  # what a viewer may do


def test_an_api_token_passes_the_authorizer_until_revoked_and_its_revocation_does_not_wait_for_the_cache(stack, issuer):
    admin = issuer.id_token(email="root@acme.example", **ACME, **ADMINS)
    created = call(stack, "POST", "/v1/tokens", admin, {"name": "ci", "role": "runner", "expiresInDays": 1})
    assert created.status == 201, created.json()
    token = created.json()["token"]
    assert call(stack, "GET", "/v1/load-tests", token).status == 200
    refused = call(stack, "POST", "/v1/load-tests", token, {"name": "t", "scriptContent": b64(SIMPLE)})
    assert (refused.status, refused.json()["details"]) == (403, {"requiredRole": "editor", "role": "runner"})

    assert call(stack, "DELETE", f"/v1/tokens/{created.json()['id']}", admin).status == 204
    cached = call(stack, "GET", "/v1/load-tests", token)  # the authorizer's allow is still cached: the function refuses
    assert (cached.status, cached.json()["code"]) == (401, "TokenRevoked")
    clock = stack.api.gateway.clock
    stack.api.gateway.clock = lambda: clock() + 61  # past the template's TTL: API Gateway asks the authorizer again
    try:
        assert (call(stack, "GET", "/v1/load-tests", token).status, call(stack, "GET", "/v1/load-tests", token).json()) == (401, UNAUTHORIZED)
    finally:
        stack.api.gateway.clock = clock
    assert call(stack, "GET", "/v1/load-tests", "lmt_" + "x" * 43).json() == UNAUTHORIZED  # never issued


def test_without_the_permission_sam_writes_api_gateway_cannot_invoke_the_authorizer(stack, issuer):
    since = stack.iam.mark()
    with stack.iam.without(APIGATEWAY_PRINCIPAL, source=PERMISSION):
        failed = call(stack, "GET", "/v1/load-tests", issuer.id_token(**ACME, sub="fresh-identity"))
    assert (failed.status, failed.json()) == (500, {"message": "Internal Server Error"})
    assert [(d.principal, d.action) for d in stack.iam.denied(since)] == [(APIGATEWAY_PRINCIPAL, "lambda:InvokeFunction")]


def test_without_an_authorization_header_the_caller_is_the_local_default_one(stack):
    assert stack.api.request("GET", "/v1/load-tests").status == 200
