"""MongoDB adapter of event source ownership and quota holds.

No transaction anywhere (real MongoDB has them, mongomock does not, and none is needed): every
check-and-write is one conditional write on one document, which MongoDB applies atomically.
- `event_sources`: one document per source, (kind, value) unique: two tenants claiming the same
  application race on the index and exactly one wins.
- `quota_holds`: one document per (tenant, pool) holding its members, and each group's member ids
  under `groups.<group>`. Taking a hold is an update whose filter says "fewer than N members" as
  `members.<N-1>` not existing (and the same for the group's array): a full pool matches nothing.
"""

from __future__ import annotations

import builtins
import re

from pymongo.errors import DuplicateKeyError

from load_manager.models.automation import EventSource
from load_manager.store.mongo.db import NO_ID
from load_manager.store.ports import Hold

_GROUP = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # used as a field name: no dots, no dollar


class MongoEventSourceStore:
    def __init__(self, db):
        self.collection = db.event_sources

    def claim(self, source: EventSource) -> EventSource:
        try:
            self.collection.update_one(
                {"kind": source.kind, "value": source.value}, {"$setOnInsert": source.model_dump(by_alias=True)}, upsert=True
            )
        except DuplicateKeyError:
            pass  # a concurrent claim of the same source inserted first: it is the one stored
        return EventSource.model_validate(self.collection.find_one({"kind": source.kind, "value": source.value}, NO_ID))

    def get(self, source_id: str) -> EventSource | None:
        doc = self.collection.find_one({"id": source_id}, NO_ID)
        return EventSource.model_validate(doc) if doc else None

    def list(self, owner_account_id: str | None) -> builtins.list[EventSource]:
        query = {} if owner_account_id is None else {"ownerAccountId": owner_account_id}
        cursor = self.collection.find(query, NO_ID).sort([("ownerAccountId", 1), ("kind", 1), ("value", 1)])
        return [EventSource.model_validate(d) for d in cursor]

    def delete(self, source_id: str) -> bool:
        return self.collection.delete_one({"id": source_id}).deleted_count == 1


class MongoHoldStore:
    def __init__(self, db):
        self.collection = db.quota_holds

    def take(self, account_id: str, pool: str, hold: Hold, limit: int, group_limit: int | None) -> bool:
        key = {"accountId": account_id, "pool": pool}
        try:
            self.collection.update_one(key, {"$setOnInsert": {"members": [], "groups": {}}}, upsert=True)
        except DuplicateKeyError:
            pass  # created by a concurrent taker
        where = {**key, f"members.{limit - 1}": {"$exists": False}, "members.id": {"$ne": hold.member}}
        change: dict = {"$push": {"members": {"id": hold.member, "group": hold.group, "at": hold.at}}}
        if hold.group is not None:
            if not _GROUP.match(hold.group):
                raise ValueError(f"invalid hold group {hold.group!r}")
            change["$push"][f"groups.{hold.group}"] = hold.member
            if group_limit is not None:
                where[f"groups.{hold.group}.{group_limit - 1}"] = {"$exists": False}
        if self.collection.update_one(where, change).modified_count == 1:
            return True
        return self.collection.find_one({**key, "members.id": hold.member}, {"_id": True}) is not None  # held already

    def release(self, account_id: str, pool: str, member: str) -> None:
        key = {"accountId": account_id, "pool": pool}
        held = next((h for h in self.holds(account_id, pool) if h.member == member), None)
        if held is None:
            return
        pull: dict = {"members": {"id": member}}
        if held.group is not None:
            pull[f"groups.{held.group}"] = member
        self.collection.update_one(key, {"$pull": pull})

    def holds(self, account_id: str, pool: str) -> builtins.list[Hold]:
        doc = self.collection.find_one({"accountId": account_id, "pool": pool}, {"_id": False, "members": True}) or {}
        return [Hold(member=m["id"], group=m.get("group"), at=m["at"]) for m in doc.get("members", [])]
