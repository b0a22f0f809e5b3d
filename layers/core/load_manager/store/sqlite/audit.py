"""SQLite adapter of the audit trail (store/ports/audit.py): `audit_log`, whose AUTOINCREMENT `seq`
orders records of one millisecond, and whose triggers refuse every UPDATE and DELETE. Records are
inserted by the audited stores' own write transactions (`write_record`), never on their own.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from typing import Any

from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.db import SQLiteDatabase

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    target_id TEXT NOT NULL,
    load_test_id TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (account_id, at, seq);
CREATE INDEX IF NOT EXISTS audit_log_by_target ON audit_log (account_id, target_id, at, seq);
CREATE INDEX IF NOT EXISTS audit_log_by_test ON audit_log (account_id, load_test_id, at, seq);
CREATE INDEX IF NOT EXISTS audit_log_by_actor ON audit_log (account_id, actor, at, seq);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
"""


def write_record(conn: sqlite3.Connection, record: AuditRecord | None) -> None:
    """Insert `record` within the caller's write transaction (the change's own): both or neither."""
    if record is None:
        return
    conn.execute(
        "INSERT INTO audit_log (id, account_id, at, actor, target_id, load_test_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (record.id, record.account_id, record.at, record.actor, record.target_id, record.load_test_id, json.dumps(record.document())),
    )


def still(current: Any, expect: dict[str, Any] | None) -> bool:
    """Whether the stored model (read in the write transaction) still has the values the change was built on."""
    return not expect or all(getattr(current, name) == value for name, value in expect.items())


def delete_audited(
    conn: sqlite3.Connection, table: str, where: tuple[str, tuple[Any, ...]], model: Any, expect: dict[str, Any] | None,
    audit: AuditRecord | None,
) -> bool:  # fmt: skip
    """Delete the row `where` ("WHERE ...", params) finds in `table` if it is still as `expect` says,
    with its audit record, in the caller's write transaction; False (nothing written) otherwise."""
    row = conn.execute(f"SELECT doc FROM {table} {where[0]}", where[1]).fetchone()
    if row is None or not still(model.model_validate_json(row["doc"]), expect):
        return False
    conn.execute(f"DELETE FROM {table} {where[0]}", where[1])
    write_record(conn, audit)
    return True


class SQLiteAuditStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(AUDIT_SCHEMA)

    def query(
        self, account_id: str, *, target: str | None = None, actor: str | None = None, start: int | None = None, end: int | None = None,
        limit: int, after: tuple[int, int] | None = None,
    ) -> builtins.list[AuditRecord]:
        sql, params = "SELECT seq, at, doc FROM audit_log WHERE account_id = ?", list[Any]([account_id])
        if actor is not None:
            sql, params = sql + " AND actor = ?", [*params, actor]
        if start is not None:
            sql, params = sql + " AND at >= ?", [*params, start]
        if end is not None:
            sql, params = sql + " AND at < ?", [*params, end]
        if after is not None:
            sql, params = sql + " AND (at < ? OR (at = ? AND seq < ?))", [*params, after[0], after[0], after[1]]
        order = " ORDER BY at DESC, seq DESC LIMIT ?"
        if target is None:
            rows = self.db.query(sql + order, [*params, limit])
        else:  # the target's own records and those of what belongs to it: two index reads, merged (no sort of the table)
            rows = self.db.query(sql + " AND target_id = ?" + order, [*params, target, limit])
            rows += self.db.query(sql + " AND load_test_id = ? AND target_id != ?" + order, [*params, target, target, limit])
            rows = sorted(rows, key=lambda r: (r["at"], r["seq"]), reverse=True)[:limit]
        return [AuditRecord.from_document(json.loads(r["doc"]), seq=r["seq"]) for r in rows]

    def drain(self, account_id: str | None, limit: int = 200) -> int:
        return 0  # every record was stored by its change's own transaction
