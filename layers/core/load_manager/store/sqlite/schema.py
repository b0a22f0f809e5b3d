"""The SQLite adapter's schema and migrations: every table and index, and what databases made by an
earlier version need (a column added, the series read path backfilled). Applied by `open_database`.
"""

from __future__ import annotations

import sqlite3

from load_manager.store.sqlite.db import SQLiteDatabase

# The first tables (each store's own follow).
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


# Triggers and schedules: documents owned by (tenant, test), listed oldest first.
AUTOMATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS triggers (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    load_test_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS triggers_by_test ON triggers (account_id, load_test_id, created_at, id);

CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    load_test_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schedules_by_test ON schedules (account_id, load_test_id, created_at, id);
"""


# Event source ownership ((kind, value) unique across tenants) and quota holds.
TENANCY_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_sources (
    id TEXT PRIMARY KEY,
    owner_account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX IF NOT EXISTS event_sources_by_owner ON event_sources (owner_account_id, kind, value);

CREATE TABLE IF NOT EXISTS quota_holds (
    account_id TEXT NOT NULL,
    pool TEXT NOT NULL,
    member TEXT NOT NULL,
    grp TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (account_id, pool, member)
);
CREATE INDEX IF NOT EXISTS quota_holds_by_group ON quota_holds (account_id, pool, grp);
"""

# Each load test's newest run and the p95 of its last Finished runs, as the runs' status changes
# record them (store/sqlite/load_tests.py): the list reads them with the tests, in one query. A test
# without a row was made before this table: its first listing fills the row from its runs.
LAST_RUN_SCHEMA = """
CREATE TABLE IF NOT EXISTS load_test_last_runs (
    load_test_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    last_run TEXT,
    trend TEXT NOT NULL DEFAULT '[]'
);
"""


# Deleted tests whose triggers, schedules, own variables, secrets and channels may remain (the store's
# `awaiting_cleanup`): `cleanup_at` is the deletion's time while it is so, NULL otherwise; the index
# holds only those rows, so the sweeper's read costs nothing while none is.
CLEANUP_INDEX = """
CREATE INDEX IF NOT EXISTS load_tests_awaiting_cleanup ON load_tests (cleanup_at, id) WHERE cleanup_at IS NOT NULL;
"""


def open_database(path: str) -> SQLiteDatabase:
    """The database file at `path`, its tables, indexes and migrations applied (idempotent: every
    process opening the file runs them; two at once are safe)."""
    db = SQLiteDatabase(path)
    migrate(db)
    return db


def migrate(db: SQLiteDatabase) -> None:
    db.apply_schema(SCHEMA)
    db.apply_schema(BLOB_SCHEMA)
    _add_column(db, "script_blobs", "touched_at", "INTEGER NOT NULL DEFAULT 0")  # databases made before it
    db.apply_schema(RUN_OUTBOX_SCHEMA)
    _metric_points(db)
    db.apply_schema(AUTOMATION_SCHEMA)
    db.apply_schema(TENANCY_SCHEMA)
    db.apply_schema(LAST_RUN_SCHEMA)
    _add_column(db, "load_tests", "cleanup_at", "INTEGER")  # every database: the first tables never had it
    db.apply_schema(CLEANUP_INDEX)


def _metric_points(db: SQLiteDatabase) -> None:
    """Create the series read path, filled from the samples already stored, once (the first process
    to look does it, inside one write transaction), and the table of final series."""
    with db.write() as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_metric_points'").fetchone() is None:
            conn.execute(POINTS_SCHEMA)
            conn.execute(_BACKFILL_ALL)
            conn.execute(_BACKFILL_ENDPOINTS)
        conn.execute(FINAL_SERIES_SCHEMA)


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
