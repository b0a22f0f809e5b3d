"""A Locust backend in memory, for the fast lifecycle tests: it keeps the port's promises (a handle
per launch, idempotent begin and teardown, stats that only grow, launches found again by run and
launch id) and lets a test script what goes wrong and when, through hooks called at each port method.

It is as strict as the weakest real backend: every `launch` makes a cluster, even for a launch id
that has one already (two clusters then show in `live_clusters()`), and `teardown` of an intent (a
handle recorded before launching, `launched=False`) reaches nothing, as the local backend's would."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from load_manager.backends.base import (
    ClusterHandle,
    ClusterSpec,
    EndpointStats,
    FinalResults,
    LiveStats,
    ProcessStatus,
    TaskUsage,
)
from load_manager.backends.generator_stats import GeneratorUsage

Hook = Callable[[ClusterHandle], None]


@dataclass
class FakeCluster:
    handle: ClusterHandle
    alive: bool = True
    began: bool = False
    torn_down: bool = False
    samples: int = 0
    exit_code: int | None = None


@dataclass
class FakeBackend:
    """`on_launch`, `on_begin`, `on_status`, `on_sample`, `on_collect`, `on_teardown`: called at the
    start of each method with the handle; raise from them to make the method fail."""

    name: str = "local"
    clusters: dict[str, FakeCluster] = field(default_factory=dict)  # by launch id
    calls: list[str] = field(default_factory=list)
    on_launch: Hook | None = None
    on_begin: Hook | None = None
    on_status: Hook | None = None
    on_sample: Hook | None = None
    on_collect: Hook | None = None
    on_teardown: Hook | None = None
    requests_per_sample: int = 100
    failures_per_sample: int = 0  # of those requests, how many fail
    html_report: str | None = None  # what collect hands over as Locust's report
    generators: list[GeneratorUsage] = field(default_factory=list)  # each sample's generator readings (generator_stats)
    # What task_usage answers after teardown (as ECS would: sizes and times); None: unsized, like local processes.
    task_usages: list[TaskUsage] | None = None

    def factory(self, _cluster) -> FakeBackend:
        return self

    def cluster(self, handle: ClusterHandle) -> FakeCluster:
        return self.clusters[handle.details.get("fake_key") or handle.launch_id]

    # ---- the port ------------------------------------------------------------------------------

    def start(self, spec: ClusterSpec) -> ClusterHandle:
        handle = self.launch(spec)
        self.begin(handle, spec)
        return handle

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        launch_id = spec.launch_id or uuid.uuid4().hex
        key = launch_id if launch_id not in self.clusters else f"{launch_id}#{len(self.clusters)}"
        handle = ClusterHandle(
            backend=self.name, run_id=spec.run_id, web_url="", workers=spec.workers, started_at=time.time(),
            launch_id=launch_id, details={"fake_key": key},
        )  # fmt: skip
        self.calls.append("launch")
        self.clusters[key] = FakeCluster(handle)
        self._hook(self.on_launch, handle)
        return handle

    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]:
        self.calls.append("find_launches")
        return [
            ClusterHandle.from_dict(c.handle.to_dict())
            for c in self.clusters.values()
            if not c.torn_down and c.handle.run_id == run_id and launch_id in (None, c.handle.launch_id)
        ]

    def live_launches(self) -> list[ClusterHandle]:
        self.calls.append("live_launches")
        live = sorted((c for c in self.clusters.values() if not c.torn_down), key=lambda c: c.handle.started_at)
        return [ClusterHandle.from_dict(c.handle.to_dict()) for c in live]

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        self.calls.append("begin")
        self._hook(self.on_begin, handle)
        cluster = self.cluster(handle)
        cluster.began = True
        handle.web_url = "http://fake-master:8089"  # what begin learns, for the lifecycle to store
        handle.details["learnt"] = True

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        self.calls.append("status")
        self._hook(self.on_status, handle)
        cluster = self.cluster(handle)
        if cluster.alive:
            return ProcessStatus(alive=True, exit_code=None)
        return ProcessStatus(alive=False, exit_code=cluster.exit_code, log_tail="fake log: killed", reason="Locust exited")

    def sample(self, handle: ClusterHandle) -> LiveStats:
        self.calls.append("sample")
        self._hook(self.on_sample, handle)
        cluster = self.cluster(handle)
        cluster.samples += 1
        total, failed = cluster.samples * self.requests_per_sample, cluster.samples * self.failures_per_sample
        ratio = failed / total if total else 0.0
        return LiveStats(
            state="running", user_count=10, worker_count=None, current_rps=50.0, average_rps=50.0, failures_per_second=50.0 * ratio,
            fail_ratio=ratio, total_requests=total, total_failures=failed, p50_ms=5.0, p95_ms=20.0, p99_ms=40.0,
            current_p50_ms=5.0, current_p95_ms=20.0, endpoints=[_row(total, failed)], errors=[], generators=list(self.generators),
        )  # fmt: skip

    def stop_load(self, handle: ClusterHandle) -> None:
        self.calls.append("stop_load")

    def collect(self, handle: ClusterHandle) -> FinalResults:
        self.calls.append("collect")
        self._hook(self.on_collect, handle)
        samples = self.cluster(handle).samples
        total, failed = samples * self.requests_per_sample, samples * self.failures_per_sample
        row = _row(total, failed)
        ratio = failed / total if total else 0.0
        return FinalResults(aggregated=row, endpoints=[row], errors=[], fail_ratio=ratio, html_report=self.html_report, exit_code=None, log_tail="")

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        self.calls.append("teardown")
        self._hook(self.on_teardown, handle)
        if not handle.launched:
            return ProcessStatus(alive=False, exit_code=None)  # an intent names no cluster
        cluster = self.cluster(handle)
        was_alive = cluster.alive
        cluster.alive, cluster.torn_down = False, True
        return ProcessStatus(alive=False, exit_code=None if was_alive else cluster.exit_code)

    def task_usage(self, handle: ClusterHandle) -> list[TaskUsage] | None:
        self.calls.append("task_usage")
        return None if self.task_usages is None else list(self.task_usages)

    # ---- for tests -----------------------------------------------------------------------------

    def crash(self, handle: ClusterHandle, exit_code: int = 137) -> None:
        cluster = self.cluster(handle)
        cluster.alive, cluster.exit_code = False, exit_code

    def live_clusters(self) -> list[FakeCluster]:
        return [c for c in self.clusters.values() if not c.torn_down]

    @staticmethod
    def _hook(hook: Hook | None, handle: ClusterHandle) -> None:
        if hook is not None:
            hook(handle)


def _row(total: int, failed: int = 0) -> EndpointStats:
    return EndpointStats(
        method="GET", name="/", num_requests=total, num_failures=failed, avg_ms=6.0, min_ms=1.0, max_ms=90.0,
        p50_ms=5.0, p95_ms=20.0, p99_ms=40.0, rps=50.0, current_rps=50.0, p90_ms=15.0,
    )  # fmt: skip
