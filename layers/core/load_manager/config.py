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
    # Runs
    state_machine_arn: str
    default_backend: str  # "local" | "ecs": the cluster used when no configuration matches a scope
    min_poll_seconds: int
    reports_bucket: str
    data_dir: str
    run_deadline_margin_seconds: int

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
            state_machine_arn=os.environ.get("RUN_STATE_MACHINE_ARN", ""),
            default_backend=os.environ.get("DEFAULT_CLUSTER_BACKEND", "local").lower(),
            min_poll_seconds=int(os.environ.get("MIN_POLL_SECONDS", "5")),
            reports_bucket=os.environ.get("REPORTS_BUCKET", ""),
            data_dir=os.environ.get("LOAD_MANAGER_DATA_DIR", os.path.join(os.getcwd(), ".data")),
            run_deadline_margin_seconds=int(os.environ.get("RUN_DEADLINE_MARGIN_SECONDS", "120")),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
