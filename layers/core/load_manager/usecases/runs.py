"""Runs, as the API sees them: start a run of a pinned revision, read, list, stop, and the exact
script it used. What happens to a run after it starts is the lifecycle's (lifecycle/steps.py)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from load_manager.adapters.step_functions import ExecutionStarter
from load_manager.errors import (
    BadRequestError,
    IdempotencyKeyReusedError,
    LoadManagerError,
    RevisionPrunedError,
    RunFinalError,
    RunNotFoundError,
    UnprocessableError,
)
from load_manager.identity import Caller
from load_manager.ids import new_id, now_ms
from load_manager.lifecycle import notify
from load_manager.models.runs import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    ApiTrigger,
    EventTrigger,
    Run,
    RunPage,
    ScheduleTrigger,
    StartRunRequest,
    StatusChange,
)
from load_manager.observability import count
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.store import IdempotencyRecord, Stores
from load_manager.usecases import audit, gates, load_profiles, quotas
from load_manager.usecases.reads import get_run as get_run  # reading a run, for the areas that show one
from load_manager.usecases.reads import get_test  # reading a test (the load tests area's delete reaches this module: schedules)
from load_manager.usecases.scopes import RunScope

if TYPE_CHECKING:  # annotations only
    from load_manager.models.revisions import ScriptRevision
    from load_manager.store.ports.audit import AuditRecord

# The other areas' use cases a run needs (its test, its revision, its cluster, its archive) are
# imported by the functions below that need them: reading and stopping a run (the runs function's
# polled route, the results function's get_run, the triggers function's API) go without them.

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces
DEFAULT_USERS = 10
DEFAULT_DURATION_SECONDS = 60


class WorkflowStartError(LoadManagerError):
    status, code = 503, "RunStartFailed"


def start_run(
    stores: Stores,
    starter: Callable[[], ExecutionStarter],
    caller: Caller,
    test_id: str,
    request: StartRunRequest,
    idempotency_key: str | None,
    trigger: EventTrigger | ScheduleTrigger | None = None,
) -> tuple[Run, bool]:
    """Returns (run, created). A repeated Idempotency-Key returns the first run, created=False.

    The key is only claimed once the request is known to be good: a rejected request leaves no
    trace, and the client may correct it and retry with the same key. Runs started by an event or a
    schedule come through here too, with `trigger` and a key of their own (`event <triggerId> <digest>`,
    `schedule <scheduleId> <ms>`: the spaces keep them apart from any key a client can send).
    """
    test = get_test(stores, caller, test_id)
    started_by = trigger or ApiTrigger(caller=caller.actor)
    if idempotency_key is None:
        run = _new_run(stores, caller, test, new_id(), request, started_by)
        quotas.insert_run(stores, run, _started(caller, run))
        return _ensure_started(stores, starter, run), True

    if trigger is None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise BadRequestError("Idempotency-Key must be 1-64 printable ASCII characters", code="InvalidIdempotencyKey")
    fingerprint = hashlib.sha256(
        json.dumps([test_id, request.model_dump(mode="json", exclude_none=True)], sort_keys=True).encode()
    ).hexdigest()
    now = now_ms()
    record = stores.idempotency.get(caller.account_id, idempotency_key, now)
    if record is None:
        run = _new_run(stores, caller, test, new_id(), request, started_by)
        quotas.check_concurrent_runs(stores, caller.account_id)  # a 429 before the key is claimed
        quotas.check_budget(stores, run)  # and one for the month's vCPU-hour budget
        record = stores.idempotency.claim(
            caller.account_id, IdempotencyRecord(idempotency_key, fingerprint, run.id, now + IDEMPOTENCY_TTL_MS), now
        )
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReusedError("this Idempotency-Key was used for a different request")
    existing = stores.runs.get(caller.account_id, record.run_id)
    if existing is None:
        # Ours, or a claimer that died before inserting its run: insert it under the recorded id.
        run = _new_run(stores, caller, test, record.run_id, request, started_by)
        if quotas.insert_run(stores, run, _started(caller, run)):
            return _ensure_started(stores, starter, run), True
        existing = stores.runs.get(caller.account_id, record.run_id)
        if existing is None:  # runs are never deleted: another writer's insert must be visible
            raise RunNotFoundError(f"run {record.run_id!r} of Idempotency-Key {idempotency_key!r} is missing")
    return _ensure_started(stores, starter, existing), False


def check_request(stores: Stores, caller: Caller, test, request: StartRunRequest) -> Run:
    """Raise what starting `request` now would raise (revision, target, workers); write nothing."""
    return _new_run(stores, caller, test, new_id(), request, ApiTrigger(caller=caller.actor))


def _new_run(stores: Stores, caller: Caller, test, run_id: str, request: StartRunRequest, trigger=None) -> Run:
    from load_manager.usecases import scripts  # lazy: the scripts area costs 11 ms at import (bench/cold_import.py --lazy)
    from load_manager.usecases.clusters import resolve_cluster  # lazy: clusters cost 7 ms at import (bench/cold_import.py --lazy)
    from load_manager.usecases.variables import run_environment  # lazy: the variables area costs 8 ms at import (bench/cold_import.py --lazy)

    revision = (
        scripts.resolve_revision(stores, caller, test.id, request.revision)
        if request.revision is not None
        else scripts.latest_stored(stores, caller, test.id)
    )
    target_url = request.target_url or test.target_url
    if not target_url:
        raise UnprocessableError("no target: set the test's targetUrl or pass targetUrl", code="MissingTargetUrl")
    load = load_profiles.run_load(test, request, DEFAULT_USERS, DEFAULT_DURATION_SECONDS)  # users, spawn rate, duration, profile
    data_split = load_profiles.run_data_split(test, request, revision.files, revision.revision_number)
    env_id = request.env_id or test.env_id
    variables, secrets = run_environment(stores, caller.account_id, RunScope(test.org_id, test.project_id, env_id, test.id), request.variables)
    cluster = resolve_cluster(stores, caller.account_id, test.org_id, test.project_id, env_id)
    workers = request.workers or 1
    if workers > cluster.max_workers:
        raise UnprocessableError(
            f"{workers} workers exceed the cluster's limit of {cluster.max_workers}", code="TooManyWorkers",
            details={"maxWorkers": cluster.max_workers},
        )
    judged_by = _judged_by(stores, caller, test, request)
    now = now_ms()
    run = Run(
        id=run_id,
        account_id=caller.account_id,
        load_test_id=test.id,
        status="Pending",
        status_history=[StatusChange(status="Pending", at=now, actor=caller.actor, reason="run requested")],
        script_revision_id=revision.id,
        revision_number=revision.revision_number,
        script_sha256=revision.sha256,
        target_url=target_url,
        workers=workers,
        data_split=data_split,
        variables=variables,
        secrets=secrets,
        org_id=test.org_id,
        project_id=test.project_id,
        env_id=env_id,
        backend=cluster.backend,
        cluster_id=cluster.id,
        created_at=now,
        created_by=caller.actor,
        trigger=trigger,
        **load,
        **judged_by,
    )
    quotas.check_run_limits(run)  # users, workers, duration: a 422 naming the quota
    return run


def _judged_by(stores: Stores, caller: Caller, test, request: StartRunRequest) -> dict:
    """The criteria, auto-stop and baseline the run will be judged by: the request's, else the test's.
    Checked now (422), so Finalize never finds them wrong."""
    criteria = request.criteria if request.criteria is not None else test.criteria
    baseline_run_id = request.baseline_run_id or test.baseline_run_id
    gates.check_criteria(criteria, baseline_run_id)
    if baseline_run_id:
        gates.require_baseline_run(stores, caller, test.id, baseline_run_id)
    from load_manager.analysis.autostop import DEFAULT_AUTO_STOP  # lazy: 2 ms at import, a model built (bench/cold_import.py --lazy), start only

    auto_stop = request.auto_stop or test.auto_stop or DEFAULT_AUTO_STOP
    return {"criteria": criteria, "auto_stop": auto_stop, "baseline_run_id": baseline_run_id}


def _ensure_started(stores: Stores, starter: Callable[[], ExecutionStarter], run: Run) -> Run:
    """Start the run's execution unless it has one. Safe to repeat: the execution name is the run id."""
    if run.execution_arn or run.status != "Pending":
        return run
    _refuse_pruned_revision(stores, run)
    try:
        arn = starter().start(run)  # a misconfigured starter fails the run too, not the request
    except Exception as exc:
        _fail_unstarted(stores, run, f"could not start the run workflow: {exc}")
        raise WorkflowStartError("the run could not be started; it is recorded as Failed", details={"runId": run.id}) from exc
    count("RunsStarted")
    return stores.runs.update(run.account_id, run.id, {"execution_arn": arn}, when_status_in=ACTIVE_STATUSES | FINAL_STATUSES) or run


