"""MongoDB adapter of notification channels (store/ports/notifications.py): collection
`notification_channels`, `id` unique and (accountId, createdAt, id) for a tenant's list; its indexes
are made when the store is built (cold start). A PATCH is one `$set` (findOneAndUpdate)."""

from __future__ import annotations

import builtins
from typing import Any

from pymongo import ASCENDING

from load_manager.models.notifications import NotificationChannel
from load_manager.store.mongo.audit import LIVE, Pending, carrying, embed, updated
from load_manager.store.mongo.db import NO_ID, wire_fields
from load_manager.store.ports.audit import AuditRecord

_ORDER = [("createdAt", ASCENDING), ("id", ASCENDING)]


class MongoNotificationChannelStore:
    def __init__(self, db):
        self.collection = db.notification_channels
        self.collection.create_index([("id", ASCENDING)], unique=True, name="id_unique")
        self.collection.create_index([("accountId", ASCENDING), *_ORDER], name="by_account")
        self.pending = Pending(db, self.collection)

    def insert(self, channel: NotificationChannel, *, audit: AuditRecord | None = None) -> None:
        self.collection.insert_one(carrying(channel.model_dump(by_alias=True), audit))
        self.pending.publish({"id": channel.id, "accountId": channel.account_id}, audit)

    def get(self, account_id: str, channel_id: str) -> NotificationChannel | None:
        doc = self.collection.find_one({"id": channel_id, "accountId": account_id}, NO_ID)
        return NotificationChannel.model_validate(doc) if doc else None

    def list(self, account_id: str, test_id: str | None = None) -> builtins.list[NotificationChannel]:
        query = {"accountId": account_id} | ({"testId": test_id} if test_id is not None else {})
        return [NotificationChannel.model_validate(d) for d in self.collection.find(query, NO_ID).sort(_ORDER)]

    def update(
        self, account_id: str, channel_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> NotificationChannel | None:
        where = {"id": channel_id, "accountId": account_id, **wire_fields(NotificationChannel, expect or {})}
        doc = updated(self.collection, where, embed({"$set": wire_fields(NotificationChannel, changes)}, audit))
        if doc is None:
            return None
        self.pending.publish({"id": channel_id, "accountId": account_id}, audit)
        return NotificationChannel.model_validate(doc)

    def delete(self, account_id: str, channel_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> bool:
        where = {"id": channel_id, "accountId": account_id, **wire_fields(NotificationChannel, expect or {})}
        if audit is not None:  # a tombstone carries the record (store/ports/audit.py)
            return self.pending.tombstone(where, audit)
        return self.collection.delete_one(where).deleted_count == 1

    def list_all(self) -> builtins.list[NotificationChannel]:
        return [NotificationChannel.model_validate(d) for d in self.collection.find(LIVE, NO_ID).sort(_ORDER)]
