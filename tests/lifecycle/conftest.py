"""The local runtime as `load-manager serve` runs it, in process: SQLite in a temp data dir, the
run lifecycle state machine executed by moto's ASL interpreter, real Locust, a real target."""

from __future__ import annotations

import pytest

from load_manager_local.api import InProcessApi
from load_manager_local.runtime import LocalRunLifecycle, configure_local_runtime


@pytest.fixture
def fast_settings(tmp_path):
    """Settings for lifecycle tests without Step Functions: 1 s polls, a 60 s deadline margin."""
    from load_manager.settings import Settings, set_settings

    set_settings(Settings(data_dir=str(tmp_path), sqlite_path=str(tmp_path / "lm.db"), min_poll_seconds=1, run_deadline_margin_seconds=60))
    yield
    set_settings(None)


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    for name in ("LOAD_MANAGER_DATA_DIR", "DEFAULT_CLUSTER_BACKEND", "MIN_POLL_SECONDS", "RUN_STATE_MACHINE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIN_POLL_SECONDS", "1")
    configure_local_runtime(tmp_path)
    lifecycle = LocalRunLifecycle().start()
    try:
        yield lifecycle
    finally:
        lifecycle.stop()
        from load_manager.settings import set_settings
        from load_manager.store import set_stores

        set_stores(None)
        set_settings(None)


@pytest.fixture
def client(runtime, _routes):
    return InProcessApi(routes=_routes)
