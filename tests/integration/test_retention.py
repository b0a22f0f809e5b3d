"""Revision retention through the API, on every store adapter: `revisionRetention {"keepLast": N}`
prunes at once and after every save, never the latest nor a revision a run used; pruned revisions
stay in the history as tombstones, read as 410 RevisionPruned, and their numbers are never reused."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from support.scripts import SIMPLE, b64

from load_manager.adapters.step_functions import default_starter
from load_manager.settings import set_settings

NOOP = {"StartAt": "Noop", "States": {"Noop": {"Type": "Pass", "End": True}}}


@pytest.fixture
def starter(monkeypatch):
    """moto's Step Functions with a state machine it does not execute: starting a run runs nothing."""
    with mock_aws():
        arn = boto3.client("stepfunctions", region_name="us-east-1").create_state_machine(
            name="noop", definition=json.dumps(NOOP), roleArn="arn:aws:iam::123456789012:role/states"
        )["stateMachineArn"]
        monkeypatch.setenv("RUN_STATE_MACHINE_ARN", arn)
        set_settings(None)
        default_starter.cache_clear()
        try:
            yield
        finally:
            default_starter.cache_clear()
            set_settings(None)


def version(n: int) -> str:
    return SIMPLE + f"\n# version {n}\n"


def call(api, method: str, path: str, body=None, status: int = 200):
    path, _, query = path.partition("?")
    response = api.request(method, path, query=query, body=body)
    assert response.status == status, (method, path, response.status, response.json())
    return response.json()


def ten_revisions_two_run(api) -> tuple[str, dict[int, str]]:
    test = call(api, "POST", "/v1/load-tests", {"name": "kept", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1))}, 201)
    for n in range(2, 11):
        call(api, "PUT", f"/v1/load-tests/{test['id']}/script", {"scriptContent": b64(version(n))}, 201)
    runs = {n: call(api, "POST", f"/v1/load-tests/{test['id']}/runs", {"revision": n, "durationSeconds": 5}, 201)["id"] for n in (2, 5)}
    return test["id"], runs


def test_keep_three_of_ten_with_two_used_by_runs_leaves_five_and_numbers_go_on(api_any_store, starter):
    api = api_any_store
    test_id, runs = ten_revisions_two_run(api)
    patched = call(api, "PATCH", f"/v1/load-tests/{test_id}", {"revisionRetention": {"keepLast": 3}})
    assert patched["revisionRetention"] == {"keepLast": 3}

    history = call(api, "GET", f"/v1/load-tests/{test_id}/script/revisions?limit=50")["items"]
    assert [r["revisionNumber"] for r in history] == list(range(10, 0, -1))  # tombstones stay in the history
    kept = [r["revisionNumber"] for r in history if r["prunedAt"] is None]
    assert kept == [10, 9, 8, 5, 2]  # the 3 newest and the 2 runs used
    for tombstone in (r for r in history if r["prunedAt"] is not None):
        assert tombstone["sha256"] and tombstone["createdBy"] == "local@localhost" and tombstone["createdAt"] > 0
    for n in (1, 3, 4, 6, 7):
        gone = api.request("GET", f"/v1/load-tests/{test_id}/script/revisions/{n}")
        assert gone.status == 410 and gone.json()["code"] == "RevisionPruned", gone.json()
        assert gone.json()["details"]["revisionNumber"] == n
    for n in (2, 5, 8, 9, 10):
        assert call(api, "GET", f"/v1/load-tests/{test_id}/script/revisions/{n}")["scriptContent"] == b64(version(n))
    for n, run_id in runs.items():  # every run can still be reproduced
        assert call(api, "GET", f"/v1/runs/{run_id}/script")["scriptContent"] == b64(version(n))

    edit = call(api, "PUT", f"/v1/load-tests/{test_id}/script", {"scriptContent": b64(version(11))}, 201)
    assert edit["revisionNumber"] == 11
    after = call(api, "GET", f"/v1/load-tests/{test_id}/script/revisions?limit=50")["items"]
    assert [r["revisionNumber"] for r in after if r["prunedAt"] is None] == [11, 10, 9, 5, 2]  # each save prunes too


def test_pruned_revisions_refuse_every_use(api_any_store, starter):
    api = api_any_store
    test_id, _ = ten_revisions_two_run(api)
    call(api, "PATCH", f"/v1/load-tests/{test_id}", {"revisionRetention": {"keepLast": 1}})
    for method, path, body in [
        ("GET", f"/v1/load-tests/{test_id}/script/diff?from=1&to=10", None),
        ("POST", f"/v1/load-tests/{test_id}/script/rollback", {"revision": 3}),
        ("POST", f"/v1/load-tests/{test_id}/runs", {"revision": 3}),
    ]:
        path, _, query = path.partition("?")
        answer = api.request(method, path, query=query, body=body)
        assert answer.status == 410 and answer.json()["code"] == "RevisionPruned", (path, answer.json())
    assert call(api, "GET", f"/v1/load-tests/{test_id}")["latestRevisionNumber"] == 10


