"""The rule pattern a tenant's trigger gets (its pattern AND its tenant's constraint), the patterns
refused because the constraint could not be added safely, and the check made on each delivery.
Matching itself is moto's EventBridge engine (tests/integration/test_tenant_isolation.py)."""

from __future__ import annotations

import pytest

from load_manager.errors import EventSourceNotOwnedError, UnconstrainablePatternError
from load_manager.usecases.event_tenancy import NOTHING_OWNED, belongs, constrain

OWNED = {"codedeployApplication": frozenset({"checkout", "cart"}), "awsAccount": frozenset({"111122223333"}), "eventSource": frozenset({"acme.ci"})}


@pytest.mark.parametrize(
    ("pattern", "rule"),
    [
        # The field is added when the pattern does not name it ...
        ({"source": ["aws.codedeploy"]}, {"source": ["aws.codedeploy"], "detail": {"application": ["cart", "checkout"]}}),
        ({"source": ["load-manager"], "detail-type": ["RunRequested"]},
         {"source": ["load-manager"], "detail-type": ["RunRequested"], "detail": {"accountId": ["acme"]}}),
        ({"source": ["aws.ecs", "aws.ec2"]}, {"source": ["aws.ecs", "aws.ec2"], "account": ["111122223333"]}),
        # ... kept when it names only what the tenant owns, next to the pattern's other fields and $or.
        ({"source": ["aws.codedeploy"], "detail": {"application": ["checkout"], "$or": [{"state": ["SUCCESS"]}, {"state": ["STOP"]}]}},
         {"source": ["aws.codedeploy"], "detail": {"application": ["checkout"], "$or": [{"state": ["SUCCESS"]}, {"state": ["STOP"]}]}}),
        ({"source": ["acme.ci"], "detail-type": ["RunRequested"]}, {"source": ["acme.ci"], "detail-type": ["RunRequested"]}),
    ],
)  # fmt: skip
def test_the_rule_is_the_pattern_and_the_tenants_constraint(pattern, rule):
    assert constrain(pattern, "acme", OWNED) == rule


@pytest.mark.parametrize(
    ("pattern", "error", "code"),
    [
        ({"detail-type": ["RunRequested"]}, UnconstrainablePatternError, "EventSourceRequired"),
        ({"source": [{"prefix": "aws."}]}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": [{"anything-but": "x"}]}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy", "load-manager"]}, UnconstrainablePatternError, "MixedEventSources"),
        ({"source": ["aws.codedeploy"], "detail": {"application": [{"anything-but": "checkout"}]}}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy"], "detail": {"application": [{"prefix": "check"}]}}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy"], "detail": {"application": [{"wildcard": "*"}]}}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy"], "detail": {"application": [{"exists": True}]}}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy"], "detail": ["x"]}, UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["load-manager"], "detail": {"accountId": [{"equals-ignore-case": "ACME"}]}}, UnconstrainablePatternError, "UnconstrainablePattern"),
        # $or offering another way to match the source or the constrained field
        ({"$or": [{"source": ["aws.codedeploy"]}, {"source": ["load-manager"]}], "source": ["aws.codedeploy"]},
         UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy"], "$or": [{"detail": {"application": ["billing"]}}, {"detail-type": ["x"]}]},
         UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.codedeploy"], "detail": {"$or": [{"application": ["billing"]}, {"state": ["SUCCESS"]}]}},
         UnconstrainablePatternError, "UnconstrainablePattern"),
        ({"source": ["aws.ecs"], "$or": [{"account": ["999999999999"]}, {"region": ["us-east-1"]}]}, UnconstrainablePatternError, "UnconstrainablePattern"),
        # values the tenant does not own
        ({"source": ["aws.codedeploy"], "detail": {"application": ["checkout", "billing"]}}, EventSourceNotOwnedError, "EventSourceNotOwned"),
        ({"source": ["load-manager"], "detail": {"accountId": ["globex"]}}, EventSourceNotOwnedError, "EventSourceNotOwned"),
        ({"source": ["aws.ecs"], "account": ["999999999999"]}, EventSourceNotOwnedError, "EventSourceNotOwned"),
        ({"source": ["globex.ci"]}, EventSourceNotOwnedError, "EventSourceNotOwned"),
        ({"source": ["aws.s3"]}, EventSourceNotOwnedError, "EventSourceNotOwned"),  # an AWS source, no AWS account owned
    ],
)  # fmt: skip
def test_patterns_the_constraint_cannot_be_added_to_safely_are_refused(pattern, error, code):
    owned = {k: v for k, v in OWNED.items() if k != "awsAccount"} if pattern.get("source") == ["aws.s3"] else OWNED
    with pytest.raises(error) as refused:
        constrain(pattern, "acme", owned)
    assert refused.value.code == code and refused.value.status == 422


def test_rewriting_after_an_ownership_is_taken_away_drops_it_and_never_widens():
    pattern = {"source": ["aws.codedeploy"], "detail": {"application": ["checkout", "cart"]}}
    assert constrain(pattern, "acme", {"codedeployApplication": frozenset({"cart"})}, strict=False)["detail"]["application"] == ["cart"]
    for owned in ({}, {"codedeployApplication": frozenset({"other"})}):
        assert constrain(pattern, "acme", owned, strict=False)["detail"]["application"] == [NOTHING_OWNED]
        assert constrain({"source": ["aws.codedeploy"]}, "acme", owned, strict=False)["detail"] == {"application": sorted(owned.get("codedeployApplication", [])) or [NOTHING_OWNED]}


def codedeploy(application, account: str = "123456789012") -> dict:
    return {"source": "aws.codedeploy", "account": account, "detail-type": "x", "detail": {"application": application, "state": "SUCCESS"}}


@pytest.mark.parametrize(
    ("event", "ours"),
    [
        (codedeploy("checkout"), True),
        (codedeploy("billing"), False),
        (codedeploy(["checkout", "billing"]), False),  # a list would match a rule through any element
        (codedeploy(None), False),
        ({"source": "load-manager", "detail-type": "RunRequested", "detail": {"accountId": "acme"}}, True),
        ({"source": "load-manager", "detail-type": "RunRequested", "detail": {"accountId": "globex"}}, False),
        ({"source": "load-manager", "detail-type": "RunRequested", "detail": {"loadTestId": "x"}}, False),  # no tenant: nobody's
        ({"source": "load-manager", "detail-type": "RunFinished", "detail": "acme"}, False),
        ({"source": "aws.ecs", "account": "111122223333", "detail": {}}, True),
        ({"source": "aws.ecs", "account": "999999999999", "detail": {}}, False),
        ({"source": "acme.ci", "detail": {}}, True),
        ({"source": "globex.ci", "detail": {}}, False),
        ({"detail": {"accountId": "acme"}}, False),
    ],
)  # fmt: skip
def test_a_delivered_event_is_checked_against_what_the_tenant_owns(event, ours):
    assert belongs(event, "acme", OWNED) is ours
