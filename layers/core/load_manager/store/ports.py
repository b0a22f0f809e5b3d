"""Store ports: one per aggregate. Adapters: `mongo.py` (AWS) and `sqlite.py` (local default).

Every method takes the tenant (`account_id`) and filters by it: a record of another tenant is
indistinguishable from a missing one.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from load_manager.analysis.autostop import Counts
from load_manager.analysis.series import Columns
from load_manager.models import ClusterConfig, LoadTest, MetricsSample, Run, ScriptRevisionSummary, StatusChange

# Optimistic appends retry on a lost race; this bounds the worst case under heavy contention.
MAX_APPEND_ATTEMPTS = 200


class StoredRevision(ScriptRevisionSummary):
    """A revision as stored: the API summary plus its tenant and (when loaded) its text."""

    account_id: str
    content: str | None = None


class LoadTestStore(Protocol):
    def insert(self, test: LoadTest) -> None: ...

    def get(self, account_id: str, test_id: str) -> LoadTest | None: ...

    def list(self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None) -> list[LoadTest]:
        """Newest first by (createdAt, id); `after` is the last key of the previous page."""
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
    def append(self, draft: StoredRevision, *, skip_if_same_as_latest: bool) -> tuple[StoredRevision, bool]:
        """Store `draft` as the next revision number, atomically (numbers 1..N, contiguous, unique).

        With `skip_if_same_as_latest`, content identical (sha256) to the latest creates nothing and
        returns (latest, False). `draft.revision_number` is ignored: the store assigns it.
        """
        ...

    def latest(self, account_id: str, test_id: str) -> StoredRevision | None: ...

    def get(self, account_id: str, test_id: str, revision_id: str) -> StoredRevision | None: ...

    def get_by_number(self, account_id: str, test_id: str, number: int) -> StoredRevision | None: ...

    def list(self, account_id: str, test_id: str, *, limit: int, before_number: int | None) -> list[StoredRevision]:
        """Newest first, without content."""
        ...


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
        self, account_id: str, run_id: str, from_statuses: Iterable[str], change: StatusChange, fields: dict[str, Any] | None = None
    ) -> Run | None:
        """Move to `change.status` only if the run is in one of `from_statuses`; None otherwise."""
        ...

    def update(self, account_id: str, run_id: str, fields: dict[str, Any], *, when_status_in: Iterable[str]) -> Run | None:
        """Set fields (snake_case) only while the run is in one of the given statuses."""
        ...

    def has_active(self, account_id: str, test_id: str) -> bool: ...

    def has_active_on_cluster(self, account_id: str, cluster_id: str) -> bool:
        """Is a run of this tenant active on this cluster configuration (an indexed query)."""
        ...

    def list_active(self) -> builtins.list[Run]:
        """Active runs of every tenant: only for the local runtime's recovery after a restart."""
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

    def save_final_series(self, account_id: str, run_id: str, endpoint: str | None, columns_json: str) -> None:
        """Keep a final run's default series (its columns, encoded once): it never changes again."""
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
