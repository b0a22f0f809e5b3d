"""Deleting a load test removes what belonged to it only (usecases/dependents.py): its triggers' rules,
its schedules, its own variables and secrets (the values gone from the vault) and its own
notification channels, each through its own delete use case, recorded as the caller's. The
account's, org's and project's entries and channels stay, and so does everything of another tenant.
A removal that fails (the bus, the vault) never fails the delete: the test is gone, and the sweeper's
pass after its grace period removes what is left, as `system`. Real use cases and stores; EventBridge,
Scheduler and the channels' EventBridge resources are fakes, the vault the local file vault."""

from __future__ import annotations

import pytest
from contract.test_automation_store_contract import make_trigger
from support.automation_fakes import FakeRules, FakeSchedules
from support.clock import FakeClock, installed
from support.fake_backend import FakeBackend
from support.lifecycle import RecordingStarter
from support.scripts import SIMPLE, b64

from load_manager.adapters.channel_credentials import credential_store
from load_manager.adapters.vault import FileVault
from load_manager.errors import LoadTestNotFoundError, SecretStoreError
from load_manager.identity import Caller
from load_manager.lifecycle.sweeper import GRACE_SECONDS, sweep
from load_manager.models.automation import CreateEventSourceRequest, CreateScheduleRequest, CreateTriggerRequest
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.notifications import CreateChannelRequest
from load_manager.models.variables import PutSecretRequest, PutVariableRequest
from load_manager.settings import Settings, set_settings
from load_manager.store import get_stores
from load_manager.usecases import dependents, event_sources, firing, load_tests, notification_channels, schedules, triggers, variables
from load_manager.usecases.dependents import Reach

