"""SQLite adapter of notification channels (store/ports/notifications.py): one document per channel,
indexed by (tenant, created)."""

from __future__ import annotations

import builtins
from typing import Any

from load_manager.models.notifications import NotificationChannel
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.audit import delete_audited, still, write_record
from load_manager.store.sqlite.db import SQLiteDatabase

CHANNELS_SCHEMA = """
CREATE TABLE IF NOT EXISTS notification_channels (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    test_id TEXT,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_channels_by_account ON notification_channels (account_id, created_at, id);
"""


class SQLiteNotificationChannelStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(CHANNELS_SCHEMA)

    def insert(self, channel: NotificationChannel, *, audit: AuditRecord | None = None) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO notification_channels (id, account_id, test_id, created_at, doc) VALUES (?, ?, ?, ?, ?)",
                (channel.id, channel.account_id, channel.test_id, channel.created_at, channel.model_dump_json(by_alias=True)),
            )
            write_record(conn, audit)

    def get(self, account_id: str, channel_id: str) -> NotificationChannel | None:
        rows = self.db.query("SELECT doc FROM notification_channels WHERE id = ? AND account_id = ?", (channel_id, account_id))
        return NotificationChannel.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str, test_id: str | None = None) -> builtins.list[NotificationChannel]:
        sql, params = "SELECT doc FROM notification_channels WHERE account_id = ?", [account_id]
        if test_id is not None:
            sql, params = sql + " AND test_id = ?", [*params, test_id]
        rows = self.db.query(sql + " ORDER BY created_at, id", params)
        return [NotificationChannel.model_validate_json(r["doc"]) for r in rows]

    def update(
        self, account_id: str, channel_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> NotificationChannel | None:
        with self.db.write() as conn:  # read, merge, write: one serialised transaction
            row = conn.execute("SELECT doc FROM notification_channels WHERE id = ? AND account_id = ?", (channel_id, account_id)).fetchone()
            current = NotificationChannel.model_validate_json(row["doc"]) if row else None
            if current is None or not still(current, expect):
                return None
            merged = current.model_copy(update=changes)
            conn.execute("UPDATE notification_channels SET doc = ? WHERE id = ?", (merged.model_dump_json(by_alias=True), channel_id))
            write_record(conn, audit)
            return merged

    def delete(self, account_id: str, channel_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> bool:
        with self.db.write() as conn:
            where = ("WHERE id = ? AND account_id = ?", (channel_id, account_id))
            return delete_audited(conn, "notification_channels", where, NotificationChannel, expect, audit)

    def list_all(self) -> builtins.list[NotificationChannel]:
        rows = self.db.query("SELECT doc FROM notification_channels ORDER BY created_at, id")
        return [NotificationChannel.model_validate_json(r["doc"]) for r in rows]
