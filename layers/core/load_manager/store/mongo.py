"""MongoDB adapter (pymongo): what AWS runs, against Atlas or any MongoDB >= 6.

One MongoClient per execution environment, created lazily on first use with serverless pool
settings; indexes are created idempotently at that moment (cold start), never at import.
"""

from __future__ import annotations

import builtins
import random
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from pydantic import BaseModel

from load_manager.analysis.autostop import Counts
from load_manager.analysis.series import Columns
from load_manager.errors import ConcurrencyError
from load_manager.models import ACTIVE_STATUSES, ClusterConfig, LoadTest, MetricsSample, Run, StatusChange
from load_manager.store.ports import MAX_APPEND_ATTEMPTS, IdempotencyRecord, OutboxEvent, StoredRevision, scope_key

_client_lock = threading.Lock()
_clients: dict[str, Any] = {}

NO_ID = {"_id": False}
WITHOUT_CONTENT = {"_id": False, "content": False}
LIVE = {"deletedAt": None}  # matches documents without the field too


def get_client(uri: str):
    """The execution environment's client for `uri`. `mongomock://` gives an in-memory fake (tests, local)."""
    with _client_lock:
        if uri not in _clients:
            if uri.startswith("mongomock://"):
                import mongomock

                _clients[uri] = mongomock.MongoClient()
            else:
                from pymongo import MongoClient

                # Lambda: few concurrent requests per environment, environments come and go.
                _clients[uri] = MongoClient(
                    uri,
                    maxPoolSize=10,
                    minPoolSize=0,
                    maxIdleTimeMS=60_000,
                    serverSelectionTimeoutMS=5_000,
                    connectTimeoutMS=5_000,
                    retryWrites=True,
                    appname="load-manager",
                )
        return _clients[uri]


def get_database(uri: str, name: str):
    return get_client(uri)[name]


def _after(after: tuple[int, str]) -> dict[str, Any]:
    """Keyset pagination on (createdAt, id), newest first: documents after the previous page's last key."""
    return {"$or": [{"createdAt": {"$lt": after[0]}}, {"createdAt": after[0], "id": {"$lt": after[1]}}]}


def _wire(model: type[BaseModel], fields: dict[str, Any]) -> dict[str, Any]:
    """snake_case model fields -> their camelCase document form (nested models dumped too)."""
    return model.model_construct(**fields).model_dump(by_alias=True, include=set(fields)) if fields else {}


def ensure_indexes(db) -> None:
    from pymongo import ASCENDING, DESCENDING

    db.load_tests.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.load_tests.create_index([("accountId", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)], name="by_account")
    db.load_tests.create_index(
        [("accountId", ASCENDING), ("projectId", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)], name="by_project"
    )
    db.script_revisions.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.script_revisions.create_index(
        [("loadTestId", ASCENDING), ("revisionNumber", ASCENDING)], unique=True, name="number_unique"
    )
    db.script_revisions.create_index([("loadTestId", ASCENDING), ("createdAt", ASCENDING)], name="by_time")
    # Bundle files: one document per (tenant, sha256), at most 4 MiB each (MongoDB's limit is 16 MB).
    db.script_blobs.create_index([("accountId", ASCENDING), ("sha256", ASCENDING)], unique=True, name="blob_unique")
    db.load_test_runs.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.load_test_runs.create_index(
        [("accountId", ASCENDING), ("loadTestId", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)], name="by_test"
    )
    db.load_test_runs.create_index(
        [("accountId", ASCENDING), ("loadTestId", ASCENDING), ("status", ASCENDING), ("createdAt", DESCENDING)], name="by_status"
    )
    db.load_test_runs.create_index([("accountId", ASCENDING), ("clusterId", ASCENDING), ("status", ASCENDING)], name="by_cluster")
    # A test's runs in one status, newest first with the id tie-break: trends (Finished runs) and the
    # status-filtered list are served from the index, sort included (by_status lacks the id).
    db.load_test_runs.create_index(
        [("accountId", ASCENDING), ("loadTestId", ASCENDING), ("status", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)],
        name="by_status_time",
    )
    # The sweeper's reads across tenants: active runs oldest first, and runs with events in their outbox.
    db.load_test_runs.create_index([("status", ASCENDING), ("createdAt", ASCENDING)], name="active_by_age")
    db.load_test_runs.create_index([("outbox.at", ASCENDING)], sparse=True, name="outbox_pending")
    db.run_metrics.create_index([("runId", ASCENDING), ("at", ASCENDING)], name="by_run")
    db.run_series_final.create_index([("accountId", ASCENDING), ("runId", ASCENDING), ("endpoint", ASCENDING)], unique=True, name="series_unique")
    db.locust_clusters.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.locust_clusters.create_index([("accountId", ASCENDING), ("scopeKey", ASCENDING)], unique=True, name="scope_unique")
    db.idempotency_keys.create_index([("accountId", ASCENDING), ("key", ASCENDING)], unique=True, name="key_unique")
    # MongoDB's TTL monitor removes expired keys (the code also ignores expired ones in between).
    db.idempotency_keys.create_index([("expiresAtDate", ASCENDING)], expireAfterSeconds=0, name="ttl")


