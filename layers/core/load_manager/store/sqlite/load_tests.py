"""SQLite adapter of the load test store.

Each test's `lastRun` and `trend` (what the list shows of its runs) live in `load_test_last_runs`,
one row per test, written by `record_run` in the same serialised transaction that reads them (so
records in any order keep the newest run); the list joins them to the page in one query. A test
without a row (made before the table) gets one from its runs on its first listing.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from typing import Any

from load_manager.models.load_tests import TREND_RUNS, LastRun, LoadTest, LoadTestListItem, TrendPoint, merge_trend
from load_manager.models.records import StoredRevision
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.audit import still, write_record
from load_manager.store.sqlite.db import SQLiteDatabase, newest_first


def _exists(conn: sqlite3.Connection, account_id: str, test_id: str) -> bool:
    return conn.execute("SELECT 1 FROM load_tests WHERE id = ? AND account_id = ?", (test_id, account_id)).fetchone() is not None


def _item(doc: str, last_run: str | None, trend: str) -> LoadTestListItem:
    return LoadTestListItem.model_validate(json.loads(doc) | {"lastRun": json.loads(last_run) if last_run else None, "trend": json.loads(trend)})


def _load_test_row(doc: dict[str, Any]) -> tuple:
    return (doc["id"], doc["accountId"], doc.get("projectId"), doc["createdAt"], doc.get("deletedAt"), json.dumps(doc))


class SQLiteLoadTestStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def insert(self, test: LoadTest, *, audit: AuditRecord | None = None) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO load_tests (id, account_id, project_id, created_at, deleted_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
                _load_test_row(test.model_dump(by_alias=True)),
            )
            conn.execute("INSERT INTO load_test_last_runs (load_test_id, account_id) VALUES (?, ?)", (test.id, test.account_id))
            write_record(conn, audit)

    def get(self, account_id: str, test_id: str) -> LoadTest | None:
        rows = self.db.query(
            "SELECT doc FROM load_tests WHERE id = ? AND account_id = ? AND deleted_at IS NULL", (test_id, account_id)
        )
        return LoadTest.model_validate_json(rows[0]["doc"]) if rows else None

    def list(
        self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None, ids: frozenset[str] | None = None
    ) -> list[LoadTestListItem]:
        sql = (
            "SELECT t.id, t.doc, r.load_test_id AS recorded, r.last_run, r.trend FROM load_tests t"
            " LEFT JOIN load_test_last_runs r ON r.load_test_id = t.id WHERE t.account_id = ? AND t.deleted_at IS NULL"
        )
        params: list[Any] = [account_id]
        if project_id is not None:
            sql += " AND t.project_id = ?"
            params.append(project_id)
        if ids is not None:  # a scoped token's tests: at most a few dozen
            sql += f" AND t.id IN ({', '.join('?' * len(ids))})" if ids else " AND 0"
            params.extend(sorted(ids))
        rows = self.db.query(*newest_first(sql, params, after, limit))
        filled = {r["id"]: self._fill(account_id, r["id"]) for r in rows if r["recorded"] is None}  # made before lastRun existed
        return [_item(r["doc"], *filled.get(r["id"], (r["last_run"], r["trend"]))) for r in rows]

    def record_run(self, account_id: str, test_id: str, run: LastRun) -> None:
        with self.db.write() as conn:
            last, trend = self._recorded(conn, account_id, test_id)  # no row: no such test, and the update below changes nothing
            stored = LastRun.model_validate_json(last) if last else None
            points = [TrendPoint.model_validate(p) for p in json.loads(trend)]
            if run.replaces(stored):
                last = run.model_dump_json(by_alias=True)
            if run.status == "Finished":
                trend = json.dumps([p.model_dump(by_alias=True) for p in merge_trend(points, TrendPoint.of(run))])
            conn.execute(
                "UPDATE load_test_last_runs SET last_run = ?, trend = ? WHERE load_test_id = ? AND account_id = ?", (last, trend, test_id, account_id)
            )

    def _recorded(self, conn: sqlite3.Connection, account_id: str, test_id: str) -> tuple[str | None, str]:
        """The test's row (inside the caller's write transaction), made from its runs if it has none."""
        row = conn.execute(
            "SELECT last_run, trend FROM load_test_last_runs WHERE load_test_id = ? AND account_id = ?", (test_id, account_id)
        ).fetchone()
        if row is not None:
            return row["last_run"], row["trend"]
        if not _exists(conn, account_id, test_id):
            return None, "[]"
        runs = "SELECT doc FROM load_test_runs WHERE account_id = ? AND load_test_id = ?"
        newest = conn.execute(f"{runs} ORDER BY created_at DESC, id DESC LIMIT 1", (account_id, test_id)).fetchone()
        finished = conn.execute(
            f"{runs} AND status = 'Finished' ORDER BY created_at DESC, id DESC LIMIT ?", (account_id, test_id, TREND_RUNS)
        ).fetchall()
        last = LastRun.of_document(json.loads(newest["doc"])).model_dump_json(by_alias=True) if newest else None
        points = [TrendPoint.of(LastRun.of_document(json.loads(r["doc"]))).model_dump(by_alias=True) for r in reversed(finished)]
        conn.execute(
            "INSERT INTO load_test_last_runs (load_test_id, account_id, last_run, trend) VALUES (?, ?, ?, ?)",
            (test_id, account_id, last, json.dumps(points)),
        )
        return last, json.dumps(points)

    def _fill(self, account_id: str, test_id: str) -> tuple[str | None, str]:
        with self.db.write() as conn:
            return self._recorded(conn, account_id, test_id)

    def update(
        self, account_id: str, test_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> LoadTest | None:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT doc FROM load_tests WHERE id = ? AND account_id = ? AND deleted_at IS NULL", (test_id, account_id)
            ).fetchone()
            current = LoadTest.model_validate_json(row["doc"]) if row else None
            if current is None or not still(current, expect):
                return None
            test = current.model_copy(update=changes)
            self._replace(conn, test.model_dump(by_alias=True))
            write_record(conn, audit)
            return test

    def advance_latest_revision(self, account_id: str, test_id: str, revision: StoredRevision) -> None:
        with self.db.write() as conn:
            row = conn.execute("SELECT doc FROM load_tests WHERE id = ? AND account_id = ?", (test_id, account_id)).fetchone()
            if row is None:
                return
            doc = json.loads(row["doc"])
            if doc["latestRevisionNumber"] >= revision.revision_number:
                return
            doc.update(
                latestRevisionId=revision.id,
                latestRevisionNumber=revision.revision_number,
                updatedAt=revision.created_at,
                updatedBy=revision.created_by,
            )
            self._replace(conn, doc)

    def delete(
        self, account_id: str, test_id: str, deleted_at: int, deleted_by: str, *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> bool:  # fmt: skip
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT doc FROM load_tests WHERE id = ? AND account_id = ? AND deleted_at IS NULL", (test_id, account_id)
            ).fetchone()
            if row is None or not still(LoadTest.model_validate_json(row["doc"]), expect):
                return False
            doc = json.loads(row["doc"]) | {"deletedAt": deleted_at, "deletedBy": deleted_by}
            self._replace(conn, doc)
            conn.execute("UPDATE load_tests SET cleanup_at = ? WHERE id = ?", (deleted_at, test_id))  # awaiting_cleanup, in the same write
            write_record(conn, audit)
            return True

    def awaiting_cleanup(self, deleted_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        rows = self.db.query(
            "SELECT account_id, id FROM load_tests WHERE cleanup_at IS NOT NULL AND cleanup_at < ? ORDER BY cleanup_at, id LIMIT ?",
            (deleted_before, limit),
        )  # index load_tests_awaiting_cleanup (partial: the marked tests only)
        return [(row["account_id"], row["id"]) for row in rows]

    def cleaned_up(self, account_id: str, test_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE load_tests SET cleanup_at = NULL WHERE id = ? AND account_id = ?", (test_id, account_id))

    @staticmethod
    def _replace(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
        conn.execute(
            "UPDATE load_tests SET project_id = ?, deleted_at = ?, doc = ? WHERE id = ?",
            (doc.get("projectId"), doc.get("deletedAt"), json.dumps(doc), doc["id"]),
        )
