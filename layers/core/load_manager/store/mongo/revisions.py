"""MongoDB adapter of the revision store: `script_revisions`, and the content-addressed blobs of
their bundle files (`script_blobs`: one document per tenant and sha256, immutable).
"""

from __future__ import annotations

import builtins
import random
import time
from collections.abc import Iterable, Mapping
from typing import Any

from bson.binary import Binary
from pymongo.errors import DuplicateKeyError

from load_manager.errors import ConcurrencyError
from load_manager.models.records import StoredRevision
from load_manager.store.mongo.audit import Pending, carrying
from load_manager.store.mongo.db import NO_ID, WITHOUT_CONTENT
from load_manager.store.ports import MAX_APPEND_ATTEMPTS
from load_manager.store.ports.audit import AuditRecord, script_digest


class MongoRevisionStore:
    def __init__(self, db):
        self.collection = db.script_revisions
        self.blobs = db.script_blobs
        self.pending = Pending(db, self.collection)

    def get_blobs(self, account_id: str, digests: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(digests))
        if not wanted:
            return {}
        cursor = self.blobs.find({"accountId": account_id, "sha256": {"$in": wanted}}, {"_id": False, "sha256": True, "content": True})
        return {doc["sha256"]: bytes(doc["content"]) for doc in cursor}

    def _put_blobs(self, account_id: str, blobs: Mapping[str, bytes], touched_at: int) -> None:
        """Upserts that never overwrite the bytes: a blob is immutable, and a retried or concurrent
        write of the same bytes is a no-op. Written before the revision that names them, so a revision
        never points at a missing blob (a writer dying in between leaves an unreferenced blob, which
        blob collection takes after its grace period). `touchedAt` moves forward on every write, so
        collection leaves alone a blob a save is about to name (usecases/retention.py)."""
        for digest, data in sorted(blobs.items()):  # at most 200 per bundle
            try:
                self.blobs.update_one(
                    {"accountId": account_id, "sha256": digest},
                    {"$setOnInsert": {"accountId": account_id, "sha256": digest, "size": len(data), "content": Binary(data)},
                     "$max": {"touchedAt": touched_at}},
                    upsert=True,
                )  # fmt: skip
            except DuplicateKeyError:
                pass  # two writers upserting the same new blob: the loser's duplicate key means it is stored

    def append(
        self, draft: StoredRevision, *, skip_if_same_as_latest: bool, blobs: Mapping[str, bytes] | None = None, audit: AuditRecord | None = None
    ) -> tuple[StoredRevision, bool]:
        """Optimistic: take latest+1 and let the unique (loadTestId, revisionNumber) index arbitrate.

        A number is only consumed by a successful insert, so numbers stay contiguous even when a
        writer dies midway (a counter incremented before the insert could leave a gap).
        """
        for attempt in range(MAX_APPEND_ATTEMPTS):
            latest = self.collection.find_one(
                {"loadTestId": draft.load_test_id}, {"_id": False, "revisionNumber": True, "sha256": True, "id": True},
                sort=[("revisionNumber", -1)],
            )
            if latest and skip_if_same_as_latest and latest["sha256"] == draft.sha256:
                return self._full(latest["id"]), False
            revision = draft.model_copy(update={"revision_number": (latest["revisionNumber"] if latest else 0) + 1})
            if attempt == 0:
                self._put_blobs(draft.account_id, blobs or {}, draft.created_at)
            # Its record's before: the latest revision this attempt numbered the new one after.
            record = audit.with_before(script_digest(latest["sha256"]) if latest else None) if audit else None
            try:
                self.collection.insert_one(carrying(revision.model_dump(by_alias=True), record))
                self.pending.publish({"id": draft.id}, record)
                return revision, True
            except DuplicateKeyError:
                # A retried insert of our own id (retryWrites after a lost ack) already succeeded.
                mine = self.collection.find_one({"id": draft.id})
                if mine:
                    self.pending.finish(mine)  # its record too
                    return StoredRevision.model_validate(mine), True
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise ConcurrencyError("too many concurrent script updates; retry the request")

    def latest(self, account_id: str, test_id: str) -> StoredRevision | None:
        doc = self.collection.find_one({"loadTestId": test_id, "accountId": account_id}, NO_ID, sort=[("revisionNumber", -1)])
        return StoredRevision.model_validate(doc) if doc else None

    def get(self, account_id: str, test_id: str, revision_id: str) -> StoredRevision | None:
        doc = self.collection.find_one({"id": revision_id, "loadTestId": test_id, "accountId": account_id}, NO_ID)
        return StoredRevision.model_validate(doc) if doc else None

    def get_by_number(self, account_id: str, test_id: str, number: int) -> StoredRevision | None:
        doc = self.collection.find_one({"loadTestId": test_id, "revisionNumber": number, "accountId": account_id}, NO_ID)
        return StoredRevision.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str, *, limit: int, before_number: int | None) -> list[StoredRevision]:
        query: dict[str, Any] = {"loadTestId": test_id, "accountId": account_id}
        if before_number is not None:
            query["revisionNumber"] = {"$lt": before_number}
        cursor = self.collection.find(query, WITHOUT_CONTENT).sort("revisionNumber", -1).limit(limit)
        return [StoredRevision.model_validate(d) for d in cursor]

    def _full(self, revision_id: str) -> StoredRevision:
        return StoredRevision.model_validate(self.collection.find_one({"id": revision_id}, NO_ID))

    # ---- retention ------------------------------------------------------------------------------

    def prune_candidates(self, account_id: str, test_id: str, *, below_number: int) -> builtins.list[StoredRevision]:
        query = {"loadTestId": test_id, "accountId": account_id, "revisionNumber": {"$lt": below_number}, "content": {"$exists": True}}
        return [StoredRevision.model_validate(d) for d in self.collection.find(query, WITHOUT_CONTENT).sort("revisionNumber", 1)]

    def set_pruned(self, account_id: str, test_id: str, revision_ids, pruned_at: int | None) -> builtins.list[str]:
        changed = []
        for revision_id in revision_ids:
            # Marking needs an unmarked revision; unmarking one whose content is still there.
            where = {"prunedAt": None} if pruned_at is not None else {"prunedAt": {"$ne": None}, "content": {"$exists": True}}
            result = self.collection.update_one(
                {"id": revision_id, "loadTestId": test_id, "accountId": account_id, **where}, {"$set": {"prunedAt": pruned_at}}
            )
            if result.modified_count == 1:
                changed.append(revision_id)
        return changed

    def drop_content(self, account_id: str, test_id: str, revision_ids) -> int:
        result = self.collection.update_many(
            {"id": {"$in": list(revision_ids)}, "loadTestId": test_id, "accountId": account_id, "prunedAt": {"$ne": None},
             "content": {"$exists": True}},
            {"$unset": {"content": ""}},
        )  # fmt: skip
        return result.modified_count


    # ---- blob collection ------------------------------------------------------------------------

    def blobs_touched_before(self, account_id: str, cutoff: int) -> builtins.set[str]:
        # A blob stored before touchedAt existed has none: it counts as old.
        cursor = self.blobs.find({"accountId": account_id, "touchedAt": {"$not": {"$gte": cutoff}}}, {"_id": False, "sha256": True})
        return {doc["sha256"] for doc in cursor}

    def blobs_in_use(self, account_id: str, digests: Iterable[str]) -> builtins.set[str]:
        wanted = sorted(set(digests))
        if not wanted:
            return set()
        query = {"accountId": account_id, "files.sha256": {"$in": wanted}, "content": {"$exists": True}}
        return set(self.collection.distinct("files.sha256", query)) & set(wanted)

    def delete_blobs(self, account_id: str, digests: Iterable[str], touched_before: int) -> int:
        result = self.blobs.delete_many(
            {"accountId": account_id, "sha256": {"$in": sorted(set(digests))}, "touchedAt": {"$not": {"$gte": touched_before}}}
        )
        return result.deleted_count
