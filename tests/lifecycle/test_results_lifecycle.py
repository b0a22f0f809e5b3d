"""Results in the lifecycle, in seconds (the real ASL walked, a fake backend): auto-stop at a poll,
the verdict at Finalize against criteria and a baseline, the report page stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fake_backend import FakeBackend
from support.lifecycle import CALLER, RecordingStarter, run_through, statuses, walk
from support.results import finished_run, summary
from support.scripts import SIMPLE, b64

from load_manager.identity import Caller
from load_manager.ids import now_ms
from load_manager.models.load_tests import CreateLoadTestRequest
from load_manager.models.runs import StartRunRequest
from load_manager.usecases import load_tests, runs

pytestmark = pytest.mark.usefixtures("fast_settings")


def _test(stores) -> str:
    request = CreateLoadTestRequest.model_validate({"name": "results", "scriptContent": b64(SIMPLE), "targetUrl": "http://127.0.0.1:9"})
    return load_tests.create(stores, CALLER, request).id


def _run(stores, test_id: str, **body):
    run, _ = runs.start_run(stores, RecordingStarter, CALLER, test_id, StartRunRequest.model_validate({"durationSeconds": 1, **body}), None)
    return run


def test_criteria_are_judged_once_at_finalize_on_the_final_figures(stores):
    test_id = _test(stores)
    passing = _run(stores, test_id, criteria=[{"metric": "p95Ms", "operator": "<", "threshold": 100}, {"metric": "failRatio", "operator": "<=", "threshold": 0}])
    failing = _run(stores, test_id, criteria=[{"metric": "p95Ms", "operator": "<", "threshold": 100}, {"metric": "p90Ms", "operator": "<", "threshold": 10}])
    for run in (passing, failing):
        run_through(stores, FakeBackend(), run)
    ok, bad = (stores.runs.get("acct", r.id) for r in (passing, failing))
    assert (ok.status, ok.result) == ("Finished", "Passed") and [r.passed for r in ok.criteria_results] == [True, True]
    assert (bad.status, bad.result) == ("Finished", "Failed") and [r.passed for r in bad.criteria_results] == [True, False]
    assert bad.criteria_results[1].actual == 15.0  # p90 comes from the final stats (the fake's CSV figure)
    page = Path(bad.results_report_location).read_text()
    assert 'class="badge Failed"' in page and "&lt; 10" in page
    assert page.count('<span class="fail">failed</span>') == 1 and page.count('<span class="pass">passed</span>') == 1


def test_no_criteria_is_not_evaluated(stores):
    run = _run(stores, _test(stores))
    run_through(stores, FakeBackend(), run)
    final = stores.runs.get("acct", run.id)
    assert (final.status, final.result, final.criteria_results) == ("Finished", "NotEvaluated", [])


def test_a_regression_criterion_fails_against_the_baseline_run(stores):
    test_id = _test(stores)
    revision = stores.revisions.latest("acct", test_id)
    baseline = finished_run("acct", test_id, revision.id, 1, now_ms() - 120_000, 30, summary=summary(p95_ms=10.0, rps=50.0))
    stores.runs.insert(baseline)
    run = _run(stores, test_id, baselineRunId=baseline.id, criteria=[{"metric": "p95Ms", "maxRegressionPercent": 50}, {"metric": "rps", "maxRegressionPercent": 0}])
    assert run.baseline_run_id == baseline.id
    run_through(stores, FakeBackend(), run)
    final = stores.runs.get("acct", run.id)
    grown, steady = final.criteria_results
    assert final.result == "Failed"
    assert (grown.passed, grown.baseline, grown.actual, grown.regression_percent) == (False, 10.0, 20.0, 100.0)
    assert (steady.passed, steady.baseline, steady.actual) == (True, 50.0, 50.0)


def test_a_run_stopped_on_request_is_cancelled_and_not_evaluated(stores):
    test_id = _test(stores)
    run = _run(stores, test_id, durationSeconds=30, criteria=[{"metric": "p95Ms", "operator": "<", "threshold": 100}])
    stopper = Caller(subject="u2", email="sre@example.com", account_id="acct", groups=frozenset())
    backend = FakeBackend()
    backend.on_sample = lambda handle: runs.stop_run(stores, stopper, run.id) if backend.clusters[handle.launch_id].samples >= 1 else None
    walk(stores, backend, run)
    final = stores.runs.get("acct", run.id)
    assert (final.status, final.result, final.stop_reason) == ("Cancelled", "NotEvaluated", None)
    assert final.results_report_location, "a cancelled run has its page too"


def _backdate_start(stores, run_id: str, seconds: int):
    """Pretend the load began `seconds` ago (once), so a window can be full without waiting for it."""

    def hook(_handle) -> None:
        run = stores.runs.get("acct", run_id)
        if run.started_at and now_ms() - run.started_at < seconds * 1000:
            stores.runs.update("acct", run_id, {"started_at": now_ms() - seconds * 1000}, when_status_in={"Running"})

    return hook


def test_auto_stop_ends_the_run_finished_and_failed_saying_why(stores):
    test_id = _test(stores)
    run = _run(stores, test_id, durationSeconds=600, autoStop={"failRatio": 0.9, "windowSeconds": 5},
               criteria=[{"metric": "p95Ms", "operator": "<", "threshold": 100}])  # fmt: skip
    backend = FakeBackend(failures_per_sample=100)  # every request fails
    backend.on_sample = _backdate_start(stores, run.id, 10)
    execution = walk(stores, backend, run)
    final = stores.runs.get("acct", run.id)
    assert execution.status == "SUCCEEDED"
    assert (final.status, final.result) == ("Finished", "Failed")
    assert statuses(stores, run) == ["Pending", "Starting", "Running", "Stopping", "Finished"]
    stopping = final.status_history[3]
    assert stopping.actor == "system" and stopping.reason.startswith("auto-stop: 100.0% of")
    reason = final.stop_reason
    assert (reason.observed_fail_ratio, reason.threshold, reason.window_seconds) == (1.0, 0.9, 5)
    assert final.stop_requested_by == "system" and final.status_history[-1].reason == reason.message
    # It fired at the first poll that saw a whole window (the second: the first had the real start).
    assert execution.attempts["PollRun"] == 2
    assert final.criteria_results[0].passed, "criteria still report; the auto-stop alone failed the run"
    assert not backend.live_clusters()


def test_auto_stop_spares_healthy_runs_and_can_be_disabled(stores):
    test_id = _test(stores)
    healthy = _run(stores, test_id, durationSeconds=1, autoStop={"windowSeconds": 5})
    disabled = _run(stores, test_id, durationSeconds=1, autoStop={"enabled": False})
    for run, failures in ((healthy, 10), (disabled, 100)):
        backend = FakeBackend(failures_per_sample=failures)
        backend.on_sample = _backdate_start(stores, run.id, 10)
        walk(stores, backend, run)
        final = stores.runs.get("acct", run.id)
        assert (final.status, final.stop_reason) == ("Finished", None), run
    assert stores.runs.get("acct", disabled.id).auto_stop.enabled is False


def test_a_failed_run_is_not_evaluated_and_still_gets_its_page(stores):
    run = _run(stores, _test(stores), durationSeconds=30, criteria=[{"metric": "p95Ms", "operator": "<", "threshold": 100}])
    backend = FakeBackend()
    backend.on_sample = lambda handle: backend.crash(handle)
    walk(stores, backend, run)
    final = stores.runs.get("acct", run.id)
    assert (final.status, final.result) == ("Failed", "NotEvaluated")
    assert "LocustCrashedError" in Path(final.results_report_location).read_text()
