"""SQLite adapter of the cluster configuration store: one configuration per (tenant, scope).
"""

from __future__ import annotations

from typing import Any

from load_manager.models.clusters import ClusterConfig
from load_manager.store.ports import scope_key
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.audit import delete_audited, still, write_record
from load_manager.store.sqlite.db import SQLiteDatabase


class SQLiteClusterStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def put(
        self, config: ClusterConfig, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> ClusterConfig | None:
        key = scope_key(config)
        with self.db.write() as conn:
            row = conn.execute("SELECT doc FROM locust_clusters WHERE account_id = ? AND scope_key = ?", (config.account_id, key)).fetchone()
            current = ClusterConfig.model_validate_json(row["doc"]) if row is not None else None
            # `expect`: values of the scope's configuration the change was built on; empty: there was none.
            if expect is not None and ((current is not None) != bool(expect) or not still(current, expect)):
                return None
            if current is not None:
                config = config.model_copy(update={"id": current.id})
            conn.execute(
                "INSERT OR REPLACE INTO locust_clusters (id, account_id, scope_key, doc) VALUES (?, ?, ?, ?)",
                (config.id, config.account_id, key, config.model_dump_json(by_alias=True)),
            )
            write_record(conn, audit)
        return config

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None:
        rows = self.db.query("SELECT doc FROM locust_clusters WHERE id = ? AND account_id = ?", (cluster_id, account_id))
        return ClusterConfig.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str) -> list[ClusterConfig]:
        rows = self.db.query("SELECT doc FROM locust_clusters WHERE account_id = ? ORDER BY scope_key", (account_id,))
        return [ClusterConfig.model_validate_json(r["doc"]) for r in rows]

    def delete(self, account_id: str, cluster_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> bool:
        with self.db.write() as conn:
            where = ("WHERE id = ? AND account_id = ?", (cluster_id, account_id))
            return delete_audited(conn, "locust_clusters", where, ClusterConfig, expect, audit)
