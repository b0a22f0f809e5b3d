"""A run's usage, recorded by the step that ends it (the real steps and ASL, a fake backend): ECS tasks'
sizes x their times, local processes' own readings, an estimate when the platform cannot say, nothing
for a run that never launched; written once, whatever a retried step finds later."""

from __future__ import annotations

import json
import time

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER, RecordingStarter, create_run, run_through, walk
from support.scripts import SIMPLE, b64

from load_manager.backends.base import BackendUnavailableError, TaskUsage
from load_manager.backends.generator_stats import GeneratorUsage
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.settings import Settings, set_settings
from load_manager.usecases import load_tests, runs

MIB = 1 << 20
T0 = time.time() - 3600  # epoch seconds: an hour ago


@pytest.fixture(autouse=True)
def settings(tmp_path):
    set_settings(Settings(data_dir=str(tmp_path), min_poll_seconds=1, run_deadline_margin_seconds=60, ecs={"region": "us-east-1"}))
    yield
    set_settings(None)


@pytest.fixture
def on_ecs(tmp_path):
    """Runs go to the ecs backend (the deployment's default), which the fake backend stands for."""
    set_settings(Settings(data_dir=str(tmp_path), min_poll_seconds=1, run_deadline_margin_seconds=60, default_backend="ecs", ecs={"region": "us-east-1"}))


def reading(id: str, role: str, cpu: float, memory_mib: int, index: int | None = None, window: float | None = 1.0) -> GeneratorUsage:  # noqa: A002
    return GeneratorUsage(id=id, role=role, index=index, cpu_percent=cpu, cpu_wait_percent=None, memory_bytes=memory_mib * MIB, window_seconds=window)


def test_a_two_worker_local_run_records_what_its_processes_used_from_their_readings(stores):
    readings = [reading("master", "master", 10.0, 100), reading("node-a", "worker", 80.0, 200, 0), reading("node-b", "worker", 60.0, 300, 1)]
    run, backend = create_run(stores, duration_seconds=3), FakeBackend(generators=readings)
    assert walk(stores, backend, run).status == "SUCCEEDED"
    final = stores.runs.get(run.account_id, run.id)
    samples = stores.metrics.generator_readings(run.account_id, run.id)
    assert len(samples) >= 3
    # What each process used, from the readings the run stored: CPU % x window, RSS x window.
    expected_cpu = sum(r.cpu_percent / 100 * r.window_seconds for _, rs in samples for r in rs)
    expected_memory = sum(r.memory_bytes / (1 << 30) * r.window_seconds for _, rs in samples for r in rs)
    usage = final.usage
    assert usage is not None and usage.basis == "consumed"
    assert usage.vcpu_seconds == pytest.approx(expected_cpu, abs=0.01) and usage.vcpu_seconds == pytest.approx(1.5 * len(samples), abs=0.01)
    assert usage.memory_gb_seconds == pytest.approx(expected_memory, abs=0.01)
    assert [(r.role, r.count) for r in usage.roles] == [("master", 1), ("worker", 2)] and usage.load_generators == 3
    assert usage.duration_seconds == pytest.approx(len(samples))
    assert (usage.estimated_cost.amount, usage.estimated_cost.price_source, usage.estimated_cost.region) == (0.0, "local", None)
    assert "task_usage" not in backend.calls, "local processes are not sized: their readings say what they used"
    # Written with the final status: no reader ever sees the run final without it.
    assert final.status_history[-1].status == "Finished" and final.usage == stores.runs.get(run.account_id, run.id).usage


