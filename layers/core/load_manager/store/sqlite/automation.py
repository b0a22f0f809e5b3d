"""SQLite adapter of the trigger and schedule stores (runs without a human)."""

from __future__ import annotations

import builtins
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from load_manager.models.automation import Schedule, ScheduleOccurrence, Trigger, TriggerFiring
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.audit import delete_audited, still, write_record
from load_manager.store.sqlite.db import SQLiteDatabase

M = TypeVar("M", bound=BaseModel)


class _DocTable(Generic[M]):
    """A table of one model's documents, keyed by id, owned by (account, test)."""

    table = ""
    model: type[M]

    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def insert(self, item: M, *, audit: AuditRecord | None = None) -> None:
        doc = item.model_dump(by_alias=True)
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO {self.table} (id, account_id, load_test_id, created_at, doc) VALUES (?, ?, ?, ?, ?)",
                (doc["id"], doc["accountId"], doc["loadTestId"], doc["createdAt"], json.dumps(doc)),
            )
            write_record(conn, audit)

    def get(self, account_id: str, test_id: str, item_id: str) -> M | None:
        rows = self.db.query(
            f"SELECT doc FROM {self.table} WHERE id = ? AND account_id = ? AND load_test_id = ?", (item_id, account_id, test_id)
        )
        return self.model.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str, test_id: str) -> builtins.list[M]:
        rows = self.db.query(
            f"SELECT doc FROM {self.table} WHERE account_id = ? AND load_test_id = ? ORDER BY created_at, id", (account_id, test_id)
        )
        return [self.model.model_validate_json(r["doc"]) for r in rows]

    def count(self, account_id: str, test_id: str | None = None) -> int:
        if test_id is None:
            return self.db.query(f"SELECT COUNT(*) AS n FROM {self.table} WHERE account_id = ?", (account_id,))[0]["n"]
        rows = self.db.query(f"SELECT COUNT(*) AS n FROM {self.table} WHERE account_id = ? AND load_test_id = ?", (account_id, test_id))
        return rows[0]["n"]

    def delete(
        self, account_id: str, test_id: str, item_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> bool:
        with self.db.write() as conn:
            where = ("WHERE id = ? AND account_id = ? AND load_test_id = ?", (item_id, account_id, test_id))
            return delete_audited(conn, self.table, where, self.model, expect, audit)

    def list_all(self) -> builtins.list[M]:
        return [self.model.model_validate_json(r["doc"]) for r in self.db.query(f"SELECT doc FROM {self.table} ORDER BY created_at, id")]

    def update(
        self, account_id: str, test_id: str, item_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> M | None:  # fmt: skip
        with self.db.write() as conn:  # read-modify-write, serialised by BEGIN IMMEDIATE: changes merge, none is lost
            row = conn.execute(
                f"SELECT doc FROM {self.table} WHERE id = ? AND account_id = ? AND load_test_id = ?", (item_id, account_id, test_id)
            ).fetchone()
            current = self.model.model_validate_json(row["doc"]) if row else None
            if current is None or not still(current, expect):
                return None
            item = current.model_copy(update=changes)
            item = self.model.model_validate(item.model_dump(by_alias=True))  # nested fields validated again
            conn.execute(f"UPDATE {self.table} SET doc = ? WHERE id = ?", (item.model_dump_json(by_alias=True), item_id))
            write_record(conn, audit)
            return item

    def _prepend(self, account_id: str, item_id: str, field: str, entry: BaseModel, keep: int) -> None:
        with self.db.write() as conn:  # read-modify-write, serialised by BEGIN IMMEDIATE
            row = conn.execute(f"SELECT doc FROM {self.table} WHERE id = ? AND account_id = ?", (item_id, account_id)).fetchone()
            if row is None:
                return
            doc = json.loads(row["doc"])
            doc[field] = [entry.model_dump(by_alias=True), *doc.get(field, [])][:keep]
            conn.execute(f"UPDATE {self.table} SET doc = ? WHERE id = ?", (json.dumps(doc), item_id))


class SQLiteTriggerStore(_DocTable[Trigger]):
    table, model = "triggers", Trigger

    def record_firing(self, account_id: str, trigger_id: str, firing: TriggerFiring, keep: int) -> None:
        self._prepend(account_id, trigger_id, "lastFirings", firing, keep)


class SQLiteScheduleStore(_DocTable[Schedule]):
    table, model = "schedules", Schedule

    def record_occurrence(self, account_id: str, schedule_id: str, occurrence: ScheduleOccurrence, keep: int) -> None:
        self._prepend(account_id, schedule_id, "occurrences", occurrence, keep)