class MongoLoadTestStore:
    def __init__(self, db):
        self.collection = db.load_tests

    def insert(self, test: LoadTest) -> None:
        self.collection.insert_one(test.model_dump(by_alias=True))

    def get(self, account_id: str, test_id: str) -> LoadTest | None:
        doc = self.collection.find_one({"id": test_id, "accountId": account_id, **LIVE}, NO_ID)
        return LoadTest.model_validate(doc) if doc else None

    def list(self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None) -> list[LoadTest]:
        query: dict[str, Any] = {"accountId": account_id, **LIVE}
        if project_id is not None:
            query["projectId"] = project_id
        if after is not None:
            query |= _after(after)
        cursor = self.collection.find(query, NO_ID).sort([("createdAt", -1), ("id", -1)]).limit(limit)
        return [LoadTest.model_validate(d) for d in cursor]

    def update(self, account_id: str, test_id: str, changes: dict[str, Any]) -> LoadTest | None:
        from pymongo import ReturnDocument

        wire = _wire(LoadTest, changes)
        doc = self.collection.find_one_and_update(
            {"id": test_id, "accountId": account_id, **LIVE}, {"$set": wire}, NO_ID, return_document=ReturnDocument.AFTER
        )
        return LoadTest.model_validate(doc) if doc else None

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

    def delete(self, account_id: str, test_id: str, deleted_at: int, deleted_by: str) -> bool:
        result = self.collection.update_one(
            {"id": test_id, "accountId": account_id, **LIVE}, {"$set": {"deletedAt": deleted_at, "deletedBy": deleted_by}}
        )
        return result.modified_count == 1


class MongoRevisionStore:
    def __init__(self, db):
        self.collection = db.script_revisions
        self.blobs = db.script_blobs

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
        from bson.binary import Binary
        from pymongo.errors import DuplicateKeyError

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
        self, draft: StoredRevision, *, skip_if_same_as_latest: bool, blobs: Mapping[str, bytes] | None = None
    ) -> tuple[StoredRevision, bool]:
        """Optimistic: take latest+1 and let the unique (loadTestId, revisionNumber) index arbitrate.

        A number is only consumed by a successful insert, so numbers stay contiguous even when a
        writer dies midway (a counter incremented before the insert could leave a gap).
        """
        from pymongo.errors import DuplicateKeyError

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
            try:
                self.collection.insert_one(revision.model_dump(by_alias=True))
                return revision, True
            except DuplicateKeyError:
                # A retried insert of our own id (retryWrites after a lost ack) already succeeded.
                mine = self.collection.find_one({"id": draft.id}, NO_ID)
                if mine:
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


# What a run read leaves out: the cluster handle and the outbox are the lifecycle's, not the run's.
_RUN_PROJECTION = {"_id": False, "clusterHandle": False, "outbox": False}


