"""A tenant's monthly vCPU-hour budget (QuotaSettings.vcpu_hours_per_month, the template's
QuotaVcpuHoursPerMonth; 0: no budget), held the way usecases/quotas.py holds concurrent runs.

A start counts against the month what its runs already recorded (their `usage`, summed from the
runs created this calendar month, UTC) plus the estimates of the runs in flight, and its own
estimate (generators x vCPU x planned duration: analysis/usage.estimate). Over the budget: 429
`VcpuBudgetExceeded`, naming the budget, what is used (recorded + in flight) and the estimate.

In flight means *held*: a run takes a hold of its estimate (`UsageStore.take`, one conditional write
whose cap is the budget less the month's recorded use) before it is stored, so twenty concurrent
starts can never all pass a check each made before the others wrote. A hold is given back lazily,
when a take finds no room: the holds of runs that have ended and recorded their usage (which then
counts instead) or never got to run, of runs ended long ago without a usage, and of runs never
stored (past a grace period).
So an estimate stands for a run until its real figure does. The month is the run's creation month.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from load_manager.analysis import usage as figures
from load_manager.errors import VcpuBudgetExceededError
from load_manager.ids import now_ms
from load_manager.models.base import FINAL_STATUSES
from load_manager.models.runs import Run
from load_manager.models.usage_answers import BudgetStatus
from load_manager.observability import count
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.store.ports.usage import BudgetHold

# A hold whose run is not stored yet may belong to a request still on its way (quotas.ORPHAN_GRACE_MS);
# a run that ended this long ago without recording its usage never will: its hold goes.
ORPHAN_GRACE_MS = 10 * 60 * 1000
UNRECORDED_GRACE_MS = 10 * 60 * 1000


def budget_vcpu_hours() -> float:
    return get_settings().quotas.vcpu_hours_per_month


def month_start(now: int) -> int:
    """The first millisecond of the calendar month (UTC) of `now`."""
    moment = datetime.fromtimestamp(now / 1000, UTC)
    return int(moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def month_label(now: int) -> str:
    return datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m")


def estimate_vcpu_seconds(run: Run) -> float:
    """Generators x vCPU x planned duration of `run` (analysis/usage.estimate)."""
    settings = get_settings()
    roles, _ = figures.estimate(run.backend or settings.default_backend, run.workers, run.duration_seconds, settings.usage, settings.ecs.region)
    return figures.vcpu_seconds_of(roles, run.duration_seconds)


def status(stores: Stores, account_id: str, now: int | None = None) -> BudgetStatus | None:
    """The budget as it stands (None: the tenant has none). Reads only."""
    budget = budget_vcpu_hours()
    if not budget:
        return None
    now = now_ms() if now is None else now
    used, in_flight = _used_seconds(stores, account_id, now), sum(h.vcpu_ms for h in _live_holds(stores, account_id, now)) / 1000
    return BudgetStatus(
        month=month_label(now), budget_vcpu_hours=budget, used_vcpu_hours=round(used / 3600, 6), in_flight_vcpu_hours=round(in_flight / 3600, 6)
    )


def check(stores: Stores, run: Run) -> None:
    """429 when `run` would take the month over the budget now; writes nothing (a dry run, and the
    early check before a request claims its idempotency key; `take` is the authoritative one)."""
    budget = budget_vcpu_hours()
    if not budget:
        return
    now = now_ms()
    held = sum(h.vcpu_ms for h in _live_holds(stores, run.account_id, now) if h.member != run.id)
    estimate = estimate_vcpu_seconds(run)
    used = _used_seconds(stores, run.account_id, now) + held / 1000
    if used + estimate > budget * 3600:
        raise _exceeded(budget, used, estimate)


def take(stores: Stores, run: Run) -> None:
    """Hold `run`'s estimate within the month's budget, or 429 (nothing held then)."""
    budget = budget_vcpu_hours()
    if not budget:
        return
    estimate = estimate_vcpu_seconds(run)
    hold = BudgetHold(member=run.id, vcpu_ms=math.ceil(estimate * 1000), at=now_ms())
    for attempt in range(2):
        now = now_ms()
        used = _used_seconds(stores, run.account_id, now)
        if stores.usage.take(run.account_id, hold, math.floor(budget * 3600 * 1000 - used * 1000)):
            return
        if attempt == 0 and not _release_dead(stores, run.account_id, now, run.id):
            break  # nothing to give back: the budget is really used
    held = sum(h.vcpu_ms for h in stores.usage.holds(run.account_id)) / 1000
    count("VcpuBudgetExceeded")
    raise _exceeded(budget, _used_seconds(stores, run.account_id, now_ms()) + held, estimate)


def release(stores: Stores, account_id: str, run_id: str) -> None:
    if budget_vcpu_hours():
        stores.usage.release(account_id, run_id)


def release_unless_active(stores: Stores, run: Run) -> None:
    """A retry found the run stored already: its hold stays only while that run is active."""
    if not budget_vcpu_hours():
        return
    existing = stores.runs.get(run.account_id, run.id)
    if existing is None or existing.status in FINAL_STATUSES:
        stores.usage.release(run.account_id, run.id)


# ---- helpers ------------------------------------------------------------------------------------


def _used_seconds(stores: Stores, account_id: str, now: int) -> float:
    """vCPU-seconds recorded by the tenant's runs created this month."""
    sums = stores.usage.sums(account_id, month_start(now), now + 1, None, 1)
    return sums[0].vcpu_seconds if sums else 0.0


def _is_dead(stores: Stores, account_id: str, hold: BudgetHold, now: int) -> bool:
    run = stores.runs.get(account_id, hold.member)
    if run is None:
        return now - hold.at > ORPHAN_GRACE_MS
    if run.status not in FINAL_STATUSES:
        return False
    if run.usage is not None or run.started_at is None:  # its figure counts now, or it never ran (failed or stopped before load)
        return True
    return now - (run.ended_at or hold.at) > UNRECORDED_GRACE_MS


def _live_holds(stores: Stores, account_id: str, now: int) -> list[BudgetHold]:
    return [h for h in stores.usage.holds(account_id) if not _is_dead(stores, account_id, h, now)]


def _release_dead(stores: Stores, account_id: str, now: int, keep: str) -> bool:
    dead = [h for h in stores.usage.holds(account_id) if h.member != keep and _is_dead(stores, account_id, h, now)]
    for hold in dead:
        stores.usage.release(account_id, hold.member)
    return bool(dead)


def _exceeded(budget: float, used_seconds: float, estimate_seconds: float) -> VcpuBudgetExceededError:
    used, estimate = round(used_seconds / 3600, 6), round(estimate_seconds / 3600, 6)
    return VcpuBudgetExceededError(
        f"this run's estimate ({estimate:g} vCPU-hours) would take your tenant's month past its budget of {budget:g} vCPU-hours "
        f"({used:g} used or held by runs in flight); start it next month, or a shorter or smaller run",
        details={"quota": "vcpuHoursPerMonth", "budgetVcpuHours": budget, "usedVcpuHours": used, "estimateVcpuHours": estimate},
    )
