"""The run's duration is a hard stop, shape or no shape: the real steps walked over the real ASL by
`support.asl` on a fake clock, with a backend that plays Locust running a shape (a LoadTestShape
ignores Locust's --run-time, so nothing but the control plane would end it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from support import asl
from support.clock import FakeClock
from support.fake_backend import FakeBackend
from support.lifecycle import ASL, CALLER, RecordingStarter
from support.scripts import b64

from load_manager.backends.base import ClusterHandle, ClusterSpec, LiveStats
from load_manager.ids import now_ms
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import load_tests, runs

pytestmark = pytest.mark.usefixtures("fast_settings")

SCRIPT_WITH_A_600_S_SHAPE = """from locust import HttpUser, LoadTestShape, constant, task


class Shopper(HttpUser):
    wait_time = constant(1)

    @task
    def browse(self):
        self.client.get("/")


class TenMinutes(LoadTestShape):
    def tick(self):
        return (7, 7) if self.get_run_time() < 600 else None
"""


@dataclass
class ShapeBackend(FakeBackend):
    """Locust running the script's shape: 7 users until 600 s after the swarm, whatever the run says.
    Records the specs it was given and when (fake clock) the load was stopped."""

    specs: list[ClusterSpec] = field(default_factory=list)
    swarm_at: int | None = None
    stopped_at: int | None = None

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        self.specs.append(spec)
        return super().launch(spec)

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        super().begin(handle, spec)
        self.swarm_at = now_ms()

    def sample(self, handle: ClusterHandle) -> LiveStats:
        stats = super().sample(handle)
        shape_on = self.stopped_at is None and now_ms() - (self.swarm_at or 0) < 600_000
        return LiveStats(**{**stats.__dict__, "state": "running" if shape_on else "stopped", "user_count": 7 if shape_on else 0})

    def collect(self, handle: ClusterHandle):
        self.stopped_at = now_ms()  # collect stops the load first (POST /stop kills the shape's greenlet)
        return super().collect(handle)


def _run(stores, body: dict, script: str):
    request = CreateLoadTestRequest.model_validate({"name": "shape", "scriptContent": b64(script), "targetUrl": "http://127.0.0.1:9"})
    test = load_tests.create(stores, CALLER, request)
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test.id, StartRunRequest.model_validate(body), None)
    return run


def _walk(stores, backend, run, clock):
    return asl.run(ASL, lambda event: run_step(event, stores, backend.factory), {"runId": run.id, "accountId": run.account_id}, clock=clock)


def test_a_600_s_script_shape_under_a_20_s_run_ends_at_20_s(stores):
    run = _run(stores, {"durationSeconds": 20}, SCRIPT_WITH_A_600_S_SHAPE)
    backend, clock = ShapeBackend(), FakeClock()
    execution = _walk(stores, backend, run, clock)
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "SUCCEEDED" and final.status == "Finished"
    (spec,) = backend.specs
    assert spec.load_profile == () and spec.duration_seconds == 20, "the script's own shape runs as written"
    # The shape would have gone on for 600 s: the control plane stopped it at the run's 20 s (its
    # polls are 1 s apart here; in AWS, MIN_POLL_SECONDS), then Locust's stop.
    assert 20_000 <= backend.stopped_at - final.started_at <= 21_000
    assert 20_000 <= final.ended_at - final.started_at <= 21_000
    assert stores.metrics.list(run.account_id, run.id, limit=100)[-1].users == 7, "the shape was still running"
    assert not backend.live_clusters()


def test_a_profile_is_handed_to_the_backend_and_its_total_is_the_runs_duration(stores):
    profile = {"stages": [{"durationSeconds": 3, "users": 10}, {"durationSeconds": 4, "users": 30, "spawnRate": 5}, {"durationSeconds": 2, "users": 0}]}
    run = _run(stores, {"loadProfile": profile, "workers": 2}, SCRIPT_WITH_A_600_S_SHAPE)
    assert (run.duration_seconds, run.target_users, run.spawn_rate) == (9, 30, 30.0)  # the fastest stage change
    backend, clock = ShapeBackend(), FakeClock()
    assert _walk(stores, backend, run, clock).status == "SUCCEEDED"
    (spec,) = backend.specs
    # Spawn rates filled in where the profile gave none: the change in users takes about a second.
    assert spec.load_profile == ((3, 10, 10.0), (4, 30, 5.0), (2, 0, 30.0)) and spec.duration_seconds == 9 and spec.users == 30
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Finished" and 9_000 <= backend.stopped_at - final.started_at <= 10_000