def test_clearing_retention_keeps_everything_from_then_on(api_any_store, starter):
    api = api_any_store
    test = call(api, "POST", "/v1/load-tests", {"name": "t", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1)), "revisionRetention": {"keepLast": 2}}, 201)
    for n in range(2, 5):
        call(api, "PUT", f"/v1/load-tests/{test['id']}/script", {"scriptContent": b64(version(n))}, 201)
    live = [r["revisionNumber"] for r in call(api, "GET", f"/v1/load-tests/{test['id']}/script/revisions")["items"] if r["prunedAt"] is None]
    assert live == [4, 3]
    assert call(api, "PATCH", f"/v1/load-tests/{test['id']}", {"revisionRetention": None})["revisionRetention"] is None
    for n in range(5, 8):
        call(api, "PUT", f"/v1/load-tests/{test['id']}/script", {"scriptContent": b64(version(n))}, 201)
    live = [r["revisionNumber"] for r in call(api, "GET", f"/v1/load-tests/{test['id']}/script/revisions")["items"] if r["prunedAt"] is None]
    assert live == [7, 6, 5, 4, 3]


def _two_revisions(stores):
    from support.lifecycle import CALLER

    from load_manager.models.load_tests import CreateLoadTestRequest
    from load_manager.usecases import load_tests, scripts

    request = CreateLoadTestRequest.model_validate({"name": "r", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(version(1))})
    test = load_tests.create(stores, CALLER, request)
    old = stores.revisions.latest("acct", test.id)
    scripts.update_script(stores, CALLER, test.id, b64(version(2)), None)
    return test, old


def test_a_run_inserted_after_pruning_marked_its_revision_fails_instead_of_running(stores):
    """The request resolved revision 1 before pruning marked it, and inserts its run after: it reads
    the revision again, finds the mark, and ends Failed with 410; nothing runs without its script."""
    from dataclasses import replace

    from support.lifecycle import CALLER, RecordingStarter

    from load_manager.errors import RevisionPrunedError
    from load_manager.models.runs import StartRunRequest
    from load_manager.usecases import runs

    test, old = _two_revisions(stores)
    stores.revisions.set_pruned("acct", test.id, [old.id], 1)  # pruning's first step

    class ReadBeforeTheMark:
        def __init__(self, real):
            self.real = real

        def get_by_number(self, *args):
            return self.real.get_by_number(*args).model_copy(update={"pruned_at": None})

        def __getattr__(self, name):
            return getattr(self.real, name)

    racing = replace(stores, revisions=ReadBeforeTheMark(stores.revisions))
    with pytest.raises(RevisionPrunedError):
        runs.start_run(racing, RecordingStarter, CALLER, test.id, StartRunRequest.model_validate({"revision": 1}), None)
    (run,) = stores.runs.list("acct", test.id, status=None, limit=5, after=None)
    assert run.status == "Failed" and "pruned" in run.failure_reason and run.execution_arn is None


def test_pruning_takes_back_a_revision_a_run_started_using_while_it_marked(stores):
    """The other order: a run references revision 1 between pruning's mark and its second look.
    Pruning unmarks it and keeps its content."""
    from dataclasses import replace

    from contract.test_run_store_contract import make_run

    from load_manager.usecases.retention import prune

    test, old = _two_revisions(stores)

    class RunArrivesAfterTheMark:
        def __init__(self, real):
            self.real = real

        def set_pruned(self, account_id, test_id, ids, pruned_at):
            changed = self.real.set_pruned(account_id, test_id, ids, pruned_at)
            if pruned_at is not None:
                stores.runs.insert(make_run(test_id=test.id).model_copy(update={"script_revision_id": old.id}))
            return changed

        def __getattr__(self, name):
            return getattr(self.real, name)

    assert prune(replace(stores, revisions=RunArrivesAfterTheMark(stores.revisions)), "acct", test.id, keep_last=1) == []
    kept = stores.revisions.get("acct", test.id, old.id)
    assert kept.pruned_at is None and kept.content == version(1)


def test_pruning_that_died_between_its_steps_is_finished_by_the_next(stores):
    from load_manager.usecases.retention import prune

    test, old = _two_revisions(stores)
    stores.revisions.set_pruned("acct", test.id, [old.id], 1)  # marked, content still there
    assert prune(stores, "acct", test.id, keep_last=1) == [1]
    assert stores.revisions.get("acct", test.id, old.id).content is None
