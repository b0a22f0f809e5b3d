"""The API's Lambda authorizer (load_manager/authn): JWTs verified against a real JWKS served on
loopback (tests/support/jwks.py), API tokens looked up in each store adapter, and what API Gateway
makes of its answers (load_manager_local/gateway_authorizer.py). Hand-set settings: a unit test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from support.jwks import JwksIssuer, rsa_key, tampered

from load_manager.authn import jwts
from load_manager.authn.authorizer import AuthorizerRefusalError, authorize
from load_manager.identity import Caller, caller_from_event
from load_manager.models.tokens import CreateTokenRequest, TokenRecord
from load_manager.settings import Settings, settings_scope
from load_manager.usecases import tokens
from load_manager_local.auth import make_unsigned_jwt
from load_manager_local.gateway_authorizer import FAILED, FORBIDDEN, UNAUTHORIZED, GatewayAuthorizer
from load_manager_local.template import HttpAuthorizer

TENANT = {"custom:accountId": "acme"}
NOW_MS = 1_800_000_000_000


def request(credential: str | None, scheme: str = "Bearer") -> dict:
    headers = {} if credential is None else {"authorization": f"{scheme} {credential}".strip()}
    return {"version": "2.0", "type": "REQUEST", "routeArn": "arn:aws:execute-api:us-east-1:1:api/$default/GET/v1/load-tests", "headers": headers}


def no_stores():
    raise AssertionError("a JWT needs no database")


@pytest.fixture
def issuer():
    with JwksIssuer() as running:
        yield running
    jwts._clients.clear()  # the next test's issuer has another port


@pytest.fixture
def verifying(issuer) -> Settings:
    return Settings(jwt_issuer=issuer.url, jwt_audience=(issuer.client_id,), in_lambda=True, default_backend="ecs")


def allowed(settings: Settings, token: str) -> dict:
    answer = authorize(request(token), settings, no_stores, NOW_MS)
    assert answer["isAuthorized"] is True
    return answer["context"]


def refused(settings: Settings, token: str | None, stores=no_stores, now: int = NOW_MS, scheme: str = "Bearer") -> str:
    with pytest.raises(AuthorizerRefusalError) as caught:
        authorize(request(token, scheme), settings, stores, now)
    assert str(caught.value) == "Unauthorized", "API Gateway answers 401 for exactly this message"
    return caught.value.reason


# ---- JWTs verified against the issuer's JWKS -----------------------------------------------------------


def test_a_cognito_id_token_passes_on_only_the_whitelisted_claims_flattened(verifying, issuer):
    token = issuer.id_token(
        email="alice@example.com", **TENANT, **{"cognito:groups": ["load-manager-editors", "ops"]},
        **{"lm:principal": "token", "lm:role": "admin", "lm:tokenId": "x", "custom:other": "y"},
    )  # fmt: skip
    context = allowed(verifying, token)
    assert set(context) == {"sub", "email", "email_verified", "custom:accountId", "cognito:groups"}
    assert context["email_verified"] == "true" and context["cognito:groups"] == "[load-manager-editors ops]"
    with settings_scope(verifying):
        caller = caller_from_event({"requestContext": {"authorizer": {"lambda": context}}})
    assert (caller.account_id, caller.email, caller.role, caller.token_id) == ("acme", "alice@example.com", "editor", None)


def test_a_jwt_naming_itself_an_admin_token_is_a_person_of_its_own_groups(verifying, issuer):
    context = allowed(verifying, issuer.id_token(**TENANT, **{"lm:principal": "token", "lm:role": "admin", "lm:tokenId": "t1"}))
    assert not [key for key in context if key.startswith("lm:")]
    with settings_scope(verifying):
        caller = caller_from_event({"requestContext": {"authorizer": {"lambda": context}}})
    assert (caller.role, caller.token_id, caller.is_admin) == ("viewer", None, False)


def test_a_cognito_access_token_is_accepted_by_its_client_id(verifying, issuer):
    assert allowed(verifying, issuer.access_token())["sub"]
    assert "another audience" in refused(verifying, issuer.access_token(client_id="someone-else"))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda i: i.id_token(lifetime=-60), "ExpiredSignatureError"),
        (lambda i: i.id_token(nbf=9_999_999_999), "ImmatureSignatureError"),
        (lambda i: i.id_token(aud="someone-else"), "another audience"),
        (lambda i: i.id_token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"), "InvalidIssuerError"),
        (lambda i: tampered(i.id_token(**TENANT), **{"custom:accountId": "victim"}), "InvalidSignatureError"),
        (lambda i: i.sign({"iss": i.url, "aud": i.client_id, "exp": 9_999_999_999}, key=rsa_key()), "InvalidSignatureError"),
        (lambda i: i.sign({"iss": i.url, "aud": i.client_id, "exp": 9_999_999_999}, kid="unknown"), "not signed by a key of the issuer"),
        (lambda i: i.id_token(exp=None), "MissingRequiredClaimError"),
        (lambda i: i.id_token(token_use="refresh"), "neither an ID nor an access token"),
        (lambda i: make_unsigned_jwt({"iss": i.url, "aud": i.client_id, "exp": 9_999_999_999}), "not accepted"),
        (lambda i: "not-a-jwt", "not a JWT"),
    ],
    ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "tampered", "other-key", "unknown-kid", "no-exp", "refresh-token",
         "alg-none", "garbage"],
)  # fmt: skip
def test_refused_jwts(verifying, issuer, make, reason):
    assert reason in refused(verifying, make(issuer))


def test_an_hmac_token_keyed_with_the_public_key_is_refused(verifying, issuer):
    """The classic confusion: HS256 'signed' with the issuer's public key (PEM) as the secret."""
    public_pem = issuer.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": issuer.kid})
    payload = _b64({"iss": issuer.url, "aud": issuer.client_id, "exp": 9_999_999_999, **TENANT})
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()).decode().rstrip("=")
    assert "not accepted" in refused(verifying, f"{header}.{payload}.{signature}")


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def test_the_key_set_is_fetched_once_and_an_unreachable_issuer_is_not_the_callers_fault(verifying, issuer):
    for _ in range(3):
        allowed(verifying, issuer.id_token(**TENANT))
    assert issuer.fetches == 1
    jwts._clients.clear()  # a new execution environment
    issuer.available = False
    with pytest.raises(jwts.IssuerUnavailableError):  # a 500 at API Gateway, not a 401
        authorize(request(issuer.id_token()), verifying, no_stores, NOW_MS)


