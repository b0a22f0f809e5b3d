"""Notifications go through the run's outbox: when a run ends, one NotificationRequested per channel
that matches the run and wants its verdict, published after RunFinished, each exactly once whatever
drains and fails; the message is rendered when it is published and a webhook's is signed (the secret
never in the event). Real steps, a fake backend, SQLite, a recording publisher, a fake EventBridge."""

from __future__ import annotations

import json

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER, RecordingStarter, run_through
from support.scripts import SIMPLE, b64

from load_manager.adapters.channel_credentials import ChannelCredentials
from load_manager.adapters.eventbridge import set_publisher
from load_manager.identity import Caller
from load_manager.lifecycle import notify
from load_manager.lifecycle.notifications import event_id
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.notifications import CreateChannelRequest, NotificationChannel, UpdateChannelRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import load_tests, notification_channels, runs
from load_manager.usecases.notification_messages import signature_matches

pytestmark = pytest.mark.usefixtures("fast_settings")
ADMIN = Caller(subject="u1", email="qa@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))
SECRET = "whsec_0123456789abcdef"
FAILING = [{"metric": "rps", "operator": ">=", "threshold": 1_000_000}, {"metric": "p95Ms", "operator": "<", "threshold": 1000}]
PASSING = [{"metric": "p95Ms", "operator": "<", "threshold": 1000}]


class Recording:
    """The bus: records what is published; `fail_on` makes the publish of those event ids raise once."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []
        self.fail_on: set[str] = set()

    def publish(self, detail_type, detail, resources):
        if detail["eventId"] in self.fail_on:
            self.fail_on.discard(detail["eventId"])
            raise RuntimeError("PutEvents throttled")
        self.events.append((detail_type, json.loads(json.dumps(detail))))


class FakeTargets:
    """EventBridge's connections, destinations and rules, as the use case writes them."""

    def __init__(self):
        self.put_calls: list[tuple[NotificationChannel, ChannelCredentials]] = []
        self.deleted: list[str] = []

    def __call__(self):
        return self

    def put(self, channel, credentials):
        self.put_calls.append((channel, credentials))

    def delete(self, channel):
        self.deleted.append(channel.id)


@pytest.fixture
def bus():
    recording = Recording()
    set_publisher(recording)
    yield recording
    set_publisher(None)


def make_test(stores, org_id: str = "shop"):
    body = {"name": "checkout", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9", "orgId": org_id, "projectId": "web"}
    return load_tests.create(stores, CALLER, CreateLoadTestRequest.model_validate(body))


def finish_run(stores, test_id: str, criteria: list[dict]):
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test_id, StartRunRequest.model_validate({"durationSeconds": 1, "criteria": criteria}), None)
    run_through(stores, FakeBackend(), run)
    return stores.runs.get(run.account_id, run.id)


def channel(stores, targets, **body) -> NotificationChannel:
    request = CreateChannelRequest.model_validate({"name": body.pop("name", "chat"), "url": "https://hooks.example.com/T1/B2/xyz", **body})
    return notification_channels.create(stores, targets, ADMIN, request)


def notices(bus: Recording) -> dict[str, dict]:
    return {detail["channelId"]: detail for kind, detail in bus.events if kind == "NotificationRequested"}


def test_a_failed_run_notifies_each_matching_channel_once_after_run_finished_signed_and_without_the_secret(stores, bus, tmp_path):
    targets = FakeTargets()
    test = make_test(stores)
    slack = channel(stores, targets, kind="slack", testId=test.id)  # filter: failed (the default)
    hook = channel(stores, targets, kind="webhook", filter="all", signingSecret=SECRET, orgId="shop")
    teams = channel(stores, targets, kind="teams", filter="statusChange", orgId="shop", projectId="web")
    channel(stores, targets, kind="slack", orgId="elsewhere")  # another org's
    channel(stores, targets, kind="slack", testId=test.id, enabled=False)  # off
    other_test = channel(stores, targets, kind="slack", testId=make_test(stores).id)  # another test's

    run = finish_run(stores, test.id, FAILING)
    assert (run.status, run.result) == ("Finished", "Failed")
    kinds = [kind for kind, _ in bus.events]
    assert kinds == ["RunStarted", "RunFinished", *["NotificationRequested"] * 3], "after RunFinished, one per matching channel"
    sent = notices(bus)
    assert set(sent) == {slack.id, hook.id, teams.id} and other_test.id not in sent
    assert sent[hook.id]["eventId"] == event_id(run.id, hook.id) == f"{run.id}:Notify:{hook.id}"

    webhook = sent[hook.id]
    payload = webhook["payload"]
    assert (payload["loadTest"]["name"], payload["run"]["revisionNumber"], payload["run"]["verdict"]) == ("checkout", 1, "Failed")
    assert [c["criterion"]["metric"] for c in payload["failedCriteria"]] == ["rps"], "only the failed criteria"
    assert payload["links"]["console"].endswith(f"/runs/{run.id}")
    body = json.dumps(payload, separators=(", ", ": "), sort_keys=False).encode()  # however the bus re-serialises it
    assert signature_matches(SECRET, webhook["timestamp"], webhook["signature"], body)
    assert not signature_matches("another-secret-0000", webhook["timestamp"], webhook["signature"], body)
    assert SECRET not in json.dumps(bus.events) and "hooks.example.com/T1" not in json.dumps(bus.events)
    assert "signature" not in sent[slack.id] and "Open the run" in json.dumps(sent[slack.id]["payload"])
    kept = list((tmp_path / "notification-channels").rglob("*.json"))
    assert len(kept) == 6 and {oct(p.stat().st_mode & 0o777) for p in kept} == {"0o600"}, "credentials: files only their owner reads"
    assert not [p for p in tmp_path.glob("lm.db*") if SECRET.encode() in p.read_bytes()], "never in the store"

    assert notify.drain(stores, run.account_id, run.id) == 0, "a later drain (the sweeper's) sends nothing again"
    assert len(bus.events) == 5


def test_a_publish_failing_midway_sends_the_rest_later_and_nothing_twice(stores, bus):
    targets = FakeTargets()
    test = make_test(stores)
    first, second = channel(stores, targets, kind="slack", testId=test.id), channel(stores, targets, kind="teams", testId=test.id)
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test.id, StartRunRequest.model_validate({"durationSeconds": 1, "criteria": FAILING}), None)
    bus.fail_on = {event_id(run.id, second.id)}
    run_through(stores, FakeBackend(), run)
    assert [d["channelId"] for k, d in bus.events if k == "NotificationRequested"] == [first.id]
    assert [e.event_id for e in stores.runs.pending_events(run.account_id, run.id)] == [event_id(run.id, second.id)]
    assert notify.drain(stores, run.account_id, run.id) == 1  # the sweeper's drain
    assert [d["channelId"] for k, d in bus.events if k == "NotificationRequested"] == [first.id, second.id]


