"""MongoDB adapter of the run store (a run's outbox is an array on its own document) and of the
metrics store (`run_metrics` samples, downsampled by aggregation; `run_series_final`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from load_manager.analysis.autostop import Counts
from load_manager.analysis.series import Columns
from load_manager.models.generators import READINGS, GeneratorReading
from load_manager.models.metrics import MetricsSample
from load_manager.models.runs import ACTIVE_STATUSES, FINAL_STATUSES, Run, StatusChange
from load_manager.store.mongo.audit import Pending, carrying, embed
from load_manager.store.mongo.db import after_key, wire_fields
from load_manager.store.ports import OutboxEvent
from load_manager.store.ports.audit import AuditRecord

# What a run read leaves out: the cluster handle and the outbox are the lifecycle's, not the run's
# (nor are the audit records a crash left in it).
_RUN_PROJECTION = {"_id": False, "clusterHandle": False, "outbox": False, "auditPending": False}


class MongoRunStore:
    """A run's outbox is an array on its own document (`outbox`: {eventId, detailType, status, at}),
    pushed by the same findOneAndUpdate as the status change that owes the events: one document,
    one atomic write, on mongomock and on any MongoDB alike (no transaction, so no replica set)."""

    def __init__(self, db):
        self.collection = db.load_test_runs
        self.pending = Pending(db, self.collection)

    def insert(self, run: Run, *, audit: AuditRecord | None = None) -> bool:
        try:
            self.collection.insert_one(carrying(run.model_dump(by_alias=True), audit))
        except DuplicateKeyError:
            return False
        self.pending.publish({"id": run.id, "accountId": run.account_id}, audit)
        return True

    def get(self, account_id: str, run_id: str) -> Run | None:
        doc = self.collection.find_one({"id": run_id, "accountId": account_id}, _RUN_PROJECTION)
        return Run.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str, *, status: str | None, limit: int, after: tuple[int, str] | None) -> list[Run]:
        query: dict[str, Any] = {"accountId": account_id, "loadTestId": test_id}
        if status is not None:
            query["status"] = status
        if after is not None:
            query |= after_key(after)
        cursor = self.collection.find(query, _RUN_PROJECTION).sort([("createdAt", -1), ("id", -1)]).limit(limit)
        return [Run.model_validate(d) for d in cursor]

    def transition(self, account_id, run_id, from_statuses, change: StatusChange, fields=None, events=()) -> Run | None:
        wire = wire_fields(Run, fields or {})
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

    def add_events(self, account_id: str, run_id: str, events: Iterable[OutboxEvent]) -> None:
        for e in events:  # each pushed only while its id is not in the outbox: a retried add changes nothing
            entry = {"eventId": e.event_id, "detailType": e.detail_type, "status": e.status, "at": e.at}
            self.collection.update_one({"id": run_id, "accountId": account_id, "outbox.eventId": {"$ne": e.event_id}}, {"$push": {"outbox": entry}})

    def event_sent(self, account_id: str, run_id: str, event_id: str) -> None:
        self.collection.update_one({"id": run_id, "accountId": account_id}, {"$pull": {"outbox": {"eventId": event_id}}})

    def with_pending_events(self, written_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        query = {"outbox": {"$elemMatch": {"at": {"$lt": written_before}}}}
        cursor = self.collection.find(query, {"_id": False, "id": True, "accountId": True}).limit(limit)
        return [(d["accountId"], d["id"]) for d in cursor]

    def update(self, account_id, run_id, fields, *, when_status_in, audit: AuditRecord | None = None) -> Run | None:
        run = self._conditional(account_id, run_id, when_status_in, embed({"$set": wire_fields(Run, fields)}, audit))
        if run is not None:
            self.pending.publish({"id": run_id, "accountId": account_id}, audit)
        return run

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

    def ended_among(self, run_ids: Iterable[str], ended_before: int) -> builtins.set[str]:
        wanted = sorted(set(run_ids))
        if not wanted:
            return set()
        query = {
            "id": {"$in": wanted}, "status": {"$in": sorted(FINAL_STATUSES)},
            "$or": [{"endedAt": {"$lt": ended_before}}, {"endedAt": None}],
        }  # fmt: skip
        return {str(d["id"]) for d in self.collection.find(query, {"_id": False, "id": True})}

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

    def generator_readings(self, account_id: str, run_id: str) -> builtins.list[tuple[int, builtins.list[GeneratorReading]]]:
        query = {"runId": run_id, "accountId": account_id, "generators.0": {"$exists": True}}
        cursor = self.collection.find(query, {"_id": False, "at": True, "generators": True}).sort("at", 1)
        return [(int(d["at"]), READINGS.validate_python(d["generators"])) for d in cursor]
