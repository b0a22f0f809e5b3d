"""MongoDB adapter (pymongo): what AWS runs, against Atlas or any MongoDB >= 6.

One MongoClient per execution environment, created lazily on first use with serverless pool
settings (`db`); indexes are created idempotently when the stores are built (`schema`: cold
start), never at import. One module per aggregate (load_tests, revisions, runs with metrics,
clusters, idempotency, automation, tenancy).
"""

from __future__ import annotations

from load_manager.store.mongo.automation import MongoScheduleStore, MongoTriggerStore
from load_manager.store.mongo.clusters import MongoClusterStore
from load_manager.store.mongo.db import get_client, get_database
from load_manager.store.mongo.idempotency import MongoIdempotencyStore
from load_manager.store.mongo.load_tests import MongoLoadTestStore
from load_manager.store.mongo.revisions import MongoRevisionStore
from load_manager.store.mongo.runs import MongoMetricsStore, MongoRunStore
from load_manager.store.mongo.schema import ensure_automation_indexes, ensure_indexes, ensure_tenancy_indexes
from load_manager.store.mongo.tenancy import MongoEventSourceStore, MongoHoldStore
from load_manager.store.ports import Stores

__all__ = ["build_mongo_stores", "get_client", "get_database"]


def build_mongo_stores(db) -> Stores:
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
