"""SQLite adapter of API tokens (store/ports/tokens.py): the hash UNIQUE in the table; what never
changes is a JSON document, what does (last use, revocation) are columns, so each write is one
conditional UPDATE."""

from __future__ import annotations

import builtins
import json
import sqlite3

from load_manager.models.tokens import TokenRecord
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.audit import write_record
from load_manager.store.sqlite.db import SQLiteDatabase, newest_first

TOKENS_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER,
    revoked_by TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_tokens_by_account ON api_tokens (account_id, created_at DESC, id DESC);
"""
_COLUMNS = "doc, last_used_at, revoked_at, revoked_by"


class SQLiteTokenStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(TOKENS_SCHEMA)

    def insert(self, record: TokenRecord, *, audit: AuditRecord | None = None) -> bool:
        doc = record.model_dump_json(by_alias=True, exclude=_MUTABLE_FIELDS)
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO api_tokens (id, account_id, token_hash, created_at, last_used_at, revoked_at, revoked_by, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.id, record.account_id, record.token_hash, record.created_at, record.last_used_at, record.revoked_at,
                     record.revoked_by, doc),
                )  # fmt: skip
                write_record(conn, audit)
        except sqlite3.IntegrityError:
            return False
        return True

    def get(self, account_id: str, token_id: str) -> TokenRecord | None:
        rows = self.db.query(f"SELECT {_COLUMNS} FROM api_tokens WHERE id = ? AND account_id = ?", (token_id, account_id))
        return _record(rows[0]) if rows else None

    def find_by_hash(self, token_hash: str) -> TokenRecord | None:
        rows = self.db.query(f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ?", (token_hash,))
        return _record(rows[0]) if rows else None

    def list(self, account_id: str, after: tuple[int, str] | None = None, limit: int = 100) -> builtins.list[TokenRecord]:
        sql, params = newest_first(f"SELECT {_COLUMNS} FROM api_tokens WHERE account_id = ?", [account_id], after, limit)
        return [_record(row) for row in self.db.query(sql, params)]

    def revoke(self, account_id: str, token_id: str, at: int, by: str, *, audit: AuditRecord | None = None) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL",
                (at, by, token_id, account_id),
            ).rowcount
            if changed == 1:
                write_record(conn, audit)
        return changed == 1

    def touch(self, account_id: str, token_id: str, at: int, min_interval_ms: int) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL "
                "AND (last_used_at IS NULL OR last_used_at <= ?)",
                (at, token_id, account_id, at - min_interval_ms),
            ).rowcount
        return changed == 1


_MUTABLE_FIELDS = {"last_used_at", "revoked_at", "revoked_by"}


def _record(row: sqlite3.Row) -> TokenRecord:
    doc = json.loads(row["doc"])
    doc.update(lastUsedAt=row["last_used_at"], revokedAt=row["revoked_at"], revokedBy=row["revoked_by"])
    return TokenRecord.model_validate(doc)
