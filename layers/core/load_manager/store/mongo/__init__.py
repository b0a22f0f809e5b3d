"""MongoDB adapter (pymongo): what AWS runs, against Atlas or any MongoDB >= 6.

One MongoClient per execution environment, created lazily on first use with serverless pool
settings (`db`); each aggregate's store is built on its first use, its indexes created
idempotently then (`schema`), never at import. One module per aggregate (load_tests, revisions,
runs with metrics, clusters, idempotency, automation, tenancy).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from load_manager.store.lazy import LazyStores
from load_manager.store.mongo import schema
from load_manager.store.mongo.db import get_client, get_database
from load_manager.store.ports import Stores

__all__ = ["build_mongo_stores", "get_client", "get_database"]


def build_mongo_stores(db) -> Stores:
    """Each aggregate's store is built on its first use: its adapter module imported (with its area's
    models) and its collections' indexes ensured (schema.py) then. A function's first request pays
    for the stores it touches only: importing every adapter, with every area's models, cost it 25 ms
    (runs) to 35 ms (load tests) of CPU here, and each store's indexes are round trips to the server."""

    def store(module: str, name: str, *indexes: Callable[[Any], None] | str) -> Callable[[], Any]:
        def build() -> Any:
            adapter = importlib.import_module(f"{__name__}.{module}")
            for ensure in indexes:  # a name: the adapter module's own function
                (getattr(adapter, ensure) if isinstance(ensure, str) else ensure)(db)
            return getattr(adapter, name)(db)

        return build

    return LazyStores({
        "load_tests": store("load_tests", "MongoLoadTestStore", schema.load_test_indexes),
        "revisions": store("revisions", "MongoRevisionStore", schema.revision_indexes),
        "runs": store("runs", "MongoRunStore", schema.run_indexes),
        "metrics": store("runs", "MongoMetricsStore", schema.metrics_indexes),
        "clusters": store("clusters", "MongoClusterStore", schema.cluster_indexes),
        "idempotency": store("idempotency", "MongoIdempotencyStore", schema.idempotency_indexes),
        "triggers": store("automation", "MongoTriggerStore", schema.trigger_indexes),
        "schedules": store("automation", "MongoScheduleStore", schema.schedule_indexes),
        "event_sources": store("tenancy", "MongoEventSourceStore", schema.event_source_indexes),
        "holds": store("tenancy", "MongoHoldStore", schema.hold_indexes),
        "variables": store("variables", "MongoVariableStore", "ensure_variable_indexes"),
        "notification_channels": store("notifications", "MongoNotificationChannelStore"),  # its constructor ensures its indexes
        "tokens": store("tokens", "MongoTokenStore", "ensure_token_indexes"),
        "usage": store("usage", "MongoUsageStore", "ensure_usage_indexes"),
        "audit": store("audit", "MongoAuditStore", "audit_indexes"),
    })  # fmt: skip
