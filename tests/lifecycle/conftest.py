"""The local runtime as `load-manager serve` runs it, in process: SQLite in a temp data dir, the
run lifecycle state machine executed by moto's ASL interpreter, real Locust, a real target."""

from __future__ import annotations

import pytest
from support.local_runtime import local_runtime

from load_manager_local.api import InProcessApi


@pytest.fixture
def fast_settings(tmp_path):
    """Settings for lifecycle tests without Step Functions: 1 s polls, a 60 s deadline margin."""
    from load_manager.settings import Settings, set_settings

    set_settings(Settings(data_dir=str(tmp_path), sqlite_path=str(tmp_path / "lm.db"), min_poll_seconds=1, run_deadline_margin_seconds=60))
    yield
    set_settings(None)


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    with local_runtime(tmp_path, monkeypatch) as lifecycle:
        yield lifecycle


@pytest.fixture
def client(runtime, _routes):
    return InProcessApi(routes=_routes)