def test_an_empty_audience_accepts_no_jwt(issuer):
    settings = Settings(jwt_issuer=issuer.url, jwt_audience=(), in_lambda=True, default_backend="ecs")
    assert "no audience" in refused(settings, issuer.id_token())


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz"], ids=["no-header", "empty", "two-words"])
def test_no_bearer_credential_is_refused(verifying, header):
    if header is None:
        refused(verifying, None)
    else:
        refused(verifying, header, scheme="")


def test_the_bearer_scheme_is_optional_as_for_the_jwt_authorizer(verifying, issuer):
    token = issuer.id_token(**TENANT)
    assert authorize(request(token, scheme=""), verifying, no_stores, NOW_MS)["context"] == allowed(verifying, token)


# ---- no issuer configured ------------------------------------------------------------------------------


def test_without_an_issuer_jwts_are_refused_inside_lambda_and_decoded_unverified_outside(caplog):
    token = make_unsigned_jwt({"sub": "a", "email": "a@example.com", "email_verified": True, **TENANT, "lm:role": "admin"})
    assert "no JWT issuer" in refused(Settings(in_lambda=True, default_backend="ecs"), token)
    jwts._warned = False
    with caplog.at_level(logging.WARNING, logger="load_manager.authn.jwts"):
        context = allowed(Settings(in_lambda=False), token)
    assert context == {"sub": "a", "email": "a@example.com", "email_verified": "true", "custom:accountId": "acme"}
    assert jwts.UNVERIFIED_WARNING in caplog.text
    assert "not a JSON object" in refused(Settings(), "e30.W10.e30")


# ---- API tokens ----------------------------------------------------------------------------------------


def _admin() -> Caller:
    return Caller(subject="admin", email="admin@example.com", account_id="acme", groups=frozenset(), role="admin")


