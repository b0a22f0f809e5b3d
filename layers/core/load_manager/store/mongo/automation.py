"""MongoDB adapter of the trigger and schedule stores (runs without a human).

Collections `triggers` and `schedules`: `id` unique, and (accountId, loadTestId, createdAt) for a
test's list. Firings and occurrences are prepended with one `$push` (`$position: 0`, `$slice`), so
concurrent deliveries never lose one another's record and the list stays bounded.
"""

from __future__ import annotations

import builtins
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from load_manager.models.automation import Schedule, ScheduleOccurrence, Trigger, TriggerFiring
from load_manager.store.mongo.audit import LIVE, Pending, carrying, embed, updated
from load_manager.store.mongo.db import NO_ID, wire_fields
from load_manager.store.ports.audit import AuditRecord

M = TypeVar("M", bound=BaseModel)


class _Docs(Generic[M]):
    model: type[M]

    def __init__(self, db, collection):
        self.collection = collection
        self.pending = Pending(db, collection)

    def insert(self, item: M, *, audit: AuditRecord | None = None) -> None:
        doc = item.model_dump(by_alias=True)
        self.collection.insert_one(carrying(doc, audit))
        self.pending.publish({"id": doc["id"], "accountId": doc["accountId"]}, audit)

    def get(self, account_id: str, test_id: str, item_id: str) -> M | None:
        doc = self.collection.find_one({"id": item_id, "accountId": account_id, "loadTestId": test_id}, NO_ID)
        return self.model.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str) -> builtins.list[M]:
        cursor = self.collection.find({"accountId": account_id, "loadTestId": test_id}, NO_ID).sort([("createdAt", 1), ("id", 1)])
        return [self.model.model_validate(d) for d in cursor]

    def count(self, account_id: str, test_id: str | None = None) -> int:
        query = {"accountId": account_id} | ({"loadTestId": test_id} if test_id is not None else {})
        return self.collection.count_documents(query)

    def delete(
        self, account_id: str, test_id: str, item_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> bool:
        where = {"id": item_id, "accountId": account_id, "loadTestId": test_id, **wire_fields(self.model, expect or {})}
        if audit is not None:  # a tombstone carries the record (store/ports/audit.py)
            return self.pending.tombstone(where, audit)
        return self.collection.delete_one(where).deleted_count == 1

    def list_all(self) -> builtins.list[M]:
        return [self.model.model_validate(d) for d in self.collection.find(LIVE, NO_ID).sort([("createdAt", 1), ("id", 1)])]

    def update(
        self, account_id: str, test_id: str, item_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> M | None:  # fmt: skip
        where = {"id": item_id, "accountId": account_id, "loadTestId": test_id, **wire_fields(self.model, expect or {})}
        doc = updated(self.collection, where, embed({"$set": wire_fields(self.model, changes)}, audit))
        if doc is None:
            return None
        self.pending.publish({"id": item_id, "accountId": account_id}, audit)
        return self.model.model_validate(doc)

    def _prepend(self, account_id: str, item_id: str, field: str, entry: BaseModel, keep: int) -> None:
        self.collection.update_one(
            {"id": item_id, "accountId": account_id},
            {"$push": {field: {"$each": [entry.model_dump(by_alias=True)], "$position": 0, "$slice": keep}}},
        )


class MongoTriggerStore(_Docs[Trigger]):
    model = Trigger

    def __init__(self, db):
        super().__init__(db, db.triggers)

    def record_firing(self, account_id: str, trigger_id: str, firing: TriggerFiring, keep: int) -> None:
        self._prepend(account_id, trigger_id, "lastFirings", firing, keep)


class MongoScheduleStore(_Docs[Schedule]):
    model = Schedule

    def __init__(self, db):
        super().__init__(db, db.schedules)

    def record_occurrence(self, account_id: str, schedule_id: str, occurrence: ScheduleOccurrence, keep: int) -> None:
        self._prepend(account_id, schedule_id, "occurrences", occurrence, keep)
