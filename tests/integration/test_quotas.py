"""Per-tenant quotas through the real handlers and use cases, on every store adapter: concurrent
runs (429 QuotaExceeded), one run's users/workers/duration (422 RunLimitExceeded), and the caps on
triggers and schedules (409 AutomationLimitReached) — each holding when twenty requests race."""

from __future__ import annotations

import json
import threading
from collections import Counter

import boto3
import pytest
from support.aws import stack_on_moto
from support.concurrency import race
from support.fake_backend import FakeBackend
from support.lifecycle import RecordingStarter
from support.scripts import AUTH_A, AUTH_B, SIMPLE, b64

from load_manager.errors import QuotaExceededError
from load_manager.identity import Caller
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import ACTIVE_STATUSES, StartRunRequest
from load_manager.settings import Settings, set_settings
from load_manager.usecases import load_tests, runs

REGION = "us-east-1"
LIMITS = {"QUOTA_CONCURRENT_RUNS": "3", "QUOTA_WORKERS_PER_RUN": "2", "QUOTA_USERS_PER_RUN": "500", "QUOTA_RUN_DURATION_SECONDS": "3600",
          "MAX_AUTOMATIONS_PER_TEST": "4", "MAX_TRIGGERS_PER_ACCOUNT": "6", "MAX_SCHEDULES_PER_ACCOUNT": "6"}  # fmt: skip
OPERATOR = {"sub": "ops", "custom:accountId": "ops", "cognito:groups": "[load-manager-operators]"}
RACERS = 20


@pytest.fixture
def aws(monkeypatch):
    """The deployment as the template configures it, its quotas lowered; AWS is moto (Step Functions
    never executes the definition: runs stay Pending, i.e. active)."""
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    with stack_on_moto(monkeypatch):
        yield


def call(api, method: str, path: str, body=None, status: int = 200, claims=AUTH_A) -> dict:
    answer = api.request(method, path, body=body, claims=claims)
    assert answer.status == status, (method, path, answer.status, answer.json())
    return answer.json() if answer.body else {}


def new_test(api, claims=AUTH_A) -> str:
    return call(api, "POST", "/v1/load-tests", {"name": "q", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)}, 201, claims)["id"]


def test_a_tenant_at_its_concurrent_run_quota_gets_429_naming_it_and_its_runs_are_untouched(api_any_store, any_stores, aws):
    api = api_any_store
    test_id = new_test(api)
    started = [call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 30}, 201) for _ in range(3)]
    before = [any_stores.runs.get("acct-a", run["id"]) for run in started]

    over = api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 30}, claims=AUTH_A)
    assert over.status == 429 and over.json()["code"] == "QuotaExceeded"
    assert over.json()["details"] == {"quota": "concurrentRuns", "limit": 3, "current": 3}
    keyed = api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 30}, headers={"idempotency-key": "ci-42"}, claims=AUTH_A)
    assert keyed.status == 429 and keyed.json()["code"] == "QuotaExceeded"
    listed = call(api, "GET", f"/v1/load-tests/{test_id}/runs")["items"]
    assert sorted(r["id"] for r in listed) == sorted(r["id"] for r in started)  # nothing new
    assert [any_stores.runs.get("acct-a", run["id"]) for run in started] == before  # and the earlier runs untouched
    other = new_test(api, AUTH_B)
    call(api, "POST", f"/v1/load-tests/{other}/runs", {"durationSeconds": 30}, 201, AUTH_B)  # the quota is per tenant

    # A run that ends gives its place back (its hold is released when a start finds the pool full).
    error = {"Error": "LocustCrashedError", "Cause": json.dumps({"errorMessage": "gone"})}
    run_step({"action": "fail", "runId": started[0]["id"], "accountId": "acct-a", "error": error}, any_stores, FakeBackend().factory)
    assert any_stores.runs.get("acct-a", started[0]["id"]).status == "Failed"
    # The key refused above was not claimed: the same key now starts a run, even with another body.
    replacement = api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 20}, headers={"idempotency-key": "ci-42"}, claims=AUTH_A)
    assert replacement.status == 201, replacement.json()
    assert api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 30}, claims=AUTH_A).status == 429


