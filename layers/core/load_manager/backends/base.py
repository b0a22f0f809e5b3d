"""The Locust backend port: what the run workflow needs from any place Locust can run.

Every Step Functions task is a separate Lambda invocation, so a backend keeps no state between
calls: `start` returns a `ClusterHandle` holding everything later calls need, the orchestrator
stores `handle.to_dict()` in the run document and rebuilds it with `ClusterHandle.from_dict`.

Percentiles always come from Locust's master (which merges the workers' histograms); they are
never averaged here. Times are milliseconds, rates are per second.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

# Locust runner states, as `/stats/requests` reports them.
STATE_READY = "ready"
STATE_SPAWNING = "spawning"
STATE_RUNNING = "running"
STATE_CLEANUP = "cleanup"
STATE_STOPPING = "stopping"
STATE_STOPPED = "stopped"
STATE_MISSING = "missing"
LOAD_ACTIVE_STATES = frozenset({STATE_SPAWNING, STATE_RUNNING})

AGGREGATED_ROW = "Aggregated"
_SCRIPT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


class BackendError(Exception):
    """The backend could not do what was asked (the cluster may still be fine: retry or tear down)."""


class _LocustProcessError(BackendError):
    def __init__(self, message: str, *, exit_code: int | None = None, log_tail: str = ""):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.log_tail = log_tail

    def __str__(self) -> str:
        # This text becomes the run's failureReason (through Step Functions' error cause): the
        # last log lines are what tells a user why Locust died.
        code = "" if self.exit_code is None else f" (exit code {self.exit_code})"
        tail = "\n".join(self.log_tail.strip().splitlines()[-12:])[-2000:]
        return f"{self.message}{code}" + (f"; last Locust log lines:\n{tail}" if tail else "")


class LocustStartError(_LocustProcessError):
    """Locust never got to run the load: the script raised at import, bad arguments, the swarm never
    started. Whatever was started has already been torn down when this is raised."""


class LocustCrashedError(_LocustProcessError):
    """Locust died after a successful start; `exit_code` and `log_tail` say how."""


@dataclass(frozen=True)
class ClusterSpec:
    """What to run. `workers` is the number of Locust worker processes (1 = a single process)."""

    run_id: str
    script: str
    target_url: str
    users: int
    spawn_rate: float
    duration_seconds: int
    workers: int = 1
    script_name: str = "locustfile.py"
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ValueError("users must be >= 1")
        if not self.spawn_rate > 0:
            raise ValueError("spawn_rate must be > 0")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.duration_seconds < 1:
            raise ValueError("duration_seconds must be >= 1")
        # The name becomes a file and a Python module name: no paths, no surprises.
        if not _SCRIPT_NAME.match(self.script_name):
            raise ValueError("script_name must be a plain Python file name, e.g. locustfile.py")


@dataclass
class ClusterHandle:
    """Everything needed to reach a started cluster later, from any process. JSON-serialisable.

    `details` is backend-specific (local: pid, pgid, work_dir, paths; ecs: task ARNs)."""

    backend: str
    run_id: str
    web_url: str
    workers: int
    started_at: float  # epoch seconds
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterHandle:
        # Unknown keys are ignored: a handle stored by a newer version must still tear down.
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["details"] = dict(values.get("details") or {})
        return cls(**values)


@dataclass(frozen=True)
class EndpointStats:
    """One row of Locust's stats: cumulative since the swarm started."""

    method: str
    name: str
    num_requests: int
    num_failures: int
    avg_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float  # average over the whole run so far
    current_rps: float  # Locust's recent window (roughly the last 10 s, excluding the last 2 s)

    @classmethod
    def from_locust_row(cls, row: Mapping[str, Any]) -> EndpointStats:
        return cls(
            method=row.get("method") or "",
            name=str(row.get("name", "")),
            num_requests=int(row.get("num_requests") or 0),
            num_failures=int(row.get("num_failures") or 0),
            avg_ms=_number(row.get("avg_response_time")),
            min_ms=_number(row.get("min_response_time")),
            max_ms=_number(row.get("max_response_time")),
            p50_ms=_number(row.get("median_response_time")),
            p95_ms=_number(row.get("response_time_percentile_0.95")),
            p99_ms=_number(row.get("response_time_percentile_0.99")),
            rps=_number(row.get("total_rps")),
            current_rps=_number(row.get("current_rps")),
        )


@dataclass(frozen=True)
class ErrorStats:
    method: str
    name: str
    error: str
    occurrences: int

    @classmethod
    def from_locust_row(cls, row: Mapping[str, Any]) -> ErrorStats:
        return cls(
            method=row.get("method") or "",
            name=str(row.get("name", "")),
            error=str(row.get("error", "")),
            occurrences=int(row.get("occurrences") or 0),
        )


