"""The sweeper: ends what no execution drives, and sends what no step will.

Every few minutes (functions/sweeper on an EventBridge schedule in AWS; `serve`'s own clock
locally) it looks at the active runs of every tenant older than `GRACE_SECONDS`, oldest first, and
asks Step Functions about each one's execution (named after the run):

- RUNNING: the execution drives the run (its PollRun enforces the deadline). Left alone.
- none, and the run is Pending: the request that created the run died before StartExecution (a
  crashed Lambda, an event redelivered as a "duplicate", a schedule occurrence). Such a run is
  *started* (StartExecution by its id: idempotent) while it is younger than
  `RESTART_WINDOW_SECONDS`: a person or a schedule asked for it, and a few minutes late is still
  what they asked for; the StartRun step then checks it as any start. Older, it is *failed*: load
  hours after anyone asked would hit the target at a time nobody chose. A Pending run someone
  asked to stop is *cancelled*.
- ended (SUCCEEDED, FAILED, TIMED_OUT, ABORTED) while the run is not final: nothing will ever end
  it (a MarkFailed that died, an execution stopped by hand). Failed, and whatever it launched torn down.
- none, and the run is past Pending: only past its deadline (duration + margin + grace since it
  started) is it failed. Before that it may be driven by an execution this sweeper cannot see:
  locally, another `serve` on the same data directory runs its own Step Functions.

Failing goes through MarkFailed's own code (`steps.mark_failed`): the run's recorded launch and any
other launch of the run the backend still runs (ECS tasks tagged with its id, a local work dir
named after it) are torn down, the Failed change writes RunFinished to the outbox, the outbox is
drained. Every write is conditional, so a sweep racing a step (or another sweep) changes nothing
twice. Then the outbox leftovers of every tenant (events older than `OUTBOX_GRACE_SECONDS`: a
bus that was down) are drained.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from load_manager.adapters.step_functions import RUNNING, Executions
from load_manager.backends import BackendFactory
from load_manager.ids import now_ms
from load_manager.lifecycle import notify, steps
from load_manager.models import ACTIVE_STATUSES, FINAL_STATUSES, Run, StatusChange
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Stores

GRACE_SECONDS = 120  # a younger run may still be in its request, or its execution in its first step
RESTART_WINDOW_SECONDS = 900
OUTBOX_GRACE_SECONDS = 60  # the step that wrote an event drains it at once; older ones are left over
BATCH = 200  # runs (and outboxes) per sweep, oldest first: the next sweep takes the rest
ABANDONED = "RunAbandoned"  # the Error of the reason the sweeper writes: "RunAbandoned: <why>"


@dataclass
class SweepReport:
    looked_at: int = 0
    started: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    events_sent: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sweep(
    stores: Stores, backends: BackendFactory, executions: Executions, *,
    grace_seconds: float = GRACE_SECONDS, restart_window_seconds: float = RESTART_WINDOW_SECONDS, limit: int = BATCH,
) -> SweepReport:  # fmt: skip
    now = now_ms()
    report = SweepReport()
    for run in stores.runs.list_active(created_before=now - int(grace_seconds * 1000), limit=limit):
        report.looked_at += 1
        try:
            _settle(stores, backends, executions, run, now, grace_seconds, restart_window_seconds, report)
        except Exception:  # one run's trouble never keeps the sweep from the others
            logger.exception("the sweeper could not settle a run", extra={"runId": run.id})
            report.errors += 1
    for account_id, run_id in stores.runs.with_pending_events(now - OUTBOX_GRACE_SECONDS * 1000, limit):
        report.events_sent += notify.drain(stores, account_id, run_id)
        if stores.runs.pending_events(account_id, run_id):
            break  # the bus refuses: the next sweep tries again, rather than each leftover timing out now
    for name, value in (("Started", len(report.started)), ("Failed", len(report.failed)), ("Cancelled", len(report.cancelled))):
        if value:
            count(f"SweeperRuns{name}", value)
    if report.events_sent:
        count("SweeperEventsSent", report.events_sent)
    return report


def _settle(
    stores: Stores, backends: BackendFactory, executions: Executions, run: Run, now: int, grace: float, window: float, report: SweepReport
) -> None:
    status = executions.status(run)
    if status == RUNNING:
        return
    age = round((now - run.created_at) / 1000)
    if status is None and run.status == "Pending":
        if run.stop_requested_at:
            _cancel(stores, run, now, report)
        elif age <= window:
            _restart(stores, backends, executions, run, report)
        else:
            why = f"its workflow never started (the request that created it ended first); {age} s later it is too late to start it"
            _fail(stores, backends, run, why, report)
    elif status is not None:
        _fail(stores, backends, run, f"its workflow execution ended ({status}) without ending the run", report)
    elif now > _deadline(run, grace):
        _fail(stores, backends, run, "no workflow execution drives it, and it is past its deadline", report)


def _deadline(run: Run, grace: float) -> int:
    seconds = run.duration_seconds + get_settings().run_deadline_margin_seconds + grace
    return (run.started_at or run.created_at) + int(seconds * 1000)


def _restart(stores: Stores, backends: BackendFactory, executions: Executions, run: Run, report: SweepReport) -> None:
    try:
        arn = executions.start(run)  # named after the run: a second start is the first one
    except Exception as exc:
        _fail(stores, backends, run, f"its workflow never started, and starting it failed: {exc}", report)
        return
    stores.runs.update(run.account_id, run.id, {"execution_arn": arn}, when_status_in=ACTIVE_STATUSES | FINAL_STATUSES)
    logger.warning("the sweeper started the workflow of a run left Pending", extra={"runId": run.id, "executionArn": arn})
    report.started.append(run.id)


def _cancel(stores: Stores, run: Run, now: int, report: SweepReport) -> None:
    actor = run.stop_requested_by or steps.SYSTEM
    change = StatusChange(status="Cancelled", at=now, actor=actor, reason="stopped before its workflow started")
    if stores.runs.transition(run.account_id, run.id, {"Pending"}, change, {"ended_at": now}, events=[notify.run_finished(run.id, "Cancelled", now)]):
        report.cancelled.append(run.id)
    notify.drain(stores, run.account_id, run.id)


def _fail(stores: Stores, backends: BackendFactory, run: Run, why: str, report: SweepReport) -> None:
    steps.mark_failed(stores, backends, run.id, run.account_id, {"Error": ABANDONED, "Cause": f"{why} (ended by the sweeper)"})
    after = stores.runs.get(run.account_id, run.id)
    if after is not None and after.status == "Failed" and (after.failure_reason or "").startswith(ABANDONED):
        report.failed.append(run.id)
