"""The runs ports: runs (every status write conditional, with the run's outbox of events) and their metrics samples."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from load_manager.store.ports.generators import GeneratorReadings

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.analysis.autostop import Counts
    from load_manager.analysis.series import Columns
    from load_manager.models.metrics import MetricsSample
    from load_manager.models.runs import Run, StatusChange
    from load_manager.store.ports.audit import AuditRecord


@dataclass(frozen=True)
class OutboxEvent:
    """An event a run's status change owes the bus (RunStarted, RunFinished). It is written by the
    same store write as the change, kept with the run until it is sent, then removed: an event is
    never lost to a crash between the change and the publish. `event_id` is stable (a redelivery
    carries the same); `status` is the one the event reports, whatever the run's is when it is sent."""

    event_id: str
    detail_type: str
    status: str
    at: int


class RunStore(Protocol):
    """Runs. Every status write is conditional on the current status, so a retried task or a late
    poll can never move a run out of a final state."""

    def insert(self, run: Run, *, audit: AuditRecord | None = None) -> bool:
        """False (and no change, no record) when a run with this id exists already: inserts are retry-safe."""
        ...

    def get(self, account_id: str, run_id: str) -> Run | None: ...

    def list(
        self, account_id: str, test_id: str, *, status: str | None, limit: int, after: tuple[int, str] | None
    ) -> list[Run]: ...

    def transition(
        self, account_id: str, run_id: str, from_statuses: Iterable[str], change: StatusChange, fields: dict[str, Any] | None = None,
        events: Iterable[OutboxEvent] = (),
    ) -> Run | None:
        """Move to `change.status` only if the run is in one of `from_statuses`; None otherwise.
        `events` join the run's outbox in the same write (one whose id is there already is kept)."""
        ...

    def pending_events(self, account_id: str, run_id: str) -> builtins.list[OutboxEvent]:
        """The run's outbox: events written with a status change and not sent yet, oldest first."""
        ...

    def add_events(self, account_id: str, run_id: str, events: Iterable[OutboxEvent]) -> None:
        """Join events to the outbox of a run whatever its status (one whose id is there already is kept)."""
        ...

    def event_sent(self, account_id: str, run_id: str, event_id: str) -> None:
        """Take a published event out of the run's outbox (an unknown id is not an error)."""
        ...

    def with_pending_events(self, written_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        """(account id, run id) of runs of every tenant with an event written before `written_before`
        still in their outbox: the sweeper's leftovers. Indexed."""
        ...

    def update(
        self, account_id: str, run_id: str, fields: dict[str, Any], *, when_status_in: Iterable[str], audit: AuditRecord | None = None
    ) -> Run | None:
        """Set fields (snake_case) only while the run is in one of the given statuses."""
        ...

    def has_active(self, account_id: str, test_id: str) -> bool: ...

    def find_active(self, account_id: str, test_id: str) -> Run | None:
        """The newest active run of the test, if any."""
        ...

    def referenced_revision_ids(self, account_id: str, test_id: str) -> set[str]:
        """Every script revision some run of the test used (those are never pruned)."""
        ...

    def has_active_on_cluster(self, account_id: str, cluster_id: str) -> bool:
        """Is a run of this tenant active on this cluster configuration (an indexed query)."""
        ...

    def list_active(self, created_before: int | None = None, limit: int | None = None) -> builtins.list[Run]:
        """Active runs of every tenant (created before `created_before`, oldest first, at most
        `limit`): for the sweeper and the local runtime's recovery. Indexed on (status, created)."""
        ...

    def ended_among(self, run_ids: Iterable[str], ended_before: int) -> builtins.set[str]:
        """Those of `run_ids` whose run, of any tenant, is final and ended before `ended_before` (a
        final run with no end time counts as ended long ago); ids no run has are left out. For the
        sweeper: clusters still running for such runs are leftovers. By the unique run id."""
        ...

    def claim_handle(self, account_id: str, run_id: str, handle: dict[str, Any]) -> bool:
        """Record the backend's cluster handle unless one is recorded already (one cluster per run)."""
        ...

    def update_handle(self, account_id: str, run_id: str, handle: dict[str, Any]) -> bool:
        """Replace the recorded handle with a fuller one of the same launch (`launch_id`), e.g.
        once begin has learnt the master's address; False when another launch's is recorded."""
        ...

    def get_handle(self, account_id: str, run_id: str) -> dict[str, Any] | None: ...


class MetricsStore(GeneratorReadings, Protocol):
    def append(self, account_id: str, sample: MetricsSample) -> None: ...

    def list(self, account_id: str, run_id: str, *, limit: int) -> list[MetricsSample]:
        """Oldest first."""
        ...

    def buckets(
        self, account_id: str, run_id: str, *, endpoint: str | None, start: int | None, end: int | None, origin: int, step: int
    ) -> Columns:
        """The run's samples with `start <= at <= end` (None: unbounded), downsampled in the store into
        buckets of `step` ms aligned to `origin`, as columns: a value per bucket that has samples,
        oldest first, `time` the bucket's start; users and percentiles the bucket's highest, rates its
        mean rounded to 3 decimals (exactly `analysis.series.downsample`). All requests, or one
        endpoint ("METHOD name"). Read through an index on (run, at); never whole sample documents."""
        ...

    def endpoint_buckets(self, account_id: str, run_id: str, endpoints: Iterable[str], *, origin: int, step: int) -> dict[str, Columns]:
        """The buckets of the whole run of each of `endpoints` ("METHOD name") that has samples: for
        each, what `buckets(endpoint=..., start=None, end=None)` answers. Reads each endpoint row once
        in all (Finalize's cost stays samples x endpoints, never x endpoints again)."""
        ...

    def save_final_series(self, account_id: str, run_id: str, endpoint: str | None, columns_json: str) -> None:
        """Keep a final run's default series (its columns, encoded once): it never changes again."""
        ...

    def save_final_series_batch(self, account_id: str, run_id: str, series: dict[str | None, str]) -> None:
        """`save_final_series` of each (endpoint -> columns_json) in one write."""
        ...

    def final_series(self, account_id: str, run_id: str, endpoint: str | None) -> str | None: ...

    def counts_before(self, account_id: str, run_id: str, at: int) -> Counts | None:
        """Cumulative requests/failures of the latest sample taken at or before `at` (None: no such
        sample, or one stored without counts)."""
        ...

    def latest(self, account_id: str, run_id: str) -> MetricsSample | None: ...
