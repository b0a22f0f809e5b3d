"""MongoDB adapter of usage sums (an aggregation over the tenant's runs, through an index on
(accountId, createdAt)) and budget holds: one document per tenant holding its members and their
running `total`, so taking a hold is one update whose filter says "the total leaves room" (and the
member is not there yet) and releasing one pulls it and lowers the total in the same update."""

from __future__ import annotations

import builtins
from collections.abc import Collection

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from load_manager.store.ports.usage import BudgetHold, GroupKey, UsageSum

_KEYS = {"test": "$loadTestId", "project": "$projectId", "env": "$envId", None: None}


def ensure_usage_indexes(db) -> None:
    db.load_test_runs.create_index([("accountId", ASCENDING), ("createdAt", ASCENDING)], name="by_account_time")
    db.vcpu_holds.create_index([("accountId", ASCENDING)], unique=True, name="account_unique")


class MongoUsageStore:
    def __init__(self, db):
        self.runs = db.load_test_runs
        self.collection = db.vcpu_holds

    def sums(
        self, account_id: str, start: int, end: int, group_by: GroupKey | None, limit: int, *, test_ids: Collection[str] | None = None
    ) -> builtins.list[UsageSum]:
        match: dict = {"accountId": account_id, "createdAt": {"$gte": start, "$lt": end}}
        if test_ids is not None:
            match["loadTestId"] = {"$in": list(test_ids)}
        pipeline = [
            {"$match": match},
            {"$group": {
                "_id": _KEYS[group_by], "runs": {"$sum": 1}, "vcpu": {"$sum": "$usage.vcpuSeconds"},
                "memory": {"$sum": "$usage.memoryGbSeconds"}, "cost": {"$sum": "$usage.estimatedCost.amount"},
            }},
            {"$sort": {"vcpu": -1, "_id": 1}},
            {"$limit": limit},
        ]  # fmt: skip
        return [
            UsageSum(
                key=d["_id"], runs=d["runs"], vcpu_seconds=float(d["vcpu"] or 0), memory_gb_seconds=float(d["memory"] or 0),
                cost=float(d["cost"] or 0),
            )
            for d in self.runs.aggregate(pipeline)
            if d["runs"]  # mongomock groups an empty match into one empty group; MongoDB answers none
        ]

    def take(self, account_id: str, hold: BudgetHold, cap_ms: int) -> bool:
        try:
            self.collection.update_one({"accountId": account_id}, {"$setOnInsert": {"members": [], "total": 0}}, upsert=True)
        except DuplicateKeyError:
            pass  # created by a concurrent taker
        where = {"accountId": account_id, "members.id": {"$ne": hold.member}, "total": {"$lte": cap_ms - hold.vcpu_ms}}
        change = {"$push": {"members": {"id": hold.member, "vcpuMs": hold.vcpu_ms, "at": hold.at}}, "$inc": {"total": hold.vcpu_ms}}
        if self.collection.update_one(where, change).modified_count == 1:
            return True
        return self.collection.find_one({"accountId": account_id, "members.id": hold.member}, {"_id": True}) is not None  # held already

    def release(self, account_id: str, member: str) -> None:
        held = next((h for h in self.holds(account_id) if h.member == member), None)
        if held is None:
            return
        # Conditional on the member being there: of two releases, one lowers the total.
        where = {"accountId": account_id, "members": {"$elemMatch": {"id": member, "vcpuMs": held.vcpu_ms}}}
        self.collection.update_one(where, {"$pull": {"members": {"id": member}}, "$inc": {"total": -held.vcpu_ms}})

    def holds(self, account_id: str) -> builtins.list[BudgetHold]:
        doc = self.collection.find_one({"accountId": account_id}, {"_id": False, "members": True}) or {}
        return [BudgetHold(member=m["id"], vcpu_ms=m["vcpuMs"], at=m["at"]) for m in doc.get("members", [])]
