"""SQLite adapter: the embedded default of the local runtime. Durable in one file, indexed.

One connection per thread (sqlite3 objects are not shareable), WAL so readers never block the
writer, and `BEGIN IMMEDIATE` around read-then-write sequences so they are serialised.
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from load_manager.analysis.autostop import Counts
from load_manager.analysis.series import Columns
from load_manager.models import ACTIVE_STATUSES, ClusterConfig, LoadTest, MetricsSample, Run, StatusChange
from load_manager.store.ports import IdempotencyRecord, OutboxEvent, StoredRevision, scope_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS load_tests (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    project_id TEXT,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS load_tests_by_account ON load_tests (account_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS load_tests_by_project ON load_tests (account_id, project_id, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS script_revisions (
    id TEXT PRIMARY KEY,
    load_test_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    revision_number INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    content TEXT NOT NULL,
    UNIQUE (load_test_id, revision_number)
);
CREATE INDEX IF NOT EXISTS script_revisions_by_time ON script_revisions (load_test_id, created_at);

CREATE TABLE IF NOT EXISTS load_test_runs (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    load_test_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    cluster_handle TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_test ON load_test_runs (account_id, load_test_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS runs_by_status ON load_test_runs (account_id, load_test_id, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS runs_by_cluster ON load_test_runs (account_id, json_extract(doc, '$.clusterId'), status);

CREATE TABLE IF NOT EXISTS run_metrics (
    run_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS run_metrics_by_run ON run_metrics (run_id, at);

CREATE TABLE IF NOT EXISTS locust_clusters (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account_id, scope_key)
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    run_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
"""


class SQLiteDatabase:
    """Connection-per-thread access to one database file, with the schema applied once."""

    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schemas: set[str] = set()
        self.apply_schema(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def apply_schema(self, schema: str) -> None:
        """Idempotent (CREATE ... IF NOT EXISTS); later features add their own tables."""
        with self._schema_lock:
            if schema not in self._schemas:
                self.connection().executescript(schema)
                self._schemas.add(schema)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A serialised read-then-write transaction."""
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def tuples(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Plain tuples: for many rows of numbers, where sqlite3.Row objects would cost more than the read."""
        cursor = self.connection().cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()


# Statuses of an active run, as an SQL list: `status IN (...)`.
_ACTIVE = "(" + ",".join(f"'{status}'" for status in sorted(ACTIVE_STATUSES)) + ")"


def _newest_first(sql: str, params: list[Any], after: tuple[int, str] | None, limit: int) -> tuple[str, list[Any]]:
    """Keyset pagination on (created_at, id), newest first: `after` is the previous page's last key."""
    if after is not None:
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params = [*params, after[0], after[0], after[1]]
    return sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit]


def _load_test_row(doc: dict[str, Any]) -> tuple:
    return (doc["id"], doc["accountId"], doc.get("projectId"), doc["createdAt"], doc.get("deletedAt"), json.dumps(doc))


class SQLiteLoadTestStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def insert(self, test: LoadTest) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO load_tests (id, account_id, project_id, created_at, deleted_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
                _load_test_row(test.model_dump(by_alias=True)),
            )

    def get(self, account_id: str, test_id: str) -> LoadTest | None:
        rows = self.db.query(
            "SELECT doc FROM load_tests WHERE id = ? AND account_id = ? AND deleted_at IS NULL", (test_id, account_id)
        )
        return LoadTest.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str, *, project_id: str | None, limit: int, after: tuple[int, str] | None) -> list[LoadTest]:
        sql = "SELECT doc FROM load_tests WHERE account_id = ? AND deleted_at IS NULL"
        params: list[Any] = [account_id]
        if project_id is not None:
            sql += " AND project_id = ?"
            params.append(project_id)
        return [LoadTest.model_validate_json(r["doc"]) for r in self.db.query(*_newest_first(sql, params, after, limit))]

    def update(self, account_id: str, test_id: str, changes: dict[str, Any]) -> LoadTest | None:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT doc FROM load_tests WHERE id = ? AND account_id = ? AND deleted_at IS NULL", (test_id, account_id)
            ).fetchone()
            if row is None:
                return None
            test = LoadTest.model_validate_json(row["doc"]).model_copy(update=changes)
            self._replace(conn, test.model_dump(by_alias=True))
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

    def delete(self, account_id: str, test_id: str, deleted_at: int, deleted_by: str) -> bool:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT doc FROM load_tests WHERE id = ? AND account_id = ? AND deleted_at IS NULL", (test_id, account_id)
            ).fetchone()
            if row is None:
                return False
            doc = json.loads(row["doc"]) | {"deletedAt": deleted_at, "deletedBy": deleted_by}
            self._replace(conn, doc)
            return True

    @staticmethod
    def _replace(conn: sqlite3.Connection, doc: dict[str, Any]) -> None:
        conn.execute(
            "UPDATE load_tests SET project_id = ?, deleted_at = ?, doc = ? WHERE id = ?",
            (doc.get("projectId"), doc.get("deletedAt"), json.dumps(doc), doc["id"]),
        )


# Bundle files besides the entry: content-addressed per tenant, immutable; `touched_at` is when a
# save last wrote (or named) one, which blob collection's grace period counts from.
BLOB_SCHEMA = """
CREATE TABLE IF NOT EXISTS script_blobs (
    account_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    touched_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, sha256)
);
"""
_BLOB_UPSERT = (
    "INSERT INTO script_blobs (account_id, sha256, size, content, touched_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, sha256) DO UPDATE SET touched_at = MAX(touched_at, excluded.touched_at)"
)


class SQLiteRevisionStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(BLOB_SCHEMA)
        _add_column(db, "script_blobs", "touched_at", "INTEGER NOT NULL DEFAULT 0")  # databases made before it

    def get_blobs(self, account_id: str, digests: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(digests))
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.query(f"SELECT sha256, content FROM script_blobs WHERE account_id = ? AND sha256 IN ({marks})", [account_id, *chunk])
            found.update({row["sha256"]: bytes(row["content"]) for row in rows})
        return found

    def append(
        self, draft: StoredRevision, *, skip_if_same_as_latest: bool, blobs: Mapping[str, bytes] | None = None
    ) -> tuple[StoredRevision, bool]:
        # BEGIN IMMEDIATE serialises writers, so reading the max and inserting max+1 is atomic.
        with self.db.write() as conn:
            latest = conn.execute(
                "SELECT doc, content FROM script_revisions WHERE load_test_id = ? ORDER BY revision_number DESC LIMIT 1",
                (draft.load_test_id,),
            ).fetchone()
            if latest is not None:
                current = _revision(latest)
                if skip_if_same_as_latest and current.sha256 == draft.sha256:
                    return current, False
            number = _revision(latest).revision_number + 1 if latest is not None else 1
            revision = draft.model_copy(update={"revision_number": number})
            conn.executemany(
                _BLOB_UPSERT, [(draft.account_id, digest, len(data), data, draft.created_at) for digest, data in sorted((blobs or {}).items())]
            )
            doc = revision.model_dump(by_alias=True, exclude={"content"})
            conn.execute(
                "INSERT INTO script_revisions (id, load_test_id, account_id, revision_number, created_at, doc, content)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (revision.id, revision.load_test_id, revision.account_id, number, revision.created_at, json.dumps(doc), revision.content),
            )
            return revision, True

    def latest(self, account_id: str, test_id: str) -> StoredRevision | None:
        return self._one(
            "WHERE load_test_id = ? AND account_id = ? ORDER BY revision_number DESC LIMIT 1", (test_id, account_id)
        )

    def get(self, account_id: str, test_id: str, revision_id: str) -> StoredRevision | None:
        return self._one("WHERE id = ? AND load_test_id = ? AND account_id = ?", (revision_id, test_id, account_id))

    def get_by_number(self, account_id: str, test_id: str, number: int) -> StoredRevision | None:
        return self._one(
            "WHERE load_test_id = ? AND revision_number = ? AND account_id = ?", (test_id, number, account_id)
        )

    def list(self, account_id: str, test_id: str, *, limit: int, before_number: int | None) -> list[StoredRevision]:
        sql = "SELECT doc FROM script_revisions WHERE load_test_id = ? AND account_id = ?"
        params: list[Any] = [test_id, account_id]
        if before_number is not None:
            sql += " AND revision_number < ?"
            params.append(before_number)
        sql += " ORDER BY revision_number DESC LIMIT ?"
        params.append(limit)
        return [StoredRevision.model_validate_json(r["doc"]) for r in self.db.query(sql, params)]

    def _one(self, where: str, params: tuple) -> StoredRevision | None:
        rows = self.db.query(f"SELECT doc, content FROM script_revisions {where}", params)
        return _revision(rows[0]) if rows else None

    # ---- retention ------------------------------------------------------------------------------

    def prune_candidates(self, account_id: str, test_id: str, *, below_number: int) -> builtins.list[StoredRevision]:
        rows = self.db.query(
            "SELECT doc FROM script_revisions WHERE load_test_id = ? AND account_id = ? AND revision_number < ?"
            " AND content != '' ORDER BY revision_number",
            (test_id, account_id, below_number),
        )
        return [StoredRevision.model_validate_json(r["doc"]) for r in rows]

    def set_pruned(self, account_id: str, test_id: str, revision_ids, pruned_at: int | None) -> builtins.list[str]:
        changed = []
        with self.db.write() as conn:
            for revision_id in revision_ids:
                row = conn.execute(
                    "SELECT doc, content FROM script_revisions WHERE id = ? AND load_test_id = ? AND account_id = ?",
                    (revision_id, test_id, account_id),
                ).fetchone()
                if row is None:
                    continue
                doc = json.loads(row["doc"])
                # Marking needs an unmarked revision; unmarking one whose content is still there.
                if (pruned_at is not None and doc.get("prunedAt") is None) or (pruned_at is None and doc.get("prunedAt") and row["content"]):
                    doc["prunedAt"] = pruned_at
                    conn.execute("UPDATE script_revisions SET doc = ? WHERE id = ?", (json.dumps(doc), revision_id))
                    changed.append(revision_id)
        return changed

    def drop_content(self, account_id: str, test_id: str, revision_ids) -> int:
        ids = list(revision_ids)
        if not ids:
            return 0
        with self.db.write() as conn:
            marks = ",".join("?" * len(ids))
            cursor = conn.execute(
                f"UPDATE script_revisions SET content = '' WHERE id IN ({marks}) AND load_test_id = ? AND account_id = ?"
                " AND json_extract(doc, '$.prunedAt') IS NOT NULL AND content != ''",
                (*ids, test_id, account_id),
            )
            return cursor.rowcount


    # ---- blob collection ------------------------------------------------------------------------

    def blobs_touched_before(self, account_id: str, cutoff: int) -> builtins.set[str]:
        rows = self.db.query("SELECT sha256 FROM script_blobs WHERE account_id = ? AND touched_at < ?", (account_id, cutoff))
        return {r["sha256"] for r in rows}

    def blobs_in_use(self, account_id: str, digests: Iterable[str]) -> builtins.set[str]:
        wanted = set(digests)
        if not wanted:
            return set()
        rows = self.db.query(
            "SELECT DISTINCT json_extract(f.value, '$.sha256') AS sha256 FROM script_revisions r, json_each(r.doc, '$.files') f"
            " WHERE r.account_id = ? AND r.content != ''",
            (account_id,),
        )
        return {r["sha256"] for r in rows} & wanted

    def delete_blobs(self, account_id: str, digests: Iterable[str], touched_before: int) -> int:
        deleted = 0
        with self.db.write() as conn:
            for digest in sorted(set(digests)):
                cursor = conn.execute(
                    "DELETE FROM script_blobs WHERE account_id = ? AND sha256 = ? AND touched_at < ?", (account_id, digest, touched_before)
                )
                deleted += cursor.rowcount
        return deleted


