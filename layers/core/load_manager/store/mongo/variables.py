"""MongoDB adapter of variables and secrets (`config_entries`, store/ports/variables.py). Every write
is one conditional write on one document: the unique index on (tenant, kind, scope, name) decides
concurrent inserts, the version in the filter concurrent replaces and deletes."""

from __future__ import annotations

import builtins

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from load_manager.models.variables import ConfigEntry
from load_manager.store.mongo.audit import Pending, carrying, embed
from load_manager.store.ports.audit import AuditRecord
from load_manager.store.ports.variables import entry_scope_key

_HIDDEN = {"_id": False, "scopeKey": False}


def ensure_variable_indexes(db) -> None:
    db.config_entries.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.config_entries.create_index(
        [("accountId", ASCENDING), ("kind", ASCENDING), ("scopeKey", ASCENDING), ("name", ASCENDING)], unique=True, name="entry_unique"
    )
    db.config_entries.create_index([("accountId", ASCENDING), ("kind", ASCENDING), ("name", ASCENDING)], name="by_account")


class MongoVariableStore:
    def __init__(self, db):
        self.collection = db.config_entries
        self.pending = Pending(db, self.collection)

    def insert(self, entry: ConfigEntry, *, audit: AuditRecord | None = None) -> bool:
        try:
            self.collection.insert_one(carrying({**entry.model_dump(by_alias=True), "scopeKey": entry_scope_key(entry)}, audit))
        except DuplicateKeyError:
            return False
        self.pending.publish({"id": entry.id, "accountId": entry.account_id}, audit)
        return True

    def replace(self, entry: ConfigEntry, expected_version: int, *, audit: AuditRecord | None = None) -> bool:
        # An update rather than replace_one: a record a crash left in the document stays there.
        document = {k: v for k, v in {**entry.model_dump(by_alias=True), "scopeKey": entry_scope_key(entry)}.items() if k != "id"}
        where = {"id": entry.id, "accountId": entry.account_id, "version": expected_version}
        if self.collection.update_one(where, embed({"$set": document}, audit)).matched_count != 1:
            return False
        self.pending.publish({"id": entry.id, "accountId": entry.account_id}, audit)
        return True

    def get(self, account_id: str, entry_id: str) -> ConfigEntry | None:
        doc = self.collection.find_one({"id": entry_id, "accountId": account_id}, _HIDDEN)
        return ConfigEntry.model_validate(doc) if doc else None

    def find(self, account_id: str, kind: str, scope_key: str, name: str) -> ConfigEntry | None:
        doc = self.collection.find_one({"accountId": account_id, "kind": kind, "scopeKey": scope_key, "name": name}, _HIDDEN)
        return ConfigEntry.model_validate(doc) if doc else None

    def list(self, account_id: str, kind: str | None = None) -> builtins.list[ConfigEntry]:
        query = {"accountId": account_id, **({"kind": kind} if kind else {})}
        cursor = self.collection.find(query, _HIDDEN).sort([("kind", 1), ("name", 1), ("scopeKey", 1)])
        return [ConfigEntry.model_validate(d) for d in cursor]

    def count(self, account_id: str, kind: str) -> int:
        return int(self.collection.count_documents({"accountId": account_id, "kind": kind}))

    def delete(self, account_id: str, entry_id: str, expected_version: int, *, audit: AuditRecord | None = None) -> bool:
        where = {"id": entry_id, "accountId": account_id, "version": expected_version}
        if audit is not None:  # a tombstone carries the record, and frees the name at once (store/ports/audit.py)
            return self.pending.tombstone(where, audit)
        return self.collection.delete_one(where).deleted_count == 1
