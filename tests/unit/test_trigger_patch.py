"""PATCH of a trigger: only the fields sent change, the trigger is checked again as a whole, its
rule is written again with its tenant's constraint, and `enabled` is the rule's state; refusals
change nothing, and concurrent changes leave the rule as the record says. The real use cases and
SQLite; the rule port is a fake that keeps what EventBridge would hold."""

from __future__ import annotations

import pytest
from support.lifecycle import CALLER, RecordingStarter
from support.scripts import SIMPLE, b64

from load_manager.errors import (
    AutomationUnavailableError,
    BadRequestError,
    EventSourceNotOwnedError,
    RevisionNotFoundError,
    TriggerNotFoundError,
    UnprocessableError,
)
from load_manager.identity import Caller
from load_manager.models.automation import CreateEventSourceRequest, CreateTriggerRequest, UpdateTriggerRequest
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.usecases import event_sources, firing, load_tests, triggers

PATTERN = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"]}}
OPERATOR = Caller(subject="ops", email="ops@example.net", account_id="ops", groups=frozenset({"load-manager-operators"}))
EDITOR = Caller(subject="u2", email="bo@example.com", account_id="acct", groups=frozenset())
OTHER = Caller(subject="u3", email="eve@example.org", account_id="other", groups=frozenset())


class Rules:
    """What EventBridge holds: each rule's pattern and state; refuses what it would refuse."""

    def __init__(self):
        self.rules: dict[str, dict] = {}
        self.puts = 0
        self.before_put = None  # called once, before the next put lands (another writer's turn)

    def put(self, name, pattern, target_input, description, enabled=True):
        if "numeric" in str(pattern):
            raise UnprocessableError("EventBridge rejected the event pattern: bad numeric filter", code="InvalidEventPattern")
        hook, self.before_put = self.before_put, None
        if hook:
            hook()
        self.puts += 1
        self.rules[name] = {"pattern": pattern, "input": target_input, "enabled": enabled, "description": description}

    def delete(self, name):
        self.rules.pop(name, None)


@pytest.fixture
def bus():
    return Rules()


