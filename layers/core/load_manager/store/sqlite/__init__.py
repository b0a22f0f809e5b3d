"""SQLite adapter: the embedded default of the local runtime. Durable in one file, indexed.

One module per aggregate (load_tests, revisions, runs with metrics, clusters, idempotency,
automation, tenancy) over the connections of `db` and the tables of `schema`.
"""

from __future__ import annotations

from load_manager.store.ports import Stores
from load_manager.store.sqlite.audit import SQLiteAuditStore
from load_manager.store.sqlite.automation import SQLiteScheduleStore, SQLiteTriggerStore
from load_manager.store.sqlite.clusters import SQLiteClusterStore
from load_manager.store.sqlite.idempotency import SQLiteIdempotencyStore
from load_manager.store.sqlite.load_tests import SQLiteLoadTestStore
from load_manager.store.sqlite.notifications import SQLiteNotificationChannelStore
from load_manager.store.sqlite.revisions import SQLiteRevisionStore
from load_manager.store.sqlite.runs import SQLiteMetricsStore, SQLiteRunStore
from load_manager.store.sqlite.schema import open_database
from load_manager.store.sqlite.tenancy import SQLiteEventSourceStore, SQLiteHoldStore
from load_manager.store.sqlite.tokens import SQLiteTokenStore
from load_manager.store.sqlite.usage import SQLiteUsageStore
from load_manager.store.sqlite.variables import SQLiteVariableStore

__all__ = ["build_sqlite_stores"]


def build_sqlite_stores(path: str) -> Stores:
    db = open_database(path)
    return Stores(
        load_tests=SQLiteLoadTestStore(db),
        revisions=SQLiteRevisionStore(db),
        runs=SQLiteRunStore(db),
        metrics=SQLiteMetricsStore(db),
        clusters=SQLiteClusterStore(db),
        idempotency=SQLiteIdempotencyStore(db),
        triggers=SQLiteTriggerStore(db),
        schedules=SQLiteScheduleStore(db),
        event_sources=SQLiteEventSourceStore(db),
        holds=SQLiteHoldStore(db),
        variables=SQLiteVariableStore(db),
        notification_channels=SQLiteNotificationChannelStore(db),
        tokens=SQLiteTokenStore(db),
        usage=SQLiteUsageStore(db),
        audit=SQLiteAuditStore(db),
    )
