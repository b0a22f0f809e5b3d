"""SQLite adapter of usage sums (grouped in SQL over the runs' documents) and budget holds (each take
one `BEGIN IMMEDIATE` transaction: sum, then insert)."""

from __future__ import annotations

import builtins
from collections.abc import Collection

from load_manager.store.ports.usage import BudgetHold, GroupKey, UsageSum
from load_manager.store.sqlite.db import SQLiteDatabase

USAGE_SCHEMA = """
CREATE INDEX IF NOT EXISTS runs_by_account_time ON load_test_runs (account_id, created_at);
CREATE TABLE IF NOT EXISTS vcpu_holds (
    account_id TEXT NOT NULL,
    member TEXT NOT NULL,
    vcpu_ms INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (account_id, member)
);
"""
_KEYS = {"test": "load_test_id", "project": "json_extract(doc, '$.projectId')", "env": "json_extract(doc, '$.envId')", None: "NULL"}


class SQLiteUsageStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(USAGE_SCHEMA)

    def sums(
        self, account_id: str, start: int, end: int, group_by: GroupKey | None, limit: int, *, test_ids: Collection[str] | None = None
    ) -> builtins.list[UsageSum]:
        scope = "" if test_ids is None else f" AND load_test_id IN ({','.join('?' * len(test_ids))})"
        rows = self.db.query(
            f"SELECT {_KEYS[group_by]} AS key, COUNT(*) AS runs, TOTAL(json_extract(doc, '$.usage.vcpuSeconds')) AS vcpu,"
            " TOTAL(json_extract(doc, '$.usage.memoryGbSeconds')) AS memory, TOTAL(json_extract(doc, '$.usage.estimatedCost.amount')) AS cost"
            " FROM load_test_runs INDEXED BY runs_by_account_time WHERE account_id = ? AND created_at >= ? AND created_at < ?"
            f"{scope} GROUP BY key ORDER BY vcpu DESC, key LIMIT ?",
            (account_id, start, end, *(test_ids or ()), limit),
        )
        return [UsageSum(key=r["key"], runs=r["runs"], vcpu_seconds=r["vcpu"], memory_gb_seconds=r["memory"], cost=r["cost"]) for r in rows]

    def take(self, account_id: str, hold: BudgetHold, cap_ms: int) -> bool:
        with self.db.write() as conn:  # sum, then insert: one serialised transaction
            if conn.execute("SELECT 1 FROM vcpu_holds WHERE account_id = ? AND member = ?", (account_id, hold.member)).fetchone():
                return True
            held = conn.execute("SELECT TOTAL(vcpu_ms) AS n FROM vcpu_holds WHERE account_id = ?", (account_id,)).fetchone()["n"]
            if held + hold.vcpu_ms > cap_ms:
                return False
            conn.execute(
                "INSERT INTO vcpu_holds (account_id, member, vcpu_ms, at) VALUES (?, ?, ?, ?)", (account_id, hold.member, hold.vcpu_ms, hold.at)
            )
            return True

    def release(self, account_id: str, member: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM vcpu_holds WHERE account_id = ? AND member = ?", (account_id, member))

    def holds(self, account_id: str) -> builtins.list[BudgetHold]:
        rows = self.db.query("SELECT member, vcpu_ms, at FROM vcpu_holds WHERE account_id = ? ORDER BY at, member", (account_id,))
        return [BudgetHold(member=r["member"], vcpu_ms=r["vcpu_ms"], at=r["at"]) for r in rows]
