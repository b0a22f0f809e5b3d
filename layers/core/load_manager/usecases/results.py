"""Results, as the API serves them: a run's metrics series, its stats table, its report page, two
runs compared, a test's trend and its baseline. The judging is pure (load_manager.analysis)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from load_manager.analysis.comparison import compare_endpoints, figure_deltas, highlights, summary_figures
from load_manager.analysis.criteria import Results, endpoint_key
from load_manager.analysis.series import Columns, bucket_of, step_for
from load_manager.errors import BadRequestError, BaselineRequiredError, InvalidCursorError, NotComparableError, ReportNotFoundError
from load_manager.identity import Caller
from load_manager.ids import now_ms
from load_manager.models import (
    FINAL_STATUSES,
    ComparedRun,
    EndpointStatsRow,
    LoadTest,
    MetricsSeries,
    ReportLink,
    Run,
    RunComparison,
    RunStats,
    SeriesColumns,
    SetBaselineRequest,
    TrendPoint,
    Trends,
)
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.store import Stores
from load_manager.usecases import gates, load_tests, scripts
from load_manager.usecases.runs import get_run

DEFAULT_TRENDS = 100
MAX_TRENDS = 1000
PERCENTILES_ALL = "p50/p95: Locust's ~10 s window at each sample; p99: cumulative since the run started"
PERCENTILES_ENDPOINT = "cumulative since the run started (Locust keeps no per-endpoint window)"


# ---- metrics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesQuery:
    start: int | None = None  # `from`, epoch ms
    end: int | None = None  # `to`, epoch ms
    step: int | None = None  # ms
    endpoint: str | None = None
    since: str | None = None


@dataclass(frozen=True)
class SeriesAnswer:
    """A metrics answer: the series, or (a final run's default series) its header and the columns as
    they were encoded at Finalize, joined without decoding them again."""

    series: MetricsSeries
    encoded_columns: str | None = None

    def json(self) -> str:
        if self.encoded_columns is None:
            return self.series.model_dump_json(by_alias=True)
        head = self.series.model_dump_json(by_alias=True, exclude=set(SeriesColumns.model_fields))
        return head[:-1] + "," + self.encoded_columns[1:]


def metrics(stores: Stores, caller: Caller, run_id: str, query: SeriesQuery) -> SeriesAnswer:
    run = get_run(stores, caller, run_id)
    if run.status in FINAL_STATUSES and run.series_step_ms and query == SeriesQuery(endpoint=query.endpoint):
        stored = stores.metrics.final_series(run.account_id, run.id, query.endpoint)
        if stored is not None:
            return SeriesAnswer(_series_model(run, query, *_default_window(run), Columns(), _cursor_after(run, stored)), stored)
    return SeriesAnswer(series_of(stores, run, query))


def store_final_series(stores: Stores, run: Run) -> None:
    """At Finalize: encode the final run's default series (all requests and each endpoint) once. Every
    endpoint's buckets come from one pass over the samples and are kept in one write: a query per
    endpoint would read every sample's endpoint rows once per endpoint."""
    if not run.series_step_ms:
        return
    overall = series_of(stores, run, SeriesQuery())
    encoded: dict[str | None, str] = {None: _encoded(overall)}
    keys = [endpoint_key(e.method, e.name) for e in run.endpoints]
    by_endpoint = stores.metrics.endpoint_buckets(run.account_id, run.id, keys, origin=overall.origin, step=overall.step_ms)
    for key in keys:
        encoded[key] = _encoded(by_endpoint.get(key) or Columns())
    stores.metrics.save_final_series_batch(run.account_id, run.id, encoded)


def _encoded(columns: Columns | SeriesColumns) -> str:
    fields = {name: getattr(columns, name) for name in SeriesColumns.model_fields}
    return SeriesColumns.model_construct(**fields).model_dump_json(by_alias=True)


def _default_window(run: Run) -> tuple[int, int, tuple[int, int]]:
    origin = run.started_at or run.created_at
    return origin, run.series_step_ms or 0, (origin, max(origin + run.duration_seconds * 1000, run.ended_at or 0))


def _cursor_after(run: Run, encoded: str) -> str:
    # The last bucket's start: found at the end of the encoded `time` column, without decoding it all.
    times = encoded[encoded.index('"time":[') + 8 : encoded.index("]", encoded.index('"time":['))]
    last = int(times.rsplit(",", 1)[-1]) if times else (run.started_at or run.created_at)
    return encode_cursor([run.series_step_ms or 0, max(last, 0)])


def series_of(stores: Stores, run: Run, query: SeriesQuery) -> MetricsSeries:
    if query.start is not None and query.end is not None and query.start > query.end:
        raise BadRequestError("`from` is after `to`", code="InvalidWindow")
    origin = run.started_at or run.created_at
    # The default window is the whole run and its step the one fixed at start (older runs: computed),
    # so a live client polls with the same step from the first sample to the last.
    window_start = origin if query.start is None else query.start
    window_end = query.end if query.end is not None else max(origin + run.duration_seconds * 1000, run.ended_at or 0)
    own_step = run.series_step_ms if run.started_at else None
    custom = query.start is not None or query.end is not None or query.step not in (None, own_step)
    step = own_step if own_step and not custom else step_for(window_end - window_start, query.step)
    read_from = query.start
    if query.since:
        step, read_from = _since(query, window_start)
    columns = stores.metrics.buckets(run.account_id, run.id, endpoint=query.endpoint, start=read_from, end=query.end, origin=origin, step=step)
    last = columns.time[-1] if columns.time else (read_from if read_from is not None else bucket_of(window_start, origin, step))
    return _series_model(run, query, origin, step, (window_start, window_end), columns, encode_cursor([step, max(last, 0)]))


def _since(query: SeriesQuery, window_start: int) -> tuple[int, int]:
    """(step, first bucket to read) from a `since` cursor; it fixes the step."""
    step, bucket = decode_cursor(query.since, int, int) or (0, 0)
    if step < 1 or (query.step is not None and query.step != step):
        raise InvalidCursorError("`since` is a nextSince of an earlier answer; it fixes the step, so omit `step` or pass the same")
    return step, max(bucket, query.start or bucket)


def _series_model(run: Run, query: SeriesQuery, origin: int, step: int, window: tuple[int, int], c: Columns, cursor: str) -> MetricsSeries:
    # Built without validation: every value comes from our own store (up to 7,000 of them), typed.
    return MetricsSeries.model_construct(
        run_id=run.id, endpoint=query.endpoint, origin=origin, step_ms=step, window_start=window[0], window_end=window[1],
        complete=run.status in FINAL_STATUSES, next_since=cursor,
        percentiles=PERCENTILES_ENDPOINT if query.endpoint else PERCENTILES_ALL,
        time=c.time, users=c.users, rps=c.rps, failures_per_second=c.failures_per_second, p50_ms=c.p50_ms, p95_ms=c.p95_ms, p99_ms=c.p99_ms,
    )  # fmt: skip


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
    old = scripts.resolve_revision(stores, caller, base.load_test_id, base.script_revision_id)
    new = scripts.resolve_revision(stores, caller, target.load_test_id, target.script_revision_id)
    return scripts.diff_of(stores, target.load_test_id, old, new)


def trends(stores: Stores, caller: Caller, test_id: str, limit: int) -> Trends:
    test = load_tests.get(stores, caller, test_id)
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
    test = load_tests.get(stores, caller, test_id)
    if request.run_id is None:
        gates.check_criteria(test.criteria, None)  # regression criteria cannot lose their baseline
    else:
        gates.require_baseline_run(stores, caller, test_id, request.run_id)
    updated = stores.load_tests.update(
        caller.account_id, test_id, {"baseline_run_id": request.run_id, "updated_at": now_ms(), "updated_by": caller.actor}
    )
    return updated or load_tests.get(stores, caller, test_id)


# ---- report pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """An HTML page to answer with, or a URL to redirect to (a presigned S3 URL in AWS)."""

    html: str | None = None
    redirect: str | None = None


def report(stores: Stores, caller: Caller, run_id: str) -> Page:
    return _run_page(stores, get_run(stores, caller, run_id))


def _run_page(stores: Stores, run: Run) -> Page:
    from load_manager.adapters.reports import is_s3, presigned_url, read_local

    location = run.results_report_location
    if location and is_s3(location):
        return Page(redirect=presigned_url(location) + _locust_fragment(run))
    stored = read_local(location) if location else None
    return Page(html=stored if stored is not None else render_run_report(stores, run))


def _locust_fragment(run: Run) -> str:
    """The page is static; the fragment (never sent to S3) hands it a fresh link to Locust's report."""
    from load_manager.adapters.reports import is_s3, presigned_url

    return f"#locust={quote(presigned_url(run.report_location), safe='')}" if run.report_location and is_s3(run.report_location) else ""


def locust_report(stores: Stores, caller: Caller, run_id: str) -> Page:
    from load_manager.adapters.reports import is_s3, presigned_url, read_local

    run = get_run(stores, caller, run_id)
    location = run.report_location
    if location and is_s3(location):
        return Page(redirect=presigned_url(location))
    html = read_local(location) if location else None
    if html is None:
        raise ReportNotFoundError(f"run {run_id} has no Locust report (it is {run.status})")
    return Page(html=html)


def render_run_report(stores: Stores, run: Run) -> str:
    from load_manager.report import render

    test = stores.load_tests.get(run.account_id, run.load_test_id)
    series = series_of(stores, run, SeriesQuery())
    return render.run_page(run, test.name if test else None, series, locust_href=f"/v1/runs/{run.id}/locust-report")


def comparison_report(stores: Stores, caller: Caller, base_id: str | None, target_id: str) -> Page:
    return Page(html=_comparison_page(stores, caller, compare(stores, caller, base_id, target_id)))


def _comparison_page(stores: Stores, caller: Caller, comparison: RunComparison) -> str:
    from load_manager.report import render

    base, target = (get_run(stores, caller, side.id) for side in (comparison.base, comparison.target))
    test = stores.load_tests.get(caller.account_id, target.load_test_id)
    series = [series_of(stores, run, SeriesQuery()) for run in (base, target)]
    return render.comparison_page(comparison, test.name if test else None, *series)


# ---- links to report pages (`?format=link`): a tab the console opens carries no token ----------------


def report_link(stores: Stores, caller: Caller, run_id: str) -> ReportLink:
    """In AWS the stored page's presigned URL (what GET …/report redirects to); a page rendered per
    request (no page was kept at Finalize) is stored first. Locally the page's API path."""
    from load_manager.adapters.reports import in_s3, save_rendered_run_report

    run = get_run(stores, caller, run_id)
    if not in_s3():
        return _local_link(f"/v1/runs/{quote(run.id, safe='')}/report")
    page = _run_page(stores, run)
    if page.redirect:
        return _presigned_link(page.redirect)
    return _stored_link(save_rendered_run_report(run.account_id, run.id, page.html or ""), _locust_fragment(run))


def locust_report_link(stores: Stores, caller: Caller, run_id: str) -> ReportLink:
    page = locust_report(stores, caller, run_id)  # a run without Locust's report: 404, as the page itself
    if page.redirect:
        return _presigned_link(page.redirect)
    return _local_link(f"/v1/runs/{quote(run_id, safe='')}/locust-report")


def comparison_report_link(stores: Stores, caller: Caller, base_id: str | None, target_id: str) -> ReportLink:
    """In AWS the page is rendered and stored (one object per account and pair of runs, overwritten:
    final runs render the same page) and its presigned URL answered; locally the page's API URL."""
    from load_manager.adapters.reports import in_s3, save_comparison_report

    comparison = compare(stores, caller, base_id, target_id)
    base, target = comparison.base.id, comparison.target.id
    if not in_s3():
        return _local_link(f"/v1/runs/compare/report?{urlencode({'base': base, 'target': target})}")
    html = _comparison_page(stores, caller, comparison)
    return _stored_link(save_comparison_report(caller.account_id, base, target, html))


def _presigned_link(url: str) -> ReportLink:
    from load_manager.adapters.reports import PRESIGNED_SECONDS

    return ReportLink(url=url, expires_in_seconds=PRESIGNED_SECONDS)


def _stored_link(location: str, fragment: str = "") -> ReportLink:
    from load_manager.adapters.reports import presigned_url

    return _presigned_link(presigned_url(location) + fragment)


def _local_link(path: str) -> ReportLink:
    return ReportLink(url=path, expires_in_seconds=None)
