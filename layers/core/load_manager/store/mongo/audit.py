"""MongoDB adapter of the audit trail (store/ports/audit.py): `audit_log` (a record's id is its
`_id`), `audit_sequences` (one counter per tenant: each copied record's `seq`).

The audited stores write a record into the changed document (`auditPending`) in the change's own
single-document write (`carrying` for an insert, `embed` for an update, `tombstone` for a hard
delete), then `Pending.publish` copies it here and pulls it (deletes a tombstone). A crash in
between leaves the record in its document: `drain` finishes it (the reader, the sweeper).
"""

from __future__ import annotations

import builtins
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from load_manager.store.ports.audit import AuditRecord

PENDING = "auditPending"  # records a document carries until they are copied to the trail
TOMBSTONE = "auditTombstone"  # on a hard-deleted document: its tenant (its accountId is no tenant's any more)
LIVE = {TOMBSTONE: None}  # what reads of every tenant (list_all) add
# Every collection whose documents carry records.
AUDITED = (
    "load_tests", "script_revisions", "load_test_runs", "triggers", "schedules", "locust_clusters", "config_entries",
    "notification_channels", "api_tokens",
)  # fmt: skip


def carrying(doc: dict[str, Any], record: AuditRecord | None) -> dict[str, Any]:
    """An inserted document with its record."""
    return {**doc, PENDING: [record.document()]} if record else doc


def embed(update: dict[str, Any], record: AuditRecord | None) -> dict[str, Any]:
    """An update document that also pushes the record (in the same single-document write)."""
    if record is None:
        return update
    return {**update, "$push": {**update.get("$push", {}), PENDING: record.document()}}


def tombstone_update(record: AuditRecord) -> dict[str, Any]:
    """What turns a document into its tombstone: out of its tenant (whose reads then never see it, and
    whose unique keys it then frees), marked, carrying the record of its deletion."""
    return {"$set": {"accountId": f"tombstone:{record.target_id}", TOMBSTONE: record.account_id}, "$push": {PENDING: record.document()}}


def updated(collection, where: dict[str, Any], update: dict[str, Any]) -> dict[str, Any] | None:
    """find_one_and_update, the document after (without `_id` and its records), or None.
    No projection: mongomock loses the document when one meets a filter on a field the update
    changes (an `expect` guard on `updatedAt` does)."""
    doc = collection.find_one_and_update(where, update, return_document=ReturnDocument.AFTER)
    if doc is not None:
        for internal in ("_id", PENDING):
            doc.pop(internal, None)
    return doc


class Pending:
    """The records one collection's documents carry: copied to the trail, then pulled."""

    def __init__(self, db, collection):
        self.collection = collection
        self.records = db.audit_log
        self.sequences = db.audit_sequences

    def publish(self, query: dict[str, Any], record: AuditRecord | None) -> None:
        """After a write that carried `record` in the document `query` finds: copy it, pull it."""
        if record is None:
            return
        self._copy(record.document())
        self.collection.update_one(query, {"$pull": {PENDING: {"id": record.id}}})

    def tombstone(self, query: dict[str, Any], record: AuditRecord) -> bool:
        """Hard-delete the document `query` finds (in its tenant), recording it; False when none is found."""
        # No projection: mongomock loses the document when one meets a filter on a field the update changes.
        doc = self.collection.find_one_and_update(query, tombstone_update(record), return_document=ReturnDocument.AFTER)
        if doc is None:
            return False
        self.finish(doc)
        return True

    def finish(self, doc: dict[str, Any]) -> None:
        """Copy every record a document carries (`_id` and `auditPending` read), then pull them, or
        delete the document if it is a tombstone (no write reaches a tombstone: its records are all there)."""
        entries = doc.get(PENDING) or []
        for entry in entries:
            self._copy(entry)
        if doc.get(TOMBSTONE) is not None:
            self.collection.delete_one({"_id": doc["_id"], TOMBSTONE: {"$ne": None}})
        elif entries:
            self.collection.update_one({"_id": doc["_id"]}, {"$pull": {PENDING: {"id": {"$in": [e["id"] for e in entries]}}}})

    def _copy(self, entry: dict[str, Any]) -> None:
        """Idempotent: a record copied already (a drain racing the writer) is left as it is (the number
        the second copier drew is unused: `seq` increases, with gaps)."""
        counter = self.sequences.find_one_and_update(
            {"_id": entry["accountId"]}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        try:
            self.records.update_one({"_id": entry["id"]}, {"$setOnInsert": {**entry, "seq": counter["seq"]}}, upsert=True)
        except DuplicateKeyError:
            pass  # two copiers' upserts of one new record: it is stored


def audit_indexes(db) -> None:
    db.audit_log.create_index([("accountId", ASCENDING), ("at", DESCENDING), ("seq", DESCENDING)], name="by_time")
    db.audit_log.create_index([("accountId", ASCENDING), ("target.id", ASCENDING), ("at", DESCENDING), ("seq", DESCENDING)], name="by_target")
    db.audit_log.create_index(
        [("accountId", ASCENDING), ("target.loadTestId", ASCENDING), ("at", DESCENDING), ("seq", DESCENDING)], name="by_test"
    )
    db.audit_log.create_index([("accountId", ASCENDING), ("actor", ASCENDING), ("at", DESCENDING), ("seq", DESCENDING)], name="by_actor")
    for name in AUDITED:  # the drain's read: documents still carrying records (few; sparse)
        db[name].create_index([(f"{PENDING}.accountId", ASCENDING)], sparse=True, name="audit_pending")


class MongoAuditStore:
    def __init__(self, db):
        self.db = db
        self.records = db.audit_log

    def query(
        self, account_id: str, *, target: str | None = None, actor: str | None = None, start: int | None = None, end: int | None = None,
        limit: int, after: tuple[int, int] | None = None,
    ) -> builtins.list[AuditRecord]:
        self.drain(account_id)
        where: dict[str, Any] = {"accountId": account_id}
        if target is not None:
            where["$or"] = [{"target.id": target}, {"target.loadTestId": target}]
        if actor is not None:
            where["actor"] = actor
        window = {**({"$gte": start} if start is not None else {}), **({"$lt": end} if end is not None else {})}
        if window:
            where["at"] = window
        if after is not None:
            where = {"$and": [where, {"$or": [{"at": {"$lt": after[0]}}, {"at": after[0], "seq": {"$lt": after[1]}}]}]}
        cursor = self.records.find(where, {"_id": False}).sort([("at", DESCENDING), ("seq", DESCENDING)]).limit(limit)
        return [AuditRecord.from_document(d, seq=int(d["seq"])) for d in cursor]

    def drain(self, account_id: str | None, limit: int = 200) -> int:
        wanted = {f"{PENDING}.accountId": account_id if account_id is not None else {"$gt": ""}}
        finished = 0
        for name in AUDITED:
            pending = Pending(self.db, self.db[name])
            for doc in self.db[name].find(wanted, {"_id": True, PENDING: True, TOMBSTONE: True}).limit(limit):
                pending.finish(doc)
                finished += 1
        return finished
