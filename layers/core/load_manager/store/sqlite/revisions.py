"""SQLite adapter of the revision store: revisions, and the content-addressed blobs of their
bundle files (`script_blobs`: per tenant, immutable; `touched_at` is when a save last wrote or
named one, which blob collection's grace period counts from).
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from load_manager.models.records import StoredRevision
from load_manager.store.ports.audit import AuditRecord, script_digest
from load_manager.store.sqlite.audit import write_record
from load_manager.store.sqlite.db import SQLiteDatabase

_BLOB_UPSERT = (
    "INSERT INTO script_blobs (account_id, sha256, size, content, touched_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, sha256) DO UPDATE SET touched_at = MAX(touched_at, excluded.touched_at)"
)


class SQLiteRevisionStore:
    def __init__(self, db: SQLiteDatabase):
        self.db = db

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
        self, draft: StoredRevision, *, skip_if_same_as_latest: bool, blobs: Mapping[str, bytes] | None = None, audit: AuditRecord | None = None
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
            if audit is not None:  # its before: the latest revision as this transaction saw it
                write_record(conn, audit.with_before(script_digest(_revision(latest).sha256) if latest is not None else None))
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


def _revision(row: sqlite3.Row) -> StoredRevision:
    revision = StoredRevision.model_validate_json(row["doc"])
    # A tombstone has no content (the column keeps '' there: it is NOT NULL).
    return revision.model_copy(update={"content": None if revision.pruned_at is not None else row["content"]})
