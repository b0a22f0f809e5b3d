"""Usage, cost and the monthly vCPU-hour budget through the real handlers and use cases: GET /v1/usage
adds up to the run records, a start over the budget is a 429 naming it (also for a schedule's run,
and when twenty starts race), and a dry run answers the estimate while starting, storing and holding
nothing. Step Functions is moto's (it never executes: runs stay Pending until a test drives them)."""

from __future__ import annotations

import json
import time
from collections import Counter
from unittest.mock import patch

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config
from support.concurrency import race
from support.fake_backend import FakeBackend
from support.lifecycle import RecordingStarter, run_through
from support.roles import with_role
from support.scripts import AUTH_A, AUTH_B, SIMPLE, b64

from load_manager.backends.base import TaskUsage
from load_manager.errors import VcpuBudgetExceededError
from load_manager.identity import Caller
from load_manager.models.automation import CreateScheduleRequest
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.settings import Settings, set_settings
from load_manager.usecases import firing, load_tests, runs, schedules, usage

REGION = "us-east-1"
NOOP = {"StartAt": "Noop", "States": {"Noop": {"Type": "Pass", "End": True}}}
ADMIN_A, ADMIN_B, VIEWER_A = with_role(AUTH_A, "admin"), with_role(AUTH_B, "admin"), with_role(AUTH_A, "viewer")
HOUR = 3600


@pytest.fixture
def deployment(monkeypatch):
    """The deployment as the template configures it (its environment: runs go to ECS), on moto;
    `configure(**env)` sets more variables (a budget, task sizes)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with patch.dict(default_user_config, {"stepfunctions": {"execute_state_machine": False}}), mock_aws():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(name="lifecycle", definition=json.dumps(NOOP), roleArn="arn:aws:iam::123456789012:role/states")["stateMachineArn"]
        monkeypatch.setenv("RUN_STATE_MACHINE_ARN", arn)
        from load_manager.adapters.step_functions import default_starter

        def configure(**env: str) -> None:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            set_settings(None)

        configure(DEFAULT_CLUSTER_BACKEND="ecs")
        default_starter.cache_clear()
        try:
            yield configure, sfn, arn
        finally:
            default_starter.cache_clear()
            set_settings(None)


def call(api, method: str, path: str, body=None, status: int = 200, claims=ADMIN_A, query: str = "") -> dict:
    answer = api.request(method, path, body=body, claims=claims, query=query)
    assert answer.status == status, (method, path, answer.status, answer.json())
    return answer.json() if answer.body else {}


def new_test(api, claims=ADMIN_A, **fields) -> str:
    body = {"name": "u", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE), **fields}
    return call(api, "POST", "/v1/load-tests", body, 201, claims)["id"]


def finish_on_ecs(stores, run_id: str, account: str, tasks: list[TaskUsage]) -> dict:
    """Drive the stored run through its lifecycle's steps on a backend that answers `tasks` as ECS would."""
    run_through(stores, FakeBackend(name="ecs", task_usages=tasks), stores.runs.get(account, run_id))
    return stores.runs.get(account, run_id)


def tasks_of(vcpu_seconds: float, workers: int = 1) -> list[TaskUsage]:
    """A master and `workers` 1 vCPU / 2 GB tasks that used `vcpu_seconds` in all, an hour ago."""
    seconds, start = vcpu_seconds / (workers + 1), time.time() - HOUR
    return [TaskUsage(role=role, vcpu=1.0, memory_gb=2.0, started_at=start, stopped_at=start + seconds) for role in ["master"] + ["worker"] * workers]


# ---- GET /v1/usage --------------------------------------------------------------------------------


