"""The local backend against real Locust processes and the real example target, on loopback only.

Each test runs a few seconds of bounded load (a handful of users). Every cluster is torn down in a
`finally`, and every test then checks that no process of it is left: this machine's init does not
reap orphans, so "left" means a process that is not a zombie.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid
from pathlib import Path

import psutil
import pytest

from load_manager.backends.base import (
    ClusterHandle,
    ClusterSpec,
    LiveStats,
    LocustBackend,
    LocustCrashedError,
    LocustStartError,
)
from load_manager.backends.local import LocalLocustBackend

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

USERS = 5


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    return tmp_path / "clusters"


@pytest.fixture
def backend(work_root: Path) -> LocalLocustBackend:
    work_root.mkdir()
    return LocalLocustBackend(base_dir=str(work_root))


@pytest.fixture
def run_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clusters(backend: LocalLocustBackend, work_root: Path, run_id: str):
    """Start clusters through `clusters.start(spec)`; all are torn down however the test ends, and
    then nothing of them may remain: no live process, no work directory."""
    started: list[ClusterHandle] = []

    class Clusters:
        @staticmethod
        def start(spec: ClusterSpec) -> ClusterHandle:
            handle = backend.start(spec)
            started.append(handle)
            return handle

    try:
        yield Clusters
    finally:
        for handle in started:
            backend.teardown(handle)
    for handle in started:
        assert live_group_members(handle.details["pgid"]) == []
    assert processes_of_run(run_id) == []
    assert list(work_root.iterdir()) == []


def spec_for(run_id: str, script: str, target_url: str, *, users: int = USERS, workers: int = 1) -> ClusterSpec:
    return ClusterSpec(
        run_id=run_id,
        script=script,
        target_url=target_url,
        users=users,
        spawn_rate=users * 2,  # all users up within the first second
        duration_seconds=30,
        workers=workers,
    )


def sample_for(backend: LocalLocustBackend, handle: ClusterHandle, seconds: float) -> list[LiveStats]:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        samples.append(backend.sample(handle))
    return samples


def live_group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (psutil.Error, ProcessLookupError):
            pass
    return members


def processes_of_run(run_id: str) -> list[psutil.Process]:
    """Live processes whose command line mentions this run's work directory."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and any(f"locust-{run_id}-" in arg for arg in process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass
    return found


def free_port_with_nothing_listening() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_counts_match(served_by_route: dict[str, int], results_endpoints, users: int) -> None:
    """The target counts a request when it arrives, Locust when the answer is back: the target may
    be ahead by the requests still in flight at stop (at most one per user), never behind."""
    reported = {f"{e.method} {e.name.replace('[id]', '{id}')}": e.num_requests for e in results_endpoints}
    assert set(reported) == set(served_by_route)
    for route, count in reported.items():
        assert count <= served_by_route[route] <= count + users, route


def test_backend_satisfies_the_port():
    assert isinstance(LocalLocustBackend(), LocustBackend)


def test_happy_path_counts_match_the_target(backend, clusters, target, run_id, example_locustfile):
    handle = clusters.start(spec_for(run_id, example_locustfile, target.url))
    json.dumps(handle.to_dict())  # the orchestrator stores it in the run document

    samples = sample_for(backend, handle, seconds=6)
    assert all(s.state in ("spawning", "running") for s in samples)
    assert samples[-1].user_count == USERS
    assert samples[-1].current_rps > 0 and samples[-1].total_requests > 0
    assert samples[-1].worker_count is None  # a single process

    backend.stop_load(handle)
    results = backend.collect(handle)
    served = target.total_requests()

    total = results.aggregated.num_requests
    assert 0 < total <= served <= total + USERS + total * 0.02
    assert_counts_match(target.stats()["byRoute"], results.endpoints, USERS)
    assert results.aggregated.num_failures == 0 and results.errors == []

    aggregated = results.aggregated
    assert 0 < aggregated.p50_ms <= aggregated.p95_ms <= aggregated.p99_ms <= aggregated.max_ms
    slow = next(e for e in results.endpoints if e.name == "/slow")
    assert slow.p50_ms >= 50  # the target sleeps 50 ms there
    assert results.html_report and "<html" in results.html_report[:1000].lower()
    assert len(results.html_report) > 10_000

    assert backend.status(handle).alive  # collecting leaves Locust up; teardown ends it
    final = backend.teardown(handle)
    assert not final.alive
    assert final.exit_code == 0
    assert "Aggregated" in final.log_tail  # Locust's closing stats table, read before the log was deleted


