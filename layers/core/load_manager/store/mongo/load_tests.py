"""MongoDB adapter of the load test store (`load_tests`; deleted tests keep a `deletedAt`).

Each test document carries `lastRun` and `trend` (what the list shows of its runs), so a page of
the list is one indexed query. `record_run` writes them with conditional updates: `lastRun` only
over an older run (createdAt, then id) or an earlier state of the same run; a Finished run is
pushed onto `trend` once (`trend.runId` $ne), sorted by createdAt and cut to the newest
TREND_RUNS, so records arriving in any order, or twice, end the same. A document without
`lastRunVersion` was made before them: its first listing fills them from its runs, with those
same updates (a record racing the fill cannot be undone by it).
"""

from __future__ import annotations

import builtins
from typing import Any

from load_manager.models.load_tests import TREND_RUNS, LastRun, LoadTest, LoadTestListItem, TrendPoint
from load_manager.models.records import StoredRevision
from load_manager.store.mongo.audit import Pending, carrying, embed, updated
from load_manager.store.mongo.db import LIVE, NO_ID, after_key, wire_fields
from load_manager.store.ports.audit import AuditRecord

VERSION = "lastRunVersion"  # the document has lastRun and trend (absent: made before them)
CLEANUP = "cleanupAt"  # a deleted test whose dependents may remain: its deletion's time (absent: none may)
RUN_FIELDS = {"_id": False, **dict.fromkeys(("id", "status", "result", "revisionNumber", "createdAt", "startedAt", "endedAt", "summary.p95Ms"), True)}


class MongoLoadTestStore:
    def __init__(self, db):
        self.collection = db.load_tests
        self.runs = db.load_test_runs
        self.pending = Pending(db, self.collection)

    def insert(self, test: LoadTest, *, audit: AuditRecord | None = None) -> None:
        self.collection.insert_one(carrying(test.model_dump(by_alias=True) | {"lastRun": None, "trend": [], VERSION: 1}, audit))
        self.pending.publish({"id": test.id, "accountId": test.account_id}, audit)

    def get(self, account_id: str, test_id: str) -> LoadTest | None:
        doc = self.collection.find_one({"id": test_id, "accountId": account_id, **LIVE}, NO_ID)
        return LoadTest.model_validate(doc) if doc else None

    def list(
        self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None, ids: frozenset[str] | None = None
    ) -> list[LoadTestListItem]:
        query: dict[str, Any] = {"accountId": account_id, **LIVE}
        if project_id is not None:
            query["projectId"] = project_id
        if ids is not None:  # a scoped token's tests
            query["id"] = {"$in": sorted(ids)}
        if after is not None:
            query |= after_key(after)
        docs = list(self.collection.find(query, NO_ID).sort([("createdAt", -1), ("id", -1)]).limit(limit))
        unfilled = [d["id"] for d in docs if VERSION not in d]  # made before lastRun existed
        if unfilled:
            for test_id in unfilled:
                self._fill(account_id, test_id)
            filled = {d["id"]: d for d in self.collection.find({"id": {"$in": unfilled}, "accountId": account_id}, NO_ID)}
            docs = [filled.get(d["id"], d) for d in docs]
        return [LoadTestListItem.model_validate(d) for d in docs]

    def record_run(self, account_id: str, test_id: str, run: LastRun) -> None:
        older = [
            {"lastRun": None},  # none yet (null, or a document from before lastRun)
            {"lastRun.createdAt": {"$lt": run.created_at}},
            {"lastRun.createdAt": run.created_at, "lastRun.runId": {"$lt": run.run_id}},
            {"lastRun.runId": run.run_id, "lastRun.status": {"$in": run.earlier_statuses()}},
        ]
        self.collection.update_one({"id": test_id, "accountId": account_id, "$or": older}, {"$set": {"lastRun": run.model_dump(by_alias=True)}})
        if run.status == "Finished":
            # `order` sorts by (createdAt, runId) with one key (mongomock's $push sorts by a single field).
            point = TrendPoint.of(run).model_dump(by_alias=True) | {"order": f"{run.created_at:015d}{run.run_id}"}
            self.collection.update_one(
                {"id": test_id, "accountId": account_id, "trend.runId": {"$ne": run.run_id}},
                {"$push": {"trend": {"$each": [point], "$sort": {"order": 1}, "$slice": -TREND_RUNS}}},
            )

    def _fill(self, account_id: str, test_id: str) -> None:
        """lastRun and trend of a test made before them, from its runs (indexes by_test, by_status_time)."""
        query = {"accountId": account_id, "loadTestId": test_id}
        newest = self.runs.find(query, RUN_FIELDS).sort([("createdAt", -1), ("id", -1)]).limit(1)
        finished = self.runs.find(query | {"status": "Finished"}, RUN_FIELDS).sort([("createdAt", -1), ("id", -1)]).limit(TREND_RUNS)
        for doc in [*finished, *newest]:
            self.record_run(account_id, test_id, LastRun.of_document(doc))
        self.collection.update_one({"id": test_id, "accountId": account_id}, {"$set": {VERSION: 1}})

    def update(
        self, account_id: str, test_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> LoadTest | None:
        wire = wire_fields(LoadTest, changes)
        where = {"id": test_id, "accountId": account_id, **LIVE, **wire_fields(LoadTest, expect or {})}
        doc = updated(self.collection, where, embed({"$set": wire}, audit))
        if doc is None:
            return None
        self.pending.publish({"id": test_id, "accountId": account_id}, audit)
        return LoadTest.model_validate(doc)

    def advance_latest_revision(self, account_id: str, test_id: str, revision: StoredRevision) -> None:
        # Conditional: a slower writer of an older revision can never move `latest` backwards.
        self.collection.update_one(
            {"id": test_id, "accountId": account_id, "latestRevisionNumber": {"$lt": revision.revision_number}},
            {
                "$set": {
                    "latestRevisionId": revision.id,
                    "latestRevisionNumber": revision.revision_number,
                    "updatedAt": revision.created_at,
                    "updatedBy": revision.created_by,
                }
            },
        )

    def delete(
        self, account_id: str, test_id: str, deleted_at: int, deleted_by: str, *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> bool:  # fmt: skip
        where = {"id": test_id, "accountId": account_id, **LIVE, **wire_fields(LoadTest, expect or {})}
        deleted = {"deletedAt": deleted_at, "deletedBy": deleted_by, CLEANUP: deleted_at}  # awaiting_cleanup, in the same write
        result = self.collection.update_one(where, embed({"$set": deleted}, audit))
        if result.modified_count != 1:
            return False
        self.pending.publish({"id": test_id, "accountId": account_id}, audit)
        return True

    def awaiting_cleanup(self, deleted_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        # `$exists` names the partial index's filter, which MongoDB needs to choose it (index awaiting_cleanup).
        query = {CLEANUP: {"$exists": True, "$lt": deleted_before}}
        docs = self.collection.find(query, {"_id": False, "accountId": True, "id": True}).sort([(CLEANUP, 1), ("id", 1)]).limit(limit)
        return [(doc["accountId"], doc["id"]) for doc in docs]

    def cleaned_up(self, account_id: str, test_id: str) -> None:
        self.collection.update_one({"id": test_id, "accountId": account_id}, {"$unset": {CLEANUP: ""}})
