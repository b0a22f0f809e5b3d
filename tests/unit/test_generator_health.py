"""Generator health (analysis/generators.py), judged from synthetic samples: what counts as saturated
(demand over 90 % of a core for more than 10 % of the observed time), and the edges: few readings,
gaps between samples, readings without a window, several generators, the series' buckets."""

from __future__ import annotations

import pytest

from load_manager.analysis import generators
from load_manager.models.generators import GeneratorReading

T0 = 1_700_000_000_000


def reading(cpu: float, wait: float | None = 0.0, *, id: str = "local", role: str = "local", index: int | None = None,  # noqa: A002
            window: float | None = 1.0, memory: int | None = 50 << 20) -> GeneratorReading:  # fmt: skip
    return GeneratorReading(id=id, role=role, index=index, cpu_percent=cpu, cpu_wait_percent=wait, memory_bytes=memory, window_seconds=window)


def every_second(values: list[GeneratorReading | list[GeneratorReading]]) -> list[tuple[int, list[GeneratorReading]]]:
    return [(T0 + i * 1000, v if isinstance(v, list) else [v]) for i, v in enumerate(values)]


def test_a_process_burning_a_core_is_saturated_with_its_figures():
    health = generators.judge(every_second([reading(99.0)] * 8))
    assert health is not None and health.saturated
    (locust,) = health.generators
    assert (locust.generator, locust.samples, locust.samples_above, locust.share_above, locust.peak_percent) == ("locust", 8, 8, 1.0, 99.0)
    assert locust.judged and locust.saturated and locust.observed_seconds == 8.0 and locust.peak_memory_bytes == 50 << 20
    assert "locust spent 100% of its time above 90 % of a core (peak 99 %)" in health.message
    assert "may understate what the target can do" in health.message


def test_an_ordinary_run_is_not_saturated():
    health = generators.judge(every_second([reading(8.0, 3.0), reading(12.0, 9.0), reading(30.0, 5.0), reading(6.0, 1.0)]))
    assert health is not None and not health.saturated and health.generators[0].judged
    assert health.message == "No load generator was saturated (highest demand 35 % of a core)."


def test_a_generator_starved_by_its_neighbours_is_saturated_too():
    """A busy loop on a shared machine gets 40 % of a core and waits the rest: its CPU alone looks fine."""
    health = generators.judge(every_second([reading(40.0, 59.0)] * 5))
    assert health is not None and health.saturated and health.generators[0].peak_cpu_percent == 40.0


def test_the_threshold_and_the_share_are_strict():
    at_90 = generators.judge(every_second([reading(90.0)] * 10))
    assert at_90 is not None and not at_90.saturated  # "above 90 %"
    one_in_ten = generators.judge(every_second([reading(100.0)] + [reading(10.0)] * 9))
    assert one_in_ten is not None and one_in_ten.generators[0].share_above == 0.1 and not one_in_ten.saturated  # "more than 10 %"
    two_in_ten = generators.judge(every_second([reading(100.0)] * 2 + [reading(10.0)] * 8))
    assert two_in_ten is not None and two_in_ten.saturated


def test_the_share_is_of_time_so_a_missed_poll_is_counted_not_lost():
    """Each reading covers the time since the one before: after a missed poll the next window is longer."""
    samples = [(T0, [reading(10.0)]), (T0 + 1000, [reading(10.0)]), (T0 + 4000, [reading(100.0, window=3.0)]), (T0 + 5000, [reading(10.0)])]
    health = generators.judge(samples)
    assert health is not None
    figures = health.generators[0]
    assert (figures.samples, figures.samples_above, figures.observed_seconds, figures.share_above) == (4, 1, 6.0, 0.5)


def test_heartbeat_readings_stand_for_the_usual_interval_even_across_a_gap():
    """Locust's own worker figure has no window: each stands for the run's usual interval (the median
    gap between samples), so one reading after a long gap does not speak for the whole gap."""
    times = [0, 5000, 10_000, 15_000, 60_000]
    cpu = [10.0, 10.0, 10.0, 10.0, 100.0]
    samples = [(T0 + t, [reading(c, None, id="w1", role="worker", index=0, window=None)]) for t, c in zip(times, cpu, strict=True)]
    health = generators.judge(samples)
    assert health is not None
    worker = health.generators[0]
    assert worker.generator == "worker 0" and worker.observed_seconds == 25.0 and worker.share_above == 0.2 and worker.saturated


@pytest.mark.parametrize(
    "samples",
    [
        every_second([reading(100.0)]),  # one reading: maybe Locust starting, maybe nothing
        [(T0, [reading(100.0, window=0.4)]), (T0 + 400, [reading(100.0, window=0.4)]), (T0 + 800, [reading(100.0, window=0.4)])],  # 1.2 s
    ],
    ids=["one reading", "too little time"],
)
def test_too_few_readings_judge_nothing(samples):
    health = generators.judge(samples)
    assert health is not None and not health.saturated and not health.generators[0].judged
    assert health.message == "Too few generator readings to judge (a very short run)."


def test_no_reading_at_all_is_no_verdict():
    assert generators.judge([]) is None


def test_one_saturated_worker_marks_the_run_and_is_named_first():
    master = reading(2.0, 1.0, id="master", role="master")
    busy = reading(97.0, 2.0, id="node-b", role="worker", index=1)
    calm = reading(20.0, 1.0, id="node-a", role="worker", index=0)
    # The busy worker misses the second sample: its next window is 2 s long.
    samples = [(T0, [master, calm, busy]), (T0 + 1000, [master, calm]), (T0 + 2000, [master, calm, busy.model_copy(update={"window_seconds": 2.0})])]
    health = generators.judge(samples)
    assert health is not None and health.saturated
    assert [(f.generator, f.saturated) for f in health.generators] == [("worker 1", True), ("master", False), ("worker 0", False)]
    assert health.generators[0].observed_seconds == 3.0 and "worker 1 spent 100%" in health.message and "worker 0" not in health.message


def test_series_buckets_keep_each_generators_highest_reading():
    master = reading(5.0, 1.0, id="master", role="master", memory=10)
    samples = [
        (T0 + 100, [master, reading(50.0, 10.0, id="w", role="worker", index=0, memory=30)]),
        (T0 + 600, [master.model_copy(update={"cpu_percent": 7.0, "memory_bytes": 5}), reading(95.0, None, id="w", role="worker", index=0, memory=20)]),
        (T0 + 1200, [master]),
    ]
    lines = generators.series(samples, origin=T0, step=1000)
    assert [line.generator for line in lines] == ["master", "worker 0"]
    master_line, worker_line = lines
    assert master_line.time == [T0, T0 + 1000] and master_line.cpu_percent == [7.0, 5.0] and master_line.memory_bytes == [10, 10]
    assert worker_line.time == [T0] and worker_line.cpu_percent == [95.0] and worker_line.cpu_wait_percent == [10.0] and worker_line.memory_bytes == [30]