def test_an_ecs_run_records_its_tasks_sizes_times_their_running_time_priced_for_its_region(stores, on_ecs):
    tasks = [
        TaskUsage(role="master", vcpu=1.0, memory_gb=2.0, started_at=T0, stopped_at=T0 + 100),
        TaskUsage(role="worker", vcpu=1.0, memory_gb=2.0, started_at=T0 + 5, stopped_at=T0 + 95),
        TaskUsage(role="worker", vcpu=1.0, memory_gb=2.0, started_at=T0 + 5, stopped_at=None),  # still stopping: until the teardown
    ]
    run, backend = create_run(stores, duration_seconds=2), FakeBackend(name="ecs", task_usages=tasks)
    run_through(stores, backend, run)
    usage = stores.runs.get(run.account_id, run.id).usage
    assert usage is not None and usage.basis == "allocated" and usage.load_generators == 3
    assert backend.calls.index("task_usage") > backend.calls.index("teardown"), "measured once the tasks were torn down"
    roles = {r.role: r for r in usage.roles}
    assert (roles["master"].count, roles["master"].vcpu_seconds, roles["master"].memory_gb_seconds) == (1, 100.0, 200.0)
    assert roles["worker"].count == 2 and roles["worker"].vcpu_seconds > 90.0  # the second worker ran until now (the teardown)
    assert usage.vcpu_seconds == pytest.approx(roles["master"].vcpu_seconds + roles["worker"].vcpu_seconds)
    cost = usage.estimated_cost
    assert (cost.currency, cost.region, cost.price_source) == ("USD", "us-east-1", "table")
    per_second = (1.0 * 0.04048 + 2.0 * 0.004445) / 3600
    assert cost.amount > per_second * (100 + 90) and cost.amount == pytest.approx(per_second * usage.vcpu_seconds, rel=1e-3)  # billed by the second, rounded up


def test_usage_is_written_once_a_retried_finalize_changes_nothing(stores, on_ecs):
    tasks = [TaskUsage(role="master", vcpu=0.5, memory_gb=1.0, started_at=T0, stopped_at=T0 + 60)]
    run, backend = create_run(stores, duration_seconds=2), FakeBackend(name="ecs", task_usages=tasks)
    run_through(stores, backend, run)
    first = stores.runs.get(run.account_id, run.id).usage
    assert first is not None and first.vcpu_seconds == 30.0
    backend.task_usages = [TaskUsage(role="master", vcpu=4.0, memory_gb=8.0, started_at=T0, stopped_at=T0 + 600)]
    run_step({"action": "finalize", "runId": run.id, "accountId": run.account_id}, stores, backend.factory)
    assert stores.runs.get(run.account_id, run.id).usage == first


def test_a_failed_run_records_its_usage_too_and_an_unreadable_platform_is_estimated(stores, on_ecs):
    run = create_run(stores, duration_seconds=30)
    backend = FakeBackend(name="ecs", task_usages=[])

    def unreachable(_handle):
        raise BackendUnavailableError("ECS throttled")

    backend.on_sample = lambda handle: backend.crash(handle, exit_code=137)
    backend.task_usage = unreachable  # type: ignore[method-assign]
    assert walk(stores, backend, run).status == "FAILED"
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Failed" and final.usage is not None
    # The deployment's task sizes (a 1 vCPU master and one 1 vCPU worker) x the run's own times.
    assert final.usage.basis == "estimated" and final.usage.load_generators == 2
    seconds = (final.ended_at - final.started_at) / 1000
    assert final.usage.vcpu_seconds == pytest.approx(2 * seconds, abs=0.01)


def test_a_run_stopped_before_anything_launched_records_that_it_used_nothing(stores):
    request = CreateLoadTestRequest.model_validate({"name": "stopped", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    test = load_tests.create(stores, CALLER, request)
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test.id, StartRunRequest(), None)
    runs.stop_run(stores, CALLER, run.id)
    backend = FakeBackend()
    assert walk(stores, backend, run).status == "SUCCEEDED"
    final = stores.runs.get(run.account_id, run.id)
    assert final.status == "Cancelled" and "launch" not in backend.calls
    assert final.usage is not None and (final.usage.vcpu_seconds, final.usage.load_generators, final.usage.estimated_cost.amount) == (0.0, 0, 0.0)
    assert json.loads(final.model_dump_json(by_alias=True))["usage"]["estimatedCost"]["priceSource"] == "local"