def test_concurrent_starts_never_exceed_the_quota(any_stores):
    set_settings(Settings(quotas={"concurrent_runs": 3}))
    try:
        caller = Caller(subject="u", email=None, account_id="acct", groups=frozenset())
        request = CreateLoadTestRequest.model_validate({"name": "q", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
        test_id = load_tests.create(any_stores, caller, request).id
        results = race(RACERS, lambda _n: runs.start_run(any_stores, RecordingStarter, caller, test_id, StartRunRequest(), None)[0].id, collect_errors=True)
    finally:
        set_settings(None)
    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"str": 3, "QuotaExceededError": RACERS - 3}, outcomes
    assert all(r.details["quota"] == "concurrentRuns" and r.details["limit"] == 3 for r in results if isinstance(r, QuotaExceededError))
    stored = any_stores.runs.list("acct", test_id, status=None, limit=50, after=None)
    assert sorted(r.id for r in stored) == sorted(r for r in results if isinstance(r, str))
    assert all(r.status in ACTIVE_STATUSES for r in stored)
    assert len(any_stores.holds.holds("acct", "runs")) == 3


@pytest.mark.parametrize(
    ("body", "quota", "limit", "asked"),
    [({"targetUsers": 501}, "usersPerRun", 500, 501), ({"workers": 3}, "workersPerRun", 2, 3), ({"durationSeconds": 3601}, "durationSeconds", 3600, 3601)],
)
def test_one_run_over_a_size_quota_is_a_422_naming_it_and_writes_nothing(api, stores, aws, body, quota, limit, asked):
    test_id = new_test(api)
    answer = api.request("POST", f"/v1/load-tests/{test_id}/runs", body=body, claims=AUTH_A)
    assert answer.status == 422 and answer.json()["code"] == "RunLimitExceeded"
    assert answer.json()["details"] == {"quota": quota, "limit": limit, "requested": asked}
    assert call(api, "GET", f"/v1/load-tests/{test_id}/runs")["items"] == [] and stores.holds.holds("acct-a", "runs") == []
    # A trigger whose runs would all be refused is refused when it is made.
    call(api, "POST", "/v1/event-sources", {"ownerAccountId": "acct-a", "kind": "codedeployApplication", "value": "shop"}, 201, OPERATOR)
    trigger = {"name": "t", "eventPattern": {"source": ["aws.codedeploy"]}, "runSettings": body}
    refused = api.request("POST", f"/v1/load-tests/{test_id}/triggers", body=trigger, claims=AUTH_A)
    assert refused.status == 422 and refused.json()["details"]["quota"] == quota


def _created(results) -> list[dict]:
    return [r.json() for r in results if r.status == 201]


def _refused(results, quota: str) -> list:
    refused = [r.json() for r in results if r.status != 201]
    assert all(r["code"] == "AutomationLimitReached" and r["details"]["quota"] == quota for r in refused), refused
    return refused


def test_trigger_caps_per_test_and_per_tenant_through_the_api(api_any_store, any_stores, aws):
    """The answers and what stays behind (the in-process API runs one request at a time, as one
    Lambda execution environment does: the races are the next tests')."""
    api = api_any_store
    call(api, "POST", "/v1/event-sources", {"ownerAccountId": "acct-a", "kind": "codedeployApplication", "value": "shop"}, 201, OPERATOR)
    first, second, third = new_test(api), new_test(api), new_test(api)
    body = {"eventPattern": {"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"]}}}

    def create(test_id: str, n: int):
        return api.request("POST", f"/v1/load-tests/{test_id}/triggers", body={"name": f"t{n}", **body}, claims=AUTH_A)

    results = [create(first, n) for n in range(6)]
    assert len(_created(results)) == 4 and _refused(results, "triggersPerTest")[0]["details"] == {"quota": "triggersPerTest", "limit": 4, "current": 4}
    results = [create(second if n % 2 else third, n) for n in range(4)]
    assert len(_created(results)) == 2 and _refused(results, "triggersPerAccount")[0]["details"]["limit"] == 6  # MAX_TRIGGERS_PER_ACCOUNT
    assert any_stores.triggers.count("acct-a") == 6
    rules = boto3.client("events", region_name=REGION).list_rules(EventBusName="stack-events")["Rules"]
    assert len(rules) == 6  # every refused creation left no rule behind
    victim = any_stores.triggers.list("acct-a", first)[0]
    call(api, "DELETE", f"/v1/load-tests/{first}/triggers/{victim.id}", status=204)
    assert len(_created([create(third, n) for n in range(3)])) == 1 and any_stores.triggers.count("acct-a") == 6  # room for one


