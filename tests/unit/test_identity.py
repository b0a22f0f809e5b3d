"""Who the caller is: only what the token vouches for. An email names the actor only when the token
says it is verified (Cognito's ID token through HTTP API: the string "true"; other issuers: a JSON
boolean), else the immutable `sub` does: a user who could change their own email cannot pose as
someone else in `createdBy` or a run's status history."""

from __future__ import annotations

import pytest
from support.scripts import SIMPLE, b64

from load_manager.errors import UnauthorizedError
from load_manager.identity import caller_from_event


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
    claims = {"sub": "u-7", "email": "boss@example.com", "email_verified": "false", "custom:accountId": "acme"}
    created = api.request("POST", "/v1/load-tests", body={"name": "x", "scriptContent": b64(SIMPLE)}, claims=claims).json()
    assert created["createdBy"] == "u-7"
    verified = {**claims, "email": "ann@example.com", "email_verified": "true"}
    patched = api.request("PATCH", f"/v1/load-tests/{created['id']}", body={"description": "d"}, claims=verified).json()
    assert patched["updatedBy"] == "ann@example.com"
