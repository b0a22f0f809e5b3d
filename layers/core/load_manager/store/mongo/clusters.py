"""MongoDB adapter of the cluster configuration store (`locust_clusters`: one per tenant and scope).
"""

from __future__ import annotations

from pymongo import ReturnDocument

from load_manager.models.clusters import ClusterConfig
from load_manager.store.ports import scope_key


class MongoClusterStore:
    def __init__(self, db):
        self.collection = db.locust_clusters

    def put(self, config: ClusterConfig) -> ClusterConfig:
        key = scope_key(config)
        doc = config.model_dump(by_alias=True)
        stored = self.collection.find_one_and_update(
            {"accountId": config.account_id, "scopeKey": key},
            {"$set": {k: v for k, v in doc.items() if k != "id"}, "$setOnInsert": {"id": config.id}},
            {"_id": False, "scopeKey": False},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return ClusterConfig.model_validate(stored)

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None:
        doc = self.collection.find_one({"id": cluster_id, "accountId": account_id}, {"_id": False, "scopeKey": False})
        return ClusterConfig.model_validate(doc) if doc else None

    def list(self, account_id: str) -> list[ClusterConfig]:
        cursor = self.collection.find({"accountId": account_id}, {"_id": False, "scopeKey": False}).sort("scopeKey", 1)
        return [ClusterConfig.model_validate(d) for d in cursor]

    def delete(self, account_id: str, cluster_id: str) -> bool:
        return self.collection.delete_one({"id": cluster_id, "accountId": account_id}).deleted_count == 1
