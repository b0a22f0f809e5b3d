"""MongoDB adapter of the idempotency key store (`idempotency_keys`, expired by a TTL index).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from load_manager.store.ports import IdempotencyRecord


class MongoIdempotencyStore:
    def __init__(self, db):
        self.collection = db.idempotency_keys

    def get(self, account_id: str, key: str, now: int) -> IdempotencyRecord | None:
        doc = self.collection.find_one({"accountId": account_id, "key": key, "expiresAt": {"$gt": now}})
        return _idempotency_record(doc) if doc else None

    def claim(self, account_id: str, record: IdempotencyRecord, now: int) -> IdempotencyRecord:
        fields = {
            "fingerprint": record.fingerprint, "runId": record.run_id, "expiresAt": record.expires_at,
            "expiresAtDate": datetime.fromtimestamp(record.expires_at / 1000, tz=UTC),
        }
        try:
            self.collection.insert_one({"accountId": account_id, "key": record.key, **fields})
            return record
        except DuplicateKeyError:
            pass
        # The key exists: take it over only if it has expired (the TTL monitor may not have run yet).
        taken = self.collection.update_one({"accountId": account_id, "key": record.key, "expiresAt": {"$lte": now}}, {"$set": fields})
        if taken.modified_count == 1:
            return record
        return _idempotency_record(self.collection.find_one({"accountId": account_id, "key": record.key}))


def _idempotency_record(doc: dict[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(key=doc["key"], fingerprint=doc["fingerprint"], run_id=doc["runId"], expires_at=doc["expiresAt"])
