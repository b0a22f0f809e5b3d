"""The metrics store's generator readings (store/ports/generators.py), on every adapter: what each
sample carried, oldest first, samples without readings left out, one run and one tenant only."""

from __future__ import annotations

from load_manager.models.generators import GeneratorReading
from load_manager.models.records import MetricsSample


def sample(run_id: str, at: int, readings: list[GeneratorReading], endpoints: int = 3) -> MetricsSample:
    rows = [{"method": "GET", "name": f"/e{i}", "requests": i, "failures": 0, "rps": 1.0, "failuresPerSecond": 0.0} for i in range(endpoints)]
    return MetricsSample(run_id=run_id, at=at, users=5, rps=10.0, failures_per_second=0.0, endpoints=rows, generators=readings)


def reading(cpu: float, **fields) -> GeneratorReading:
    return GeneratorReading(id=fields.pop("id", "local"), role=fields.pop("role", "local"), cpu_percent=cpu, **fields)


def test_generator_readings_are_the_samples_own_oldest_first_per_run_and_tenant(any_stores):
    master = reading(3.5, id="master", role="master", cpu_wait_percent=1.25, memory_bytes=60_000_000, window_seconds=1.002)
    worker = reading(97.0, id="host_abc", role="worker", index=0, cpu_wait_percent=None, memory_bytes=None, window_seconds=None)
    any_stores.metrics.append("acct", sample("run-1", 3000, [master]))
    any_stores.metrics.append("acct", sample("run-1", 1000, [master, worker]))
    any_stores.metrics.append("acct", sample("run-1", 2000, []))  # Locust said nothing this time
    any_stores.metrics.append("acct", sample("run-2", 1500, [worker]))
    any_stores.metrics.append("other", sample("run-1", 1200, [worker]))

    assert any_stores.metrics.generator_readings("acct", "run-1") == [(1000, [master, worker]), (3000, [master])]
    assert any_stores.metrics.generator_readings("acct", "run-2") == [(1500, [worker])]
    assert any_stores.metrics.generator_readings("other", "run-2") == []
    assert any_stores.metrics.generator_readings("acct", "no-such-run") == []
    # The sample itself keeps them too (the API's latest sample, a later reader).
    assert any_stores.metrics.latest("acct", "run-1").generators == [master]
