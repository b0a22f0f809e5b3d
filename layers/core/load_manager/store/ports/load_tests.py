"""The load tests port: a test's record, its last run and trend, its latest revision."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.load_tests import LastRun, LoadTest, LoadTestListItem
    from load_manager.models.records import StoredRevision
    from load_manager.store.ports.audit import AuditRecord


class LoadTestStore(Protocol):
    def insert(self, test: LoadTest, *, audit: AuditRecord | None = None) -> None:
        """`audit`: the change's record, stored with it (store/ports/audit.py), as by every audited write below."""
        ...

    def get(self, account_id: str, test_id: str) -> LoadTest | None: ...

    def list(
        self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None, ids: frozenset[str] | None = None
    ) -> list[LoadTestListItem]:
        """Newest first by (createdAt, id); `after` is the last key of the previous page. Each test
        with its `lastRun` and `trend`, read with it (a test stored before they existed gets them
        from its runs on its first listing). `ids`: only those tests (a scoped token's); None: all."""
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

    def update(
        self, account_id: str, test_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> LoadTest | None:
        """Apply field changes (snake_case names) and return the new state, or None if absent (or, with
        `expect`, if a stored field no longer has the value given: a concurrent change)."""
        ...

    def advance_latest_revision(self, account_id: str, test_id: str, revision: StoredRevision) -> None:
        """Point the test at `revision` unless it already points at a higher number."""
        ...

    def delete(
        self, account_id: str, test_id: str, deleted_at: int, deleted_by: str, *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> bool:
        """Soft delete: revisions stay, so runs that used them can still be reproduced. The same write
        puts the test on `awaiting_cleanup` (its triggers, schedules, own variables, secrets and
        channels are removed after it: usecases/dependents.py), so a crash right after it loses nothing."""
        ...

    def awaiting_cleanup(self, deleted_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        """(account id, test id) of every tenant's deleted tests still awaiting the removal of what
        belonged to them, deleted before `deleted_before`, oldest deletion first: one indexed read of
        the tests marked (a partial index: the tests that are not cost nothing)."""
        ...

    def cleaned_up(self, account_id: str, test_id: str) -> None:
        """Take a deleted test off `awaiting_cleanup`: nothing of it is left. Idempotent."""
        ...