def _refuse_pruned_revision(stores: Stores, run: Run) -> None:
    """Retention may have pruned the revision between choosing it and inserting the run; pruning
    looks for runs again after marking (usecases/retention.py), so one of the two always notices."""
    revision = stores.revisions.get(run.account_id, run.load_test_id, run.script_revision_id)
    if revision is None or revision.pruned_at is None:
        return
    reason = f"revision {run.revision_number} was pruned by the test's retention before the run started"
    _fail_unstarted(stores, run, reason)
    raise RevisionPrunedError(reason, details={"runId": run.id, "revisionNumber": run.revision_number})


def _fail_unstarted(stores: Stores, run: Run, reason: str) -> None:
    """A run whose workflow cannot start ends Failed, and owes RunFinished like any run that ends
    (written with the change, sent through the outbox: lifecycle/notify.py)."""
    now = now_ms()
    stores.runs.transition(
        run.account_id, run.id, {"Pending"}, StatusChange(status="Failed", at=now, actor="system", reason=reason),
        {"failure_reason": reason, "ended_at": now}, events=[notify.run_finished(run.id, "Failed", now)],
    )  # fmt: skip
    notify.drain(stores, run.account_id, run.id)


def list_runs(stores: Stores, caller: Caller, test_id: str, status: str | None, limit: int, cursor: str | None) -> RunPage:
    get_test(stores, caller, test_id)
    after = decode_cursor(cursor, int, str)
    rows = stores.runs.list(caller.account_id, test_id, status=status, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    return RunPage(items=page, next_cursor=encode_cursor([page[-1].created_at, page[-1].id]) if more else None)


def stop_run(stores: Stores, caller: Caller, run_id: str) -> Run:
    """Ask the lifecycle to stop the run; PollRun (or StartRun) acts on it and ends it Cancelled."""
    run = get_run(stores, caller, run_id)
    if run.status in FINAL_STATUSES:
        raise RunFinalError(f"run {run_id!r} is already {run.status}")
    now = now_ms()
    fields = {"stop_requested_at": now, "stop_requested_by": caller.actor}
    record = audit.change(caller, "run.stop", run_id, load_test_id=run.load_test_id, before=run, after=run.model_copy(update=fields), at=now)
    requested = stores.runs.update(caller.account_id, run_id, fields, when_status_in=ACTIVE_STATUSES, audit=record)
    if requested is None:
        raise RunFinalError(f"run {run_id!r} ended before it could be stopped")
    stopping = stores.runs.transition(
        caller.account_id, run_id, {"Running"}, StatusChange(status="Stopping", at=now, actor=caller.actor, reason="stop requested")
    )
    return stopping or requested


def _started(caller: Caller, run: Run) -> AuditRecord:
    """The record of a run started: by a person, a token (its use), or a trigger's or schedule's firing."""
    return audit.change(caller, "run.start", run.id, load_test_id=run.load_test_id, after=run, at=run.created_at)


def run_script(stores: Stores, caller: Caller, run_id: str) -> ScriptRevision:
    from load_manager.usecases import scripts  # lazy: the scripts area costs 11 ms at import (bench/cold_import.py --lazy)

    run = get_run(stores, caller, run_id)
    revision = stores.revisions.get(caller.account_id, run.load_test_id, run.script_revision_id)
    if revision is None:  # revisions are never deleted; this would be data loss
        raise RunNotFoundError(f"the script of run {run_id!r} is missing")
    return scripts.to_api(revision)


def run_script_archive(stores: Stores, caller: Caller, run_id: str) -> tuple[Run, bytes]:
    """The exact bundle the run used, as a zip archive (it outlives the test's deletion)."""
    from load_manager.usecases.bundles import archive_of  # lazy: the scripts area costs 10 ms at import (bench/cold_import.py --lazy)

    run = get_run(stores, caller, run_id)
    revision = stores.revisions.get(caller.account_id, run.load_test_id, run.script_revision_id)
    if revision is None:
        raise RunNotFoundError(f"the script of run {run_id!r} is missing")
    return run, archive_of(stores, revision)