class Rules:
    """The bus (a dict: the rules are not what these races are about); thread-safe."""

    def __init__(self):
        self.lock, self.rules = threading.Lock(), {}

    def put(self, name, pattern, target_input, description, enabled=True):
        with self.lock:
            self.rules[name] = pattern

    def delete(self, name):
        with self.lock:
            self.rules.pop(name, None)

    def __call__(self):
        return self


class Clock(Rules):
    def put(self, definition):  # type: ignore[override]
        with self.lock:
            self.rules[definition.name] = definition


@pytest.fixture
def capped(any_stores):
    """Caps of 4 per test and 6 per tenant; tenant acct owns the application `shop`; three tests."""
    from load_manager.models.automation import CreateEventSourceRequest
    from load_manager.usecases import event_sources

    set_settings(Settings(automation={"max_per_test": 4, "max_triggers_per_account": 6, "max_schedules_per_account": 6}))
    operator = Caller(subject="ops", email=None, account_id="ops", groups=frozenset({"load-manager-operators"}))
    own = CreateEventSourceRequest.model_validate({"ownerAccountId": "acct", "kind": "codedeployApplication", "value": "shop"})
    event_sources.create(any_stores, lambda _account: None, operator, own)
    caller = Caller(subject="u", email=None, account_id="acct", groups=frozenset())
    request = CreateLoadTestRequest.model_validate({"name": "q", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
    try:
        yield caller, [load_tests.create(any_stores, caller, request).id for _ in range(3)]
    finally:
        set_settings(None)


def _judged(results, quota: str) -> list[str]:
    """The ids made; every other racer was refused with 409 naming `quota`."""
    from load_manager.errors import AutomationLimitError

    refused = [r for r in results if not hasattr(r, "id")]
    assert all(isinstance(r, AutomationLimitError) and r.details["quota"] == quota for r in refused), refused
    return [r.id for r in results if hasattr(r, "id")]


def test_concurrent_trigger_creations_never_exceed_the_caps(any_stores, capped):
    from load_manager.models.automation import CreateTriggerRequest
    from load_manager.usecases import triggers

    caller, (first, second, third) = capped
    bus = Rules()

    def create(test_id: str, n: int):
        request = CreateTriggerRequest.model_validate({"name": f"t{n}", "eventPattern": {"source": ["aws.codedeploy"]}})
        return triggers.create(any_stores, bus, caller, test_id, request)

    made = _judged(race(RACERS, lambda n: create(first, n), collect_errors=True), "triggersPerTest")
    assert len(made) == 4 and any_stores.triggers.count("acct", first) == 4
    made = _judged(race(RACERS, lambda n: create(second if n % 2 else third, n), collect_errors=True), "triggersPerAccount")
    assert len(made) == 2 and any_stores.triggers.count("acct") == 6 and len(bus.rules) == 6


def test_concurrent_schedule_creations_never_exceed_the_caps(any_stores, capped):
    from load_manager.models.automation import CreateScheduleRequest
    from load_manager.usecases import schedules

    caller, (first, second, third) = capped
    clock = Clock()

    def create(test_id: str, n: int):
        request = CreateScheduleRequest.model_validate({"name": f"s{n}", "cron": "0 3 * * *", "runSettings": {"durationSeconds": 60}})
        return schedules.create(any_stores, clock, caller, test_id, request)

    made = _judged(race(RACERS, lambda n: create(first, n), collect_errors=True), "schedulesPerTest")
    assert len(made) == 4 and any_stores.schedules.count("acct", first) == 4
    made = _judged(race(RACERS, lambda n: create(second if n % 2 else third, n), collect_errors=True), "schedulesPerAccount")
    assert len(made) == 2 and any_stores.schedules.count("acct") == 6 and len(clock.rules) == 6
