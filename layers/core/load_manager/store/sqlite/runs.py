"""SQLite adapter of the run store (a run's outbox is the `run_outbox` table, written in the
transaction of the status change that owes its events) and of the metrics store (samples, and
the narrow `run_metric_points` rows the series are read from).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable
from typing import Any

from load_manager.analysis.autostop import Counts
from load_manager.analysis.series import Columns
from load_manager.models.generators import READINGS, GeneratorReading
from load_manager.models.metrics import MetricsSample
from load_manager.models.runs import ACTIVE_STATUSES, Run, StatusChange
from load_manager.store.ports import OutboxEvent
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.sqlite.audit import write_record
from load_manager.store.sqlite.db import SQLiteDatabase, newest_first

# Statuses of an active run, as an SQL list: `status IN (...)`.
_ACTIVE = "(" + ",".join(f"'{status}'" for status in sorted(ACTIVE_STATUSES)) + ")"


class SQLiteRunStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

    def insert(self, run: Run, *, audit: AuditRecord | None = None) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO load_test_runs (id, account_id, load_test_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (run.id, run.account_id, run.load_test_id, run.status, run.created_at, run.model_dump_json(by_alias=True)),
            )
            if cursor.rowcount == 1:
                write_record(conn, audit)
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
        return [Run.model_validate_json(r["doc"]) for r in self.db.query(*newest_first(sql, params, after, limit))]

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

    def add_events(self, account_id: str, run_id: str, events: Iterable[OutboxEvent]) -> None:
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO run_outbox (account_id, run_id, event_id, detail_type, status, at) VALUES (?, ?, ?, ?, ?, ?)",
                [(account_id, run_id, e.event_id, e.detail_type, e.status, e.at) for e in events],
            )

    def event_sent(self, account_id: str, run_id: str, event_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM run_outbox WHERE account_id = ? AND run_id = ? AND event_id = ?", (account_id, run_id, event_id))

    def with_pending_events(self, written_before: int, limit: int) -> builtins.list[tuple[str, str]]:
        rows = self.db.query(
            "SELECT DISTINCT account_id, run_id FROM (SELECT account_id, run_id FROM run_outbox WHERE at < ? ORDER BY at LIMIT ?)",
            (written_before, limit),
        )
        return [(r["account_id"], r["run_id"]) for r in rows]

    def update(self, account_id, run_id, fields, *, when_status_in, audit: AuditRecord | None = None) -> Run | None:
        return self._conditional(account_id, run_id, set(when_status_in), lambda run: run.model_copy(update=fields), audit=audit)

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

    def ended_among(self, run_ids: Iterable[str], ended_before: int) -> builtins.set[str]:
        wanted = sorted(set(run_ids))
        found: builtins.set[str] = set()
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            rows = self.db.query(
                f"SELECT id FROM load_test_runs WHERE id IN ({','.join('?' * len(chunk))}) AND status NOT IN {_ACTIVE}"
                " AND COALESCE(json_extract(doc, '$.endedAt'), 0) < ?",
                (*chunk, ended_before),
            )
            found.update(r["id"] for r in rows)
        return found

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

    def _conditional(
        self, account_id: str, run_id: str, statuses: set[str], apply, events: Iterable[OutboxEvent] = (), audit: AuditRecord | None = None
    ) -> Run | None:
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
            write_record(conn, audit)
            return updated


_POINT_INSERT = "INSERT OR REPLACE INTO run_metric_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class SQLiteMetricsStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

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

    def generator_readings(self, account_id: str, run_id: str) -> builtins.list[tuple[int, builtins.list[GeneratorReading]]]:
        # json_extract in SQLite (C): the samples' endpoint rows never reach Python.
        rows = self.db.tuples(
            "SELECT at, json_extract(doc, '$.generators') FROM run_metrics WHERE run_id = ? AND account_id = ?"
            " AND json_array_length(doc, '$.generators') > 0 ORDER BY at", (run_id, account_id),
        )  # fmt: skip
        return [(at, READINGS.validate_json(readings)) for at, readings in rows]
