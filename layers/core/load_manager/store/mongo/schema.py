"""The MongoDB adapter's schema: every collection's indexes, created idempotently when its store is
built (on its first use: store/lazy.py), never at import: creating an index that exists is a no-op,
so a database made by an earlier version gets what it lacks. One function per aggregate.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING


def load_test_indexes(db) -> None:
    db.load_tests.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.load_tests.create_index([("accountId", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)], name="by_account")
    db.load_tests.create_index(
        [("accountId", ASCENDING), ("projectId", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)], name="by_project"
    )
    # The sweeper's deleted tests whose dependents may remain (store/ports/load_tests.py awaiting_cleanup):
    # partial, so it holds only those documents.
    db.load_tests.create_index(
        [("cleanupAt", ASCENDING), ("id", ASCENDING)], name="awaiting_cleanup", partialFilterExpression={"cleanupAt": {"$exists": True}}
    )


def revision_indexes(db) -> None:
    db.script_revisions.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.script_revisions.create_index(
        [("loadTestId", ASCENDING), ("revisionNumber", ASCENDING)], unique=True, name="number_unique"
    )
    db.script_revisions.create_index([("loadTestId", ASCENDING), ("createdAt", ASCENDING)], name="by_time")
    # Bundle files: one document per (tenant, sha256), at most 4 MiB each (MongoDB's limit is 16 MB).
    db.script_blobs.create_index([("accountId", ASCENDING), ("sha256", ASCENDING)], unique=True, name="blob_unique")
    blob_collection_indexes(db)


def run_indexes(db) -> None:
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


def metrics_indexes(db) -> None:
    db.run_metrics.create_index([("runId", ASCENDING), ("at", ASCENDING)], name="by_run")
    db.run_series_final.create_index([("accountId", ASCENDING), ("runId", ASCENDING), ("endpoint", ASCENDING)], unique=True, name="series_unique")


def cluster_indexes(db) -> None:
    db.locust_clusters.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.locust_clusters.create_index([("accountId", ASCENDING), ("scopeKey", ASCENDING)], unique=True, name="scope_unique")


def idempotency_indexes(db) -> None:
    db.idempotency_keys.create_index([("accountId", ASCENDING), ("key", ASCENDING)], unique=True, name="key_unique")
    # MongoDB's TTL monitor removes expired keys (the code also ignores expired ones in between).
    db.idempotency_keys.create_index([("expiresAtDate", ASCENDING)], expireAfterSeconds=0, name="ttl")


def _automation_indexes(collection) -> None:
    collection.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    collection.create_index([("accountId", ASCENDING), ("loadTestId", ASCENDING), ("createdAt", ASCENDING)], name="by_test")


def trigger_indexes(db) -> None:
    _automation_indexes(db.triggers)


def schedule_indexes(db) -> None:
    _automation_indexes(db.schedules)


def event_source_indexes(db) -> None:
    db.event_sources.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.event_sources.create_index([("kind", ASCENDING), ("value", ASCENDING)], unique=True, name="source_unique")
    db.event_sources.create_index([("ownerAccountId", ASCENDING), ("kind", ASCENDING), ("value", ASCENDING)], name="by_owner")


def hold_indexes(db) -> None:
    db.quota_holds.create_index([("accountId", ASCENDING), ("pool", ASCENDING)], unique=True, name="pool_unique")


def blob_collection_indexes(db) -> None:
    # Blob collection asks which of a tenant's revisions name given blobs.
    db.script_revisions.create_index([("accountId", ASCENDING), ("files.sha256", ASCENDING)], name="by_blob")
    db.script_blobs.create_index([("accountId", ASCENDING), ("touchedAt", ASCENDING)], name="by_touch")
