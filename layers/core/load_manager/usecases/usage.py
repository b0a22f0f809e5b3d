"""Usage and cost as the API answers it: a tenant's sums over a window (GET /v1/usage) and what a start
would use (POST .../runs?dryRun=true). What a run used is recorded when it ends (lifecycle/usage.py)."""

from __future__ import annotations

from load_manager.analysis import usage as figures
from load_manager.errors import QuotaExceededError, UsageWindowError
from load_manager.identity import Caller
from load_manager.ids import now_ms
from load_manager.models.base import ErrorResponse
from load_manager.models.runs import StartRunRequest
from load_manager.models.usage_answers import GroupBy, RunEstimate, UsageFigures, UsageGroup, UsageReport
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases import budget, quotas

MAX_WINDOW_MS = 366 * 24 * 3600 * 1000  # a year (a leap one): the read stays bounded
MAX_GROUPS = 1000


def report(stores: Stores, caller: Caller, start: int | None, end: int | None, group_by: GroupBy) -> UsageReport:
    """The tenant's runs created in [start, end) (default: this calendar month, UTC, until now), summed
    per test, project or env from the runs' records. A token scoped to some tests sees only theirs."""
    now = now_ms()
    end = now + 1 if end is None else end
    start = budget.month_start(now) if start is None else start
    if start >= end:
        raise UsageWindowError("`from` must be before `to`", details={"from": start, "to": end})
    if end - start > MAX_WINDOW_MS:
        raise UsageWindowError("a usage window covers at most 366 days; ask for a shorter one", details={"maxDays": 366})
    scope = sorted(caller.load_test_ids) if caller.load_test_ids is not None else None
    groups = stores.usage.sums(caller.account_id, start, end, group_by, MAX_GROUPS + 1, test_ids=scope)
    total = next(iter(stores.usage.sums(caller.account_id, start, end, None, 1, test_ids=scope)), None)
    currency = get_settings().usage.currency
    return UsageReport(
        from_=start, to=end, group_by=group_by, currency=currency, truncated=len(groups) > MAX_GROUPS,
        items=[UsageGroup(key=g.key, **_figures(g)) for g in groups[:MAX_GROUPS]],
        total=UsageFigures(**_figures(total)) if total else UsageFigures(runs=0, vcpu_hours=0, memory_gb_hours=0, estimated_cost=0),
        budget=budget.status(stores, caller.account_id, now) if caller.load_test_ids is None else None,
    )  # fmt: skip


def dry_run(stores: Stores, caller: Caller, test_id: str, request: StartRunRequest) -> RunEstimate:
    """What starting `request` now would use and whether it would start: a request that could never
    start is the same 4xx as a real start; one refused by a quota (concurrent runs, the budget) is
    answered with the refusal. Nothing is stored, held or started."""
    from load_manager.usecases import load_tests, runs  # lazy: 37 ms at import (bench/cold_import.py --lazy), off GET /v1/usage

    run = runs.check_request(stores, caller, load_tests.get(stores, caller, test_id), request)
    settings = get_settings()
    backend = run.backend or settings.default_backend
    roles, cost = figures.estimate(backend, run.workers, run.duration_seconds, settings.usage, settings.ecs.region)
    refusal = None
    try:
        quotas.check_concurrent_runs(stores, caller.account_id)
        budget.check(stores, run)
    except QuotaExceededError as exc:
        refusal = ErrorResponse(code=exc.code, message=exc.message, details=exc.details)
    return RunEstimate(
        load_test_id=run.load_test_id, backend=backend, cluster_id=run.cluster_id, load_generators=sum(r.count for r in roles), roles=roles,
        duration_seconds=run.duration_seconds, vcpu_hours=round(figures.vcpu_seconds_of(roles, run.duration_seconds) / 3600, 6),
        memory_gb_hours=round(figures.memory_gb_seconds_of(roles, run.duration_seconds) / 3600, 6), estimated_cost=cost,
        would_start=refusal is None, refusal=refusal, budget=budget.status(stores, caller.account_id),
    )  # fmt: skip


def _figures(group) -> dict:
    return {
        "runs": group.runs, "vcpu_hours": round(group.vcpu_seconds / 3600, 6), "memory_gb_hours": round(group.memory_gb_seconds / 3600, 6),
        "estimated_cost": round(group.cost, 6),
    }  # fmt: skip
