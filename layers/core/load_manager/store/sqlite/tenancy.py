"""SQLite adapter of what keeps tenants apart and within their quotas: event source ownership and
quota holds. Each write that checks before it writes runs under `BEGIN IMMEDIATE` (serialised)."""

from __future__ import annotations

import builtins

from load_manager.models.automation import EventSource
from load_manager.store.ports import Hold
from load_manager.store.sqlite.db import SQLiteDatabase


class SQLiteEventSourceStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def claim(self, source: EventSource) -> EventSource:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO event_sources (id, owner_account_id, kind, value, doc) VALUES (?, ?, ?, ?, ?)",
                (source.id, source.owner_account_id, source.kind, source.value, source.model_dump_json(by_alias=True)),
            )
            row = conn.execute("SELECT doc FROM event_sources WHERE kind = ? AND value = ?", (source.kind, source.value)).fetchone()
        return EventSource.model_validate_json(row["doc"])

    def get(self, source_id: str) -> EventSource | None:
        rows = self.db.query("SELECT doc FROM event_sources WHERE id = ?", (source_id,))
        return EventSource.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, owner_account_id: str | None) -> builtins.list[EventSource]:
        if owner_account_id is None:
            rows = self.db.query("SELECT doc FROM event_sources ORDER BY owner_account_id, kind, value")
        else:
            rows = self.db.query("SELECT doc FROM event_sources WHERE owner_account_id = ? ORDER BY kind, value", (owner_account_id,))
        return [EventSource.model_validate_json(r["doc"]) for r in rows]

    def delete(self, source_id: str) -> bool:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM event_sources WHERE id = ?", (source_id,)).rowcount == 1


class SQLiteHoldStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def take(self, account_id: str, pool: str, hold: Hold, limit: int, group_limit: int | None) -> bool:
        with self.db.write() as conn:  # count, then insert: one serialised transaction
            held = conn.execute(
                "SELECT 1 FROM quota_holds WHERE account_id = ? AND pool = ? AND member = ?", (account_id, pool, hold.member)
            ).fetchone()
            if held is not None:
                return True
            if self._count(conn, "account_id = ? AND pool = ?", (account_id, pool)) >= limit:
                return False
            where = "account_id = ? AND pool = ? AND grp = ?"
            if group_limit is not None and self._count(conn, where, (account_id, pool, hold.group)) >= group_limit:
                return False
            conn.execute(
                "INSERT INTO quota_holds (account_id, pool, member, grp, at) VALUES (?, ?, ?, ?, ?)",
                (account_id, pool, hold.member, hold.group, hold.at),
            )
            return True

    @staticmethod
    def _count(conn, where: str, params: tuple) -> int:
        return conn.execute(f"SELECT COUNT(*) AS n FROM quota_holds WHERE {where}", params).fetchone()["n"]

    def release(self, account_id: str, pool: str, member: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM quota_holds WHERE account_id = ? AND pool = ? AND member = ?", (account_id, pool, member))

    def holds(self, account_id: str, pool: str) -> builtins.list[Hold]:
        rows = self.db.query("SELECT member, grp, at FROM quota_holds WHERE account_id = ? AND pool = ? ORDER BY at, member", (account_id, pool))
        return [Hold(member=r["member"], group=r["grp"], at=r["at"]) for r in rows]

