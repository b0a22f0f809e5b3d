"""Who the caller is: only what the token vouches for. An email names the actor only when the token
says it is verified (Cognito's ID token through HTTP API: the string "true"; other issuers: a JSON
boolean), else the immutable `sub` does: a user who could change their own email cannot pose as
someone else in `createdBy` or a run's status history."""

from __future__ import annotations

import pytest
from support.roles import token_claims, with_role
from support.scripts import SIMPLE, b64

from load_manager.errors import UnauthorizedError
from load_manager.identity import Caller, caller_from_event
from load_manager.settings import Settings, settings_scope


def event(**claims) -> dict:
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}


@pytest.mark.parametrize(
    ("verified", "actor"),
    [("true", "ann@example.com"), (True, "ann@example.com"), ("True", "ann@example.com"),
     ("false", "sub-1"), (False, "sub-1"), (None, "sub-1"), ("yes", "sub-1"), (1, "sub-1")],
)  # fmt: skip
def test_the_actor_is_the_email_only_when_verified(verified, actor):
    claims = {"sub": "sub-1", "email": "ann@example.com", "custom:accountId": "acme"}
    if verified is not None:
        claims["email_verified"] = verified
    assert caller_from_event(event(**claims)).actor == actor


def test_a_token_naming_nobody_it_can_vouch_for_is_refused():
    with pytest.raises(UnauthorizedError):
        caller_from_event(event(email="ann@example.com", **{"custom:accountId": "acme"}))  # no sub, unverified email
    assert caller_from_event(event(email="ann@example.com", email_verified="true", **{"custom:accountId": "acme"})).actor == "ann@example.com"


def test_records_and_stops_name_the_sub_when_the_email_is_not_verified(api):
    claims = with_role({"sub": "u-7", "email": "boss@example.com", "email_verified": "false", "custom:accountId": "acme"}, "editor")
    created = api.request("POST", "/v1/load-tests", body={"name": "x", "scriptContent": b64(SIMPLE)}, claims=claims).json()
    assert created["createdBy"] == "u-7"
    verified = {**claims, "email": "ann@example.com", "email_verified": "true"}
    patched = api.request("PATCH", f"/v1/load-tests/{created['id']}", body={"description": "d"}, claims=verified).json()
    assert patched["updatedBy"] == "ann@example.com"


# ---- roles (access.py) and API token callers (issue 18) ---------------------------------------------

PERSON = {"sub": "u-1", "email": "ann@example.com", "email_verified": "true", "custom:accountId": "acme"}


def lambda_event(**claims) -> dict:
    """As the Lambda authorizer passes claims (simple responses: requestContext.authorizer.lambda)."""
    return {"requestContext": {"authorizer": {"lambda": claims}}}


@pytest.mark.parametrize(
    ("groups", "role"),
    [(None, "viewer"), ("[]", "viewer"), ("[readers]", "viewer"), ("[load-manager-runners]", "runner"),
     ("[load-manager-editors]", "editor"), ("[load-manager-admins]", "admin"), ("[load-manager-runners load-manager-admins]", "admin"),
     ("[load-manager-editors load-manager-runners]", "editor"), (["load-manager-editors"], "editor"), ("[load-manager-operators]", "admin")],
)  # fmt: skip
def test_a_persons_role_is_the_highest_group_they_are_in(groups, role):
    claims = {**PERSON, **({"cognito:groups": groups} if groups is not None else {})}
    assert caller_from_event(event(**claims)).role == role
    assert caller_from_event(lambda_event(**claims)).role == role  # the same claims from the Lambda authorizer


def test_group_names_come_from_the_settings():
    custom = Settings(admin_group="ops-admins", editor_group="qa-editors", runner_group="ci-runners")
    with settings_scope(custom):
        assert caller_from_event(event(**PERSON, **{"cognito:groups": "[qa-editors]"})).role == "editor"
        assert caller_from_event(event(**PERSON, **{"cognito:groups": "[load-manager-editors]"})).role == "viewer"
        assert caller_from_event(event(**PERSON, **{"cognito:groups": "[ci-runners]"})).role == "runner"
    env = Settings.from_env({"EDITOR_GROUP": "qa-editors", "RUNNER_GROUP": "ci-runners"})
    assert (env.editor_group, env.runner_group, env.admin_group) == ("qa-editors", "ci-runners", "load-manager-admins")


def test_a_token_caller_takes_its_role_and_scope_from_the_authorizers_claims():
    claims = token_claims("acme", "runner", token_id="tok-9", name="deploys", load_test_ids=["a" * 32, "b" * 32])
    caller = caller_from_event(lambda_event(**claims))
    assert (caller.role, caller.token_id, caller.token_name, caller.subject, caller.email) == ("runner", "tok-9", "deploys", "token:tok-9", None)
    assert caller.load_test_ids == frozenset({"a" * 32, "b" * 32}) and caller.sees_test("a" * 32) and not caller.sees_test("c" * 32)
    assert caller.actor == "token:deploys" and not caller.is_admin and caller.account_id == "acme"
    every = caller_from_event(lambda_event(**token_claims("acme", "viewer")))
    assert every.load_test_ids is None and every.sees_test("c" * 32)  # "" = every test of the tenant


def test_lm_claims_speak_for_a_token_only_from_the_lambda_authorizer():
    forged = {**PERSON, **token_claims("acme", "editor")}
    with pytest.raises(UnauthorizedError):  # copied from a JWT (the JWT authorizer's path): the bearer's own say-so
        caller_from_event(event(**forged))
    # A person's claims with lm:* but no lm:principal=token: ignored, the person is what the groups say.
    person = caller_from_event(lambda_event(**PERSON, **{"lm:role": "admin", "lm:tokenId": "x"}))
    assert (person.role, person.token_id) == ("viewer", None)
    for broken in ({"lm:role": "owner"}, {"lm:role": ""}, {"lm:tokenId": ""}, {"custom:accountId": ""}):
        with pytest.raises(UnauthorizedError):
            caller_from_event(lambda_event(**{**token_claims("acme", "editor"), **broken}))


def test_a_caller_built_in_code_takes_its_role_from_its_groups_unless_told():
    assert Caller(subject="s", email=None, account_id="a", groups=frozenset()).role == "viewer"
    assert Caller(subject="s", email=None, account_id="a", groups=frozenset({"load-manager-admins"})).is_admin
    assert Caller(subject="s", email=None, account_id="a", groups=frozenset(), role="runner").role == "runner"
    with pytest.raises(ValueError, match="unknown role"):
        Caller(subject="s", email=None, account_id="a", groups=frozenset(), role="owner")
