"""The MongoDB adapter's connections: one MongoClient per execution environment, created lazily on
first use with serverless pool settings; and the small query helpers the stores share.
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel
from pymongo import MongoClient

_client_lock = threading.Lock()
_clients: dict[str, Any] = {}

NO_ID = {"_id": False}
WITHOUT_CONTENT = {"_id": False, "content": False}
LIVE = {"deletedAt": None}  # matches documents without the field too


def get_client(uri: str):
    """The execution environment's client for `uri`. `mongomock://` gives an in-memory fake (tests, local)."""
    with _client_lock:
        if uri not in _clients:
            if uri.startswith("mongomock://"):
                import mongomock  # lazy: 116 ms at import (bench/cold_import.py --lazy), tests and local only, not in the layer

                _clients[uri] = mongomock.MongoClient()
            else:
                # Lambda: few concurrent requests per environment, environments come and go.
                _clients[uri] = MongoClient(
                    uri,
                    maxPoolSize=10,
                    minPoolSize=0,
                    maxIdleTimeMS=60_000,
                    serverSelectionTimeoutMS=5_000,
                    connectTimeoutMS=5_000,
                    retryWrites=True,
                    appname="load-manager",
                )
        return _clients[uri]


def get_database(uri: str, name: str):
    return get_client(uri)[name]


def after_key(after: tuple[int, str]) -> dict[str, Any]:
    """Keyset pagination on (createdAt, id), newest first: documents after the previous page's last key."""
    return {"$or": [{"createdAt": {"$lt": after[0]}}, {"createdAt": after[0], "id": {"$lt": after[1]}}]}


def wire_fields(model: type[BaseModel], fields: dict[str, Any]) -> dict[str, Any]:
    """snake_case model fields -> their camelCase document form (nested models dumped too)."""
    return model.model_construct(**fields).model_dump(by_alias=True, include=set(fields)) if fields else {}