ADMIN = Caller(subject="u0", email="admin@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))
EDITOR = Caller(subject="u1", email="editor@example.com", account_id="acct", groups=frozenset({"load-manager-editors"}))
OTHER = Caller(subject="u9", email="admin@other.example", account_id="other", groups=frozenset({"load-manager-admins"}))
OPERATOR = Caller(subject="ops", email="ops@example.net", account_id="ops", groups=frozenset({"load-manager-operators"}))
PATTERN = {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"]}}


class FakeTargets:
    def __init__(self):
        self.live: set[str] = set()

    def put(self, channel, credentials):
        self.live.add(channel.id)

    def delete(self, channel):
        self.live.discard(channel.id)


class FailingVault(FileVault):
    def delete(self, account_id, secret_id):
        raise SecretStoreError("Secrets Manager is unavailable (InternalServiceError); nothing was written")


class World:
    """Two tenants, each with a test that has a trigger, a schedule, a variable, a secret and a channel
    of its own; the tenant "acct" also has an account-wide variable, a project's secret and an
    org's channel."""

    def __init__(self, stores, tmp_path):
        self.stores = stores
        self.bus, self.scheduler, self.targets = FakeRules(), FakeSchedules(), FakeTargets()
        self.vault = FileVault(tmp_path / "vault")
        for account in ("acct", "other"):
            event_sources.create(stores, lambda _account: None, OPERATOR, CreateEventSourceRequest.model_validate(
                {"ownerAccountId": account, "kind": "codedeployApplication", "value": f"shop-{account}"}))  # fmt: skip
        self.test, self.own = self.automated(ADMIN)
        self.other_test, self.other_own = self.automated(OTHER)
        self.shared = {
            "variable": variables.put_variable(stores, ADMIN, PutVariableRequest.model_validate({"name": "API_HOST", "value": "https://api"})),
            "secret": variables.put_secret(stores, self.vault, ADMIN, PutSecretRequest.model_validate(
                {"orgId": "shop", "projectId": "web", "name": "DB_PASSWORD", "value": "project-wide-secret"})),  # fmt: skip
            "channel": notification_channels.create(stores, self.reach().targets, ADMIN, CreateChannelRequest.model_validate(
                {"name": "org", "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/org", "orgId": "shop"})),  # fmt: skip
        }

    def reach(self, rules: FakeRules | None = None, vault: FileVault | None = None) -> Reach:
        return Reach(rules=lambda: rules or self.bus, schedules=lambda: self.scheduler, vault=lambda: vault or self.vault, targets=lambda: self.targets)

    def automated(self, caller: Caller):
        """A test of `caller`'s tenant, and what belongs to it only."""
        body = {"name": "checkout", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9", "orgId": "shop", "projectId": "web"}
        test = load_tests.create(self.stores, caller, CreateLoadTestRequest.model_validate(body))
        reach = self.reach()
        trigger_body = {"name": "after deploy", "eventPattern": PATTERN, "runSettings": {"durationSeconds": 5}}
        own = {
            "trigger": triggers.create(self.stores, reach.rules, caller, test.id, CreateTriggerRequest.model_validate(trigger_body)),
            "schedule": schedules.create(self.stores, reach.schedules, caller, test.id, CreateScheduleRequest.model_validate(
                {"name": "nightly", "cron": "0 2 * * *", "runSettings": {"durationSeconds": 60}})),  # fmt: skip
            "variable": variables.put_variable(self.stores, caller, PutVariableRequest.model_validate({"testId": test.id, "name": "NUM_USERS", "value": "5"})),
            "secret": variables.put_secret(self.stores, self.vault, caller, PutSecretRequest.model_validate(
                {"testId": test.id, "name": "API_TOKEN", "value": f"token-of-{caller.account_id}"})),  # fmt: skip
            "channel": notification_channels.create(self.stores, reach.targets, caller, CreateChannelRequest.model_validate(
                {"name": "team", "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/team", "testId": test.id})),  # fmt: skip
        }
        return test, own

    def left_of(self, account: str, test_id: str) -> dict[str, list[str]]:
        """What of the test is still stored."""
        return {
            "trigger": [t.id for t in self.stores.triggers.list(account, test_id)],
            "schedule": [s.id for s in self.stores.schedules.list(account, test_id)],
            "entry": [e.id for e in self.stores.variables.list(account) if e.test_id == test_id],
            "channel": [c.id for c in self.stores.notification_channels.list(account, test_id)],
        }

    def sweep(self, reach: Reach | None = None):
        return sweep(self.stores, FakeBackend().factory, executions=None, reach=reach or self.reach())

    def actions_of(self, actor: str) -> set[str]:
        return {r.action for r in self.stores.audit.query("acct", actor=actor, limit=100)}


@pytest.fixture
def world(any_stores, tmp_path):
    set_settings(Settings(data_dir=str(tmp_path), sqlite_path=str(tmp_path / "lm.db")))  # channel credentials: files under tmp_path
    try:
        with installed(FakeClock()) as clock:
            world = World(any_stores, tmp_path)
            world.clock = clock
            yield world
    finally:
        set_settings(None)


def nothing_left() -> dict[str, list]:
    return {"trigger": [], "schedule": [], "entry": [], "channel": []}


def test_deleting_a_test_removes_what_was_its_own_and_only_that(world):
    own = world.own
    load_tests.delete(world.stores, EDITOR, world.test.id, world.reach())  # an editor: the test's own secrets go with it all the same

    assert world.left_of("acct", world.test.id) == nothing_left()
    assert own["trigger"].rule_name not in world.bus.rules and own["schedule"].scheduler_name not in world.scheduler.schedules
    assert world.vault.get("acct", own["secret"].id, own["secret"].version) is None, "the secret's value is gone from the vault"
    assert own["channel"].id not in world.targets.live and credential_store().get("acct", own["channel"].id) is None
    with pytest.raises(LoadTestNotFoundError):
        load_tests.get(world.stores, EDITOR, world.test.id)
    # Each went through its own delete use case, on the record as the caller's (their delete did it).
    assert {"loadTest.delete", "trigger.delete", "schedule.delete", "variable.delete", "secret.delete", "notificationChannel.delete"} <= world.actions_of(
        EDITOR.actor
    )

    # The tenant's own entries and channels stay, values included.
    shared = world.shared
    assert {e.id for e in world.stores.variables.list("acct")} == {shared["variable"].id, shared["secret"].id}
    assert world.vault.get("acct", shared["secret"].id, shared["secret"].version) == "project-wide-secret"
    assert [c.id for c in world.stores.notification_channels.list("acct")] == [shared["channel"].id]
    assert shared["channel"].id in world.targets.live and credential_store().get("acct", shared["channel"].id) is not None
    # Another tenant's test keeps everything.
    other, theirs = world.other_own, world.left_of("other", world.other_test.id)
    assert (theirs["trigger"], theirs["schedule"], theirs["channel"]) == ([other["trigger"].id], [other["schedule"].id], [other["channel"].id])
    assert sorted(theirs["entry"]) == sorted([other["variable"].id, other["secret"].id])
    assert other["trigger"].rule_name in world.bus.rules and other["schedule"].scheduler_name in world.scheduler.schedules
    assert world.vault.get("other", other["secret"].id, other["secret"].version) == "token-of-other"
    assert other["channel"].id in world.targets.live

    # A delivery already on its way for the removed trigger is ignored; the sweeper's pass after its
    # grace finds nothing left and takes the test off its list.
    reference = {"loadManagerTrigger": triggers.rule_reference(own["trigger"]), "event": {"source": "aws.codedeploy", "detail": {}}}
    assert firing.handle(world.stores, RecordingStarter, reference)["outcome"] == "ignored"
    assert world.stores.load_tests.awaiting_cleanup(world.clock.ms + 1, 10) == [("acct", world.test.id)]
    world.clock.advance(GRACE_SECONDS + 1)
    report = world.sweep()
    assert report.leftovers_removed == [] and report.errors == 0
    assert world.stores.load_tests.awaiting_cleanup(world.clock.ms, 10) == []


def test_a_failing_cleanup_leaves_the_test_deleted_and_the_sweeper_removes_the_leftovers(world):
    own = world.own
    down = world.reach(rules=FakeRules(failing=True), vault=FailingVault(world.vault.root.parent))
    load_tests.delete(world.stores, EDITOR, world.test.id, down)  # raises nothing: the test is gone

    with pytest.raises(LoadTestNotFoundError):
        load_tests.get(world.stores, EDITOR, world.test.id)
    left = world.left_of("acct", world.test.id)
    assert left == {"trigger": [own["trigger"].id], "schedule": [], "entry": [own["secret"].id], "channel": []}, "each removal on its own"
    assert world.vault.get("acct", own["secret"].id, own["secret"].version) == "token-of-acct"
    # A delivery for the remaining trigger records LoadTestNotFound, as it always did for a deleted test.
    event = {"id": "e-1", "source": "aws.codedeploy", "detail-type": "x", "detail": {"state": "SUCCESS", "application": "shop-acct"}}
    fired = firing.handle(world.stores, RecordingStarter, {"loadManagerTrigger": triggers.rule_reference(own["trigger"]), "event": event})
    assert fired["outcome"] == "failed" and fired["code"] == "LoadTestNotFound"

    # Within the grace period the sweeper leaves it alone (the delete may still be at work).
    assert world.sweep().leftovers_removed == []
    world.clock.advance(GRACE_SECONDS + 1)
    still_down = world.sweep(down)
    assert still_down.leftovers_removed == [] and still_down.errors == 2
    assert world.stores.load_tests.awaiting_cleanup(world.clock.ms, 10) == [("acct", world.test.id)], "kept until nothing is left"

    report = world.sweep()
    assert sorted(report.leftovers_removed) == sorted([f"{world.test.id}/trigger/{own['trigger'].id}", f"{world.test.id}/secret/{own['secret'].id}"])
    assert report.errors == 0 and world.left_of("acct", world.test.id) == nothing_left()
    assert own["trigger"].rule_name not in world.bus.rules and world.vault.get("acct", own["secret"].id, own["secret"].version) is None
    assert {"trigger.delete", "secret.delete"} <= world.actions_of("system")
    assert world.stores.load_tests.awaiting_cleanup(world.clock.ms, 10) == []
    assert world.sweep().leftovers_removed == []
    # The other tenant's test, and this tenant's shared entries, were never touched.
    assert world.other_own["trigger"].rule_name in world.bus.rules
    assert world.vault.get("acct", world.shared["secret"].id, world.shared["secret"].version) == "project-wide-secret"


def test_what_a_racing_request_adds_to_a_deleted_test_and_what_the_budget_leaves_are_the_sweepers(world, monkeypatch):
    monkeypatch.setattr(dependents, "INLINE_BUDGET_SECONDS", -1.0)  # out of time before the first removal
    load_tests.delete(world.stores, EDITOR, world.test.id, world.reach())
    assert world.left_of("acct", world.test.id)["trigger"] == [world.own["trigger"].id]
    # A trigger whose request found the test just before it was deleted, stored after the delete.
    racing = make_trigger("acct", world.test.id)
    world.stores.triggers.insert(racing)
    world.bus.rules[racing.rule_name] = {"pattern": PATTERN, "input": {}}

    world.clock.advance(GRACE_SECONDS + 1)
    report = world.sweep()
    assert f"{world.test.id}/trigger/{racing.id}" in report.leftovers_removed and report.errors == 0
    assert world.left_of("acct", world.test.id) == nothing_left()
    assert racing.rule_name not in world.bus.rules and world.own["trigger"].rule_name not in world.bus.rules
    assert world.vault.get("acct", world.own["secret"].id, world.own["secret"].version) is None


def test_the_delete_route_answers_204_when_the_bus_is_not_reachable(api, stores, tmp_path):
    """Through the handler, with the deployment's own reach: this process has no bus configured, so the
    rule cannot be deleted; the test is deleted all the same and the trigger waits for the sweeper."""
    event_sources.create(stores, lambda _account: None, OPERATOR, CreateEventSourceRequest.model_validate(
        {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "shop"}))  # fmt: skip
    created = api.request("POST", "/v1/load-tests", body={"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
    test_id = created.json()["id"]
    bus = FakeRules()
    local = Caller(subject="local-user", email="local@localhost", account_id="local", groups=frozenset({"load-manager-admins"}))
    trigger = triggers.create(stores, lambda: bus, local, test_id, CreateTriggerRequest.model_validate({"name": "t", "eventPattern": PATTERN}))

    answer = api.request("DELETE", f"/v1/load-tests/{test_id}")
    assert answer.status == 204, answer.json()
    assert api.request("GET", f"/v1/load-tests/{test_id}").status == 404
    assert [t.id for t in stores.triggers.list("local", test_id)] == [trigger.id]
    assert stores.load_tests.awaiting_cleanup(2**62, 10) == [("local", test_id)]


def test_as_serve_runs_it_the_delete_removes_the_rule_schedule_secret_file_and_channel(tmp_path, monkeypatch, _routes):
    """The DELETE route in LoadTestsFunction's settings as `serve` derives them from the template:
    moto's EventBridge and Scheduler in process, the secrets' and channels' files in the data directory."""
    import boto3
    from support.local_runtime import local_runtime

    from load_manager.adapters.channel_credentials import file_credentials
    from load_manager_local.api import InProcessApi

    with local_runtime(tmp_path, monkeypatch, scheduler_tick_seconds=0, sweep_seconds=0) as local:
        client = InProcessApi(routes=_routes)

        def call(method: str, path: str, body=None, status: int = 200):
            answer = client.request(method, path, body=body)
            assert answer.status == status, answer.json()
            return answer.json() if status != 204 else None

        call("POST", "/v1/event-sources", {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "checkout"}, 201)
        test_id = call("POST", "/v1/load-tests", {"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)}, 201)["id"]
        pattern = {"source": ["aws.codedeploy"], "detail": {"application": ["checkout"]}}
        trigger = call("POST", f"/v1/load-tests/{test_id}/triggers", {"name": "deploys", "eventPattern": pattern}, 201)
        schedule = call("POST", f"/v1/load-tests/{test_id}/schedules", {"name": "nightly", "cron": "0 3 * * *"}, 201)
        secret = call("PUT", "/v1/secrets", {"testId": test_id, "name": "API_TOKEN", "value": "s3cr3t-of-the-test"})
        channel_body = {"name": "team", "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/x", "testId": test_id}
        channel = call("POST", "/v1/notification-channels", channel_body, 201)
        secret_file = tmp_path.resolve() / "secrets" / "local" / f"{secret['id']}.json"
        assert secret_file.exists() and file_credentials(tmp_path.resolve()).get("local", channel["id"]) is not None

        events, scheduler = boto3.client("events", region_name=local.sfn.region), boto3.client("scheduler", region_name=local.sfn.region)

        def rules() -> set[str]:
            return {rule["Name"] for rule in events.list_rules(EventBusName=trigger["eventBusName"])["Rules"]}

        def schedules_() -> set[str]:
            return {s["Name"] for s in scheduler.list_schedules()["Schedules"]}

        assert {trigger["ruleName"], channel["ruleName"]} <= rules() and schedule["schedulerName"] in schedules_()
        call("DELETE", f"/v1/load-tests/{test_id}", status=204)
        assert not {trigger["ruleName"], channel["ruleName"]} & rules() and schedule["schedulerName"] not in schedules_()
        assert not secret_file.exists() and file_credentials(tmp_path.resolve()).get("local", channel["id"]) is None
        assert get_stores().load_tests.awaiting_cleanup(2**62, 10) == [("local", test_id)]  # until the sweeper's visit