@dataclass(frozen=True)
class LiveStats:
    """One sample of a running cluster, parsed from the master's `GET /stats/requests`.

    p50/p95/p99 are cumulative since the swarm started (the Aggregated row); `current_p50_ms` and
    `current_p95_ms` are Locust's sliding ~10 s window (it computes no current p99) and are None
    until there is recent data. Locust caches this payload for ~2 s and its first seconds of RPS
    are noise, so a chart should not read much into the first sample."""

    state: str
    user_count: int
    worker_count: int | None  # None when Locust runs as a single process
    current_rps: float
    average_rps: float
    failures_per_second: float
    fail_ratio: float
    total_requests: int
    total_failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    current_p50_ms: float | None
    current_p95_ms: float | None
    endpoints: list[EndpointStats]
    errors: list[ErrorStats]

    @property
    def load_active(self) -> bool:
        return self.state in LOAD_ACTIVE_STATES

    @classmethod
    def from_locust_json(cls, payload: Mapping[str, Any]) -> LiveStats:
        aggregated, endpoints = _split_rows(payload)
        current = payload.get("current_response_time_percentiles") or {}
        worker_count = payload.get("worker_count")
        return cls(
            state=str(payload.get("state") or STATE_MISSING),
            user_count=int(payload.get("user_count") or 0),
            worker_count=None if worker_count is None else int(worker_count),
            current_rps=_number(payload.get("current_rps")),
            average_rps=_number(payload.get("total_rps")),
            failures_per_second=_number(payload.get("current_fail_per_sec")),
            fail_ratio=_number(payload.get("fail_ratio")),
            total_requests=aggregated.num_requests,
            total_failures=aggregated.num_failures,
            p50_ms=aggregated.p50_ms,
            p95_ms=aggregated.p95_ms,
            p99_ms=aggregated.p99_ms,
            current_p50_ms=_optional_number(current.get("response_time_percentile_0.5")),
            current_p95_ms=_optional_number(current.get("response_time_percentile_0.95")),
            endpoints=endpoints,
            errors=_errors(payload),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class FinalResults:
    """What a run leaves behind, read from the master after the load has stopped."""

    aggregated: EndpointStats
    endpoints: list[EndpointStats]
    errors: list[ErrorStats]
    fail_ratio: float
    html_report: str | None  # Locust's self-contained HTML report (about 1 MB)
    exit_code: int | None  # None while Locust is still up, which it normally is at collect time
    log_tail: str

    @classmethod
    def from_locust_json(
        cls, payload: Mapping[str, Any], *, html_report: str | None, exit_code: int | None, log_tail: str
    ) -> FinalResults:
        aggregated, endpoints = _split_rows(payload)
        return cls(
            aggregated=aggregated,
            endpoints=endpoints,
            errors=_errors(payload),
            fail_ratio=_number(payload.get("fail_ratio")),
            html_report=html_report,
            exit_code=exit_code,
            log_tail=log_tail,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ProcessStatus:
    alive: bool
    exit_code: int | None  # None while alive, or when nobody could record it (killed as a group)
    log_tail: str = ""


@runtime_checkable
class LocustBackend(Protocol):
    """Each call stands alone: everything it needs is in the handle."""

    name: str

    def start(self, spec: ClusterSpec) -> ClusterHandle:
        """launch + begin. Raises LocustStartError (after tearing down whatever it started)."""
        ...

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        """Create the cluster (processes or tasks) and return its handle without waiting for it,
        so the orchestrator records the handle before anything slow can time out."""
        ...

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        """Wait for the cluster, start the swarm, return once the load is confirmed active.
        Idempotent on an active cluster. Raises LocustStartError after tearing the cluster down."""
        ...

    def sample(self, handle: ClusterHandle) -> LiveStats:
        """Current stats. Raises LocustCrashedError when Locust is gone."""
        ...

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        """Is Locust alive, and if not, how did it end. Never raises for a dead cluster."""
        ...

    def stop_load(self, handle: ClusterHandle) -> None:
        """Stop the users; Locust stays up so its stats can still be collected."""
        ...

    def collect(self, handle: ClusterHandle) -> FinalResults:
        """Final stats and report. Stops the load first if it still runs, and waits until every
        worker's last report has reached the master. Call it before anything could wipe stats
        (a new swarm, a stats reset, teardown)."""
        ...

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        """Stop everything and delete what start created. Idempotent; never raises for "already gone".
        Returns the last known status (the log is gone afterwards)."""
        ...


def _split_rows(payload: Mapping[str, Any]) -> tuple[EndpointStats, list[EndpointStats]]:
    """(the Aggregated row, every other row). Locust puts Aggregated last, with no method."""
    rows = [row for row in payload.get("stats") or [] if isinstance(row, Mapping)]
    endpoints = [EndpointStats.from_locust_row(row) for row in rows if not _is_aggregated(row)]
    aggregated_row = next((row for row in reversed(rows) if _is_aggregated(row)), None)
    return EndpointStats.from_locust_row(aggregated_row or {"name": AGGREGATED_ROW}), endpoints


def _errors(payload: Mapping[str, Any]) -> list[ErrorStats]:
    rows = payload.get("errors") or []
    return [ErrorStats.from_locust_row(row) for row in rows if isinstance(row, Mapping)]


def _is_aggregated(row: Mapping[str, Any]) -> bool:
    return row.get("name") == AGGREGATED_ROW and not row.get("method")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _optional_number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