def test_usage_grouped_by_test_project_and_env_adds_up_to_the_run_records(api, stores, deployment):
    checkout = new_test(api, projectId="shop", envId="prod")
    search = new_test(api, projectId="shop", envId="staging")
    loose = new_test(api)
    plan = [(checkout, 600, 1), (checkout, 1800, 2), (search, 3600, 1), (loose, 90, 1)]
    for test_id, vcpu_seconds, workers in plan:
        run = call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 30, "workers": workers}, 201)
        finish_on_ecs(stores, run["id"], "acct-a", tasks_of(vcpu_seconds, workers))
    other = new_test(api, ADMIN_B)
    run = call(api, "POST", f"/v1/load-tests/{other}/runs", {"durationSeconds": 30}, 201, ADMIN_B)
    finish_on_ecs(stores, run["id"], "acct-b", tasks_of(99_999))  # another tenant's: in none of acct-a's sums

    records = [r for t in (checkout, search, loose) for r in call(api, "GET", f"/v1/load-tests/{t}/runs")["items"]]
    assert len(records) == 4 and all(r["usage"] and r["usage"]["basis"] == "allocated" for r in records)
    tests = {t["id"]: t for t in (call(api, "GET", f"/v1/load-tests/{i}") for i in (checkout, search, loose))}

    def expected(key_of) -> dict:
        sums: dict = {}
        for r in records:
            figures = sums.setdefault(key_of(r), [0, 0.0, 0.0, 0.0])
            figures[0] += 1
            figures[1] += r["usage"]["vcpuSeconds"] / HOUR
            figures[2] += r["usage"]["memoryGbSeconds"] / HOUR
            figures[3] += r["usage"]["estimatedCost"]["amount"]
        return {key: [n, round(v, 4), round(m, 4), round(c, 4)] for key, (n, v, m, c) in sums.items()}

    for group_by, key_of in (
        ("test", lambda r: r["loadTestId"]), ("project", lambda r: tests[r["loadTestId"]].get("projectId")),
        ("env", lambda r: r.get("envId")),
    ):  # fmt: skip
        answer = call(api, "GET", "/v1/usage", claims=VIEWER_A, query=f"groupBy={group_by}")
        got = {g["key"]: [g["runs"], round(g["vcpuHours"], 4), round(g["memoryGbHours"], 4), round(g["estimatedCost"], 4)] for g in answer["items"]}
        assert got == expected(key_of), group_by
        assert answer["groupBy"] == group_by and answer["currency"] == "USD" and not answer["truncated"]
        assert [g["vcpuHours"] for g in answer["items"]] == sorted((g["vcpuHours"] for g in answer["items"]), reverse=True)
    total = call(api, "GET", "/v1/usage", claims=VIEWER_A)["total"]
    assert total["runs"] == 4 and total["vcpuHours"] == pytest.approx((600 + 1800 + 3600 + 90) / HOUR, abs=1e-4)
    assert total["estimatedCost"] == pytest.approx(sum(r["usage"]["estimatedCost"]["amount"] for r in records), abs=1e-5)
    later = int(time.time() * 1000) + 60_000
    assert call(api, "GET", "/v1/usage", query=f"from={later}&to={later + 60_000}")["total"]["runs"] == 0  # a window after them


def test_a_token_scoped_to_one_test_sums_only_that_tests_runs(api, stores, deployment):
    mine, theirs = new_test(api), new_test(api)
    for test_id, seconds in ((mine, 360), (theirs, 720)):
        run = call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 30}, 201)
        finish_on_ecs(stores, run["id"], "acct-a", tasks_of(seconds))
    scoped = Caller(subject="token:t1", email=None, account_id="acct-a", groups=frozenset(), role="viewer", token_id="t1", load_test_ids=frozenset({mine}))
    answer = usage.report(stores, scoped, None, None, "test")
    assert [(g.key, g.runs, round(g.vcpu_hours, 4)) for g in answer.items] == [(mine, 1, 0.1)] and answer.total.runs == 1


@pytest.mark.parametrize(
    ("query", "why"), [("from=2000&to=1000", "`from` must be before `to`"), ("from=0&to=31708800001", "at most 366 days")]
)
def test_a_usage_window_backwards_or_over_a_year_is_a_422_naming_it(api, deployment, query, why):
    refused = call(api, "GET", "/v1/usage", query=query, status=422)
    assert refused["code"] == "InvalidUsageWindow" and why in refused["message"]
    assert call(api, "GET", "/v1/usage", query="groupBy=team", status=422)["code"] == "ValidationError"


# ---- the monthly vCPU-hour budget -------------------------------------------------------------------


