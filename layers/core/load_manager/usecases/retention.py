"""Revision retention: a test's `revisionRetention {"keepLast": N}` prunes older revisions.

Never pruned: the latest N revisions (so never the latest), and any revision a run references.
Pruning keeps a tombstone (number, sha256, author, time, prunedAt) in the history and drops the
content; numbers are never reused (the next revision is still latest + 1).

A run may be created for an old revision while pruning runs. So pruning is two-step: mark the
candidates (from then on they read as 410 RevisionPruned), look for runs again, unmark those a
run now references, and only then drop the content. `runs.start_run` reads the revision again
after inserting its run and fails the run if it finds the mark; whichever of the two writes came
first, one of them notices the other.
"""

from __future__ import annotations

from load_manager.ids import now_ms
from load_manager.observability import count, logger
from load_manager.store import Stores


def prune(stores: Stores, account_id: str, test_id: str, keep_last: int) -> list[int]:
    """Prune beyond the newest `keep_last`; returns the numbers pruned now (oldest first)."""
    latest = stores.revisions.latest(account_id, test_id)
    if latest is None:
        return []
    candidates = stores.revisions.prune_candidates(account_id, test_id, below_number=latest.revision_number - keep_last + 1)
    if not candidates:
        return []
    numbers = {c.id: c.revision_number for c in candidates}
    referenced = stores.runs.referenced_revision_ids(account_id, test_id)
    unwanted = [c.id for c in candidates if c.id not in referenced]
    # Marked now, or by an earlier pruning that died before its last step.
    stores.revisions.set_pruned(account_id, test_id, [c.id for c in candidates if c.id in unwanted and c.pruned_at is None], now_ms())
    referenced = stores.runs.referenced_revision_ids(account_id, test_id)  # runs created meanwhile
    taken_back = [c.id for c in candidates if c.id in referenced]
    if taken_back:
        stores.revisions.set_pruned(account_id, test_id, taken_back, None)
    pruned = [revision_id for revision_id in unwanted if revision_id not in referenced]
    stores.revisions.drop_content(account_id, test_id, pruned)
    if pruned:
        count("RevisionsPruned", len(pruned))
        logger.info("revisions pruned", extra={"loadTestId": test_id, "revisions": sorted(numbers[i] for i in pruned)})
    return sorted(numbers[i] for i in pruned)


def prune_after_save(stores: Stores, account_id: str, test_id: str) -> list[int]:
    test = stores.load_tests.get(account_id, test_id)
    if test is None or test.revision_retention is None:
        return []
    return prune(stores, account_id, test_id, test.revision_retention.keep_last)
