"""GET /v1/load-tests answers each test's last run and trend in the same page, as the lifecycle
records them: a run shows from StartRun on (its status), and once final with its result, p95 and
end; the trend is what GET …/trends?limit=20 says of p95. Real steps, a fake Locust backend, the
HTTP handlers in process, on each store adapter."""

from __future__ import annotations

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER, RecordingStarter, run_through
from support.scripts import SIMPLE, b64

from load_manager.lifecycle.dispatch import run_step
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import load_tests, runs

pytestmark = pytest.mark.usefixtures("fast_settings")
CLAIMS = {"sub": CALLER.subject, "email": CALLER.email, "email_verified": "true", "custom:accountId": CALLER.account_id}


def page(api) -> dict:
    response = api.request("GET", "/v1/load-tests", query="limit=10", claims=CLAIMS)
    assert response.status == 200, response.json()
    return {item["id"]: item for item in response.json()["items"]}


def test_the_list_carries_each_tests_last_run_and_trend(api_any_store, any_stores):
    api = api_any_store
    request = CreateLoadTestRequest.model_validate({"name": "listed", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    test = load_tests.create(any_stores, CALLER, request)
    other = load_tests.create(any_stores, CALLER, request.model_copy(update={"name": "never run"}))
    backend = FakeBackend()
    finished = []
    for _ in range(2):
        run, _ = runs.start_run(any_stores, RecordingStarter, CALLER, test.id, StartRunRequest(duration_seconds=1), None)
        run_through(any_stores, backend, run)
        finished.append(any_stores.runs.get(CALLER.account_id, run.id))
    last = finished[-1]
    assert last.status == "Finished" and last.summary is not None

    items = page(api)
    assert items[other.id]["lastRun"] is None and items[other.id]["trend"] == []
    assert items[test.id]["lastRun"] == {
        "runId": last.id, "status": "Finished", "result": last.result, "revisionNumber": 1, "createdAt": last.created_at,
        "startedAt": last.started_at, "endedAt": last.ended_at, "p95Ms": last.summary.p95_ms,
    }  # fmt: skip
    trends = api.request("GET", f"/v1/load-tests/{test.id}/trends", query="limit=20", claims=CLAIMS).json()["items"]
    assert [(p["runId"], p["p95Ms"]) for p in items[test.id]["trend"]] == [(t["runId"], t["p95Ms"]) for t in trends]
    assert [p["runId"] for p in items[test.id]["trend"]] == [r.id for r in finished]

    # A new run shows from StartRun on, then Running; the older runs stay in the trend.
    third, _ = runs.start_run(any_stores, RecordingStarter, CALLER, test.id, StartRunRequest(duration_seconds=1), None)
    assert page(api)[test.id]["lastRun"]["runId"] == last.id  # Pending: not started yet
    run_step({"action": "start", "runId": third.id, "accountId": third.account_id}, any_stores, backend.factory)
    shown = page(api)[test.id]
    assert (shown["lastRun"]["runId"], shown["lastRun"]["status"], shown["lastRun"]["p95Ms"]) == (third.id, "Running", None)
    assert len(shown["trend"]) == 2