@pytest.fixture
def trigger(stores, bus):
    for value in ("shop", "billing"):  # the applications the tenant owns: its triggers may match their deployments
        request = CreateEventSourceRequest.model_validate({"ownerAccountId": "acct", "kind": "codedeployApplication", "value": value})
        event_sources.create(stores, lambda _account: None, OPERATOR, request)
    test = load_tests.create(stores, CALLER, CreateLoadTestRequest.model_validate(
        {"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)}))  # fmt: skip
    body = {"name": "after deploy", "eventPattern": PATTERN, "runSettings": {"durationSeconds": 5}}
    return triggers.create(stores, lambda: bus, CALLER, test.id, CreateTriggerRequest.model_validate(body))


def patch(stores, bus, trigger, body, caller=EDITOR):
    return triggers.update(stores, lambda: bus, caller, trigger.load_test_id, trigger.id, UpdateTriggerRequest.model_validate(body))


def deployment(event_id: str) -> dict:
    return {
        "version": "0", "id": event_id, "detail-type": "CodeDeploy Deployment State-change Notification", "source": "aws.codedeploy",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"state": "SUCCESS", "application": "shop", "deploymentId": event_id},
    }  # fmt: skip


def test_only_the_fields_sent_change_and_the_rule_keeps_the_tenant_constraint(stores, bus, trigger):
    new_pattern = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"], "application": ["billing"]}}
    changed = patch(stores, bus, trigger, {"eventPattern": new_pattern, "description": "billing only"})
    assert changed.event_pattern == new_pattern and changed.description == "billing only"
    assert (changed.name, changed.run_settings, changed.enabled, changed.created_by) == (trigger.name, trigger.run_settings, True, CALLER.actor)
    assert changed.updated_by == EDITOR.actor and changed.updated_at is not None
    assert stores.triggers.get("acct", trigger.load_test_id, trigger.id) == changed
    rule = bus.rules[trigger.rule_name]
    assert rule["pattern"] == new_pattern and rule["enabled"] is True  # already limited to what the tenant owns
    assert rule["input"] == triggers.rule_reference(trigger) and "'after deploy'" in rule["description"]
    patch(stores, bus, changed, {"eventPattern": PATTERN})  # no application named: the rule names the tenant's own
    assert bus.rules[trigger.rule_name]["pattern"] == {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"], "application": ["billing", "shop"]}}
    patch(stores, bus, changed, {"description": None})
    assert stores.triggers.get("acct", trigger.load_test_id, trigger.id).description is None  # null clears it


def test_enabled_is_the_rules_state_and_a_late_delivery_to_a_disabled_trigger_starts_nothing(stores, bus, trigger):
    disabled = patch(stores, bus, trigger, {"enabled": False})
    assert disabled.enabled is False and bus.rules[trigger.rule_name]["enabled"] is False
    late = firing.handle(stores, RecordingStarter, {"loadManagerTrigger": triggers.rule_reference(trigger), "event": deployment("e-1")})
    assert late == {**late, "outcome": "skipped", "reason": "the trigger is disabled"} and "runId" not in late
    assert stores.runs.list("acct", trigger.load_test_id, status=None, limit=5, after=None) == []
    assert triggers.resync(stores, lambda: bus) == 1 and bus.rules[trigger.rule_name]["enabled"] is False  # `sync` keeps it disabled
    patch(stores, bus, trigger, {"enabled": True})
    assert bus.rules[trigger.rule_name]["enabled"] is True
    started = firing.handle(stores, RecordingStarter, {"loadManagerTrigger": triggers.rule_reference(trigger), "event": deployment("e-2")})
    assert started["outcome"] == "started"


@pytest.mark.parametrize(("body", "error", "code"), [
    ({}, BadRequestError, "EmptyUpdate"),
    ({"eventPattern": {"source": ["aws.codedeploy"], "detail": {"application": ["someone-elses"]}}}, EventSourceNotOwnedError, None),
    ({"eventPattern": {"source": ["aws.codedeploy"], "detail": {"duration": [{"numeric": [">", "x"]}]}}}, UnprocessableError, "InvalidEventPattern"),
    ({"runSettings": {"revision": 7}}, RevisionNotFoundError, None),
])  # fmt: skip
def test_a_refused_change_changes_nothing(stores, bus, trigger, body, error, code):
    rule, puts = dict(bus.rules[trigger.rule_name]), bus.puts
    with pytest.raises(error) as refused:
        patch(stores, bus, trigger, body)
    assert code is None or refused.value.code == code
    assert stores.triggers.get("acct", trigger.load_test_id, trigger.id) == trigger
    assert bus.rules[trigger.rule_name] == rule and bus.puts <= puts + 1  # at most the rule put back as it was


def test_another_tenants_or_a_missing_trigger_is_not_found(stores, bus, trigger):
    with pytest.raises(TriggerNotFoundError):
        patch(stores, bus, trigger, {"enabled": False}, caller=OTHER)  # another tenant's trigger: as if there were none
    with pytest.raises(TriggerNotFoundError):
        triggers.update(stores, lambda: bus, EDITOR, trigger.load_test_id, "0" * 32, UpdateTriggerRequest.model_validate({"enabled": False}))
    assert stores.triggers.get("acct", trigger.load_test_id, trigger.id) == trigger and bus.rules[trigger.rule_name]["enabled"] is True


def test_without_a_bus_nothing_is_written(stores, bus, trigger):
    def no_bus():
        raise AutomationUnavailableError("no event bus is configured")

    with pytest.raises(AutomationUnavailableError):
        triggers.update(stores, no_bus, EDITOR, trigger.load_test_id, trigger.id, UpdateTriggerRequest.model_validate({"enabled": False}))
    assert stores.triggers.get("acct", trigger.load_test_id, trigger.id) == trigger


def test_concurrent_changes_leave_the_rule_as_the_record_says(stores, bus, trigger):
    # The first PATCH has stored its change and is about to write its rule from what it read; the
    # second PATCH lands entirely in between (record and rule). The first one's rule write is stale.
    bus.before_put = lambda: patch(stores, bus, trigger, {"enabled": False})
    patch(stores, bus, trigger, {"name": "renamed"})
    stored = stores.triggers.get("acct", trigger.load_test_id, trigger.id)
    assert (stored.name, stored.enabled) == ("renamed", False)  # both changes landed
    rule = bus.rules[trigger.rule_name]
    assert rule["enabled"] is False and "'renamed'" in rule["description"]  # and the rule says what the record says


def test_a_trigger_deleted_while_its_rule_is_written_leaves_no_rule(stores, bus, trigger):
    bus.before_put = lambda: triggers.delete(stores, lambda: bus, EDITOR, trigger.load_test_id, trigger.id)
    with pytest.raises(TriggerNotFoundError):
        patch(stores, bus, trigger, {"enabled": False})
    assert trigger.rule_name not in bus.rules and stores.triggers.get("acct", trigger.load_test_id, trigger.id) is None
