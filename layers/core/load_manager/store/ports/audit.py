"""The audit trail's port: append-only records of every configuration change, written in the same
transaction as the change they record.

A record (`AuditRecord`) says who (actor, role, token), when (`at`, epoch ms), what (`action`, e.g.
"trigger.create") to which target (type, id, the load test it belongs to) and how (`beforeDigest`,
`afterDigest`: sha256 of the canonical JSON of the resource before and after, null for none; a
secret's value, a token's hash, a channel's credentials are never part of one). The store has no
update nor delete: SQLite refuses both with triggers on its table; MongoDB's adapter has no method
that could.

Order: `at`, then `seq`, a number the store gives each record, increasing per tenant, so two
records of one millisecond keep the order they were stored in. Read newest first, by keyset pages
on (at, seq).

**Same transaction as the change.** Every audited store write takes its record (`audit=`) and
stores both or neither:

- SQLite: the record is inserted in the write transaction (`db.write()`) that makes the change.
- MongoDB (no multi-document transaction: mongomock has none, and a standalone server neither):
  the record rides in the changed document itself (`auditPending`, an array), in the single-document
  write that makes the change: one atomic write, as a run's outbox of events (store/mongo/runs.py).
  Then it is copied to the audit collection, idempotently (its id is the copy's `_id`), and pulled
  from the document. A crash between the two leaves it in the document; a drain finishes it: the
  reader, before it answers (`query` drains the tenant first), and the sweeper (every tenant).
  - An insert (a test, a revision, a trigger, a run) carries its record in the inserted document.
  - An update or a soft delete (a test's `deletedAt`, a token's `revokedAt`) `$push`es it with the `$set`.
  - A hard delete (triggers, schedules, clusters, variables and secrets, notification channels)
    cannot carry anything: the document is gone. It becomes a tombstone instead, in one update: the
    record pushed, `auditTombstone` set to the tenant and `accountId` replaced by "tombstone:<id>".
    Every read is by tenant, so no tenant reads a tombstone (the few reads of every tenant skip
    `auditTombstone`), and its unique keys (a scope, a variable's name) are free at once. Copying
    its records deletes the tombstone (the drain does it after a crash).

**Before and after.** A use case reads the resource, builds the record from what it read and what it
writes, and writes with an `expect` guard (snake_case fields whose stored values must still be the
ones read: `updated_at`, a version): a concurrent change makes the write change nothing, and the use
case reads again. A record's `beforeDigest` is what the change replaced. A script revision's before
is the latest revision the store saw when it numbered the new one (`RevisionStore.append` fills it).
"""

from __future__ import annotations

import builtins
import json
from typing import Any, NamedTuple, Protocol


def canonical_digest(value: Any) -> str:
    """sha256 of the canonical JSON of `value` (sorted keys, no whitespace, UTF-8)."""
    import hashlib  # lazy: hashlib costs 1.5 ms at import (bench/cold_import.py --lazy), on the cold path of functions that hash nothing else

    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def script_digest(sha256: str) -> str:
    """A test's script (a revision's bundle, whose own digest names every file's content) as a resource."""
    return canonical_digest({"sha256": sha256})


class AuditRecord(NamedTuple):
    """Immutable. A NamedTuple, not a dataclass: every API function's cold start creates this class,
    and a frozen dataclass of these fields costs 1.4 ms to create, a NamedTuple 0.3 ms."""

    id: str
    account_id: str
    at: int  # epoch ms
    actor: str  # createdBy's form: a verified email, a subject, "token:<name>"
    role: str
    action: str  # "<resource>.<verb>": loadTest.create, script.update, criteria.update, run.start, token.revoke, ...
    target_type: str
    target_id: str
    load_test_id: str | None = None  # the test the target belongs to (a test's own records name it too)
    before_digest: str | None = None
    after_digest: str | None = None
    token_id: str | None = None
    changed: tuple[str, ...] = ()  # the fields a change set (camelCase names, never values)
    seq: int | None = None  # given by the store

    def with_before(self, before_digest: str | None) -> AuditRecord:
        return self._replace(before_digest=before_digest)

    def document(self) -> dict[str, Any]:
        """The record's stored (and API) form, camelCase."""
        target: dict[str, Any] = {"type": self.target_type, "id": self.target_id}
        if self.load_test_id is not None:
            target["loadTestId"] = self.load_test_id
        return {
            "id": self.id, "accountId": self.account_id, "at": self.at, "actor": self.actor, "role": self.role, "action": self.action,
            "target": target, "beforeDigest": self.before_digest, "afterDigest": self.after_digest, "tokenId": self.token_id,
            "changed": list(self.changed),
        }  # fmt: skip

    @classmethod
    def from_document(cls, doc: dict[str, Any], seq: int | None = None) -> AuditRecord:
        target = doc["target"]
        return cls(
            id=doc["id"], account_id=doc["accountId"], at=int(doc["at"]), actor=doc["actor"], role=doc["role"], action=doc["action"],
            target_type=target["type"], target_id=target["id"], load_test_id=target.get("loadTestId"), before_digest=doc.get("beforeDigest"),
            after_digest=doc.get("afterDigest"), token_id=doc.get("tokenId"), changed=tuple(doc.get("changed") or ()), seq=seq,
        )  # fmt: skip


class AuditStore(Protocol):
    """Append-only: records are written by the audited stores' writes (`audit=`), and only read here."""

    def query(
        self, account_id: str, *, target: str | None = None, actor: str | None = None, start: int | None = None, end: int | None = None,
        limit: int, after: tuple[int, int] | None = None,
    ) -> builtins.list[AuditRecord]:
        """The tenant's records, or those of a target (its id, or the load test it belongs to: a test's
        records are its own and its script's, triggers', schedules', runs'), of an actor, in [`start`,
        `end`) (epoch ms, as GET /v1/usage's window). Newest first by (at, seq); `after` is the (at, seq)
        of the previous page's last record. A MongoDB store drains the tenant's records still in their
        documents first."""
        ...

    def drain(self, account_id: str | None, limit: int = 200) -> int:
        """Copy records a crash left in their documents (one tenant's, or None: every tenant's, the
        sweeper's) to the trail; returns how many documents were finished. SQLite: nothing to do."""
        ...
