"""The revisions port: a test's numbered script revisions and the content-addressed blobs of their files."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.records import StoredRevision
    from load_manager.store.ports.audit import AuditRecord


# Optimistic appends retry on a lost race; this bounds the worst case under heavy contention.
MAX_APPEND_ATTEMPTS = 200


class RevisionStore(Protocol):
    """Revisions and the content-addressed blobs of their bundle files.

    A revision's document holds its metadata, its manifest (`files`: path, size, sha256 of every
    file) and the entry's text (`content`); every other file's bytes are a blob keyed by
    (tenant, sha256): immutable, written once, shared by every revision that has the same bytes."""

    def append(
        self, draft: StoredRevision, *, skip_if_same_as_latest: bool, blobs: Mapping[str, bytes] | None = None, audit: AuditRecord | None = None
    ) -> tuple[StoredRevision, bool]:
        """Store `draft` as the next revision number, atomically (numbers 1..N, contiguous, unique),
        with the blobs its manifest names (sha256 -> bytes; ones already stored are kept as they are).

        With `skip_if_same_as_latest`, a snapshot identical (sha256: the bundle digest) to the latest
        creates nothing and returns (latest, False). `draft.revision_number` is ignored: the store
        assigns it. `audit` is stored with the revision (none when none is created), its `beforeDigest`
        the digest of the latest revision the store numbered this one after (`script_digest`).
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
