"""SQLite adapter of the idempotency key store.
"""

from __future__ import annotations

import sqlite3

from load_manager.store.ports import IdempotencyRecord
from load_manager.store.sqlite.db import SQLiteDatabase


class SQLiteIdempotencyStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def get(self, account_id: str, key: str, now: int) -> IdempotencyRecord | None:
        rows = self.db.query(
            "SELECT key, fingerprint, run_id, expires_at FROM idempotency_keys WHERE account_id = ? AND key = ? AND expires_at > ?",
            (account_id, key, now),
        )
        return _idempotency_record(rows[0]) if rows else None

    def claim(self, account_id: str, record: IdempotencyRecord, now: int) -> IdempotencyRecord:
        with self.db.write() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND expires_at <= ?", (account_id, record.key, now))
            conn.execute(
                "INSERT OR IGNORE INTO idempotency_keys (account_id, key, fingerprint, run_id, expires_at) VALUES (?, ?, ?, ?, ?)",
                (account_id, record.key, record.fingerprint, record.run_id, record.expires_at),
            )
            row = conn.execute(
                "SELECT key, fingerprint, run_id, expires_at FROM idempotency_keys WHERE account_id = ? AND key = ?", (account_id, record.key)
            ).fetchone()
        return _idempotency_record(row)


def _idempotency_record(row: sqlite3.Row) -> IdempotencyRecord:
    return IdempotencyRecord(key=row["key"], fingerprint=row["fingerprint"], run_id=row["run_id"], expires_at=row["expires_at"])
