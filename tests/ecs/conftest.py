"""The ECS stand-in (tests/support/ecs_standin.py): Fargate tasks as local processes."""

from __future__ import annotations

import time

import pytest
from support.ecs_runs import Collected
from support.ecs_standin import EcsStandIn

from load_manager.backends.base import ClusterHandle, FinalResults
from load_manager.backends.ecs import EcsLocustBackend
from load_manager.backends.locust_stats import total_requests
from load_manager.backends.locust_web import STATS_CACHE_SECONDS, WORKER_REPORT_SECONDS
from load_manager.lifecycle.dispatch import run_step
from load_manager.settings import set_settings
from load_manager.store import get_stores, set_stores
from load_manager_local.api import InProcessApi
from load_manager_local.runtime import WORKFLOW_FUNCTION, LocalRunLifecycle, configure_local_runtime


@pytest.fixture
def ecs_standin(tmp_path):
    """A started stand-in; every process and server it started is stopped afterwards, pass or fail.
    Task directories (logs, TMPDIR) stay under tmp_path for a failed test's post-mortem."""
    with EcsStandIn(root=tmp_path / "ecs-tasks") as standin:
        yield standin


@pytest.fixture
def ecs_run(ecs_standin: EcsStandIn, tmp_path, _routes):
    """The local runtime with every run on the ECS backend, whose clients are the stand-in's."""
    collected = Collected()

    class RecordingEcsBackend(EcsLocustBackend):
        def collect(self, handle: ClusterHandle) -> FinalResults:
            results = super().collect(handle)
            collected.results.append(results)
            if collected.recheck:
                time.sleep(WORKER_REPORT_SECONDS + STATS_CACHE_SECONDS + 1)
                collected.later_totals.append(total_requests(self._api(handle).stats()))
            return results

    def factory(_cluster) -> EcsLocustBackend:
        return RecordingEcsBackend(
            ecs_standin.settings, ecs_client=ecs_standin.ecs, s3_client=ecs_standin.s3, logs_client=ecs_standin.logs,
            start_timeout=60, swarm_timeout=15, stop_timeout=20, poll_interval=0.2,
        )  # fmt: skip

    # A failed test leaves runs active; the runtime's own backend (no stand-in hooks: Fargate never
    # releases the interfaces) tears them down at stop, trying each group once rather than for 120 s.
    configure_local_runtime(tmp_path / "data", default_backend="ecs", ecs={"group_delete_timeout_seconds": 0})
    lifecycle = LocalRunLifecycle().start()
    lifecycle.sfn.register(WORKFLOW_FUNCTION, lambda event, _context: run_step(event, get_stores(), factory))
    try:
        yield InProcessApi(routes=_routes), ecs_standin, collected
    finally:
        lifecycle.stop()
        set_stores(None)
        set_settings(None)
