"""Results, as the API serves them: a run's metrics series (usecases/series.py), its stats table, two
runs compared, a test's trend and its baseline. The judging is pure (load_manager.analysis); the
report pages are usecases/report_pages.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from load_manager.analysis.comparison import compare_endpoints, figure_deltas, highlights, summary_figures
from load_manager.analysis.criteria import Results
from load_manager.errors import BaselineRequiredError, NotComparableError
from load_manager.identity import Caller
from load_manager.models.load_test_reads import LoadTest
from load_manager.models.results import (
    ComparedRun,
    EndpointStatsRow,
    RunComparison,
    RunStats,
    SetBaselineRequest,
    TrendPoint,
    Trends,
)
from load_manager.store import Stores
from load_manager.usecases import audit, gates, series
from load_manager.usecases.reads import get_run, get_test

if TYPE_CHECKING:  # annotations only: the runs come from the store, which builds their models (not this area's)
    from load_manager.models.runs import Run

DEFAULT_TRENDS = 100
MAX_TRENDS = 1000


# ---- metrics ------------------------------------------------------------------------------------


def metrics(stores: Stores, caller: Caller, run_id: str, query: series.SeriesQuery) -> series.SeriesAnswer:
    return series.answer(stores, get_run(stores, caller, run_id), query)


# ---- stats --------------------------------------------------------------------------------------


def stats(stores: Stores, caller: Caller, run_id: str) -> RunStats:
    run = get_run(stores, caller, run_id)
    if run.summary is not None:  # the final, master-merged figures
        rows = [
            EndpointStatsRow(**e.model_dump(), fail_ratio=e.failures / e.requests if e.requests else 0.0)
            for e in run.endpoints
        ]
        return RunStats(run_id=run.id, status=run.status, result=run.result, final=True, summary=run.summary, endpoints=rows, errors=run.errors)
    sample = stores.metrics.latest(run.account_id, run.id)  # a run still going: its latest sample
    rows = [_live_row(e) for e in (sample.endpoints if sample else [])]
    return RunStats(run_id=run.id, status=run.status, result=run.result, final=False, endpoints=rows, errors=run.errors)


def _live_row(e: dict) -> EndpointStatsRow:
    requests, failures = int(e.get("requests") or 0), int(e.get("failures") or 0)
    return EndpointStatsRow(
        method=str(e.get("method", "")), name=str(e.get("name", "")), requests=requests, failures=failures,
        fail_ratio=failures / requests if requests else 0.0, p50_ms=e.get("p50Ms"), p95_ms=e.get("p95Ms"), p99_ms=e.get("p99Ms"), rps=e.get("rps"),
    )  # fmt: skip


# ---- comparisons and trends ---------------------------------------------------------------------


def compare(stores: Stores, caller: Caller, base_id: str | None, target_id: str) -> RunComparison:
    target = get_run(stores, caller, target_id)
    base_is_baseline = base_id is None
    if base_id is None:
        test = stores.load_tests.get(caller.account_id, target.load_test_id)
        if test is None or not test.baseline_run_id:
            raise BaselineRequiredError("no `base` given and the run's load test has no baseline run to compare with")
        base_id = test.baseline_run_id
    base = get_run(stores, caller, base_id)
    if base.load_test_id != target.load_test_id:
        raise NotComparableError("the two runs belong to different load tests", details={"base": base.load_test_id, "target": target.load_test_id})
    for side, run in (("base", base), ("target", target)):
        if run.summary is None:
            raise NotComparableError(f"the {side} run {run.id} has no results (it is {run.status})", details={side: run.id})
    base_results, target_results = Results.of(base.summary, base.endpoints), Results.of(target.summary, target.endpoints)
    overall = figure_deltas(summary_figures(base.summary), summary_figures(target.summary))
    endpoints, only_base, only_target = compare_endpoints(base_results, target_results)
    return RunComparison(
        base=_compared(base), target=_compared(target), base_is_baseline=base_is_baseline,
        same_revision=base.script_revision_id == target.script_revision_id, overall=overall, endpoints=endpoints,
        only_in_base=only_base, only_in_target=only_target, highlights=highlights(overall, endpoints, only_base, only_target),
        script_diff=_diff(stores, caller, base, target),
    )  # fmt: skip


def _compared(run: Run) -> ComparedRun:
    return ComparedRun.model_validate(run.model_dump(by_alias=True, include=set(ComparedRun.model_fields)))


def _diff(stores: Stores, caller: Caller, base: Run, target: Run):
    if base.script_revision_id == target.script_revision_id:
        return None
    from load_manager.usecases import scripts  # lazy: the scripts area costs 11 ms at import (bench/cold_import.py --lazy), compare only

    old = scripts.resolve_revision(stores, caller, base.load_test_id, base.script_revision_id)
    new = scripts.resolve_revision(stores, caller, target.load_test_id, target.script_revision_id)
    return scripts.diff_of(stores, target.load_test_id, old, new)


def trends(stores: Stores, caller: Caller, test_id: str, limit: int) -> Trends:
    test = get_test(stores, caller, test_id)
    newest = stores.runs.list(caller.account_id, test_id, status="Finished", limit=limit, after=None)  # indexed, newest first
    return Trends(load_test_id=test.id, baseline_run_id=test.baseline_run_id, items=[_trend_point(r) for r in reversed(newest)])


def _trend_point(run: Run) -> TrendPoint:
    s = run.summary
    return TrendPoint(
        run_id=run.id, created_at=run.created_at, started_at=run.started_at, ended_at=run.ended_at, revision_number=run.revision_number,
        script_revision_id=run.script_revision_id, target_users=run.target_users, result=run.result, stopped_early=run.stop_reason is not None,
        duration_seconds=s.duration_seconds if s else None, total_requests=s.total_requests if s else None, rps=s.rps if s else None,
        fail_ratio=s.fail_ratio if s else None, p50_ms=s.p50_ms if s else None, p95_ms=s.p95_ms if s else None, p99_ms=s.p99_ms if s else None,
    )  # fmt: skip


def set_baseline(stores: Stores, caller: Caller, test_id: str, request: SetBaselineRequest) -> LoadTest:
    def write(test: LoadTest) -> LoadTest | None:
        if request.run_id is None:
            gates.check_criteria(test.criteria, None)  # regression criteria cannot lose their baseline
        else:
            gates.require_baseline_run(stores, caller, test_id, request.run_id)
        changes = {"baseline_run_id": request.run_id, "updated_at": audit.stamp(test.updated_at), "updated_by": caller.actor}
        after = audit.merged(test, changes)
        record = audit.change(caller, "baseline.update", test_id, load_test_id=test_id, before=test, after=after, changed=["baseline_run_id"])
        return stores.load_tests.update(caller.account_id, test_id, changes, audit=record, expect={"updated_at": test.updated_at})

    return audit.until_written(lambda: get_test(stores, caller, test_id), write, "load test")
