"""The events a run's lifecycle emits on the stack's bus (source `load-manager`):

- `RunStarted` when Locust's load is confirmed (Starting -> Running);
- `RunFinished` when the run reaches a final state (Finished, Cancelled or Failed), with its
  result, summary and links, and whether a load generator was saturated (`generatorSaturated`).

They go through the run's outbox. The status change that owes an event writes it in the same
store write (`RunStore.transition(..., events=...)`); `drain` then publishes what the outbox holds
and takes each event out once the bus has it. The step drains right after its write (Finalize after
teardown: a slow bus never keeps Locust running); a retried step drains what an attempt that died
left; the sweeper drains what no step will (a bus that was down, an execution that ended). So a
crash between the change and the publish loses nothing. Delivery is at least once: a crash after
PutEvents and before the event leaves the outbox sends it again, with the same `detail.eventId`
(`<runId>:<detail-type>`, one per run and type), which is how a consumer recognises a redelivery.
A run's events are sent in order: a failed publish stops the drain and the rest waits. While
RunFinished is pending, the drain adds the run's notifications after it (`NotificationRequested`,
one per channel that wants the run: lifecycle/notifications.py).

Publishing never fails a step and never blocks it for long (short timeouts, one retry): a failure
is logged and counted (`EventsPublishFailed`), and the run goes on. Shapes are documented in the
README ("Events Load Manager emits").
"""

from __future__ import annotations

from typing import Any

from load_manager.adapters.eventbridge import publish_safely
from load_manager.models.runs import Run
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.store.ports import OutboxEvent

RUN_STARTED = "RunStarted"
RUN_FINISHED = "RunFinished"


def event_id(run_id: str, detail_type: str) -> str:
    """Stable: the same run and type always give the same id (a run starts once and ends once)."""
    return f"{run_id}:{detail_type}"


def run_started(run_id: str, at: int) -> OutboxEvent:
    return OutboxEvent(event_id(run_id, RUN_STARTED), RUN_STARTED, "Running", at)


def run_finished(run_id: str, status: str, at: int) -> OutboxEvent:
    return OutboxEvent(event_id(run_id, RUN_FINISHED), RUN_FINISHED, status, at)


def drain(stores: Stores, account_id: str, run_id: str) -> int:
    """Publish the run's pending events, oldest first, each taken out once published; stops at the
    first that fails. Returns how many were published."""
    pending = stores.runs.pending_events(account_id, run_id)
    run = stores.runs.get(account_id, run_id) if pending else None
    if run is None:
        return 0
    # The test's `lastRun` (what its list shows) follows the same outbox: recorded before the events
    # leave it, so whichever drain comes next repairs a crash after the status change (idempotent).
    from load_manager.models.load_tests import LastRun  # lazy: the load tests models cost 13 ms at import (bench/cold_import.py --lazy)

    stores.load_tests.record_run(account_id, run.load_test_id, LastRun.of(run))
    pending = _with_notifications(stores, run, pending)
    sent = 0
    for event in pending:
        try:
            body = _detail_of(stores, run, event)
        except Exception:  # a store or Secrets Manager failure: the event waits for the next drain
            logger.exception("could not render an event", extra={"runId": run.id, "eventId": event.event_id})
            count("NotificationsFailed")
            break
        if body is not None and not publish_safely(event.detail_type, body, _resources(run)):
            break
        stores.runs.event_sent(account_id, run_id, event.event_id)  # None: nothing to send (a channel gone since)
        sent += 1
    return sent


def _with_notifications(stores: Stores, run: Run, pending: list[OutboxEvent]) -> list[OutboxEvent]:
    """The outbox with the notifications RunFinished owes (lifecycle/notifications.py); on a failure,
    nothing is sent now (the next drain tries again), so no notification is lost to it."""
    finished = next((e for e in pending if e.detail_type == RUN_FINISHED), None)
    if finished is None:
        return pending
    from load_manager.lifecycle import notifications  # lazy: 6 ms at import (bench/cold_import.py --lazy), only once a run ends

    try:
        return notifications.queue(stores, run, pending, finished)
    except Exception:
        logger.exception("could not queue a run's notifications", extra={"runId": run.id})
        count("NotificationsFailed")
        return []


def _detail_of(stores: Stores, run: Run, event: OutboxEvent) -> dict[str, Any] | None:
    if event.detail_type in (RUN_STARTED, RUN_FINISHED):
        return detail(run, event)
    from load_manager.lifecycle import notifications  # lazy: 6 ms at import (bench/cold_import.py --lazy), notifications only

    if event.detail_type == notifications.NOTIFICATION_REQUESTED:
        return notifications.detail(stores, run, event, links(run))
    return detail(run, event)


def detail(run: Run, event: OutboxEvent) -> dict[str, Any]:
    """The event's detail, from the run as it is now and the status the event reports."""
    common = _common(run) | {"eventId": event.event_id, "status": event.status}
    if event.detail_type == RUN_STARTED:
        return common | {
            "targetUsers": run.target_users, "spawnRate": run.spawn_rate, "durationSeconds": run.duration_seconds,
            "workers": run.workers, "backend": run.backend, "startedAt": run.started_at,
        }  # fmt: skip
    return common | {
        "result": run.result,
        "failureReason": run.failure_reason,
        "startedAt": run.started_at,
        "endedAt": run.ended_at,
        "summary": run.summary.model_dump(by_alias=True) if run.summary else None,
        **generator_detail(run),
    }


def generator_detail(run: Run) -> dict[str, Any]:
    """RunFinished's word on the load generators: `generatorSaturated` (null: not judged) and, when
    one was, the verdict in words and the figures of each saturated generator."""
    health = run.generator_health
    saturated = [f.model_dump(by_alias=True) for f in health.generators if f.saturated] if health else []
    return {
        "generatorSaturated": run.generator_saturated,
        "generatorHealth": {"message": health.message, "saturated": saturated} if health and run.generator_saturated else None,
    }


def links(run: Run) -> dict[str, str | None]:
    base = get_settings().automation.public_base_url
    return {
        "run": f"{base}/v1/runs/{run.id}",
        "script": f"{base}/v1/runs/{run.id}/script",
        "metrics": f"{base}/v1/runs/{run.id}/metrics",
        "console": f"{base}/runs/{run.id}",
        "report": run.report_location,
    }


def _common(run: Run) -> dict[str, Any]:
    return {
        "runId": run.id,
        "loadTestId": run.load_test_id,
        "accountId": run.account_id,
        "scriptRevisionId": run.script_revision_id,
        "revisionNumber": run.revision_number,
        "scriptSha256": run.script_sha256,
        "targetUrl": run.target_url,
        "trigger": run.trigger.model_dump(by_alias=True) if run.trigger else None,
        "links": links(run),
    }


def _resources(run: Run) -> list[str]:
    return [run.execution_arn] if run.execution_arn and run.execution_arn.startswith("arn:") else []
