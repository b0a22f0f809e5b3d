"""Settings read from the environment once per execution environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_MAX_SCRIPT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    store_backend: str  # "mongo" | "sqlite"
    mongodb_uri: str
    mongodb_database: str
    sqlite_path: str
    tenant_claim: str
    max_script_bytes: int
    admin_group: str

    @classmethod
    def from_env(cls) -> "Settings":
        mongodb_uri = os.environ.get("MONGODB_URI", "")
        default_backend = "mongo" if mongodb_uri else "sqlite"
        return cls(
            store_backend=os.environ.get("STORE_BACKEND", default_backend).lower(),
            mongodb_uri=mongodb_uri,
            mongodb_database=os.environ.get("MONGODB_DATABASE", "load_manager"),
            sqlite_path=os.environ.get("SQLITE_PATH", os.path.join(os.getcwd(), ".data", "load_manager.db")),
            tenant_claim=os.environ.get("TENANT_CLAIM", "custom:accountId"),
            max_script_bytes=int(os.environ.get("MAX_SCRIPT_BYTES", DEFAULT_MAX_SCRIPT_BYTES)),
            admin_group=os.environ.get("ADMIN_GROUP", "load-manager-admins"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
