"""A run's usage, recorded by the step that ends it, once its cluster is torn down (Finalize, MarkFailed,
and so the sweeper, which fails runs through MarkFailed).

On ECS after the teardown, because that is when ECS knows when each task stopped (the teardown
waits for the tasks' network interfaces, which Fargate releases once they have stopped); a local
run's usage, from its processes' readings, goes with its final status (`final_fields`). Written
once: only while the run is final and has no usage (`record` of a retried step finds it there and
changes nothing), with a conditional update.
Measuring never fails a run's end: what ECS cannot say is estimated from the deployment's task
sizes and the run's own times (basis "estimated").
"""

from __future__ import annotations

import time

from load_manager.analysis import usage as figures
from load_manager.backends import BackendFactory
from load_manager.lifecycle import launches, run_environment
from load_manager.models.base import FINAL_STATUSES
from load_manager.models.runs import Run
from load_manager.models.usage import RunUsage
from load_manager.observability import logger
from load_manager.settings import get_settings
from load_manager.store import Stores


def final_fields(stores: Stores, run: Run) -> dict[str, RunUsage]:
    """A local run's usage, written with its final status: its processes' readings are all in by
    Finalize (the teardown adds none), so a reader never sees it final without its usage. On ECS
    the figures wait for the teardown (`record`): only then does ECS know when each task stopped."""
    settings = get_settings()
    if (run.backend or settings.default_backend) != figures.LOCAL:
        return {}
    return {"usage": figures.from_readings(stores.metrics.generator_readings(run.account_id, run.id), settings.usage)}


def record(stores: Stores, backends: BackendFactory, run_id: str, account_id: str) -> Run | None:
    """Record the final run's usage unless it has one; the run as it stands (None: not found)."""
    run = stores.runs.get(account_id, run_id)
    if run is None or run.status not in FINAL_STATUSES or run.usage is not None:
        return run
    usage = measure(stores, backends, run)
    return stores.runs.update(account_id, run_id, {"usage": usage}, when_status_in=FINAL_STATUSES) or run


def measure(stores: Stores, backends: BackendFactory, run: Run) -> RunUsage:
    """What the run's generators used: the platform's account of its tasks (ECS), else the processes'
    own readings (local), else nothing (no cluster was ever launched)."""
    settings = get_settings()
    region = settings.ecs.region
    backend, handle = launches.live_handle(stores, run_environment.guarded(backends, run), run)
    if backend is None or handle is None:
        readings = stores.metrics.generator_readings(run.account_id, run.id)
        if readings:
            return figures.from_readings(readings, settings.usage)
        return figures.nothing(run.backend or settings.default_backend, settings.usage, region)
    ended = time.time()
    try:
        tasks = backend.task_usage(handle)
    except Exception:  # noqa: BLE001 - the platform could not say: estimate, never fail the run's end for it
        logger.warning("the run's tasks could not be read for its usage; estimated", extra={"runId": run.id}, exc_info=True)
        start_ms = run.started_at or run.created_at
        return figures.estimated_from_sizes(run.workers, max(0.0, (run.ended_at or ended * 1000) - start_ms) / 1000, settings.usage, region)
    if tasks is None:
        return figures.from_readings(stores.metrics.generator_readings(run.account_id, run.id), settings.usage)
    launched = handle.started_at or (run.started_at or run.created_at) / 1000
    return figures.from_tasks(tasks, launched, ended, settings.usage, region)
