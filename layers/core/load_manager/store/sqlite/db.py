"""The SQLite adapter's connections: one per thread (sqlite3 objects are not shareable), WAL so
readers never block the writer, and `BEGIN IMMEDIATE` around read-then-write sequences so they are
serialised; and the keyset pagination every newest-first list shares.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class SQLiteDatabase:
    """Connection-per-thread access to one database file (schema.open_database applies the schema)."""

    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schemas: set[str] = set()

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


def newest_first(sql: str, params: list[Any], after: tuple[int, str] | None, limit: int) -> tuple[str, list[Any]]:
    """Keyset pagination on (created_at, id), newest first: `after` is the previous page's last key."""
    if after is not None:
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params = [*params, after[0], after[0], after[1]]
    return sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit]