def test_filters_status_changes_and_a_channel_deleted_before_its_message(stores, bus):
    targets = FakeTargets()
    test = make_test(stores)
    changes = channel(stores, targets, kind="slack", testId=test.id, filter="statusChange")
    failures = channel(stores, targets, kind="slack", testId=test.id, filter="failed")
    every = channel(stores, targets, kind="teams", testId=test.id, filter="all")

    def notified(criteria):
        bus.events.clear()
        finish_run(stores, test.id, criteria)
        return {c: d["payload"] for c, d in notices(bus).items()}

    first = notified(PASSING)  # the test's first verdict counts as a change
    assert set(first) == {changes.id, every.id}
    assert set(notified(PASSING)) == {every.id}, "Passed after Passed: no change"
    failed = notified(FAILING)
    assert set(failed) == {changes.id, failures.id, every.id}
    assert "Verdict: Failed (was Passed)" in json.dumps(failed[changes.id])
    assert set(notified(FAILING)) == {failures.id, every.id}, "Failed after Failed: no change"

    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test.id, StartRunRequest.model_validate({"durationSeconds": 1, "criteria": PASSING}), None)
    bus.events.clear()
    bus.fail_on = {f"{run.id}:RunFinished"}  # the bus is down when the run ends: everything waits in the outbox
    run_through(stores, FakeBackend(), run)
    assert len(stores.runs.pending_events(run.account_id, run.id)) == 3  # RunFinished, then Passed after Failed: changes and every
    notification_channels.delete(stores, targets, CALLER, changes.id)
    assert notify.drain(stores, run.account_id, run.id) == 3
    assert set(notices(bus)) == {every.id}, "a channel deleted meanwhile gets nothing"
    assert stores.runs.pending_events(run.account_id, run.id) == []


def test_concurrent_changes_leave_eventbridge_as_the_record_says(stores, tmp_path):
    test = make_test(stores)
    credentials_seen: list[tuple[bool, str]] = []

    class Racing(FakeTargets):
        def put(self, channel, credentials):
            credentials_seen.append((channel.enabled, credentials.url))
            if len(credentials_seen) == 2:  # while the URL change writes EventBridge, another PATCH disables the channel
                notification_channels.update(stores, FakeTargets(), CALLER, channel.id, UpdateChannelRequest.model_validate({"enabled": False}))

    made = channel(stores, Racing(), kind="slack", testId=test.id)
    changed = notification_channels.update(stores, Racing(), CALLER, made.id, UpdateChannelRequest.model_validate({"url": "https://hooks.example.com/new"}))
    assert changed.enabled is False and changed.endpoint_host == "hooks.example.com"
    assert credentials_seen == [(True, "https://hooks.example.com/T1/B2/xyz"), (True, "https://hooks.example.com/new"), (False, "https://hooks.example.com/new")]
