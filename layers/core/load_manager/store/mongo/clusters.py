"""MongoDB adapter of the cluster configuration store (`locust_clusters`: one per tenant and scope).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from load_manager.models.clusters import ClusterConfig
from load_manager.store.mongo.audit import Pending, carrying, embed, updated
from load_manager.store.mongo.db import wire_fields
from load_manager.store.ports import scope_key
from load_manager.store.ports.audit import AuditRecord

_HIDDEN = {"_id": False, "scopeKey": False}


class MongoClusterStore:
    def __init__(self, db):
        self.collection = db.locust_clusters
        self.pending = Pending(db, self.collection)

    def put(self, config: ClusterConfig, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> ClusterConfig | None:
        """`expect`: values of the scope's configuration the change was built on (empty: there was none);
        None: whatever is there is replaced."""
        key = scope_key(config)
        doc = config.model_dump(by_alias=True)
        where = {"accountId": config.account_id, "scopeKey": key}
        if expect == {}:
            try:  # the unique (accountId, scopeKey) index refuses a second configuration of the scope
                self.collection.insert_one(carrying({**doc, "scopeKey": key}, audit))
            except DuplicateKeyError:
                return None
            self.pending.publish(where, audit)
            return config
        update = embed({"$set": {k: v for k, v in doc.items() if k != "id"}}, audit)
        if expect:
            stored = updated(self.collection, {**where, **wire_fields(ClusterConfig, expect)}, update)
        else:
            stored = self.collection.find_one_and_update(
                where, {**update, "$setOnInsert": {"id": config.id}}, _HIDDEN, upsert=True, return_document=ReturnDocument.AFTER
            )
        if stored is None:
            return None
        self.pending.publish(where, audit)
        return ClusterConfig.model_validate(stored)

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None:
        doc = self.collection.find_one({"id": cluster_id, "accountId": account_id}, _HIDDEN)
        return ClusterConfig.model_validate(doc) if doc else None

    def list(self, account_id: str) -> list[ClusterConfig]:
        cursor = self.collection.find({"accountId": account_id}, _HIDDEN).sort("scopeKey", 1)
        return [ClusterConfig.model_validate(d) for d in cursor]

    def delete(self, account_id: str, cluster_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> bool:
        where = {"id": cluster_id, "accountId": account_id, **wire_fields(ClusterConfig, expect or {})}
        if audit is not None:  # a tombstone carries the record, and frees the scope at once (store/ports/audit.py)
            return self.pending.tombstone(where, audit)
        return self.collection.delete_one(where).deleted_count == 1
