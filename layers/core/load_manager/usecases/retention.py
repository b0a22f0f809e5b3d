"""Revision retention: a test's `revisionRetention {"keepLast": N}` prunes older revisions.

Never pruned: the latest N revisions (so never the latest), any revision a run references, and any
revision a trigger or schedule of the test pins (`runSettings.revision`, by id or number): pruning it
would make every later firing fail with 410. Pruning keeps a tombstone (number, sha256, author,
time, prunedAt) in the history and drops the content; numbers are never reused (the next revision is
still latest + 1).

A run, trigger or schedule may be created for an old revision while pruning runs. So pruning is
two-step: mark the candidates (from then on they read as 410 RevisionPruned), look for runs and
pins again, unmark those now referenced, and only then drop the content. `runs.start_run` reads the
revision again after inserting its run, and trigger/schedule creation after inserting its record
(`refuse_pruned_pin`), and undo themselves if they find the mark: whichever of the two writes came
first, one of them notices the other.

Bundle blobs (a revision's files besides the entry, shared by content within a tenant) are
collected by mark and sweep after pruning: the tenant's blobs last written more than the grace
period ago (`BLOB_GC_GRACE_SECONDS`), less those a revision with its content still names, are
deleted, each only if still not written since. A save writes (touches) every blob it names before
writing its revision, so a save racing the collection either lands its revision before the look
for names, or touches the blob before the conditional delete (which then keeps it), or re-creates
it after (a save carries every file's bytes): it never loses a blob, as long as no save takes longer
than the grace period between its two writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from load_manager.errors import RevisionPrunedError
from load_manager.ids import now_ms
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Stores

if TYPE_CHECKING:  # annotations only: the load tests function prunes without the scripts models
    from load_manager.models.records import StoredRevision


def prune(stores: Stores, account_id: str, test_id: str, keep_last: int) -> list[int]:
    """Prune beyond the newest `keep_last`; returns the numbers pruned now (oldest first)."""
    latest = stores.revisions.latest(account_id, test_id)
    if latest is None:
        return []
    candidates = stores.revisions.prune_candidates(account_id, test_id, below_number=latest.revision_number - keep_last + 1)
    if not candidates:
        return []
    numbers = {c.id: c.revision_number for c in candidates}
    referenced = _referenced(stores, account_id, test_id, candidates)
    unwanted = [c.id for c in candidates if c.id not in referenced]
    # Marked now, or by an earlier pruning that died before its last step.
    stores.revisions.set_pruned(account_id, test_id, [c.id for c in candidates if c.id in unwanted and c.pruned_at is None], now_ms())
    referenced = _referenced(stores, account_id, test_id, candidates)  # runs, triggers and schedules created meanwhile
    taken_back = [c.id for c in candidates if c.id in referenced]
    if taken_back:
        stores.revisions.set_pruned(account_id, test_id, taken_back, None)
    pruned = [revision_id for revision_id in unwanted if revision_id not in referenced]
    stores.revisions.drop_content(account_id, test_id, pruned)
    if pruned:
        count("RevisionsPruned", len(pruned))
        logger.info("revisions pruned", extra={"loadTestId": test_id, "revisions": sorted(numbers[i] for i in pruned)})
        collect_blobs(stores, account_id)
    return sorted(numbers[i] for i in pruned)


def _referenced(stores: Stores, account_id: str, test_id: str, candidates: list[StoredRevision]) -> set[str]:
    """The candidates' ids some run uses or some trigger or schedule of the test pins."""
    pins = [t.run_settings.revision for t in stores.triggers.list(account_id, test_id)]
    pins += [s.run_settings.revision for s in stores.schedules.list(account_id, test_id)]
    texts = {str(pin).strip() for pin in pins if pin is not None}
    pinned = {c.id for c in candidates if c.id in texts or str(c.revision_number) in texts}
    return stores.runs.referenced_revision_ids(account_id, test_id) | pinned


def refuse_pruned_pin(stores: Stores, account_id: str, test_id: str, pin: str | int | None) -> None:
    """410 if the revision a trigger or schedule just stored pins was marked by a pruning meanwhile
    (the caller then undoes its write); see the module's docstring."""
    if pin is None:
        return
    text = str(pin).strip()
    revision = stores.revisions.get_by_number(account_id, test_id, int(text)) if text.isdigit() else stores.revisions.get(account_id, test_id, text)
    if revision is not None and revision.pruned_at is not None:
        raise RevisionPrunedError(
            f"revision {revision.revision_number} was pruned by the test's retention meanwhile",
            details={"revisionNumber": revision.revision_number, "sha256": revision.sha256, "prunedAt": revision.pruned_at},
        )


def collect_blobs(stores: Stores, account_id: str, now: int | None = None) -> int:
    """Delete the tenant's bundle blobs no revision names any more, once past the grace period."""
    cutoff = (now_ms() if now is None else now) - get_settings().blob_grace_seconds * 1000
    old = stores.revisions.blobs_touched_before(account_id, cutoff)
    if not old:
        return 0
    garbage = old - stores.revisions.blobs_in_use(account_id, old)
    deleted = stores.revisions.delete_blobs(account_id, garbage, cutoff) if garbage else 0
    if deleted:
        count("BlobsCollected", deleted)
        logger.info("unreferenced bundle blobs collected", extra={"accountId": account_id, "blobs": deleted})
    return deleted


def prune_after_save(stores: Stores, account_id: str, test_id: str) -> list[int]:
    test = stores.load_tests.get(account_id, test_id)
    if test is None or test.revision_retention is None:
        return []
    return prune(stores, account_id, test_id, test.revision_retention.keep_last)
