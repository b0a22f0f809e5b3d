"""MongoDB adapter of notification channels (store/ports/notifications.py): collection
`notification_channels`, `id` unique and (accountId, createdAt, id) for a tenant's list; its indexes
are made when the store is built (cold start). A PATCH is one `$set` (findOneAndUpdate)."""

from __future__ import annotations

import builtins
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from load_manager.models.notifications import NotificationChannel
from load_manager.store.mongo.db import NO_ID, wire_fields

_ORDER = [("createdAt", ASCENDING), ("id", ASCENDING)]


class MongoNotificationChannelStore:
    def __init__(self, db):
        self.collection = db.notification_channels
        self.collection.create_index([("id", ASCENDING)], unique=True, name="id_unique")
        self.collection.create_index([("accountId", ASCENDING), *_ORDER], name="by_account")

    def insert(self, channel: NotificationChannel) -> None:
        self.collection.insert_one(channel.model_dump(by_alias=True))

    def get(self, account_id: str, channel_id: str) -> NotificationChannel | None:
        doc = self.collection.find_one({"id": channel_id, "accountId": account_id}, NO_ID)
        return NotificationChannel.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str | None = None) -> builtins.list[NotificationChannel]:
        query = {"accountId": account_id} | ({"testId": test_id} if test_id is not None else {})
        return [NotificationChannel.model_validate(d) for d in self.collection.find(query, NO_ID).sort(_ORDER)]

    def update(self, account_id: str, channel_id: str, changes: dict[str, Any]) -> NotificationChannel | None:
        doc = self.collection.find_one_and_update(
            {"id": channel_id, "accountId": account_id}, {"$set": wire_fields(NotificationChannel, changes)}, NO_ID,
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
        return NotificationChannel.model_validate(doc) if doc else None

    def delete(self, account_id: str, channel_id: str) -> bool:
        return self.collection.delete_one({"id": channel_id, "accountId": account_id}).deleted_count == 1

    def list_all(self) -> builtins.list[NotificationChannel]:
        return [NotificationChannel.model_validate(d) for d in self.collection.find({}, NO_ID).sort(_ORDER)]
