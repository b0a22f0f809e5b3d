"""Pass/fail criteria: checked when saved (models + `require_baseline`), judged once at Finalize on
Locust's final, master-merged stats (`evaluate`).

A criterion reads one figure of one row: the whole run (Locust's Aggregated row, the run's
`summary`) or one endpoint ("METHOD name"). A fixed criterion compares it with `threshold`; a
regression criterion with the baseline run's same figure: latencies and failRatio may not grow, and
rps may not drop, by more than `maxRegressionPercent`. A figure that is missing (an endpoint without
requests, a baseline without that endpoint) fails its criterion: a gate never passes by default.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from load_manager.models.criteria import Criterion, CriterionResult

if TYPE_CHECKING:  # annotations only: saving criteria (the load tests function) needs no runs models
    from load_manager.models.base import RunResult
    from load_manager.models.run_summaries import EndpointSummary, RunSummary

# Criterion metric -> attribute of RunSummary / EndpointSummary (failRatio is derived for endpoints).
FIELDS = {
    "p50Ms": "p50_ms", "p90Ms": "p90_ms", "p95Ms": "p95_ms", "p99Ms": "p99_ms",
    "avgMs": "avg_ms", "maxMs": "max_ms", "failRatio": "fail_ratio", "rps": "rps",
}  # fmt: skip
HIGHER_IS_BETTER = frozenset({"rps"})
OPERATORS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
ALL_REQUESTS = "all requests"


@dataclass(frozen=True)
class Results:
    """The final figures of one run: its summary and its endpoint rows."""

    summary: RunSummary | None
    endpoints: tuple[EndpointSummary, ...] = ()

    @classmethod
    def of(cls, summary: RunSummary | None, endpoints: Iterable[EndpointSummary]) -> Results:
        return cls(summary, tuple(endpoints))

    def value(self, metric: str, endpoint: str | None) -> float | None:
        if endpoint is None:
            return None if self.summary is None else _number(getattr(self.summary, FIELDS[metric]))
        row = next((e for e in self.endpoints if endpoint_key(e.method, e.name) == endpoint), None)
        if row is None or row.requests == 0:
            return None
        if metric == "failRatio":
            return row.failures / row.requests
        return _number(getattr(row, FIELDS[metric]))


def endpoint_key(method: str, name: str) -> str:
    return f"{method} {name}"


def needs_baseline(criteria: Iterable[Criterion]) -> bool:
    return any(c.max_regression_percent is not None for c in criteria)


def evaluate(criteria: list[Criterion], run: Results, baseline: Results | None) -> tuple[RunResult, list[CriterionResult]]:
    """The run's result and one line per criterion. No criteria, or no figures at all: NotEvaluated."""
    if not criteria or run.summary is None:
        return "NotEvaluated", []
    results = [judge(c, run, baseline) for c in criteria]
    return ("Passed" if all(r.passed for r in results) else "Failed"), results


def judge(criterion: Criterion, run: Results, baseline: Results | None) -> CriterionResult:
    actual = run.value(criterion.metric, criterion.endpoint)
    if criterion.max_regression_percent is None:
        return _fixed(criterion, actual)
    return _regression(criterion, actual, None if baseline is None else baseline.value(criterion.metric, criterion.endpoint))


def _fixed(c: Criterion, actual: float | None) -> CriterionResult:
    assert c.operator is not None and c.threshold is not None  # the model guarantees it
    where = f"{c.metric} of {c.endpoint or ALL_REQUESTS}"
    if actual is None:
        return CriterionResult(criterion=c, actual=None, limit=c.threshold, passed=False, message=f"{where}: no value (no requests)")
    passed = OPERATORS[c.operator](actual, c.threshold)
    verdict = "passed" if passed else "failed"
    return CriterionResult(
        criterion=c, actual=actual, limit=c.threshold, passed=passed,
        message=f"{where} = {_fmt(actual)}, must be {c.operator} {_fmt(c.threshold)}: {verdict}",
    )  # fmt: skip


def _regression(c: Criterion, actual: float | None, base: float | None) -> CriterionResult:
    assert c.max_regression_percent is not None
    allowed = c.max_regression_percent
    where = f"{c.metric} of {c.endpoint or ALL_REQUESTS}"
    if actual is None or base is None:
        missing = "the run" if actual is None else "the baseline"
        return CriterionResult(criterion=c, actual=actual, baseline=base, passed=False, message=f"{where}: {missing} has no value")
    better_high = c.metric in HIGHER_IS_BETTER
    limit = base * (1 - allowed / 100) if better_high else base * (1 + allowed / 100)
    worse_by = regression_percent(c.metric, base, actual)
    passed = actual >= limit if better_high else actual <= limit
    change = "no baseline to grow from" if worse_by is None else f"{worse_by:+.1f} % worse"
    direction = "drop" if better_high else "growth"
    return CriterionResult(
        criterion=c, actual=actual, baseline=base, limit=limit,
        regression_percent=None if worse_by is None or math.isinf(worse_by) else round(worse_by, 3), passed=passed,
        message=f"{where} = {_fmt(actual)} vs baseline {_fmt(base)} ({change}; at most {_fmt(allowed)} % {direction}): "
        f"{'passed' if passed else 'failed'}",
    )  # fmt: skip


def regression_percent(metric: str, base: float, actual: float) -> float | None:
    """How much worse `actual` is than `base`, in % (negative: better). Infinite growth from 0 is None."""
    worse = (base - actual) if metric in HIGHER_IS_BETTER else (actual - base)
    if base == 0:
        return 0.0 if worse <= 0 else None
    return worse / base * 100


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1 else f"{value:,.1f}".rstrip("0").rstrip(".")