def test_a_start_over_the_months_vcpu_budget_is_a_429_naming_it_and_the_recorded_usage_counts(api, stores, deployment):
    configure, _, _ = deployment
    configure(QUOTA_VCPU_HOURS_PER_MONTH="1")  # a 1 vCPU master and a 1 vCPU worker task: 2 vCPU x the planned duration
    test_id = new_test(api)
    first = call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 1200}, 201)  # 0.667 vCPU-h held
    over = api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 1200}, claims=ADMIN_A)
    assert over.status == 429 and over.json()["code"] == "VcpuBudgetExceeded"
    assert over.json()["details"] == {"quota": "vcpuHoursPerMonth", "budgetVcpuHours": 1.0, "usedVcpuHours": 0.666667, "estimateVcpuHours": 0.666667}
    keyed = api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 1200}, headers={"idempotency-key": "ci-7"}, claims=ADMIN_A)
    assert keyed.status == 429 and keyed.json()["code"] == "VcpuBudgetExceeded"
    assert [r["id"] for r in call(api, "GET", f"/v1/load-tests/{test_id}/runs")["items"]] == [first["id"]]  # nothing new stored
    assert [h.member for h in stores.usage.holds("acct-a")] == [first["id"]]

    # The first run ends having used 0.9 vCPU-h: its estimate goes, its usage counts instead.
    finish_on_ecs(stores, first["id"], "acct-a", tasks_of(0.9 * HOUR))
    call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 150}, 201)  # 0.083 vCPU-h: fits
    refused = api.request("POST", f"/v1/load-tests/{test_id}/runs", body={"durationSeconds": 120}, headers={"idempotency-key": "ci-7"}, claims=ADMIN_A)
    assert refused.status == 429 and refused.json()["details"]["usedVcpuHours"] == pytest.approx(0.9 + 300 / HOUR, abs=1e-4)
    # Per tenant: another tenant's month is its own.
    call(api, "POST", f"/v1/load-tests/{new_test(api, ADMIN_B)}/runs", {"durationSeconds": 1200}, 201, ADMIN_B)
    budget = call(api, "GET", "/v1/usage", claims=VIEWER_A)["budget"]
    assert budget["budgetVcpuHours"] == 1.0 and budget["usedVcpuHours"] == pytest.approx(0.9, abs=1e-4)
    assert budget["inFlightVcpuHours"] == pytest.approx(300 / HOUR, abs=1e-4) and budget["month"] == time.strftime("%Y-%m", time.gmtime())


