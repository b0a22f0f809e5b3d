"""Retention keeps what automation pins, and collects the bundle blobs nothing names any more, on
every store adapter: a trigger's or schedule's `runSettings.revision` is never pruned (so its firings
never answer 410), both orders of the race with pruning end right, and blob collection (mark and
sweep with a grace period) never takes a blob a save is naming at the same time."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from support.aws import stack_on_moto
from support.clock import FakeClock, installed
from support.lifecycle import CALLER, RecordingStarter
from support.scripts import SIMPLE, b64

from load_manager.adapters.step_functions import default_starter
from load_manager.errors import RevisionPrunedError
from load_manager.identity import Caller
from load_manager.ids import new_id
from load_manager.models.automation import CreateEventSourceRequest, CreateTriggerRequest, Trigger
from load_manager.models.bundles import BundleFile
from load_manager.models.load_tests import CreateLoadTestRequest, UpdateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.settings import get_settings
from load_manager.usecases import event_sources, firing, load_tests, retention, runs, scripts, triggers

OPERATOR = {"sub": "ops", "custom:accountId": "ops", "cognito:groups": "[load-manager-operators]"}


@pytest.fixture
def aws(monkeypatch):
    with stack_on_moto(monkeypatch):
        yield


def version(n: int) -> str:
    return SIMPLE + f"\n# version {n}\n"


def call(api, method: str, path: str, body=None, status: int = 200, claims=None):
    path, _, query = path.partition("?")
    answer = api.request(method, path, query=query, body=body, claims=claims)
    assert answer.status == status, (method, path, answer.status, answer.json())
    return answer.json() if answer.body else {}


def test_revisions_pinned_by_triggers_and_schedules_are_kept_and_their_firings_start_runs(api_any_store, any_stores, aws):
    api = api_any_store
    call(api, "POST", "/v1/event-sources", {"ownerAccountId": "local", "kind": "codedeployApplication", "value": "shop"}, 201, OPERATOR)
    test = call(api, "POST", "/v1/load-tests", {"name": "pinned", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1))}, 201)
    revisions = {1: test["latestRevisionId"]}
    for n in range(2, 11):
        revisions[n] = call(api, "PUT", f"/v1/load-tests/{test['id']}/script", {"scriptContent": b64(version(n))}, 201)["id"]
    trigger = call(api, "POST", f"/v1/load-tests/{test['id']}/triggers",
                   {"name": "deploys", "eventPattern": {"source": ["aws.codedeploy"]}, "runSettings": {"revision": 3}}, 201)  # fmt: skip
    schedule = call(api, "POST", f"/v1/load-tests/{test['id']}/schedules",
                    {"name": "nightly", "cron": "0 3 * * *", "runSettings": {"revision": revisions[5], "durationSeconds": 60}}, 201)  # fmt: skip

    call(api, "PATCH", f"/v1/load-tests/{test['id']}", {"revisionRetention": {"keepLast": 2}})
    history = call(api, "GET", f"/v1/load-tests/{test['id']}/script/revisions?limit=50")["items"]
    assert [r["revisionNumber"] for r in history if r["prunedAt"] is None] == [10, 9, 5, 3]

    # Their firings run the revisions they pin (pruned, they would be recorded as failed: 410 RevisionPruned).
    occurrence = {"loadManagerSchedule": {"scheduleId": schedule["id"], "accountId": "local", "loadTestId": test["id"]}, "scheduledTime": "2030-01-01T03:00:00Z"}
    at = firing.handle(any_stores, default_starter, occurrence)
    assert at["outcome"] == "started", at
    assert call(api, "GET", f"/v1/runs/{at['runId']}")["revisionNumber"] == 5
    stored = any_stores.triggers.get("local", test["id"], trigger["id"])
    event = {"id": "e-1", "source": "aws.codedeploy", "detail-type": "x", "account": "123456789012", "detail": {"application": "shop", "state": "SUCCESS"}}
    fired = firing.handle(any_stores, default_starter, {"loadManagerTrigger": triggers.rule_reference(stored), "event": event})
    assert fired["outcome"] == "started", fired
    assert call(api, "GET", f"/v1/runs/{fired['runId']}")["revisionNumber"] == 3

    # Deleting the trigger unpins its revision: the next pruning takes it.
    call(api, "DELETE", f"/v1/load-tests/{test['id']}/triggers/{trigger['id']}", status=204)
    call(api, "PUT", f"/v1/load-tests/{test['id']}/script", {"scriptContent": b64(version(11))}, 201)
    live = [r["revisionNumber"] for r in call(api, "GET", f"/v1/load-tests/{test['id']}/script/revisions?limit=50")["items"] if r["prunedAt"] is None]
    assert live == [11, 10, 5, 3]  # 3 stays: the run the trigger started uses it


OPERATOR_CALLER = Caller(subject="ops", email=None, account_id="ops", groups=frozenset({"load-manager-operators"}))


class Bus:
    def __init__(self):
        self.rules: dict[str, dict] = {}

    def put(self, name, pattern, target_input, description, enabled=True):
        self.rules[name] = pattern

    def delete(self, name):
        self.rules.pop(name, None)


def _two_revisions(stores):
    event_sources.create(stores, lambda _a: None, OPERATOR_CALLER,
                         CreateEventSourceRequest.model_validate({"ownerAccountId": "acct", "kind": "codedeployApplication", "value": "shop"}))  # fmt: skip
    request = CreateLoadTestRequest.model_validate({"name": "r", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1))})
    test = load_tests.create(stores, CALLER, request)
    old = stores.revisions.latest("acct", test.id)
    scripts.update_script(stores, CALLER, test.id, b64(version(2)), None)
    return test, old


def test_a_trigger_stored_after_pruning_marked_its_revision_takes_itself_back(stores):
    """The request resolved revision 1 before pruning marked it, and stores its trigger after: it reads
    the revision again, finds the mark, and undoes itself (no record, no rule, no hold): 410."""
    test, old = _two_revisions(stores)
    stores.revisions.set_pruned("acct", test.id, [old.id], 1)  # pruning's first step

    class ReadBeforeTheMark:
        def __init__(self, real):
            self.real, self.reads = real, 0

        def get_by_number(self, *args):
            self.reads += 1
            found = self.real.get_by_number(*args)
            return found.model_copy(update={"pruned_at": None}) if self.reads == 1 else found

        def __getattr__(self, name):
            return getattr(self.real, name)

    racing, bus = replace(stores, revisions=ReadBeforeTheMark(stores.revisions)), Bus()
    request = CreateTriggerRequest.model_validate({"name": "t", "eventPattern": {"source": ["aws.codedeploy"]}, "runSettings": {"revision": 1}})
    with pytest.raises(RevisionPrunedError):
        triggers.create(racing, lambda: bus, CALLER, test.id, request)
    assert stores.triggers.count("acct") == 0 and bus.rules == {} and stores.holds.holds("acct", "triggers") == []


def test_pruning_takes_back_a_revision_a_trigger_pinned_while_it_marked(stores):
    """The other order: a trigger (whose own check ran before the mark) is stored between pruning's
    mark and its second look. Pruning sees the pin, unmarks the revision and keeps its content."""
    test, old = _two_revisions(stores)
    pinning = Trigger(
        id=new_id(), account_id="acct", load_test_id=test.id, name="t", event_pattern={"source": ["aws.codedeploy"]},
        run_settings=StartRunRequest.model_validate({"revision": 1}), rule_name="lm-trigger-x", event_bus_name="", created_at=1, created_by="a",
    )  # fmt: skip

    class TriggerArrivesAfterTheMark:
        def __init__(self, real):
            self.real = real

        def set_pruned(self, account_id, test_id, ids, pruned_at):
            changed = self.real.set_pruned(account_id, test_id, ids, pruned_at)
            if pruned_at is not None:
                stores.triggers.insert(pinning)
            return changed

        def __getattr__(self, name):
            return getattr(self.real, name)

    assert retention.prune(replace(stores, revisions=TriggerArrivesAfterTheMark(stores.revisions)), "acct", test.id, keep_last=1) == []
    kept = stores.revisions.get("acct", test.id, old.id)
    assert kept.pruned_at is None and kept.content == version(1)


# ---- bundle blobs -------------------------------------------------------------------------------------


def bundle(helper: str, data: str) -> list[BundleFile]:
    return [BundleFile.model_validate({"path": "helpers.py", "content": b64(helper)}), BundleFile.model_validate({"path": "data.csv", "content": b64(data)})]


def blob_digests(stores) -> set[str]:
    return stores.revisions.blobs_touched_before("acct", 2**62)


def test_blobs_no_revision_names_are_collected_after_the_grace_period_and_only_then(any_stores):
    grace = get_settings().blob_grace_seconds
    with installed(FakeClock()) as clock:
        request = CreateLoadTestRequest.model_validate({"name": "b", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1))})
        test = load_tests.create(any_stores, CALLER, request)
        scripts.update_script(any_stores, CALLER, test.id, b64(version(2)), None, files=bundle("X = 1\n", "a,b\n"))
        revision_2 = any_stores.revisions.latest("acct", test.id)
        scripts.update_script(any_stores, CALLER, test.id, b64(version(3)), None, files=bundle("X = 2\n", "a,b\n"))  # data.csv shared
        run, _ = runs.start_run(any_stores, RecordingStarter, CALLER, test.id, StartRunRequest(), None)  # revision 3: never pruned now
        scripts.update_script(any_stores, CALLER, test.id, b64(version(4)), None)
        digest = {text: hashlib.sha256(text.encode()).hexdigest() for text in ("X = 1\n", "X = 2\n", "a,b\n")}
        assert blob_digests(any_stores) == set(digest.values())

        load_tests.update(any_stores, CALLER, test.id, UpdateLoadTestRequest.model_validate({"revisionRetention": {"keepLast": 1}}))
        assert any_stores.revisions.get("acct", test.id, revision_2.id).content is None  # revision 2 is a tombstone now
        assert blob_digests(any_stores) == set(digest.values())  # its helper is unnamed, but written just now: kept
        clock.advance(grace - 1)
        assert retention.collect_blobs(any_stores, "acct") == 0  # still within the grace period
        clock.advance(2)
        assert retention.collect_blobs(any_stores, "acct") == 1
    assert blob_digests(any_stores) == {digest["X = 2\n"], digest["a,b\n"]}  # named by revision 3, which the run uses
    assert scripts.revision_archive(any_stores, CALLER, test.id, str(run.revision_number))[1]  # its bundle reads back whole


def test_a_save_naming_a_blob_while_it_is_collected_never_loses_it(any_stores):
    """Collection reads the old unnamed blobs, a save names them again (touch, then its revision), then
    collection deletes: the delete is conditional on each blob still being old, and keeps them."""
    with installed(FakeClock()) as clock:
        request = CreateLoadTestRequest.model_validate({"name": "b", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1))})
        test = load_tests.create(any_stores, CALLER, request)
        scripts.update_script(any_stores, CALLER, test.id, b64(version(2)), None, files=bundle("X = 1\n", "a,b\n"))
        scripts.update_script(any_stores, CALLER, test.id, b64(version(3)), None)
        retention.prune(any_stores, "acct", test.id, keep_last=1)  # revision 2 (the only one naming the blobs) is a tombstone
        clock.advance(get_settings().blob_grace_seconds + 1)

        class SaveMeanwhile:
            def __init__(self, real):
                self.real = real

            def blobs_in_use(self, account_id, digests):
                in_use = self.real.blobs_in_use(account_id, digests)  # read before the save below
                clock.advance(0.001)
                scripts.update_script(any_stores, CALLER, test.id, b64(version(4)), None, files=bundle("X = 1\n", "a,b\n"))
                return in_use

            def __getattr__(self, name):
                return getattr(self.real, name)

        assert retention.collect_blobs(replace(any_stores, revisions=SaveMeanwhile(any_stores.revisions)), "acct") == 0
    latest = any_stores.revisions.latest("acct", test.id)
    assert latest.revision_number == 4 and len(blob_digests(any_stores)) == 2
    assert scripts.revision_file(any_stores, CALLER, test.id, "4", "data.csv").model_dump()  # readable: nothing lost
