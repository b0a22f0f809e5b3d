"""Configure this process as the local runtime: SQLite in a data directory, local defaults."""

from __future__ import annotations

import os
from pathlib import Path

from load_manager.store import get_stores, set_stores
from load_manager.store.sqlite import build_sqlite_stores


def configure_local_runtime(data_dir: str | os.PathLike) -> Path:
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-local")
    os.environ["LOAD_MANAGER_DATA_DIR"] = str(data)
    set_stores(build_sqlite_stores(str(data / "load_manager.db")))
    get_stores()
    return data
