"""Store ports: one per aggregate. Adapters: `mongo/` (AWS) and `sqlite/` (local default).

Every method takes the tenant (`account_id`) and filters by it: a record of another tenant is
indistinguishable from a missing one.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: importing every area's models here cost each function its own area's import time
    from load_manager.analysis.autostop import Counts
    from load_manager.analysis.series import Columns
    from load_manager.models.automation import EventSource, Schedule, ScheduleOccurrence, Trigger, TriggerFiring
    from load_manager.models.clusters import ClusterConfig
    from load_manager.models.load_tests import LastRun, LoadTest, LoadTestListItem
    from load_manager.models.records import MetricsSample, StoredRevision
    from load_manager.models.runs import Run, StatusChange

# Optimistic appends retry on a lost race; this bounds the worst case under heavy contention.
MAX_APPEND_ATTEMPTS = 200


class LoadTestStore(Protocol):
    def insert(self, test: LoadTest) -> None: ...

    def get(self, account_id: str, test_id: str) -> LoadTest | None: ...

    def list(self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None) -> list[LoadTestListItem]:
        """Newest first by (createdAt, id); `after` is the last key of the previous page. Each test
        with its `lastRun` and `trend`, read with it (a test stored before they existed gets them
        from its runs on its first listing)."""
        ...

    def record_run(self, account_id: str, test_id: str, run: LastRun) -> None:
        """Record a run's state on its test: `lastRun` unless it holds a newer run (createdAt, then
        run id) or the same run further along; a Finished run joins `trend` (once, the newest
        TREND_RUNS kept). Atomic per test, any order, any number of times.

        Kept on the test rather than joined at read: MongoDB has no index-bounded "newest run per
        test" for a page of tests ($group over $in scans every run of them; mongomock has no $lookup
        pipeline), so the list stays one indexed read whatever the number of runs. The lifecycle
        records at StartRun and through the run's outbox (lifecycle/notify.py), so a crash between a
        status change and its record is repaired by the next drain."""
        ...

    def update(self, account_id: str, test_id: str, changes: dict[str, Any]) -> LoadTest | None:
        """Apply field changes (snake_case names) and return the new state, or None if absent."""
        ...

    def advance_latest_revision(self, account_id: str, test_id: str, revision: StoredRevision) -> None:
        """Point the test at `revision` unless it already points at a higher number."""
        ...

    def delete(self, account_id: str, test_id: str, deleted_at: int, deleted_by: str) -> bool:
        """Soft delete: revisions stay, so runs that used them can still be reproduced."""
        ...


class RevisionStore(Protocol):
    """Revisions and the content-addressed blobs of their bundle files.

    A revision's document holds its metadata, its manifest (`files`: path, size, sha256 of every
    file) and the entry's text (`content`); every other file's bytes are a blob keyed by
    (tenant, sha256): immutable, written once, shared by every revision that has the same bytes."""

    def append(
        self, draft: StoredRevision, *, skip_if_same_as_latest: bool, blobs: Mapping[str, bytes] | None = None
    ) -> tuple[StoredRevision, bool]:
        """Store `draft` as the next revision number, atomically (numbers 1..N, contiguous, unique),
        with the blobs its manifest names (sha256 -> bytes; ones already stored are kept as they are).

        With `skip_if_same_as_latest`, a snapshot identical (sha256: the bundle digest) to the latest
        creates nothing and returns (latest, False). `draft.revision_number` is ignored: the store
        assigns it.
        """
        ...

    def get_blobs(self, account_id: str, digests: Iterable[str]) -> dict[str, bytes]:
        """The tenant's blobs among `digests` (sha256 -> bytes); missing ones are left out."""
        ...

    def latest(self, account_id: str, test_id: str) -> StoredRevision | None: ...

    def get(self, account_id: str, test_id: str, revision_id: str) -> StoredRevision | None: ...

    def get_by_number(self, account_id: str, test_id: str, number: int) -> StoredRevision | None: ...

    def list(self, account_id: str, test_id: str, *, limit: int, before_number: int | None) -> list[StoredRevision]:
        """Newest first, without content."""
        ...

    # Retention. Pruning keeps the revision's record (a tombstone: number, sha256, author, time,
    # prunedAt) and drops its content, in two steps so a run created meanwhile can be noticed.

    def prune_candidates(self, account_id: str, test_id: str, *, below_number: int) -> builtins.list[StoredRevision]:
        """Revisions numbered below `below_number` whose content is still stored (not pruned, or
        marked by a pruning that did not finish), without content, oldest first."""
        ...

    def set_pruned(self, account_id: str, test_id: str, revision_ids: Iterable[str], pruned_at: int | None) -> builtins.list[str]:
        """Mark revisions pruned (`pruned_at`), or unmark them (None) while their content is still
        there; returns the ids whose mark changed. Reading a marked revision answers 410."""
        ...

    def drop_content(self, account_id: str, test_id: str, revision_ids: Iterable[str]) -> int:
        """Delete the content of marked revisions (only those); returns how many lost it."""
        ...

    # Blob collection (mark and sweep). `append` stamps every blob it is given with the draft's
    # `created_at` (`touchedAt`), even one already stored, before the revision naming it is written.

    def blobs_touched_before(self, account_id: str, cutoff: int) -> builtins.set[str]:
        """The tenant's blobs last written before `cutoff` (epoch ms): the only ones collection may take."""
        ...

    def blobs_in_use(self, account_id: str, digests: Iterable[str]) -> builtins.set[str]:
        """Those of `digests` that a revision of any of the tenant's tests still names with its content
        stored (a marked revision counts: it may be taken back; a tombstone does not)."""
        ...

    def delete_blobs(self, account_id: str, digests: Iterable[str], touched_before: int) -> int:
        """Delete those blobs still last written before `touched_before` (one conditional write each:
        a save touching one meanwhile keeps it); returns how many went."""
        ...


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

    def insert(self, run: Run) -> bool:
        """False (and no change) when a run with this id exists already: inserts are retry-safe."""
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

    def event_sent(self, account_id: str, run_id: str, event_id: str) -> None:
        """Take a published event out of the run's outbox (an unknown id is not an error)."""
        ...

    def with_pending_events(self, written_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        """(account id, run id) of runs of every tenant with an event written before `written_before`
        still in their outbox: the sweeper's leftovers. Indexed."""
        ...

    def update(self, account_id: str, run_id: str, fields: dict[str, Any], *, when_status_in: Iterable[str]) -> Run | None:
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


class MetricsStore(Protocol):
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


def scope_key(config: ClusterConfig) -> str:
    """The unique key of a configuration's scope within its account, e.g. `org/*/*`."""
    return "/".join(part or "*" for part in (config.org_id, config.project_id, config.env_id))


class ClusterStore(Protocol):
    def put(self, config: ClusterConfig) -> ClusterConfig:
        """Upsert by scope (account, org, project, env); keeps the id of an existing config."""
        ...

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None: ...

    def list(self, account_id: str) -> list[ClusterConfig]: ...

    def delete(self, account_id: str, cluster_id: str) -> bool: ...


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    run_id: str
    expires_at: int


class IdempotencyStore(Protocol):
    def get(self, account_id: str, key: str, now: int) -> IdempotencyRecord | None:
        """The live record for `key`, if any."""
        ...

    def claim(self, account_id: str, record: IdempotencyRecord, now: int) -> IdempotencyRecord:
        """Store `record` unless a live record for the key exists; return whichever is in force."""
        ...


class TriggerStore(Protocol):
    def insert(self, trigger: Trigger) -> None: ...

    def get(self, account_id: str, test_id: str, trigger_id: str) -> Trigger | None: ...

    def list(self, account_id: str, test_id: str) -> builtins.list[Trigger]:
        """Oldest first (a test has few: see AutomationSettings.max_per_test)."""
        ...

    def count(self, account_id: str, test_id: str | None = None) -> int: ...

    def update(self, account_id: str, test_id: str, trigger_id: str, changes: dict[str, Any]) -> Trigger | None:
        """Apply field changes (snake_case) and return the new state, or None if absent."""
        ...

    def delete(self, account_id: str, test_id: str, trigger_id: str) -> bool: ...

    def record_firing(self, account_id: str, trigger_id: str, firing: TriggerFiring, keep: int) -> None:
        """Prepend to `lastFirings`, keeping the newest `keep` (one atomic write)."""
        ...

    def list_all(self) -> builtins.list[Trigger]:
        """Every tenant's triggers: only to re-create rules (the local runtime's start, `sync`)."""
        ...


class ScheduleStore(Protocol):
    def insert(self, schedule: Schedule) -> None: ...

    def get(self, account_id: str, test_id: str, schedule_id: str) -> Schedule | None: ...

    def list(self, account_id: str, test_id: str) -> builtins.list[Schedule]:
        """Oldest first."""
        ...

    def count(self, account_id: str, test_id: str | None = None) -> int: ...

    def update(self, account_id: str, test_id: str, schedule_id: str, changes: dict[str, Any]) -> Schedule | None:
        """Apply field changes (snake_case) and return the new state, or None if absent."""
        ...

    def delete(self, account_id: str, test_id: str, schedule_id: str) -> bool: ...

    def record_occurrence(self, account_id: str, schedule_id: str, occurrence: ScheduleOccurrence, keep: int) -> None:
        """Prepend to `occurrences`, keeping the newest `keep` (one atomic write)."""
        ...

    def list_all(self) -> builtins.list[Schedule]:
        """Every tenant's schedules: only to re-create them in Scheduler (local start, `sync`)."""
        ...


class EventSourceStore(Protocol):
    """Which tenant owns which event source: (kind, value) is unique across the deployment."""

    def claim(self, source: EventSource) -> EventSource:
        """Store `source` unless its (kind, value) is stored already; return whichever is stored."""
        ...

    def get(self, source_id: str) -> EventSource | None: ...

    def list(self, owner_account_id: str | None) -> builtins.list[EventSource]:
        """One tenant's (or, None, every tenant's), by kind then value."""
        ...

    def delete(self, source_id: str) -> bool: ...


@dataclass(frozen=True)
class Hold:
    member: str  # a run id, a trigger id, a schedule id
    group: str | None  # the load test, for the per-test caps
    at: int  # when it was taken (epoch ms)


class HoldStore(Protocol):
    """Quota holds: a tenant's members of a bounded pool ("runs", "triggers", "schedules"). Taking one
    is a single conditional write, so concurrent takers never exceed a limit (usecases/quotas.py)."""

    def take(self, account_id: str, pool: str, hold: Hold, limit: int, group_limit: int | None) -> bool:
        """Add `hold` if the pool has fewer than `limit` members and its group fewer than `group_limit`;
        True also when the member holds already (retries are safe), False when full."""
        ...

    def release(self, account_id: str, pool: str, member: str) -> None:
        """Drop the member's hold; a missing one is not an error."""
        ...

    def holds(self, account_id: str, pool: str) -> builtins.list[Hold]: ...


@dataclass
class Stores:
    """One store per aggregate: what an adapter's builder (`build_sqlite_stores`, `build_mongo_stores`) returns."""

    load_tests: LoadTestStore
    revisions: RevisionStore
    runs: RunStore
    metrics: MetricsStore
    clusters: ClusterStore
    idempotency: IdempotencyStore
    triggers: TriggerStore
    schedules: ScheduleStore
    event_sources: EventSourceStore
    holds: HoldStore  # quota holds (usecases/quotas.py)
