"""The local runtime (as `load-manager serve` runs it) in the test process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from load_manager_local.runtime import LocalRunLifecycle, configure_local_runtime


@contextmanager
def local_runtime(tmp_path, monkeypatch, **options) -> Iterator[LocalRunLifecycle]:
    """The local runtime on tmp_path with 1 s polls, stopped and forgotten afterwards."""
    from load_manager.settings import set_settings
    from load_manager.store import set_stores

    for name in ("LOAD_MANAGER_DATA_DIR", "DEFAULT_CLUSTER_BACKEND", "RUN_STATE_MACHINE_ARN", "EVENT_BUS_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIN_POLL_SECONDS", "1")
    configure_local_runtime(tmp_path)
    lifecycle = LocalRunLifecycle(**options).start()
    try:
        yield lifecycle
    finally:
        lifecycle.stop()
        set_stores(None)
        set_settings(None)
