"""A finished run's figures: the totals, each endpoint's and each error's. Apart from models/runs.py
so that the results area (comparisons, trends, stats) names them without building the run's own
models (its history, trigger, live figures, usage): 8 ms of the results function's cold import."""

from __future__ import annotations

from load_manager.models.base import ApiModel


class EndpointSummary(ApiModel):
    method: str
    name: str
    requests: int
    failures: int
    avg_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    rps: float


class ErrorSummary(ApiModel):
    method: str
    name: str
    error: str
    occurrences: int


class RunSummary(ApiModel):
    total_requests: int
    total_failures: int
    fail_ratio: float
    rps: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    avg_ms: float | None = None
    max_ms: float | None = None
    duration_seconds: float