def test_a_live_token_passes_its_claims_and_a_revoked_expired_or_unknown_one_is_refused(any_stores):
    settings = Settings(in_lambda=True, default_backend="ecs")  # no JWT issuer: tokens need none
    with settings_scope(settings):
        created = tokens.create(any_stores, _admin(), CreateTokenRequest.model_validate({"name": "ci", "role": "runner", "expiresInDays": 1}))
    context = authorize(request(created.token), settings, lambda: any_stores, created.created_at + 1)["context"]
    assert context == {
        "sub": f"token:{created.id}", "custom:accountId": "acme", "lm:principal": "token", "lm:tokenId": created.id, "lm:tokenName": "ci",
        "lm:role": "runner", "lm:loadTestIds": "",
    }  # fmt: skip
    with settings_scope(settings):
        caller = caller_from_event({"requestContext": {"authorizer": {"lambda": context}}})
    assert (caller.role, caller.token_id, caller.actor, caller.load_test_ids) == ("runner", created.id, "token:ci", None)

    assert "expired" in refused(settings, created.token, lambda: any_stores, now=created.expires_at)
    assert "unknown" in refused(settings, created.token[:-1] + ("A" if created.token[-1] != "A" else "B"), lambda: any_stores)
    any_stores.tokens.revoke("acme", created.id, created.created_at + 2, "admin@example.com")
    assert "revoked" in refused(settings, created.token, lambda: any_stores, now=created.created_at + 3)


def test_a_scoped_tokens_tests_are_passed_space_separated(any_stores):
    text = "lmt_" + "s" * 43
    record = TokenRecord(
        id="b" * 32, account_id="acme", name="nightly", role="viewer", load_test_ids=["1" * 32, "2" * 32], prefix=text[:12],
        token_hash=tokens.hash_token(text), created_by="admin@example.com", created_at=NOW_MS, expires_at=NOW_MS + 1000,
    )  # fmt: skip
    assert any_stores.tokens.insert(record)
    context = authorize(request(text), Settings(in_lambda=True, default_backend="ecs"), lambda: any_stores, NOW_MS)["context"]
    assert (context["lm:role"], context["lm:loadTestIds"]) == ("viewer", f"{'1' * 32} {'2' * 32}")


# ---- what API Gateway makes of the answers (the local runtime's gateway) --------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gateway(ttl: int = 60) -> tuple[GatewayAuthorizer, FakeClock]:
    clock = FakeClock()
    return GatewayAuthorizer(HttpAuthorizer("authorizer", "AuthorizerFunction", "LambdaAuthorizer", ("authorization",), ttl), clock), clock


def event(authorization: str | None) -> dict:
    headers = {"authorization": authorization} if authorization else {}
    return {"routeKey": "GET /v1/x", "rawPath": "/v1/x", "headers": headers, "requestContext": {"http": {"method": "GET", "path": "/v1/x"}}}


def test_the_gateway_maps_answers_as_api_gateway_does_and_caches_what_the_function_returned():
    gate, clock = gateway()
    calls: list[dict] = []

    def answer_with(result):
        def invoke(request):
            calls.append(request)
            if isinstance(result, Exception):
                raise result
            return result

        return invoke

    assert gate.authorize(event(None), answer_with({"isAuthorized": True})) == UNAUTHORIZED and calls == []  # identity missing: not invoked
    assert gate.authorize(event("Bearer a"), answer_with(AuthorizerRefusalError("bad"))) == UNAUTHORIZED
    assert gate.authorize(event("Bearer b"), answer_with(RuntimeError("boom"))) == FAILED
    assert gate.authorize(event("Bearer c"), answer_with({"allowed": True})) == FAILED
    assert gate.authorize(event("Bearer d"), answer_with({"isAuthorized": False})) == FORBIDDEN
    assert gate.authorize(event("Bearer e"), answer_with({"isAuthorized": True, "context": {"sub": "e"}})) == {"sub": "e"}
    assert calls[-1]["type"] == "REQUEST" and calls[-1]["identitySource"] == ["Bearer e"] and calls[-1]["version"] == "2.0"
    invoked = len(calls)
    assert gate.authorize(event("Bearer e"), answer_with({"isAuthorized": False})) == {"sub": "e"}  # cached
    assert gate.authorize(event("Bearer d"), answer_with({"isAuthorized": True})) == FORBIDDEN  # a deny is cached too
    assert gate.authorize(event("Bearer a"), answer_with({"isAuthorized": True, "context": {"sub": "a"}})) == {"sub": "a"}  # a failure is not
    assert len(calls) == invoked + 1
    clock.now += 60
    assert gate.authorize(event("Bearer e"), answer_with({"isAuthorized": False})) == FORBIDDEN  # the TTL is over: asked again
