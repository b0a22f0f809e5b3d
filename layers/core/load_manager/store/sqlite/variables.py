"""SQLite adapter of variables and secrets (store/ports/variables.py): one row per (tenant, kind,
scope, name), UNIQUE in the table; replace and delete are conditional on the version."""

from __future__ import annotations

import builtins
import sqlite3

from load_manager.models.variables import ConfigEntry
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.ports.variables import entry_scope_key
from load_manager.store.sqlite.audit import write_record
from load_manager.store.sqlite.db import SQLiteDatabase

VARIABLES_SCHEMA = """
CREATE TABLE IF NOT EXISTS config_entries (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account_id, kind, scope_key, name)
);
CREATE INDEX IF NOT EXISTS config_entries_by_account ON config_entries (account_id, kind, name, scope_key);
"""


class SQLiteVariableStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(VARIABLES_SCHEMA)

    def insert(self, entry: ConfigEntry, *, audit: AuditRecord | None = None) -> bool:
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO config_entries (id, account_id, kind, scope_key, name, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (entry.id, entry.account_id, entry.kind, entry_scope_key(entry), entry.name, entry.version, _doc(entry)),
                )
                write_record(conn, audit)
        except sqlite3.IntegrityError:
            return False
        return True

    def replace(self, entry: ConfigEntry, expected_version: int, *, audit: AuditRecord | None = None) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE config_entries SET version = ?, doc = ? WHERE id = ? AND account_id = ? AND version = ?",
                (entry.version, _doc(entry), entry.id, entry.account_id, expected_version),
            ).rowcount
            if changed == 1:
                write_record(conn, audit)
        return changed == 1

    def get(self, account_id: str, entry_id: str) -> ConfigEntry | None:
        rows = self.db.query("SELECT doc FROM config_entries WHERE id = ? AND account_id = ?", (entry_id, account_id))
        return ConfigEntry.model_validate_json(rows[0]["doc"]) if rows else None

    def find(self, account_id: str, kind: str, scope_key: str, name: str) -> ConfigEntry | None:
        rows = self.db.query(
            "SELECT doc FROM config_entries WHERE account_id = ? AND kind = ? AND scope_key = ? AND name = ?", (account_id, kind, scope_key, name)
        )
        return ConfigEntry.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str, kind: str | None = None) -> builtins.list[ConfigEntry]:
        where, params = ("account_id = ? AND kind = ?", (account_id, kind)) if kind else ("account_id = ?", (account_id,))
        rows = self.db.query(f"SELECT doc FROM config_entries WHERE {where} ORDER BY kind, name, scope_key", params)
        return [ConfigEntry.model_validate_json(r["doc"]) for r in rows]

    def count(self, account_id: str, kind: str) -> int:
        return int(self.db.query("SELECT COUNT(*) AS n FROM config_entries WHERE account_id = ? AND kind = ?", (account_id, kind))[0]["n"])

    def delete(self, account_id: str, entry_id: str, expected_version: int, *, audit: AuditRecord | None = None) -> bool:
        with self.db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM config_entries WHERE id = ? AND account_id = ? AND version = ?", (entry_id, account_id, expected_version)
            ).rowcount
            if deleted == 1:
                write_record(conn, audit)
        return deleted == 1


def _doc(entry: ConfigEntry) -> str:
    return entry.model_dump_json(by_alias=True)
