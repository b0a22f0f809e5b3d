"""MongoDB adapter of API tokens (`api_tokens`, store/ports/tokens.py): the hash and the id unique;
revoke and touch are one conditional update_one each on one document."""

from __future__ import annotations

import builtins

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from load_manager.models.tokens import TokenRecord
from load_manager.store.mongo.audit import Pending, carrying, embed
from load_manager.store.mongo.db import NO_ID, after_key
from load_manager.store.ports.audit import AuditRecord


def ensure_token_indexes(db) -> None:
    db.api_tokens.create_index([("id", ASCENDING)], unique=True, name="id_unique")
    db.api_tokens.create_index([("tokenHash", ASCENDING)], unique=True, name="hash_unique")
    db.api_tokens.create_index([("accountId", ASCENDING), ("createdAt", DESCENDING), ("id", DESCENDING)], name="by_account")


class MongoTokenStore:
    def __init__(self, db):
        self.collection = db.api_tokens
        self.pending = Pending(db, self.collection)

    def insert(self, record: TokenRecord, *, audit: AuditRecord | None = None) -> bool:
        try:
            self.collection.insert_one(carrying(record.model_dump(by_alias=True), audit))
        except DuplicateKeyError:
            return False
        self.pending.publish({"id": record.id, "accountId": record.account_id}, audit)
        return True

    def get(self, account_id: str, token_id: str) -> TokenRecord | None:
        doc = self.collection.find_one({"id": token_id, "accountId": account_id}, NO_ID)
        return TokenRecord.model_validate(doc) if doc else None

    def find_by_hash(self, token_hash: str) -> TokenRecord | None:
        doc = self.collection.find_one({"tokenHash": token_hash}, NO_ID)
        return TokenRecord.model_validate(doc) if doc else None

    def list(self, account_id: str, after: tuple[int, str] | None = None, limit: int = 100) -> builtins.list[TokenRecord]:
        query = {"accountId": account_id, **(after_key(after) if after else {})}
        cursor = self.collection.find(query, NO_ID).sort([("createdAt", DESCENDING), ("id", DESCENDING)]).limit(limit)
        return [TokenRecord.model_validate(d) for d in cursor]

    def revoke(self, account_id: str, token_id: str, at: int, by: str, *, audit: AuditRecord | None = None) -> bool:
        where = {"id": token_id, "accountId": account_id, "revokedAt": None}
        if self.collection.update_one(where, embed({"$set": {"revokedAt": at, "revokedBy": by}}, audit)).matched_count != 1:
            return False
        self.pending.publish({"id": token_id, "accountId": account_id}, audit)
        return True

    def touch(self, account_id: str, token_id: str, at: int, min_interval_ms: int) -> bool:
        where = {
            "id": token_id, "accountId": account_id, "revokedAt": None,
            "$or": [{"lastUsedAt": None}, {"lastUsedAt": {"$lte": at - min_interval_ms}}],
        }  # fmt: skip
        return self.collection.update_one(where, {"$set": {"lastUsedAt": at}}).matched_count == 1