def test_two_worker_processes_counts_match(backend, clusters, target, run_id, example_locustfile):
    handle = clusters.start(spec_for(run_id, example_locustfile, target.url, workers=2))
    assert handle.details["master_port"]

    samples = sample_for(backend, handle, seconds=5)
    assert samples[-1].worker_count == 2
    assert samples[-1].user_count == USERS
    # Each worker process measures itself for the master (generator_usage loaded in every process):
    # windows of its own, never Locust's 10 s heartbeat figures (window None) once it has reported.
    workers = [g for sample in samples for g in sample.generators if g.role == "worker"]
    assert len({g.id for g in workers if g.window_seconds is not None}) == 2, workers
    assert all(g.window_seconds is not None for g in samples[-1].generators if g.role == "worker"), samples[-1].generators

    results = backend.collect(handle)  # stops the load itself
    served = target.total_requests()

    total = results.aggregated.num_requests
    assert 0 < total <= served <= total + USERS + total * 0.02
    assert_counts_match(target.stats()["byRoute"], results.endpoints, USERS)
    assert results.aggregated.p95_ms > 0


def test_script_raising_at_import_fails_the_start(clusters, target, run_id):
    script = "from locust import HttpUser, task\n\nraise RuntimeError('boom at import time')\n"

    with pytest.raises(LocustStartError) as raised:
        clusters.start(spec_for(run_id, script, target.url))

    assert raised.value.exit_code not in (None, 0)
    assert "boom at import time" in raised.value.log_tail
    assert target.total_requests() == 0


def test_script_without_user_class_fails_the_start(clusters, target, run_id):
    # Imports fine but defines no user class: Locust refuses to start.
    with pytest.raises(LocustStartError) as raised:
        clusters.start(spec_for(run_id, "x = 1\n", target.url))
    assert raised.value.exit_code not in (None, 0)
    assert raised.value.log_tail


def test_killed_master_is_reported_by_a_fresh_backend(backend, clusters, target, run_id, work_root, example_locustfile):
    handle = clusters.start(spec_for(run_id, example_locustfile, target.url))
    assert backend.sample(handle).state in ("spawning", "running")

    os.kill(handle.details["pid"], signal.SIGKILL)

    # A later Lambda invocation: a new backend and the handle as stored in the run document.
    stored = ClusterHandle.from_dict(json.loads(json.dumps(handle.to_dict())))
    fresh = LocalLocustBackend(base_dir=str(work_root))
    deadline = time.monotonic() + 30
    while (status := fresh.status(stored)).alive and time.monotonic() < deadline:
        time.sleep(0.1)

    assert not status.alive
    assert status.exit_code == 128 + signal.SIGKILL  # the shell's way of saying "killed by signal 9"
    assert "Starting Locust" in status.log_tail
    with pytest.raises(LocustCrashedError) as raised:
        fresh.sample(stored)
    assert raised.value.exit_code == 137

    fresh.teardown(stored)
    assert live_group_members(stored.details["pgid"]) == []
    assert not Path(stored.details["work_dir"]).exists()


def test_teardown_stops_workers_orphaned_by_a_dead_master(backend, clusters, target, run_id, example_locustfile):
    handle = clusters.start(spec_for(run_id, example_locustfile, target.url, users=4, workers=2))
    os.kill(handle.details["pid"], signal.SIGKILL)
    time.sleep(0.5)

    backend.teardown(handle)

    assert live_group_members(handle.details["pgid"]) == []
    served = target.total_requests()
    time.sleep(1.0)
    assert target.total_requests() == served  # no load after teardown


def test_target_down_counts_failures_without_crashing(backend, clusters, run_id, example_locustfile):
    dead_url = f"http://127.0.0.1:{free_port_with_nothing_listening()}"
    handle = clusters.start(spec_for(run_id, example_locustfile, dead_url, users=3))

    samples = sample_for(backend, handle, seconds=4)
    assert samples[-1].total_requests > 0
    assert samples[-1].fail_ratio == pytest.approx(1.0)
    assert backend.status(handle).alive

    results = backend.collect(handle)
    assert results.aggregated.num_failures == results.aggregated.num_requests > 0
    assert results.fail_ratio == pytest.approx(1.0)
    assert results.errors and all("Connection" in e.error for e in results.errors)
    assert sum(e.occurrences for e in results.errors) == results.aggregated.num_failures


def test_teardown_twice_is_fine(backend, clusters, target, run_id, work_root, example_locustfile):
    handle = clusters.start(spec_for(run_id, example_locustfile, target.url, users=2))

    first = backend.teardown(handle)
    second = LocalLocustBackend(base_dir=str(work_root)).teardown(ClusterHandle.from_dict(handle.to_dict()))

    assert not first.alive and not second.alive
    assert live_group_members(handle.details["pgid"]) == []
    assert not backend.status(handle).alive
