"""Tenants on the shared event bus: tenant A's triggers never fire on tenant B's events, and never
record them in `lastFirings`, whatever A's pattern.

The rules are the ones the triggers use case writes (adapters/eventbridge.py) into moto's
EventBridge, whose pattern engine does the matching. moto cannot invoke Lambda targets (it raises on
a match), so each rule's target, the triggers function, is swapped for an SQS queue (a probe): what
lands there is what EventBridge would hand the function, and the test hands it over (as the rule's
input transformer does). The local runtime does the same end to end with its Lambda delivery
(tests/lifecycle/test_automation_local.py). Then B's
events are handed to the function directly too, as a rule written before an ownership was taken
away would: the function's own check ignores them.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from support.lifecycle import RecordingStarter
from support.scripts import SIMPLE, b64

from load_manager.adapters.eventbridge import TARGET_ID, EventBridgeRules
from load_manager.errors import LoadManagerError
from load_manager.identity import Caller
from load_manager.models.automation import CreateEventSourceRequest, CreateTriggerRequest
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.settings import Settings, set_settings
from load_manager.usecases import event_sources, firing, load_tests, triggers

REGION, BUS = "us-east-1", "stack-events"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:stack-triggers"
MOTO_ACCOUNT = "123456789012"  # the `account` moto gives every event put
CODEDEPLOY = "CodeDeploy Deployment State-change Notification"
A = Caller(subject="a", email="ann@acme.example", account_id="acme", groups=frozenset())
OPERATOR = Caller(subject="ops", email="ops@example.net", account_id="ops", groups=frozenset({"load-manager-operators"}))

# Whatever A writes: every pattern A may have, from the widest on each source up.
ACCEPTED = {
    "every codedeploy event": {"source": ["aws.codedeploy"]},
    "codedeploy successes, $or on other fields": {
        "source": ["aws.codedeploy"], "detail-type": [CODEDEPLOY],
        "detail": {"state": ["SUCCESS"], "$or": [{"deploymentGroup": ["prod"]}, {"deploymentGroup": [{"prefix": ""}]}]},
    },
    "every load-manager event": {"source": ["load-manager"]},
    "every RunRequested": {"source": ["load-manager"], "detail-type": ["RunRequested"]},
    "any run event naming a test": {"source": ["load-manager"], "detail-type": ["RunRequested", "RunStarted", "RunFinished"],
                                    "detail": {"loadTestId": [{"exists": True}]}},
    "its own tenant named": {"source": ["load-manager"], "detail": {"accountId": ["acme"]}},
    "every ecs event": {"source": ["aws.ecs"]},
    "its own CI source": {"source": ["acme.ci"], "detail-type": ["RunRequested"]},
}  # fmt: skip
# ... and the patterns that could see B's events, refused before anything is written.
REFUSED = {
    "RunRequested of any source": ({"detail-type": ["RunRequested"]}, "EventSourceRequired"),
    "B's CI source": ({"source": ["globex.ci"], "detail-type": ["RunRequested"]}, "EventSourceNotOwned"),
    "B's application": ({"source": ["aws.codedeploy"], "detail": {"application": ["billing"]}}, "EventSourceNotOwned"),
    "B's tenant": ({"source": ["load-manager"], "detail": {"accountId": ["globex"]}}, "EventSourceNotOwned"),
    "anything but its application": ({"source": ["aws.codedeploy"], "detail": {"application": [{"anything-but": "checkout"}]}}, "UnconstrainablePattern"),
    "any tenant by prefix": ({"source": ["load-manager"], "detail": {"accountId": [{"prefix": ""}]}}, "UnconstrainablePattern"),
    "a source prefix": ({"source": [{"prefix": "aws."}]}, "UnconstrainablePattern"),
    "B's tenant through $or": (
        {"source": ["load-manager"], "$or": [{"detail": {"accountId": ["globex"]}}, {"detail-type": ["RunRequested"]}]}, "UnconstrainablePattern"
    ),
    "two families of sources": ({"source": ["aws.codedeploy", "load-manager"]}, "MixedEventSources"),
}  # fmt: skip


def entry(source: str, detail_type: str, detail: dict) -> dict:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": BUS}


def b_events(a_test_id: str) -> list[dict]:
    """Tenant B's events: its deployments, its runs, its CI asking for A's test, an ECS event of its account."""
    return [
        entry("aws.codedeploy", CODEDEPLOY, {"state": "SUCCESS", "application": "billing", "deploymentId": "d-B1", "deploymentGroup": "prod"}),
        entry("load-manager", "RunRequested", {"loadTestId": a_test_id, "accountId": "globex", "requestId": "b-1"}),
        entry("load-manager", "RunFinished", {"runId": "r-b", "loadTestId": "t-b", "accountId": "globex", "status": "Finished"}),
        entry("load-manager", "RunRequested", {"loadTestId": a_test_id, "requestId": "nobody"}),  # no tenant: nobody's
        entry("globex.ci", "RunRequested", {"loadTestId": a_test_id}),
        entry("aws.ecs", "ECS Task State Change", {"lastStatus": "RUNNING"}),  # account = the moto account, which B owns
    ]


def a_events(a_test_id: str) -> list[dict]:
    return [
        entry("aws.codedeploy", CODEDEPLOY, {"state": "SUCCESS", "application": "checkout", "deploymentId": "d-A1", "deploymentGroup": "prod"}),
        entry("load-manager", "RunRequested", {"loadTestId": a_test_id, "accountId": "acme", "requestId": "a-1"}),
        entry("acme.ci", "RunRequested", {"loadTestId": a_test_id}),
    ]


@pytest.fixture
def bus(monkeypatch, stores):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    set_settings(Settings(automation={"event_bus_name": BUS, "triggers_function_arn": FUNCTION}))
    with mock_aws():
        boto3.client("events", region_name=REGION).create_event_bus(Name=BUS)
        yield EventBridgeRules(BUS, FUNCTION)
    set_settings(None)


def own(stores, account: str, kind: str, value: str) -> None:
    request = CreateEventSourceRequest.model_validate({"ownerAccountId": account, "kind": kind, "value": value})
    event_sources.create(stores, lambda _account: None, OPERATOR, request)


def probe(rule_name: str) -> str:
    """An SQS queue in place of the rule's target (the function): it receives what the rule matches."""
    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName=rule_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    (target,) = events.list_targets_by_rule(Rule=rule_name, EventBusName=BUS)["Targets"]
    assert (target["Id"], target["Arn"]) == (TARGET_ID, FUNCTION)
    events.remove_targets(Rule=rule_name, EventBusName=BUS, Ids=[TARGET_ID])
    events.put_targets(Rule=rule_name, EventBusName=BUS, Targets=[{"Id": "probe", "Arn": arn}])
    return url


