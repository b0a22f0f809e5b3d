"""Generator health in the lifecycle, in seconds (the real steps, a fake backend that reports each
Locust process's CPU): samples carry the readings, Finalize judges them beside the criteria, and the
run, its report page, the generators API and RunFinished all say when a generator was saturated."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER, RecordingStarter, run_through
from support.scripts import SIMPLE, b64

from load_manager.backends.generator_stats import GeneratorUsage
from load_manager.lifecycle import notify
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import generators, load_tests, runs

pytestmark = pytest.mark.usefixtures("fast_settings")
CRITERIA = [{"metric": "failRatio", "operator": "<=", "threshold": 0.01}]


def usage(id: str, role: str, cpu: float, wait: float | None = 1.0, index: int | None = None) -> GeneratorUsage:  # noqa: A002
    return GeneratorUsage(id=id, role=role, index=index, cpu_percent=cpu, cpu_wait_percent=wait, memory_bytes=80 << 20, window_seconds=1.0)


def _run(stores, readings: list[GeneratorUsage], polls: int = 4):
    request = CreateLoadTestRequest.model_validate({"name": "gen", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    test_id = load_tests.create(stores, CALLER, request).id
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test_id, StartRunRequest.model_validate({"durationSeconds": 1, "criteria": CRITERIA}), None)
    run_through(stores, FakeBackend(generators=readings), run, polls=polls)
    return stores.runs.get("acct", run.id)


def test_a_saturated_worker_marks_the_run_whose_criteria_are_still_judged(stores):
    final = _run(stores, [usage("master", "master", 4.0), usage("node-a", "worker", 20.0, index=0), usage("node-b", "worker", 60.0, 39.0, index=1)])
    assert (final.status, final.result, [r.passed for r in final.criteria_results]) == ("Finished", "Passed", [True])
    assert final.generator_saturated is True
    worst = final.generator_health.generators[0]
    assert (worst.generator, worst.samples, worst.share_above, worst.peak_percent, worst.peak_cpu_percent) == ("worker 1", 4, 1.0, 99.0, 60.0)
    assert [g.saturated for g in final.generator_health.generators] == [True, False, False]

    page = Path(final.results_report_location).read_text()
    assert 'data-testid="generator-saturated"' in page and "worker 1 spent 100% of its time above 90 % of a core (peak 99 %)" in page

    answer = generators.run_generators(stores, CALLER, final.id)
    assert answer.complete and answer.generator_saturated is True and answer.health == final.generator_health
    assert [(line.generator, line.cpu_percent[:1]) for line in answer.generators] == [("master", [4.0]), ("worker 0", [20.0]), ("worker 1", [60.0])]
    assert len({tuple(line.time) for line in answer.generators}) == 1 and answer.generators[0].time[0] >= answer.origin  # polled within one bucket

    detail = notify.detail(final, notify.run_finished(final.id, "Finished", final.ended_at))
    assert detail["result"] == "Passed" and detail["generatorSaturated"] is True
    assert detail["generatorHealth"]["message"] == final.generator_health.message
    assert [g["generator"] for g in detail["generatorHealth"]["saturated"]] == ["worker 1"]


def test_a_healthy_run_says_so_and_a_run_without_readings_is_not_judged(stores):
    healthy = _run(stores, [usage("local", "local", 12.0)])
    assert healthy.generator_saturated is False and healthy.generator_health.message.startswith("No load generator was saturated")
    assert 'data-testid="generator-saturated"' not in Path(healthy.results_report_location).read_text()
    detail = notify.detail(healthy, notify.run_finished(healthy.id, "Finished", healthy.ended_at))
    assert (detail["generatorSaturated"], detail["generatorHealth"]) == (False, None)

    silent = _run(stores, [])  # a Locust without the plugin
    assert (silent.generator_saturated, silent.generator_health) == (None, None)
    short = _run(stores, [usage("local", "local", 100.0)], polls=1)  # one reading: too few to judge
    assert short.generator_saturated is None and not short.generator_health.generators[0].judged
    assert generators.run_generators(stores, CALLER, silent.id).generators == []
