"""The Locust backend port: what the run lifecycle needs from any place Locust can run.

Every Step Functions task is a separate Lambda invocation, so a backend keeps no state between
calls: `launch` returns a `ClusterHandle` holding everything later calls need; the lifecycle stores
`handle.to_dict()` with the run and rebuilds it with `ClusterHandle.from_dict`.

Percentiles always come from Locust's master (which merges the workers' histograms); they are
never averaged here. Times are milliseconds, rates are per second. Parsing Locust's JSON into
these types lives in `locust_stats`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .generator_stats import GeneratorUsage

# Locust runner states, as `/stats/requests` reports them.
STATE_READY = "ready"
STATE_SPAWNING = "spawning"
STATE_RUNNING = "running"
STATE_STOPPED = "stopped"
STATE_MISSING = "missing"
LOAD_ACTIVE_STATES = frozenset({STATE_SPAWNING, STATE_RUNNING})

# The entry's path in the bundle: relative, no `..`, a Python file (bundle paths are checked on save).
_SCRIPT_NAME = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\x00\\]+\.py$")


# ---- errors: `retryable` is what the run lifecycle's error contract reads (lifecycle/step_errors) --


class BackendError(Exception):
    """The backend could not do what was asked."""

    retryable = False


class BackendUnavailableError(BackendError):
    """What runs Locust could not be reached or did not answer (its web API, the cloud's API).
    Transient: the cluster may well be fine, so the lifecycle retries the step."""

    retryable = True


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
    """Locust (or one of its workers) died after a successful start; `exit_code` and `log_tail` say how."""


class LocalBackendRefusedError(BackendError):
    """A run asked for the local backend inside AWS Lambda: tenant code would run in the control
    plane, with its role's credentials. Refused before anything starts; never retried."""

    def __init__(self) -> None:
        super().__init__(
            "the local Locust backend does not run inside AWS Lambda (tenant code would run in the control plane); "
            "configure an ecs cluster for this scope"
        )


# ---- what to run, and how to reach it again -----------------------------------------------------


@dataclass(frozen=True)
class ClusterSpec:
    """What to run. `workers` is the number of Locust worker processes (1 = a single process).
    `script` is the entry locustfile (at `script_name`, a path in the bundle); `files` every other
    file of the bundle by path (helper modules, data, requirements.txt)."""

    run_id: str
    script: str
    target_url: str
    users: int
    spawn_rate: float
    duration_seconds: int
    workers: int = 1
    script_name: str = "locustfile.py"
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)
    # The launch this spec is for, recorded with the run before launching (empty: a new random id),
    # so a launch that died before its handle was stored can be found again (`find_launches`).
    launch_id: str = ""
    # The run's load profile, (durationSeconds, users, spawnRate) per stage (empty: a constant load),
    # run by the loader's shape; and the CSV files of the bundle each worker keeps its own share of.
    load_profile: tuple[tuple[int, int, float], ...] = ()
    data_split: tuple[str, ...] = ()
    # The run's variables and secrets (name -> value): every Locust process's environment, delivered
    # privately (never in a task's overrides, a handle or a file left behind); kept out of repr.
    run_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Every file Locust's -f loads, in order (a bundle's entries: several files, folders expanded);
    # empty: `script_name` alone.
    locustfiles: tuple[str, ...] = ()

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
            raise ValueError("script_name must be a relative path to a Python file, e.g. locustfile.py")

    @property
    def has_requirements(self) -> bool:
        return "requirements.txt" in self.files

    def process_env(self) -> dict[str, str]:
        """The environment of a Locust process this machine starts itself (the local backend): the
        backend's own variables, then the run's. A remote one gets `run_env` through its archive."""
        return {**dict(self.env), **dict(self.run_env)}


@dataclass
class ClusterHandle:
    """Everything needed to reach a started cluster later, from any process. JSON-serialisable.

    `launch_id` names one launch of a run: the lifecycle records it (`launched=False`, an intent)
    before launching, so a retry finds that launch's cluster instead of starting a second one.
    `details` is backend-specific (local: pid, pgid, work dir, paths; ecs: task ARNs, the master's
    IP once begin has learnt it)."""

    backend: str
    run_id: str
    web_url: str
    workers: int
    started_at: float  # epoch seconds
    launch_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    launched: bool = True  # False: a launch about to happen, recorded first (no cluster known yet)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterHandle:
        # Unknown keys are ignored: a handle stored by a newer version must still tear down.
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["details"] = dict(values.get("details") or {})
        return cls(**values)


# ---- what Locust reports ------------------------------------------------------------------------


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
    p90_ms: float | None = None  # only in the final results (Locust's live stats carry no p90)
    current_fail_per_sec: float = 0.0  # Locust's recent window, like current_rps


@dataclass(frozen=True)
class ErrorStats:
    method: str
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class LiveStats:
    """One sample of a running cluster (the master's `GET /stats/requests`).

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
    generators: list[GeneratorUsage] = field(default_factory=list)  # each Locust process's CPU and memory (generator_stats)

    @property
    def load_active(self) -> bool:
        return self.state in LOAD_ACTIVE_STATES

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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TaskUsage:
    """One load generator a platform sized (an ECS task): its size and when it ran (epoch seconds;
    None where the platform did not say, e.g. a task still stopping)."""

    role: str  # master | worker
    vcpu: float
    memory_gb: float
    started_at: float | None
    stopped_at: float | None


@dataclass(frozen=True)
class ProcessStatus:
    """Is the cluster alive. `reason` says what ended it (which process or task, and how)."""

    alive: bool
    exit_code: int | None  # None while alive, or when nobody could record it (killed as a group)
    log_tail: str = ""
    reason: str = ""


@runtime_checkable
class LocustBackend(Protocol):
    """Each call stands alone: everything it needs is in the handle."""

    name: str

    def start(self, spec: ClusterSpec) -> ClusterHandle:
        """launch + begin. Raises LocustStartError (after tearing down whatever it started)."""
        ...

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        """Create the cluster (processes or tasks) and return its handle without waiting for it,
        so the lifecycle records the handle before anything slow can time out."""
        ...

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        """Wait for the cluster, start the swarm, return once the load is confirmed active. What it
        learns (addresses, worker ids) is written into `handle`, for the caller to store once.
        Idempotent on an active cluster. Raises LocustStartError after tearing the cluster down."""
        ...

    def sample(self, handle: ClusterHandle) -> LiveStats:
        """Current stats. Raises LocustCrashedError when Locust is gone."""
        ...

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        """Is every process of the cluster alive, and if not, how did it end. Never raises for a
        dead cluster."""
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
        """Stop everything and delete what launch created. Idempotent; never raises for "already
        gone". Returns the last known status (the log is gone afterwards)."""
        ...

    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]:
        """The clusters this backend still runs for the run (of one launch, or of any), as handles
        `teardown` (and `begin`, to adopt one) can take: how a launch whose handle was never
        recorded (the caller died after launching) is found again. Empty when there is none."""
        ...

    def live_launches(self) -> list[ClusterHandle]:
        """Every launch this backend still has, of any run, oldest first, as handles `teardown`
        takes (local: the work dirs under its base dir; ecs: the tagged tasks running in the
        deployment's cluster). How a sweeper finds a cluster whose run has ended but whose teardown
        failed. A listing, bounded by what the platform returns in a few calls."""
        ...

    def task_usage(self, handle: ClusterHandle) -> list[TaskUsage] | None:
        """What the cluster's generators were given and for how long, as the platform records it
        (ecs: every task of the launch, master and workers, stopped ones too), read once it is torn
        down. None: the platform sizes nothing (local processes; their own readings say what they used)."""
        ...
