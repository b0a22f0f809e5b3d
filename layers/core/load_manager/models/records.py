"""Records that are only stored, never answered as they are: the metrics samples a run's poll
writes, and a revision as its store keeps it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from load_manager.models.base import ApiModel
from load_manager.models.scripts import ScriptRevisionSummary


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


class StoredRevision(ScriptRevisionSummary):
    """A revision as stored: the API summary plus its tenant and (when loaded) its text."""

    account_id: str
    content: str | None = None