def _add_column(db: SQLiteDatabase, table: str, column: str, definition: str) -> None:
    """ALTER TABLE ADD COLUMN unless it is there (another process may add it at the same moment)."""
    conn = db.connection()
    if any(row["name"] == column for row in conn.execute(f"PRAGMA table_info({table})")):
        return
    try:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):
            raise


def _revision(row: sqlite3.Row) -> StoredRevision:
    revision = StoredRevision.model_validate_json(row["doc"])
    # A tombstone has no content (the column keeps '' there: it is NOT NULL).
    return revision.model_copy(update={"content": None if revision.pruned_at is not None else row["content"]})


# A run's outbox (events owed to the bus), written in the transaction of the status change that
# owes them; and the index the sweeper's "active runs of every tenant, oldest first" reads.
RUN_OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_outbox (
    account_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    status TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (account_id, run_id, event_id)
);
CREATE INDEX IF NOT EXISTS run_outbox_by_age ON run_outbox (at);
CREATE INDEX IF NOT EXISTS runs_by_status_age ON load_test_runs (status, created_at);
"""


class SQLiteRunStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        db.apply_schema(RUN_OUTBOX_SCHEMA)

    def insert(self, run: Run) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO load_test_runs (id, account_id, load_test_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (run.id, run.account_id, run.load_test_id, run.status, run.created_at, run.model_dump_json(by_alias=True)),
            )
            return cursor.rowcount == 1

    def get(self, account_id: str, run_id: str) -> Run | None:
        rows = self.db.query("SELECT doc FROM load_test_runs WHERE id = ? AND account_id = ?", (run_id, account_id))
        return Run.model_validate_json(rows[0]["doc"]) if rows else None

    def list(self, account_id: str, test_id: str, *, status: str | None, limit: int, after: tuple[int, str] | None) -> list[Run]:
        sql = "SELECT doc FROM load_test_runs WHERE account_id = ? AND load_test_id = ?"
        params: list[Any] = [account_id, test_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return [Run.model_validate_json(r["doc"]) for r in self.db.query(*_newest_first(sql, params, after, limit))]

    def transition(self, account_id, run_id, from_statuses, change: StatusChange, fields=None, events=()) -> Run | None:
        def apply(run: Run) -> Run:
            history = [*run.status_history, change]
            return run.model_copy(update={**(fields or {}), "status": change.status, "status_history": history})

        return self._conditional(account_id, run_id, set(from_statuses), apply, events)

    def pending_events(self, account_id: str, run_id: str) -> builtins.list[OutboxEvent]:
        rows = self.db.query(
            "SELECT event_id, detail_type, status, at FROM run_outbox WHERE account_id = ? AND run_id = ? ORDER BY at, rowid",
            (account_id, run_id),
        )
        return [OutboxEvent(r["event_id"], r["detail_type"], r["status"], r["at"]) for r in rows]

    def event_sent(self, account_id: str, run_id: str, event_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM run_outbox WHERE account_id = ? AND run_id = ? AND event_id = ?", (account_id, run_id, event_id))

    def with_pending_events(self, written_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        rows = self.db.query(
            "SELECT DISTINCT account_id, run_id FROM (SELECT account_id, run_id FROM run_outbox WHERE at < ? ORDER BY at LIMIT ?)",
            (written_before, limit),
        )
        return [(r["account_id"], r["run_id"]) for r in rows]

    def update(self, account_id, run_id, fields, *, when_status_in) -> Run | None:
        return self._conditional(account_id, run_id, set(when_status_in), lambda run: run.model_copy(update=fields))

    def has_active(self, account_id: str, test_id: str) -> bool:
        rows = self.db.query(
            f"SELECT 1 FROM load_test_runs WHERE account_id = ? AND load_test_id = ? AND status IN {_ACTIVE} LIMIT 1",
            (account_id, test_id),
        )
        return bool(rows)

    def find_active(self, account_id: str, test_id: str) -> Run | None:
        rows = self.db.query(
            f"SELECT doc FROM load_test_runs WHERE account_id = ? AND load_test_id = ? AND status IN {_ACTIVE}"
            " ORDER BY created_at DESC, id DESC LIMIT 1",
            (account_id, test_id),
        )
        return Run.model_validate_json(rows[0]["doc"]) if rows else None

    def referenced_revision_ids(self, account_id: str, test_id: str) -> set[str]:
        rows = self.db.query(
            "SELECT DISTINCT json_extract(doc, '$.scriptRevisionId') AS revision_id FROM load_test_runs"
            " WHERE account_id = ? AND load_test_id = ?",
            (account_id, test_id),
        )
        return {r["revision_id"] for r in rows}

    def has_active_on_cluster(self, account_id: str, cluster_id: str) -> bool:
        rows = self.db.query(
            f"SELECT 1 FROM load_test_runs WHERE account_id = ? AND json_extract(doc, '$.clusterId') = ? AND status IN {_ACTIVE} LIMIT 1",
            (account_id, cluster_id),
        )
        return bool(rows)

    def list_active(self, created_before: int | None = None, limit: int | None = None) -> builtins.list[Run]:
        rows = self.db.query(
            f"SELECT doc FROM load_test_runs WHERE status IN {_ACTIVE} AND created_at < ? ORDER BY created_at LIMIT ?",
            (2**62 if created_before is None else created_before, -1 if limit is None else limit),
        )
        return [Run.model_validate_json(r["doc"]) for r in rows]

    def claim_handle(self, account_id: str, run_id: str, handle: dict[str, Any]) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE load_test_runs SET cluster_handle = ? WHERE id = ? AND account_id = ? AND cluster_handle IS NULL",
                (json.dumps(handle), run_id, account_id),
            )
            return cursor.rowcount == 1

    def update_handle(self, account_id: str, run_id: str, handle: dict[str, Any]) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE load_test_runs SET cluster_handle = ? WHERE id = ? AND account_id = ?"
                " AND json_extract(cluster_handle, '$.launch_id') = ?",
                (json.dumps(handle), run_id, account_id, handle.get("launch_id")),
            )
            return cursor.rowcount == 1

    def get_handle(self, account_id: str, run_id: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT cluster_handle FROM load_test_runs WHERE id = ? AND account_id = ?", (run_id, account_id))
        return json.loads(rows[0]["cluster_handle"]) if rows and rows[0]["cluster_handle"] else None

    def _conditional(self, account_id: str, run_id: str, statuses: set[str], apply, events: Iterable[OutboxEvent] = ()) -> Run | None:
        with self.db.write() as conn:
            row = conn.execute("SELECT doc FROM load_test_runs WHERE id = ? AND account_id = ?", (run_id, account_id)).fetchone()
            if row is None:
                return None
            run = Run.model_validate_json(row["doc"])
            if run.status not in statuses:
                return None
            updated = apply(run)
            conn.execute(
                "UPDATE load_test_runs SET status = ?, doc = ? WHERE id = ?",
                (updated.status, updated.model_dump_json(by_alias=True), run_id),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO run_outbox (account_id, run_id, event_id, detail_type, status, at) VALUES (?, ?, ?, ?, ?, ?)",
                [(account_id, run_id, e.event_id, e.detail_type, e.status, e.at) for e in events],
            )
            return updated


# The series read path: one narrow row per sample and endpoint ('' = all requests), clustered by
# (tenant, run, endpoint, at), so a 1 h run's chart reads ~1,800 small rows instead of parsing 1,800 JSON
# samples. Created (and filled from the samples already stored) once, by the first process to look.
POINTS_SCHEMA = """
CREATE TABLE run_metric_points (
    run_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    at INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    users INTEGER, rps REAL, fps REAL, p50 REAL, p95 REAL, p99 REAL,
    requests INTEGER, failures INTEGER,
    PRIMARY KEY (account_id, run_id, endpoint, at)
) WITHOUT ROWID
"""
_BACKFILL_ALL = """
INSERT OR IGNORE INTO run_metric_points
SELECT run_id, '', at, account_id, json_extract(doc, '$.users'), json_extract(doc, '$.rps'),
       json_extract(doc, '$.failuresPerSecond'), json_extract(doc, '$.p50Ms'), json_extract(doc, '$.p95Ms'),
       json_extract(doc, '$.p99Ms'), json_extract(doc, '$.totalRequests'), json_extract(doc, '$.totalFailures')
