"""Per-tenant quotas: what one tenant may use at once, so that no tenant can take a shared
deployment (its Fargate capacity, its event bus's rules, its Scheduler) away from the others.

- A run's size: users, workers and duration (`QuotaSettings`) — a 422 `RunLimitExceeded` naming the
  quota, its limit and what was asked, checked wherever a run is validated (a trigger or schedule
  whose runs could never start is refused when it is created).
- Concurrent runs, triggers and schedules (per tenant; triggers and schedules per test too) —
  counted as *holds* (`HoldStore`): taking one is a single conditional write, so twenty concurrent
  creations can never all pass a check each made before the others wrote. Over a limit: 429
  `QuotaExceeded` for runs (it clears as runs end), 409 `AutomationLimitReached` for triggers and
  schedules (it clears only when some are deleted); both name the quota, the limit and the use.

A run's hold is taken before the run is stored and is given back lazily: when a pool is full, the
holds of runs that have ended (or whose run was never stored, past a grace period) are released
and the take is tried again. No status write anywhere has to remember the quota, and a crash
between two writes cannot leak a hold for good. Trigger and schedule holds are released when the
record is deleted, and reconciled the same way (a hold whose record is gone, past the grace).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING

from load_manager.errors import AutomationLimitError, QuotaExceededError, RunLimitError
from load_manager.ids import now_ms
from load_manager.models.base import FINAL_STATUSES
from load_manager.observability import count
from load_manager.settings import get_settings
from load_manager.store import Hold, Stores

if TYPE_CHECKING:  # annotations only: the automation functions count their holds without the runs models
    from load_manager.models.runs import Run
    from load_manager.store.ports.audit import AuditRecord

RUNS, TRIGGERS, SCHEDULES = "runs", "triggers", "schedules"
# A hold whose member is not stored yet may belong to a request still on its way: only older ones
# are taken back (a request never takes this long between its hold and its insert).
ORPHAN_GRACE_MS = 10 * 60 * 1000


def check_run_limits(run: Run) -> None:
    """422 when one run asks for more than a run may have."""
    quotas = get_settings().quotas
    for quota, limit, asked in (
        ("usersPerRun", quotas.users_per_run, run.target_users),
        ("workersPerRun", quotas.workers_per_run, run.workers),
        ("durationSeconds", quotas.duration_seconds, run.duration_seconds),
    ):
        if asked > limit:
            raise RunLimitError(
                f"a run may have at most {limit} ({quota}); this one asks for {asked}", details={"quota": quota, "limit": limit, "requested": asked}
            )


# ---- concurrent runs ----------------------------------------------------------------------------


def _run_is_over(stores: Stores, account_id: str, hold: Hold, now: int) -> bool:
    run = stores.runs.get(account_id, hold.member)
    return run.status in FINAL_STATUSES if run is not None else now - hold.at > ORPHAN_GRACE_MS


def check_concurrent_runs(stores: Stores, account_id: str) -> None:
    """A 429 early, before a request claims its idempotency key, when the tenant is clearly at its
    quota (the authoritative check is `insert_run`'s hold)."""
    limit = get_settings().quotas.concurrent_runs
    held = stores.holds.holds(account_id, RUNS)
    if len(held) >= limit:
        now = now_ms()
        current = sum(1 for h in held if not _run_is_over(stores, account_id, h, now))
        if current >= limit:
            raise _runs_exceeded(limit, current)


def insert_run(stores: Stores, run: Run, audit: AuditRecord | None = None) -> bool:
    """`stores.runs.insert`, within the tenant's concurrent-run quota: a hold first (429 if none is
    free), then the run (with its `audit` record). False (no change) when a run with this id exists already."""
    limit = get_settings().quotas.concurrent_runs
    hold = Hold(member=run.id, group=None, at=now_ms())
    if not _take(stores, run.account_id, RUNS, hold, limit, None, lambda h, now: _run_is_over(stores, run.account_id, h, now)):
        held = len(stores.holds.holds(run.account_id, RUNS))
        count("QuotaExceeded")
        raise _runs_exceeded(limit, held)
    budget = _budget()
    try:
        if budget is not None:
            budget.take(stores, run)  # the month's vCPU-hours: 429 VcpuBudgetExceeded past them
        inserted = stores.runs.insert(run, audit=audit)
    except BaseException:
        stores.holds.release(run.account_id, RUNS, run.id)
        if budget is not None:
            budget.release(stores, run.account_id, run.id)
        raise
    if not inserted:  # a retry of a run stored already: keep the holds only while that run is active
        existing = stores.runs.get(run.account_id, run.id)
        if existing is None or existing.status in FINAL_STATUSES:
            stores.holds.release(run.account_id, RUNS, run.id)
        if budget is not None:
            budget.release_unless_active(stores, run)
    return inserted


def check_budget(stores: Stores, run: Run) -> None:
    """A 429 early, before a request claims its idempotency key, when the run would take the month
    past the tenant's vCPU-hour budget (the authoritative check is `insert_run`'s hold)."""
    budget = _budget()
    if budget is not None:
        budget.check(stores, run)


def _budget() -> ModuleType | None:
    """usecases/budget.py, imported only where a budget is set: most deployments never pay for it."""
    if not get_settings().quotas.vcpu_hours_per_month:
        return None
    from load_manager.usecases import budget  # lazy: 7 ms at import (bench/cold_import.py --lazy), only with a budget

    return budget


def _runs_exceeded(limit: int, current: int) -> QuotaExceededError:
    return QuotaExceededError(
        f"your tenant runs {current} of the {limit} runs it may run at once; start this one when another has ended",
        details={"quota": "concurrentRuns", "limit": limit, "current": current},
    )


# ---- triggers and schedules ---------------------------------------------------------------------


def take_automation(stores: Stores, pool: str, account_id: str, test_id: str, member: str, exists: Callable[[str, str], bool]) -> None:
    """A hold for a new trigger or schedule of a test (409 over the per-tenant or per-test cap).
    `exists(test_id, member)` says whether a hold's record is stored (for reconciliation)."""
    automation = get_settings().automation
    limit = automation.max_triggers_per_account if pool == TRIGGERS else automation.max_schedules_per_account
    hold = Hold(member=member, group=test_id, at=now_ms())

    def gone(h: Hold, now: int) -> bool:
        return now - h.at > ORPHAN_GRACE_MS and not exists(h.group or "", h.member)

    if _take(stores, account_id, pool, hold, limit, automation.max_per_test, gone):
        return
    held = stores.holds.holds(account_id, pool)
    in_test = sum(1 for h in held if h.group == test_id)
    what = pool[:-1]
    if in_test >= automation.max_per_test:
        quota, limit, current = f"{pool}PerTest", automation.max_per_test, in_test
        message = f"a test has at most {limit} {pool}"
    else:
        quota, current = f"{pool}PerAccount", len(held)
        message = f"your tenant has at most {limit} {pool}"
    count("AutomationLimitReached")
    raise AutomationLimitError(f"{message}; delete one before adding another {what}", details={"quota": quota, "limit": limit, "current": current})


def release(stores: Stores, pool: str, account_id: str, member: str) -> None:
    stores.holds.release(account_id, pool, member)


def _take(stores: Stores, account_id: str, pool: str, hold: Hold, limit: int, group_limit: int | None, dead: Callable[[Hold, int], bool]) -> bool:
    if stores.holds.take(account_id, pool, hold, limit, group_limit):
        return True
    now = now_ms()
    freed = [h for h in stores.holds.holds(account_id, pool) if h.member != hold.member and dead(h, now)]
    for stale in freed:
        stores.holds.release(account_id, pool, stale.member)
    return bool(freed) and stores.holds.take(account_id, pool, hold, limit, group_limit)


def seed_automation_holds(stores: Stores, pool: str, account_id: str, records: Callable[[], Iterable]) -> None:
    """Holds for records stored before holds existed (read only when the tenant's pool is empty)."""
    if stores.holds.holds(account_id, pool):
        return
    for record in records():
        stores.holds.take(account_id, pool, Hold(member=record.id, group=record.load_test_id, at=record.created_at), 10**9, None)
