"""A run's metrics samples as its poll writes them and the stores keep them: only stored, never
answered as they are (the series and stats are: models/results.py). Named in models/records.py too."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from load_manager.models.base import ApiModel
from load_manager.models.generators import GeneratorReading


class MetricsSample(ApiModel):
    run_id: str
    at: int
    users: int
    rps: float
    failures_per_second: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    total_requests: int | None = Field(default=None, description="Cumulative since the swarm started")
    total_failures: int | None = Field(default=None, description="Cumulative since the swarm started")
    endpoints: list[dict[str, Any]] = Field(
        default_factory=list, description="Per endpoint: cumulative requests/failures, current rps/failuresPerSecond, cumulative p50/p95/p99"
    )
    generators: list[GeneratorReading] = Field(default_factory=list, description="Each Locust process's CPU and memory over the window")
