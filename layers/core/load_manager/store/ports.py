"""Store ports: one per aggregate. Adapters: `mongo.py` (AWS) and `sqlite.py` (local default).

Every method takes the tenant (`account_id`) and filters by it: a record of another tenant is
indistinguishable from a missing one.
"""

from __future__ import annotations

from typing import Any, Protocol

from load_manager.models import LoadTest, ScriptRevisionSummary

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
