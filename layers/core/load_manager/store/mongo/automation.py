"""MongoDB adapter of the trigger and schedule stores (runs without a human).

Collections `triggers` and `schedules`: `id` unique, and (accountId, loadTestId, createdAt) for a
test's list. Firings and occurrences are prepended with one `$push` (`$position: 0`, `$slice`), so
concurrent deliveries never lose one another's record and the list stays bounded.
"""

from __future__ import annotations

import builtins
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo import ReturnDocument

from load_manager.models.automation import Schedule, ScheduleOccurrence, Trigger, TriggerFiring
from load_manager.store.mongo.db import NO_ID

M = TypeVar("M", bound=BaseModel)


class _Docs(Generic[M]):
    model: type[M]

    def __init__(self, collection):
        self.collection = collection

    def insert(self, item: M) -> None:
        self.collection.insert_one(item.model_dump(by_alias=True))

    def get(self, account_id: str, test_id: str, item_id: str) -> M | None:
        doc = self.collection.find_one({"id": item_id, "accountId": account_id, "loadTestId": test_id}, NO_ID)
        return self.model.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str) -> builtins.list[M]:
        cursor = self.collection.find({"accountId": account_id, "loadTestId": test_id}, NO_ID).sort([("createdAt", 1), ("id", 1)])
        return [self.model.model_validate(d) for d in cursor]

    def count(self, account_id: str, test_id: str | None = None) -> int:
        query = {"accountId": account_id} | ({"loadTestId": test_id} if test_id is not None else {})
        return self.collection.count_documents(query)

    def delete(self, account_id: str, test_id: str, item_id: str) -> bool:
        return self.collection.delete_one({"id": item_id, "accountId": account_id, "loadTestId": test_id}).deleted_count == 1

    def list_all(self) -> builtins.list[M]:
        return [self.model.model_validate(d) for d in self.collection.find({}, NO_ID).sort([("createdAt", 1), ("id", 1)])]

    def update(self, account_id: str, test_id: str, item_id: str, changes: dict[str, Any]) -> M | None:
        wire = self.model.model_construct(**changes).model_dump(by_alias=True, include=set(changes)) if changes else {}
        doc = self.collection.find_one_and_update(
            {"id": item_id, "accountId": account_id, "loadTestId": test_id}, {"$set": wire}, NO_ID,
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
        return self.model.model_validate(doc) if doc else None

    def _prepend(self, account_id: str, item_id: str, field: str, entry: BaseModel, keep: int) -> None:
        self.collection.update_one(
            {"id": item_id, "accountId": account_id},
            {"$push": {field: {"$each": [entry.model_dump(by_alias=True)], "$position": 0, "$slice": keep}}},
        )


class MongoTriggerStore(_Docs[Trigger]):
    model = Trigger

    def __init__(self, db):
        super().__init__(db.triggers)

    def record_firing(self, account_id: str, trigger_id: str, firing: TriggerFiring, keep: int) -> None:
        self._prepend(account_id, trigger_id, "lastFirings", firing, keep)


class MongoScheduleStore(_Docs[Schedule]):
    model = Schedule

    def __init__(self, db):
        super().__init__(db.schedules)

    def record_occurrence(self, account_id: str, schedule_id: str, occurrence: ScheduleOccurrence, keep: int) -> None:
        self._prepend(account_id, schedule_id, "occurrences", occurrence, keep)