def matched(url: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    out = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        out += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages])
    return out


def deliver(stores, trigger, event: dict) -> dict:
    """What the rule's input transformer hands the triggers function."""
    return firing.handle(stores, RecordingStarter, {"loadManagerTrigger": triggers.rule_reference(trigger), "event": event})


def test_tenant_a_never_fires_on_tenant_b_events_whatever_its_pattern(stores, bus):
    own(stores, "acme", "codedeployApplication", "checkout")
    own(stores, "acme", "eventSource", "acme.ci")
    own(stores, "acme", "awsAccount", "111122223333")
    own(stores, "globex", "codedeployApplication", "billing")
    own(stores, "globex", "eventSource", "globex.ci")
    own(stores, "globex", "awsAccount", MOTO_ACCOUNT)
    request = CreateLoadTestRequest.model_validate({"name": "a", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
    test_id = load_tests.create(stores, A, request).id

    for name, (pattern, code) in REFUSED.items():
        with pytest.raises(LoadManagerError) as refused:
            triggers.create(stores, lambda: bus, A, test_id, CreateTriggerRequest.model_validate({"name": name, "eventPattern": pattern}))
        assert (refused.value.status, refused.value.code) == (422, code), name
    assert stores.triggers.count("acme") == 0 and boto3.client("events", region_name=REGION).list_rules(EventBusName=BUS)["Rules"] == []

    made = {name: triggers.create(stores, lambda: bus, A, test_id, CreateTriggerRequest.model_validate({"name": name, "eventPattern": pattern}))
            for name, pattern in ACCEPTED.items()}  # fmt: skip
    probes = {name: probe(trigger.rule_name) for name, trigger in made.items()}
    events = boto3.client("events", region_name=REGION)
    assert events.put_events(Entries=b_events(test_id))["FailedEntryCount"] == 0
    for name, url in probes.items():
        assert matched(url) == [], f"A's trigger {name!r} matched one of B's events"

    # The control: A's own events do reach A's rules (so the silence above is the constraint's doing).
    assert events.put_events(Entries=a_events(test_id))["FailedEntryCount"] == 0
    reached = {name: matched(url) for name, url in probes.items()}
    assert {name for name, got in reached.items() if got} == set(ACCEPTED) - {"every ecs event"}  # A's AWS account put nothing
    for name, got in reached.items():
        for event in got:
            assert deliver(stores, made[name], event)["outcome"] == "started", name
    for trigger in made.values():
        firings = triggers.get(stores, A, test_id, trigger.id).last_firings
        assert all(f.event_id in {e["id"] for e in reached[trigger.name]} for f in firings), trigger.name
        assert len(firings) == len(reached[trigger.name])


def test_b_events_handed_to_the_triggers_function_directly_are_ignored_and_never_recorded(stores, bus):
    """The function's own check: a rule written before an ownership was taken away (or edited by
    hand, or matching through a list) hands it B's events; none starts a run or shows in lastFirings."""
    own(stores, "acme", "codedeployApplication", "checkout")
    source = event_sources.list_sources(stores, OPERATOR, "acme").items[0]
    request = CreateLoadTestRequest.model_validate({"name": "a", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
    test_id = load_tests.create(stores, A, request).id
    widest = {name: triggers.create(stores, lambda: bus, A, test_id, CreateTriggerRequest.model_validate({"name": name, "eventPattern": ACCEPTED[name]}))
              for name in ("every codedeploy event", "every load-manager event")}  # fmt: skip
    own(stores, "globex", "codedeployApplication", "billing")

    def as_delivered(put: dict) -> dict:
        return {"id": f"e-{put['Source']}-{put['DetailType']}", "source": put["Source"], "detail-type": put["DetailType"], "account": MOTO_ACCOUNT,
                "region": REGION, "time": "2026-01-01T00:00:00Z", "resources": [], "detail": json.loads(put["Detail"])}  # fmt: skip

    foreign = [as_delivered(e) for e in b_events(test_id)]
    # An event naming both tenants: EventBridge's rule matches a list through any element; the function does not.
    foreign.append(as_delivered(entry("load-manager", "RunRequested", {"loadTestId": test_id, "accountId": ["globex", "acme"]})))
    for trigger in widest.values():
        for event in foreign:
            assert deliver(stores, trigger, event) == {"outcome": "ignored", "reason": "not this tenant's event"}
    # Taken away: A's own application is no longer A's, and a deployment of it is ignored too.
    event_sources.delete(stores, lambda _account: None, OPERATOR, source.id)
    checkout = as_delivered(a_events(test_id)[0])
    assert deliver(stores, widest["every codedeploy event"], checkout)["outcome"] == "ignored"
    assert all(triggers.get(stores, A, test_id, t.id).last_firings == [] for t in widest.values())
    assert stores.runs.list("acme", test_id, status=None, limit=10, after=None) == []


def test_rules_follow_ownership_changes(stores, bus):
    """Giving or taking an application rewrites the tenant's rules: they match exactly what it owns now."""
    from load_manager.adapters.eventbridge import default_rules

    rewrite = lambda account: triggers.resync(stores, default_rules, account)  # noqa: E731 - what the handler passes
    operator_create = lambda value: event_sources.create(  # noqa: E731
        stores, rewrite, OPERATOR, CreateEventSourceRequest.model_validate({"ownerAccountId": "acme", "kind": "codedeployApplication", "value": value})
    )
    checkout, _ = operator_create("checkout")
    request = CreateLoadTestRequest.model_validate({"name": "a", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
    test_id = load_tests.create(stores, A, request).id
    trigger = triggers.create(stores, lambda: bus, A, test_id, CreateTriggerRequest.model_validate({"name": "deploys", "eventPattern": ACCEPTED["every codedeploy event"]}))
    client = boto3.client("events", region_name=REGION)

    def rule_applications() -> list[str]:
        return json.loads(client.describe_rule(Name=trigger.rule_name, EventBusName=BUS)["EventPattern"])["detail"]["application"]

    assert rule_applications() == ["checkout"]
    assert operator_create("cart")[1] is True and rule_applications() == ["cart", "checkout"]
    assert operator_create("cart")[1] is False  # already A's: nothing changes
    event_sources.delete(stores, rewrite, OPERATOR, checkout.id)
    assert rule_applications() == ["cart"]