class MongoRunStore:
    """A run's outbox is an array on its own document (`outbox`: {eventId, detailType, status, at}),
    pushed by the same findOneAndUpdate as the status change that owes the events: one document,
    one atomic write, on mongomock and on any MongoDB alike (no transaction, so no replica set)."""

    def __init__(self, db):
        self.collection = db.load_test_runs

    def insert(self, run: Run) -> bool:
        from pymongo.errors import DuplicateKeyError

        try:
            self.collection.insert_one(run.model_dump(by_alias=True))
            return True
        except DuplicateKeyError:
            return False

    def get(self, account_id: str, run_id: str) -> Run | None:
        doc = self.collection.find_one({"id": run_id, "accountId": account_id}, _RUN_PROJECTION)
        return Run.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str, *, status: str | None, limit: int, after: tuple[int, str] | None) -> list[Run]:
        query: dict[str, Any] = {"accountId": account_id, "loadTestId": test_id}
        if status is not None:
            query["status"] = status
        if after is not None:
            query |= _after(after)
        cursor = self.collection.find(query, _RUN_PROJECTION).sort([("createdAt", -1), ("id", -1)]).limit(limit)
        return [Run.model_validate(d) for d in cursor]

    def transition(self, account_id, run_id, from_statuses, change: StatusChange, fields=None, events=()) -> Run | None:
        wire = _wire(Run, fields or {})
        wire["status"] = change.status
        push: dict[str, Any] = {"statusHistory": change.model_dump(by_alias=True)}
        outbox = [{"eventId": e.event_id, "detailType": e.detail_type, "status": e.status, "at": e.at} for e in events]
        if outbox:
            push["outbox"] = {"$each": outbox}  # a transition happens once, so its events are pushed once
        return self._conditional(account_id, run_id, from_statuses, {"$set": wire, "$push": push})

    def pending_events(self, account_id: str, run_id: str) -> builtins.list[OutboxEvent]:
        doc = self.collection.find_one({"id": run_id, "accountId": account_id}, {"_id": False, "outbox": True}) or {}
        entries = sorted(doc.get("outbox") or [], key=lambda e: e["at"])
        return [OutboxEvent(e["eventId"], e["detailType"], e["status"], e["at"]) for e in entries]

    def event_sent(self, account_id: str, run_id: str, event_id: str) -> None:
        self.collection.update_one({"id": run_id, "accountId": account_id}, {"$pull": {"outbox": {"eventId": event_id}}})

    def with_pending_events(self, written_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        query = {"outbox": {"$elemMatch": {"at": {"$lt": written_before}}}}
        cursor = self.collection.find(query, {"_id": False, "id": True, "accountId": True}).limit(limit)
        return [(d["accountId"], d["id"]) for d in cursor]

    def update(self, account_id, run_id, fields, *, when_status_in) -> Run | None:
        return self._conditional(account_id, run_id, when_status_in, {"$set": _wire(Run, fields)})

    def has_active(self, account_id: str, test_id: str) -> bool:
        query = {"accountId": account_id, "loadTestId": test_id, "status": {"$in": sorted(ACTIVE_STATUSES)}}
        return self.collection.find_one(query, {"_id": True}) is not None

    def find_active(self, account_id: str, test_id: str) -> Run | None:
        query = {"accountId": account_id, "loadTestId": test_id, "status": {"$in": sorted(ACTIVE_STATUSES)}}
        doc = self.collection.find_one(query, _RUN_PROJECTION, sort=[("createdAt", -1), ("id", -1)])
        return Run.model_validate(doc) if doc else None

    def referenced_revision_ids(self, account_id: str, test_id: str) -> set[str]:
        return set(self.collection.distinct("scriptRevisionId", {"accountId": account_id, "loadTestId": test_id}))

    def has_active_on_cluster(self, account_id: str, cluster_id: str) -> bool:
        query = {"accountId": account_id, "clusterId": cluster_id, "status": {"$in": sorted(ACTIVE_STATUSES)}}
        return self.collection.find_one(query, {"_id": True}) is not None

    def list_active(self, created_before: int | None = None, limit: int | None = None) -> builtins.list[Run]:
        query: dict[str, Any] = {"status": {"$in": sorted(ACTIVE_STATUSES)}}
        if created_before is not None:
            query["createdAt"] = {"$lt": created_before}
        cursor = self.collection.find(query, _RUN_PROJECTION).sort([("createdAt", 1), ("id", 1)])
        return [Run.model_validate(d) for d in (cursor.limit(limit) if limit else cursor)]

    def claim_handle(self, account_id: str, run_id: str, handle: dict[str, Any]) -> bool:
        result = self.collection.update_one(
            {"id": run_id, "accountId": account_id, "clusterHandle": None}, {"$set": {"clusterHandle": handle}}
        )
        return result.modified_count == 1

    def update_handle(self, account_id: str, run_id: str, handle: dict[str, Any]) -> bool:
        result = self.collection.update_one(
            {"id": run_id, "accountId": account_id, "clusterHandle.launch_id": handle.get("launch_id")},
            {"$set": {"clusterHandle": handle}},
        )
        return result.matched_count == 1

    def get_handle(self, account_id: str, run_id: str) -> dict[str, Any] | None:
        doc = self.collection.find_one({"id": run_id, "accountId": account_id}, {"_id": False, "clusterHandle": True})
        return (doc or {}).get("clusterHandle")

    def _conditional(self, account_id: str, run_id: str, statuses, update: dict[str, Any]) -> Run | None:
        from pymongo import ReturnDocument

        # No projection here: mongomock loses the document when a projection meets a filter on a
        # field the update changes; the internal fields are dropped below instead.
        doc = self.collection.find_one_and_update(
            {"id": run_id, "accountId": account_id, "status": {"$in": sorted(set(statuses))}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        for internal in _RUN_PROJECTION:
            doc.pop(internal, None)
        return Run.model_validate(doc)


_SERIES_FIELDS = ("users", "rps", "failuresPerSecond", "p50Ms", "p95Ms", "p99Ms")
_RATES = frozenset({"rps", "failuresPerSecond"})  # averaged per bucket; the rest keep the bucket's highest


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class MongoMetricsStore:
    def __init__(self, db):
        self.collection = db.run_metrics
        self.final_collection = db.run_series_final

    def append(self, account_id: str, sample: MetricsSample) -> None:
        self.collection.insert_one({**sample.model_dump(by_alias=True), "accountId": account_id})

    def save_final_series(self, account_id: str, run_id: str, endpoint: str | None, columns_json: str) -> None:
        self.save_final_series_batch(account_id, run_id, {endpoint: columns_json})

    def save_final_series_batch(self, account_id: str, run_id: str, series: dict[str | None, str]) -> None:
        from pymongo import UpdateOne

        writes = [
            UpdateOne({"accountId": account_id, "runId": run_id, "endpoint": endpoint or ""}, {"$set": {"columns": columns_json}}, upsert=True)
            for endpoint, columns_json in series.items()
        ]
        if writes:
            self.final_collection.bulk_write(writes, ordered=False)  # one round trip for every endpoint

    def final_series(self, account_id: str, run_id: str, endpoint: str | None) -> str | None:
        doc = self.final_collection.find_one({"accountId": account_id, "runId": run_id, "endpoint": endpoint or ""}, {"_id": False, "columns": True})
        return doc["columns"] if doc else None

    def list(self, account_id: str, run_id: str, *, limit: int) -> list[MetricsSample]:
        cursor = self.collection.find({"runId": run_id, "accountId": account_id}, {"_id": False, "accountId": False})
        return [MetricsSample.model_validate(d) for d in cursor.sort("at", 1).limit(limit)]

    def buckets(
        self, account_id: str, run_id: str, *, endpoint: str | None, start: int | None, end: int | None, origin: int, step: int
    ) -> Columns:
        window: dict[str, int] = {}
        if start is not None:
            window["$gte"] = start
        if end is not None:
            window["$lte"] = end
        match: dict[str, Any] = {"runId": run_id, "accountId": account_id, **({"at": window} if window else {})}
        source, stages = "$", []
        if endpoint is not None:
            method, name = endpoint.split(" ", 1)
            match["endpoints"] = {"$elemMatch": {"method": method, "name": name}}
            stages = [{"$unwind": "$endpoints"}, {"$match": {"endpoints.method": method, "endpoints.name": name}}]
            source = "$endpoints."
        bucket = {"$subtract": ["$at", {"$mod": [{"$subtract": ["$at", origin]}, step]}]}
        group = {"_id": bucket, "users": {"$max": "$users"}, **{f: {"$avg" if f in _RATES else "$max": source + f} for f in _SERIES_FIELDS[1:]}}
        pipeline = [{"$match": match}, *stages, {"$group": group}, {"$sort": {"_id": 1}}]
        out = Columns()
        for d in self.collection.aggregate(pipeline):
            out.time.append(int(d["_id"]))
            out.users.append(d.get("users"))
            out.rps.append(_round(d.get("rps")))
            out.failures_per_second.append(_round(d.get("failuresPerSecond")))
            out.p50_ms.append(d.get("p50Ms"))
            out.p95_ms.append(d.get("p95Ms"))
            out.p99_ms.append(d.get("p99Ms"))
        return out

    def endpoint_buckets(self, account_id: str, run_id: str, endpoints: Iterable[str], *, origin: int, step: int) -> dict[str, Columns]:
        # One pipeline: each sample's endpoint rows unwound once and grouped by (endpoint, bucket); a
        # pipeline per endpoint would unwind every sample's rows for each endpoint again. A $group past
        # 100 MB (~hundreds of thousands of endpoint buckets) spills to disk on MongoDB >= 6
        # (allowDiskUseByDefault); where it cannot, Finalize keeps no series and the API groups on read.
        bucket = {"$subtract": ["$at", {"$mod": [{"$subtract": ["$at", origin]}, step]}]}
        figures = {f: {"$avg" if f in _RATES else "$max": "$endpoints." + f} for f in _SERIES_FIELDS[1:]}
        group = {"_id": {"method": "$endpoints.method", "name": "$endpoints.name", "at": bucket}, "users": {"$max": "$users"}, **figures}
        pipeline = [
            {"$match": {"runId": run_id, "accountId": account_id}},
            {"$project": {"_id": False, "at": True, "users": True, "endpoints": True}},
            {"$unwind": "$endpoints"},
            {"$group": group},
        ]
        points: dict[str, list[dict[str, Any]]] = {e: [] for e in endpoints}
        for d in self.collection.aggregate(pipeline):
            points.get(f"{d['_id']['method']} {d['_id']['name']}", []).append(d)  # endpoints not asked for are dropped
        out: dict[str, Columns] = {}
        for endpoint, docs in points.items():  # each endpoint's buckets in time order (sorted here, not in a $sort over them all)
            if not docs:
                continue
            out[endpoint] = Columns()
            for d in sorted(docs, key=lambda d: d["_id"]["at"]):
                out[endpoint].add(
                    int(d["_id"]["at"]), d.get("users"), _round(d.get("rps")), _round(d.get("failuresPerSecond")),
                    d.get("p50Ms"), d.get("p95Ms"), d.get("p99Ms"),
                )  # fmt: skip
        return out

    def counts_before(self, account_id: str, run_id: str, at: int) -> Counts | None:
        doc = self.collection.find_one(
            {"runId": run_id, "accountId": account_id, "at": {"$lte": at}},
            {"_id": False, "at": True, "totalRequests": True, "totalFailures": True}, sort=[("at", -1)],
        )  # fmt: skip
        if not doc or doc.get("totalRequests") is None or doc.get("totalFailures") is None:
            return None
        return Counts(at=doc["at"], requests=doc["totalRequests"], failures=doc["totalFailures"])

    def latest(self, account_id: str, run_id: str) -> MetricsSample | None:
        doc = self.collection.find_one({"runId": run_id, "accountId": account_id}, {"_id": False, "accountId": False}, sort=[("at", -1)])
        return MetricsSample.model_validate(doc) if doc else None


class MongoClusterStore:
    def __init__(self, db):
        self.collection = db.locust_clusters

    def put(self, config: ClusterConfig) -> ClusterConfig:
        from pymongo import ReturnDocument

        key = scope_key(config)
        doc = config.model_dump(by_alias=True)
        stored = self.collection.find_one_and_update(
            {"accountId": config.account_id, "scopeKey": key},
            {"$set": {k: v for k, v in doc.items() if k != "id"}, "$setOnInsert": {"id": config.id}},
            {"_id": False, "scopeKey": False},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return ClusterConfig.model_validate(stored)

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None:
        doc = self.collection.find_one({"id": cluster_id, "accountId": account_id}, {"_id": False, "scopeKey": False})
        return ClusterConfig.model_validate(doc) if doc else None

    def list(self, account_id: str) -> list[ClusterConfig]:
        cursor = self.collection.find({"accountId": account_id}, {"_id": False, "scopeKey": False}).sort("scopeKey", 1)
        return [ClusterConfig.model_validate(d) for d in cursor]

    def delete(self, account_id: str, cluster_id: str) -> bool:
        return self.collection.delete_one({"id": cluster_id, "accountId": account_id}).deleted_count == 1


class MongoIdempotencyStore:
    def __init__(self, db):
        self.collection = db.idempotency_keys

    def get(self, account_id: str, key: str, now: int) -> IdempotencyRecord | None:
        doc = self.collection.find_one({"accountId": account_id, "key": key, "expiresAt": {"$gt": now}})
        return _idempotency_record(doc) if doc else None

    def claim(self, account_id: str, record: IdempotencyRecord, now: int) -> IdempotencyRecord:
        from datetime import datetime

        from pymongo.errors import DuplicateKeyError

        fields = {
            "fingerprint": record.fingerprint, "runId": record.run_id, "expiresAt": record.expires_at,
            "expiresAtDate": datetime.fromtimestamp(record.expires_at / 1000, tz=UTC),
        }
        try:
            self.collection.insert_one({"accountId": account_id, "key": record.key, **fields})
            return record
        except DuplicateKeyError:
            pass
        # The key exists: take it over only if it has expired (the TTL monitor may not have run yet).
        taken = self.collection.update_one({"accountId": account_id, "key": record.key, "expiresAt": {"$lte": now}}, {"$set": fields})
        if taken.modified_count == 1:
            return record
        return _idempotency_record(self.collection.find_one({"accountId": account_id, "key": record.key}))


def _idempotency_record(doc: dict[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(key=doc["key"], fingerprint=doc["fingerprint"], run_id=doc["runId"], expires_at=doc["expiresAt"])


def build_mongo_stores(db):
    from load_manager.store import Stores
    from load_manager.store.mongo_automation import MongoScheduleStore, MongoTriggerStore, ensure_automation_indexes
    from load_manager.store.mongo_tenancy import MongoEventSourceStore, MongoHoldStore, ensure_tenancy_indexes

    ensure_indexes(db)
    ensure_automation_indexes(db)
    ensure_tenancy_indexes(db)
    return Stores(
        load_tests=MongoLoadTestStore(db),
        revisions=MongoRevisionStore(db),
        runs=MongoRunStore(db),
        metrics=MongoMetricsStore(db),
        clusters=MongoClusterStore(db),
        idempotency=MongoIdempotencyStore(db),
        triggers=MongoTriggerStore(db),
        schedules=MongoScheduleStore(db),
        event_sources=MongoEventSourceStore(db),
        holds=MongoHoldStore(db),
    )
