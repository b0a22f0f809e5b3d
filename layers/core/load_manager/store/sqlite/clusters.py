"""SQLite adapter of the cluster configuration store: one configuration per (tenant, scope).
"""

from __future__ import annotations

from load_manager.models.clusters import ClusterConfig
from load_manager.store.ports import scope_key
from load_manager.store.sqlite.db import SQLiteDatabase


class SQLiteClusterStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def put(self, config: ClusterConfig) -> ClusterConfig:
        key = scope_key(config)
        with self.db.write() as conn:
            row = conn.execute("SELECT id FROM locust_clusters WHERE account_id = ? AND scope_key = ?", (config.account_id, key)).fetchone()
            if row is not None:
                config = config.model_copy(update={"id": row["id"]})
            conn.execute(
                "INSERT OR REPLACE INTO locust_clusters (id, account_id, scope_key, doc) VALUES (?, ?, ?, ?)",
                (config.id, config.account_id, key, config.model_dump_json(by_alias=True)),
            )
        return config

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None:
        rows = self.db.query("SELECT doc FROM locust_clusters WHERE id = ? AND account_id = ?", (cluster_id, account_id))
        return ClusterConfig.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str) -> list[ClusterConfig]:
        rows = self.db.query("SELECT doc FROM locust_clusters WHERE account_id = ? ORDER BY scope_key", (account_id,))
        return [ClusterConfig.model_validate_json(r["doc"]) for r in rows]

    def delete(self, account_id: str, cluster_id: str) -> bool:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM locust_clusters WHERE id = ? AND account_id = ?", (cluster_id, account_id)).rowcount == 1