FROM run_metrics
"""
_BACKFILL_ENDPOINTS = """
INSERT OR IGNORE INTO run_metric_points
SELECT m.run_id, json_extract(e.value, '$.method') || ' ' || json_extract(e.value, '$.name'), m.at, m.account_id,
       json_extract(m.doc, '$.users'), json_extract(e.value, '$.rps'), json_extract(e.value, '$.failuresPerSecond'),
       json_extract(e.value, '$.p50Ms'), json_extract(e.value, '$.p95Ms'), json_extract(e.value, '$.p99Ms'),
       json_extract(e.value, '$.requests'), json_extract(e.value, '$.failures')
FROM run_metrics m, json_each(m.doc, '$.endpoints') e
"""
_POINT_INSERT = "INSERT OR REPLACE INTO run_metric_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# A final run's default series, encoded once (at Finalize): what most reads of a finished run ask for.
FINAL_SERIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_series_final (
    account_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    columns TEXT NOT NULL,
    PRIMARY KEY (account_id, run_id, endpoint)
) WITHOUT ROWID
"""


class SQLiteMetricsStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db
        with db.write() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_metric_points'").fetchone() is None:
                conn.execute(POINTS_SCHEMA)
                conn.execute(_BACKFILL_ALL)
                conn.execute(_BACKFILL_ENDPOINTS)
            conn.execute(FINAL_SERIES_SCHEMA)

    def append(self, account_id: str, sample: MetricsSample) -> None:
        rows: list[tuple[Any, ...]] = [(sample.run_id, "", sample.at, account_id, sample.users, sample.rps, sample.failures_per_second, sample.p50_ms,
                 sample.p95_ms, sample.p99_ms, sample.total_requests, sample.total_failures)]  # fmt: skip
        for e in sample.endpoints:
            figures = tuple(e.get(name) for name in ("rps", "failuresPerSecond", "p50Ms", "p95Ms", "p99Ms", "requests", "failures"))
            rows.append((sample.run_id, f"{e.get('method')} {e.get('name')}", sample.at, account_id, sample.users, *figures))
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO run_metrics (run_id, account_id, at, doc) VALUES (?, ?, ?, ?)",
                (sample.run_id, account_id, sample.at, sample.model_dump_json(by_alias=True)),
            )
            conn.executemany(_POINT_INSERT, rows)

    def list(self, account_id: str, run_id: str, *, limit: int) -> list[MetricsSample]:
        rows = self.db.query(
            "SELECT doc FROM run_metrics WHERE run_id = ? AND account_id = ? ORDER BY at LIMIT ?", (run_id, account_id, limit)
        )
        return [MetricsSample.model_validate_json(r["doc"]) for r in rows]

    def buckets(
        self, account_id: str, run_id: str, *, endpoint: str | None, start: int | None, end: int | None, origin: int, step: int
    ) -> Columns:
        # The GROUP BY runs in SQLite (C) over the narrow rows; Python only transposes the buckets.
        rows = self.db.tuples(
            "SELECT ? + ((at - ?) / ?) * ? AS bucket, MAX(users), ROUND(AVG(rps), 3), ROUND(AVG(fps), 3), MAX(p50), MAX(p95), MAX(p99)"
            " FROM run_metric_points WHERE account_id = ? AND run_id = ? AND endpoint = ? AND at >= ? AND at <= ?"
            " GROUP BY bucket ORDER BY bucket",
            (origin, origin, step, step, account_id, run_id, endpoint or "", -(2**62) if start is None else start, 2**62 if end is None else end),
        )
        return Columns(*map(list, zip(*rows, strict=True))) if rows else Columns()

    def endpoint_buckets(self, account_id: str, run_id: str, endpoints: Iterable[str], *, origin: int, step: int) -> dict[str, Columns]:
        # Each endpoint's rows are one range of the primary key, so a grouped query per endpoint reads
        # each row once in all. (One GROUP BY endpoint, bucket over all of them sorts every row in one
        # temporary B-tree: measured 1.6x slower at 500 endpoints x 300 samples.)
        found = {e: self.buckets(account_id, run_id, endpoint=e, start=None, end=None, origin=origin, step=step) for e in dict.fromkeys(endpoints)}
        return {endpoint: columns for endpoint, columns in found.items() if columns.time}

    def save_final_series(self, account_id: str, run_id: str, endpoint: str | None, columns_json: str) -> None:
        self.save_final_series_batch(account_id, run_id, {endpoint: columns_json})

    def save_final_series_batch(self, account_id: str, run_id: str, series: dict[str | None, str]) -> None:
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO run_series_final VALUES (?, ?, ?, ?)",
                [(account_id, run_id, endpoint or "", columns_json) for endpoint, columns_json in series.items()],
            )

    def final_series(self, account_id: str, run_id: str, endpoint: str | None) -> str | None:
        rows = self.db.tuples(
            "SELECT columns FROM run_series_final WHERE account_id = ? AND run_id = ? AND endpoint = ?", (account_id, run_id, endpoint or "")
        )
        return rows[0][0] if rows else None

    def counts_before(self, account_id: str, run_id: str, at: int) -> Counts | None:
        rows = self.db.query(
            "SELECT at, requests, failures FROM run_metric_points"
            " WHERE run_id = ? AND endpoint = '' AND at <= ? AND account_id = ? ORDER BY at DESC LIMIT 1",
            (run_id, at, account_id),
        )
        if not rows or rows[0]["requests"] is None or rows[0]["failures"] is None:
            return None
        return Counts(at=rows[0]["at"], requests=rows[0]["requests"], failures=rows[0]["failures"])

    def latest(self, account_id: str, run_id: str) -> MetricsSample | None:
        rows = self.db.query(
            "SELECT doc FROM run_metrics WHERE run_id = ? AND account_id = ? ORDER BY at DESC LIMIT 1", (run_id, account_id)
        )
        return MetricsSample.model_validate_json(rows[0]["doc"]) if rows else None


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


def build_sqlite_stores(path: str):
    from load_manager.store import Stores
    from load_manager.store.sqlite_automation import SQLiteScheduleStore, SQLiteTriggerStore
    from load_manager.store.sqlite_tenancy import SQLiteEventSourceStore, SQLiteHoldStore

    db = SQLiteDatabase(path)
    return Stores(
        load_tests=SQLiteLoadTestStore(db),
        revisions=SQLiteRevisionStore(db),
        runs=SQLiteRunStore(db),
        metrics=SQLiteMetricsStore(db),
        clusters=SQLiteClusterStore(db),
        idempotency=SQLiteIdempotencyStore(db),
        triggers=SQLiteTriggerStore(db),
        schedules=SQLiteScheduleStore(db),
        event_sources=SQLiteEventSourceStore(db),
        holds=SQLiteHoldStore(db),
    )