def test_concurrent_starts_never_exceed_the_budget(any_stores):
    set_settings(Settings(quotas={"vcpu_hours_per_month": 1.0, "concurrent_runs": 100}))
    try:
        caller = Caller(subject="u", email=None, account_id="acct", groups=frozenset(), role="admin")
        request = CreateLoadTestRequest.model_validate({"name": "b", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
        test_id = load_tests.create(any_stores, caller, request).id
        start = StartRunRequest.model_validate({"durationSeconds": 1000})  # 0.278 vCPU-h each: 3 fit in 1

        def attempt(_n: int):
            return runs.start_run(any_stores, RecordingStarter, caller, test_id, start, None)[0].id

        results = race(20, attempt, collect_errors=True)
    finally:
        set_settings(None)
    assert Counter(type(r).__name__ for r in results) == {"str": 3, "VcpuBudgetExceededError": 17}
    assert all(r.details["budgetVcpuHours"] == 1.0 for r in results if isinstance(r, VcpuBudgetExceededError))
    stored = any_stores.runs.list("acct", test_id, status=None, limit=50, after=None)
    assert sorted(r.id for r in stored) == sorted(r for r in results if isinstance(r, str))
    assert sum(h.vcpu_ms for h in any_stores.usage.holds("acct")) == 3 * 1_000_000
    assert len(any_stores.holds.holds("acct", "runs")) == 3, "a refused start gave its concurrent-run hold back"


class FakeScheduler:
    def put(self, definition) -> None:
        pass

    def delete(self, name) -> None:
        pass


def test_a_schedules_run_goes_through_the_same_budget(stores):
    set_settings(Settings(quotas={"vcpu_hours_per_month": 0.01}))  # 36 vCPU-seconds
    try:
        caller = Caller(subject="u", email=None, account_id="acct", groups=frozenset(), role="admin")
        request = CreateLoadTestRequest.model_validate({"name": "s", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SIMPLE)})
        test_id = load_tests.create(stores, caller, request).id
        body = {"name": "nightly", "cron": "0 3 * * *", "runSettings": {"durationSeconds": 60}}
        schedule = schedules.create(stores, lambda: FakeScheduler(), caller, test_id, CreateScheduleRequest.model_validate(body))
        payload = {"loadManagerSchedule": schedules.reference(schedule), "scheduledTime": "2026-12-07T03:00:00Z"}
        outcome = firing.handle(stores, RecordingStarter, payload)
    finally:
        set_settings(None)
    assert outcome["outcome"] == "failed" and outcome["code"] == "VcpuBudgetExceeded", outcome
    assert stores.runs.list("acct", test_id, status=None, limit=5, after=None) == []


# ---- dry runs --------------------------------------------------------------------------------------


def test_a_dry_run_answers_the_estimate_and_starts_stores_and_holds_nothing(api, stores, deployment):
    configure, sfn, arn = deployment
    configure(LOCUST_WORKER_CPU="2048", LOCUST_WORKER_MEMORY="4096", QUOTA_VCPU_HOURS_PER_MONTH="10")
    test_id = new_test(api)
    estimate = call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 600, "workers": 2}, 200, query="dryRun=true")
    # A 1 vCPU / 2 GB master and two 2 vCPU / 4 GB workers for 600 s, at us-east-1's Fargate prices.
    assert (estimate["dryRun"], estimate["backend"], estimate["loadGenerators"], estimate["durationSeconds"]) == (True, "ecs", 3, 600)
    assert [(r["role"], r["count"], r["vcpu"], r["memoryGb"]) for r in estimate["roles"]] == [("master", 1, 1.0, 2.0), ("worker", 2, 2.0, 4.0)]
    assert estimate["vcpuHours"] == pytest.approx(5 * 600 / HOUR) and estimate["memoryGbHours"] == pytest.approx(10 * 600 / HOUR)
    assert estimate["estimatedCost"] == {
        "amount": pytest.approx((5 * 0.04048 + 10 * 0.004445) * 600 / HOUR, abs=1e-6), "currency": "USD", "region": REGION, "priceSource": "table",
    }  # fmt: skip
    assert estimate["wouldStart"] is True and estimate["refusal"] is None and estimate["budget"]["budgetVcpuHours"] == 10
    assert call(api, "GET", f"/v1/load-tests/{test_id}/runs")["items"] == []
    assert stores.usage.holds("acct-a") == [] and stores.holds.holds("acct-a", "runs") == []
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []

    # Over the budget, the dry run says it would be refused, and why; still nothing is written.
    configure(QUOTA_VCPU_HOURS_PER_MONTH="0.5")
    refused = call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 600, "workers": 2}, 200, query="dryRun=true")
    assert refused["wouldStart"] is False and refused["refusal"]["code"] == "VcpuBudgetExceeded"
    assert refused["refusal"]["details"]["estimateVcpuHours"] == pytest.approx(5 * 600 / HOUR, abs=1e-5)
    # A request that could never start is the same 4xx as a real start; a viewer may not ask at all.
    configure(QUOTA_RUN_DURATION_SECONDS="3600")
    too_long = call(api, "POST", f"/v1/load-tests/{test_id}/runs", {"durationSeconds": 3601}, 422, query="dryRun=true")
    assert too_long["code"] == "RunLimitExceeded" and too_long["details"]["quota"] == "durationSeconds"
    assert call(api, "POST", f"/v1/load-tests/{test_id}/runs", {}, 403, VIEWER_A, query="dryRun=true")["code"] == "Forbidden"
    assert call(api, "POST", f"/v1/load-tests/{'f' * 32}/runs", {}, 404, query="dryRun=true")["code"] == "LoadTestNotFound"
    assert call(api, "GET", f"/v1/load-tests/{test_id}/runs")["items"] == [] and stores.usage.holds("acct-a") == []
