"""Store factory: one set of stores per execution environment, created lazily on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from load_manager.adapters.secrets import mongodb_uri
from load_manager.settings import get_settings
from load_manager.store import ports
from load_manager.store.ports import Stores

if TYPE_CHECKING:
    from load_manager.store.ports import Hold as Hold
    from load_manager.store.ports import IdempotencyRecord as IdempotencyRecord

# StoredRevision is a model: import it from load_manager.models.records.
__all__ = ["Stores", "get_stores", "set_stores", "reset_stores", "IdempotencyRecord", "Hold"]


def __getattr__(name: str) -> Any:
    """Hold and IdempotencyRecord, named here as ever: their ports' modules load when one is named."""
    if name in ("Hold", "IdempotencyRecord"):
        return getattr(ports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_lock = threading.Lock()
_stores: Stores | None = None


def get_stores() -> Stores:
    global _stores
    if _stores is None:
        with _lock:
            if _stores is None:
                _stores = _build()
    return _stores


def set_stores(stores: Stores | None) -> None:
    """Install stores explicitly (tests, the local runtime)."""
    global _stores
    _stores = stores


def reset_stores() -> None:
    set_stores(None)


def _build() -> Stores:
    settings = get_settings()
    if settings.store_backend == "mongo":
        from load_manager.store.mongo import build_mongo_stores, get_database  # lazy: pymongo, 52 ms at import (bench/cold_import.py --lazy)

        return build_mongo_stores(get_database(mongodb_uri(settings), settings.mongodb_database))
    if settings.store_backend == "sqlite":
        from load_manager.store.sqlite import build_sqlite_stores  # lazy: 4 ms at import (bench/cold_import.py --lazy), never used in AWS

        return build_sqlite_stores(settings.sqlite_path)
    raise RuntimeError(f"unknown STORE_BACKEND {settings.store_backend!r} (expected mongo or sqlite)")
