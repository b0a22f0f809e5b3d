"""Results, as the results API answers them: metrics series, stats tables, comparisons, trends,
report links and the baseline."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel, RequestModel, RunResult, RunStatus
from load_manager.models.criteria import CriterionResult, StopReason
from load_manager.models.revisions import ScriptDiff
from load_manager.models.run_summaries import EndpointSummary, ErrorSummary, RunSummary


class SeriesColumns(ApiModel):
    """Chart-ready columns, one value per point: `time[i]` is the start of point i's bucket."""

    time: list[int] = Field(default_factory=list, description="Bucket starts, epoch ms")
    users: list[int | None] = Field(default_factory=list)
    rps: list[float | None] = Field(default_factory=list)
    failures_per_second: list[float | None] = Field(default_factory=list)
    p50_ms: list[float | None] = Field(default_factory=list)
    p95_ms: list[float | None] = Field(default_factory=list)
    p99_ms: list[float | None] = Field(default_factory=list)


class MetricsSeries(SeriesColumns):
    """A run's time series, downsampled on the server to at most 1,000 points. A point summarises the
    samples of its bucket: `users` and the percentiles are the highest any sample in the bucket
    reported (percentiles are never averaged), `rps` and `failuresPerSecond` the mean of the samples'
    rates. Buckets without a sample have no point."""

    run_id: str
    endpoint: str | None = Field(default=None, description='The "METHOD name" filter, null for all requests')
    origin: int = Field(description="Epoch ms the buckets are aligned to (the run's start)")
    step_ms: int = Field(description="Bucket width (the run's own, fixed at start, unless `step`, `from` or `to` say otherwise)")
    window_start: int
    window_end: int
    complete: bool = Field(description="The run is final: no point will be added or change")
    next_since: str | None = Field(
        default=None, description="Cursor for the next poll: pass as `since` to get only newer points (the last point may be re-sent, updated)"
    )
    percentiles: str = Field(description="What the percentile columns are: Locust's ~10 s window, or cumulative since start")


class EndpointStatsRow(ApiModel):
    method: str
    name: str
    requests: int
    failures: int
    fail_ratio: float
    avg_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    p50_ms: float | None = Field(default=None, description="Median")
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rps: float | None = None


class RunStats(ApiModel):
    run_id: str
    status: RunStatus
    result: RunResult
    final: bool = Field(description="false: a running run's latest sample (no avg/min/max/p90 until it ends)")
    summary: RunSummary | None = None
    endpoints: list[EndpointStatsRow] = Field(default_factory=list)
    errors: list[ErrorSummary] = Field(default_factory=list)


class Delta(ApiModel):
    base: float | None = None
    target: float | None = None
    absolute: float | None = Field(default=None, description="target - base")
    percent: float | None = Field(default=None, description="(target - base) / base * 100; null when base is 0 or missing")
    worse: bool | None = Field(default=None, description="The change is a regression (rps: lower; everything else: higher)")


class FigureDeltas(ApiModel):
    requests: Delta
    failures: Delta
    fail_ratio: Delta
    rps: Delta
    avg_ms: Delta
    p50_ms: Delta
    p90_ms: Delta
    p95_ms: Delta
    p99_ms: Delta
    max_ms: Delta


class EndpointComparison(ApiModel):
    endpoint: str = Field(description='"METHOD name"')
    method: str
    name: str
    deltas: FigureDeltas


class OneSidedEndpoint(ApiModel):
    endpoint: str
    method: str
    name: str
    stats: EndpointSummary


class Highlight(ApiModel):
    endpoint: str | None = Field(description="null: all requests")
    metric: str = Field(description="the figure, named as in the deltas and criteria: p95Ms, rps, failRatio or requests")
    delta: Delta | None = None
    message: str


class ComparedRun(ApiModel):
    id: str
    load_test_id: str
    status: RunStatus
    result: RunResult
    script_revision_id: str
    revision_number: int
    script_sha256: str
    target_users: int
    duration_seconds: int
    workers: int
    started_at: int | None = None
    ended_at: int | None = None
    summary: RunSummary | None = None
    criteria_results: list[CriterionResult] = Field(default_factory=list)
    stop_reason: StopReason | None = None


class RunComparison(ApiModel):
    base: ComparedRun
    target: ComparedRun
    base_is_baseline: bool = Field(description="`base` was not given: the test's baseline run was used")
    same_revision: bool
    overall: FigureDeltas
    endpoints: list[EndpointComparison] = Field(description="Endpoints on both sides, the biggest p95 regression first")
    only_in_base: list[OneSidedEndpoint] = Field(default_factory=list)
    only_in_target: list[OneSidedEndpoint] = Field(default_factory=list)
    highlights: list[Highlight] = Field(default_factory=list, description="What changed most, in words, worst first")
    script_diff: ScriptDiff | None = Field(default=None, description="Unified diff base -> target when the revisions differ")


class TrendPoint(ApiModel):
    run_id: str
    created_at: int
    started_at: int | None = None
    ended_at: int | None = None
    revision_number: int
    script_revision_id: str
    target_users: int
    duration_seconds: float | None = None
    total_requests: int | None = None
    rps: float | None = None
    fail_ratio: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    result: RunResult
    stopped_early: bool = Field(default=False, description="Auto-stop ended it")


class Trends(ApiModel):
    load_test_id: str
    baseline_run_id: str | None = None
    items: list[TrendPoint] = Field(description="Finished runs, oldest first")


class ReportLink(ApiModel):
    """Where to open a report page (`?format=link`): a browser tab opened by the console carries no token."""

    url: str = Field(description="In AWS a presigned S3 URL of the stored page; locally the page's own API path (no token needed)")
    expires_in_seconds: int | None = Field(description="How long the URL works (the presign lifetime); null: it does not expire")


class SetBaselineRequest(RequestModel):
    run_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        description="A Finished run of this test; null clears the baseline"
    )
