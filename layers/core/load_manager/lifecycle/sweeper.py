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
bus that was down) are drained, and the audit records a crash left in their documents (MongoDB:
store/ports/audit.py) are copied to the trail.

Then what the runs' ends left behind (a teardown that failed: MarkFailed logs it and moves on):
- clusters: every launch the deployment's backend still has (`live_launches`: ECS tasks tagged
  with a run, local work dirs) whose run is final and ended more than `GRACE_SECONDS` ago is torn
  down, oldest first, at most `ORPHANS_PER_SWEEP` per sweep. A run id this store does not know
  (another deployment sharing the cluster, another `serve`'s data directory) is left alone.
- security groups (`security_groups=True`: the AWS sweeper; the local backend has none): each run
  group of this deployment (backends/ecs/network.py) is deleted unless its run is active, at most
  `GROUPS_PER_SWEEP`; one Fargate still holds (its tasks' interfaces not yet released) is tried
  again by the next sweep.

And what deleted tests left (usecases/dependents.py): every test deleted more than `GRACE_SECONDS`
ago and still marked as awaiting cleanup (one indexed read) has its remaining triggers, schedules,
own variables, secrets and notification channels removed as `system`, and loses the mark once
nothing of it is left.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from load_manager.adapters.step_functions import RUNNING, Executions
from load_manager.backends import BackendFactory
from load_manager.backends.base import LocustBackend
from load_manager.ids import now_ms
from load_manager.lifecycle import notify, steps
from load_manager.models.runs import ACTIVE_STATUSES, FINAL_STATUSES, Run, StatusChange
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases.clusters import default_cluster

if TYPE_CHECKING:  # annotations only
    from load_manager.usecases.dependents import Reach

GRACE_SECONDS = 120  # a younger run may still be in its request, or its execution in its first step
RESTART_WINDOW_SECONDS = 900
OUTBOX_GRACE_SECONDS = 60  # the step that wrote an event drains it at once; older ones are left over
BATCH = 200  # runs (and outboxes) per sweep, oldest first: the next sweep takes the rest
ABANDONED = "RunAbandoned"  # the Error of the reason the sweeper writes: "RunAbandoned: <why>"
ORPHANS_PER_SWEEP = 10  # leftover clusters torn down per sweep (each a teardown: seconds on ECS)
GROUPS_PER_SWEEP = 50  # leftover security groups tried per sweep (one DeleteSecurityGroup each)
TESTS_PER_SWEEP = 50  # deleted tests whose leftovers are looked at per sweep, oldest deletion first


@dataclass
class SweepReport:
    looked_at: int = 0
    started: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    events_sent: int = 0
    audit_records_finished: int = 0  # documents whose audit records a crash left in them (store/ports/audit.py)
    torn_down: list[str] = field(default_factory=list)  # leftover launches of ended runs: "<run id>/<launch id>"
    groups_deleted: list[str] = field(default_factory=list)
    groups_in_use: list[str] = field(default_factory=list)  # held by interfaces Fargate has not released yet
    leftovers_removed: list[str] = field(default_factory=list)  # of deleted tests: "<test id>/<kind>/<id>"
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sweep(
    stores: Stores, backends: BackendFactory, executions: Executions, *,
    grace_seconds: float = GRACE_SECONDS, restart_window_seconds: float = RESTART_WINDOW_SECONDS, limit: int = BATCH,
    security_groups: bool = False, ec2: Any = None, reach: Reach | None = None,
) -> SweepReport:  # fmt: skip
    """`security_groups`: also collect the ecs backend's leftover run groups (`ec2`: the client to
    do it with; default, the deployment's region's). `reach`: where deleted tests' dependents live
    (default, the deployment's bus, Scheduler and vault)."""
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
    _drain_audit(stores, limit, report)
    _tear_down_leftovers(stores, backends, now - int(grace_seconds * 1000), report)
    if security_groups:
        _collect_security_groups(stores, ec2, report)
    _remove_deleted_tests_leftovers(stores, reach, now - int(grace_seconds * 1000), report)
    _count(report)
    return report


def _count(report: SweepReport) -> None:
    figures = {
        "SweeperRunsStarted": len(report.started), "SweeperRunsFailed": len(report.failed), "SweeperRunsCancelled": len(report.cancelled),
        "SweeperEventsSent": report.events_sent, "SweeperClustersTornDown": len(report.torn_down),
        "SweeperSecurityGroupsDeleted": len(report.groups_deleted), "SweeperLeftoversRemoved": len(report.leftovers_removed),
    }  # fmt: skip
    for name, value in figures.items():
        if value:
            count(name, value)


def _drain_audit(stores: Stores, limit: int, report: SweepReport) -> None:
    """Audit records a crash left in the documents they were written with (MongoDB), to the trail."""
    try:
        report.audit_records_finished = stores.audit.drain(None, limit)
    except Exception:  # the next sweep tries again
        logger.exception("the sweeper could not drain the audit records left behind")
        report.errors += 1


def _tear_down_leftovers(stores: Stores, backends: BackendFactory, ended_before: int, report: SweepReport) -> None:
    """The deployment's clusters whose run ended (a while ago) and still run: a teardown that failed."""
    try:
        backend: LocustBackend = backends(default_cluster("", get_settings().default_backend))
        launches = backend.live_launches()
        ended = stores.runs.ended_among({launch.run_id for launch in launches}, ended_before)
    except Exception:  # the runs' own settling is done; the leftovers wait for the next sweep
        logger.exception("the sweeper could not list the clusters left behind")
        report.errors += 1
        return
    for handle in [launch for launch in launches if launch.run_id in ended][:ORPHANS_PER_SWEEP]:
        try:
            backend.teardown(handle)
        except Exception:
            logger.exception("the sweeper could not tear down a cluster left behind", extra={"runId": handle.run_id})
            report.errors += 1
            continue
        logger.warning("the sweeper tore down a cluster its ended run left behind", extra={"runId": handle.run_id, "launchId": handle.launch_id})
        report.torn_down.append(f"{handle.run_id}/{handle.launch_id}")


def _remove_deleted_tests_leftovers(stores: Stores, reach: Reach | None, deleted_before: int, report: SweepReport) -> None:
    """What the deletions of tests (a while ago) left: a removal that failed, or was created meanwhile."""
    try:
        tests = stores.load_tests.awaiting_cleanup(deleted_before, TESTS_PER_SWEEP)
        if not tests:
            return
        from load_manager.usecases import dependents  # lazy: 32 ms at import after the function (bench/cold_import.py --lazy)

        removed, failures = dependents.sweep(stores, reach, tests)
    except Exception:  # the next sweep tries again
        logger.exception("the sweeper could not remove what deleted tests left")
        report.errors += 1
        return
    report.leftovers_removed, report.errors = removed, report.errors + failures


def _collect_security_groups(stores: Stores, ec2: Any, report: SweepReport) -> None:
    """The ecs backend's run groups whose run is not active (backends/ecs/network.py)."""
    # Only here (and in an ecs teardown, through backend_for) does a sweep need the ecs backend.
    from load_manager.backends.ecs import AwsApiError, collect_leftover_security_groups  # lazy: 120 ms at import (bench/cold_import.py --lazy)
    from load_manager.backends.ecs.tasks import client  # lazy: 0 ms more than the line above (bench/cold_import.py --lazy)

    ecs = get_settings().ecs
    try:
        found = collect_leftover_security_groups(
            ec2 or client("ec2", ecs.region), ecs.managed_by, keep=_ActiveRuns(stores), vpc_id=ecs.vpc_id or None, limit=GROUPS_PER_SWEEP
        )
    except AwsApiError:
        logger.exception("the sweeper could not collect leftover security groups")
        report.errors += 1
        return
    report.groups_deleted, report.groups_in_use = found.deleted, found.in_use
    for group_id, why in found.failed.items():
        logger.warning("the sweeper could not delete a security group", extra={"groupId": group_id, "why": why})
        report.errors += 1


class _ActiveRuns:
    """`keep` for the group collector: is the group's run active. The active runs are read on the
    first call, after the groups were described: a group exists only once its run does (Pending
    first), so the run of any group described is in that read if it is active."""

    def __init__(self, stores: Stores) -> None:
        self._stores = stores
        self._ids: set[str] | None = None

    def __call__(self, run_id: str, launch_id: str) -> bool:
        if self._ids is None:
            from load_manager.backends.ecs.tasks import tag_value  # lazy: 0 ms here, loaded with the ecs backend above (bench/cold_import.py --lazy)

            self._ids = {tag_value(run.id) for run in self._stores.runs.list_active()}  # as the group's tag holds it
        return run_id in self._ids


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
