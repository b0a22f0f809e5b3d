"""How the local backend starts Locust, against real Locust processes on loopback.

A single process is started with `--autostart -u -r`: the load needs no call from begin, which only
confirms it. A bundle without requirements.txt is laid out by `launch` itself and Locust is exec'd
without the loader; with requirements.txt the loader does it. Either way the bundle's modules
import, Locust runs in the bundle's folder, its web API wants the launch's secret, and nothing of
the guard is left on disk or in the locustfile's environment. Workers that never connect fail the
start with the reason they always had.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import requests

from load_manager.backends.base import ClusterSpec, LocustStartError
from load_manager.backends.local import LocalLocustBackend

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

# Writes what the locustfile sees at import (master or single process), then visits a path that a
# helper module of the bundle names.
PROBE = """\
import json
import os
import sys

from helpers.paths import HOME
from locust import HttpUser, constant, task

with open({out!r}, "w") as file:
    json.dump({{"env": sorted(os.environ), "sys_path": sys.path, "cwd": os.getcwd()}}, file)


class Visitor(HttpUser):
    wait_time = constant(0.2)

    @task
    def home(self):
        self.client.get(HOME)
"""

# Every worker Locust forks dies before it can connect: the master waits for workers that never come.
# Each worker is a process of its own (local_workers.py): one that hangs at import never connects.
WORKERS_HANG = """\
import os
import time

from locust import HttpUser, constant, task

if os.environ.get("LOAD_MANAGER_WORKER_COUNT") == "2" and "LOAD_MANAGER_WORKER_INDEX" in os.environ:
    time.sleep(600)


class Visitor(HttpUser):
    wait_time = constant(0.2)

    @task
    def home(self):
        self.client.get("/")
"""


def wait_for(condition, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout  # generous: a slowed machine still gets there
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} not met within {timeout:g} s"
        time.sleep(0.05)
    return result


@pytest.mark.parametrize("requirements", [None, b""], ids=["laid-out-by-launch", "through-the-loader"])
def test_a_single_process_starts_its_load_itself_and_begin_confirms_it(tmp_path, target, requirements):
    base, tmp, out = tmp_path / "clusters", tmp_path / "tmp", tmp_path / "seen.json"
    base.mkdir()
    tmp.mkdir()
    files = {"helpers/__init__.py": b"", "helpers/paths.py": b'HOME = "/"\n'}
    if requirements is not None:
        files["requirements.txt"] = requirements  # no package: the environment builds offline
    backend = LocalLocustBackend(base_dir=str(base), env_cache_dir=str(tmp_path / "envs"))
    spec = ClusterSpec(
        run_id=f"launch-{uuid.uuid4().hex[:10]}", script=PROBE.format(out=str(out)), target_url=target.url,
        users=2, spawn_rate=2, duration_seconds=30, workers=1, files=files, env={"TMPDIR": str(tmp)},
    )  # fmt: skip
    handle = backend.launch(spec)
    try:
        # No begin yet: Locust swarms by itself (--autostart), so the target hears from it.
        wait_for(lambda: target.total_requests() > 0, timeout=120, what="load without begin")
        backend.begin(handle, spec)  # confirms the load that is on
        live = backend.sample(handle)
        assert live.load_active and live.user_count == 2

        assert requests.get(f"{handle.web_url}/stats/requests", timeout=5).status_code == 401  # the guard holds
        seen = json.loads(wait_for(lambda: out.exists() and out.read_text(), what="the probe's file"))
        bundle_dir = handle.details["bundle_dir"]
        assert Path(seen["cwd"]) == Path(bundle_dir)
        assert "LOAD_MANAGER_WEB_GUARD" not in seen["env"] and "PYTHONPATH" not in seen["env"]
        assert not any("load-manager-guard-" in entry for entry in seen["sys_path"])
        guard_dirs = [p for root in (Path(handle.details["work_dir"]), tmp) for p in root.glob("load-manager-guard-*")]
        assert guard_dirs == []  # the guard deleted its folder, secret included, at start
        assert backend.collect(handle).aggregated.num_requests > 0
    finally:
        backend.teardown(handle)
    assert list(base.iterdir()) == []


def test_workers_that_never_connect_fail_the_start_with_that_reason(tmp_path, target):
    base = tmp_path / "clusters"
    base.mkdir()
    # Long enough for the master's own boot on a loaded 2-core CI (it once took over 5 s there), whose
    # web API must answer before the wait for workers is what runs out.
    backend = LocalLocustBackend(base_dir=str(base), start_timeout=15)
    spec = ClusterSpec(
        run_id=f"noworkers-{uuid.uuid4().hex[:10]}", script=WORKERS_HANG, target_url=target.url,
        users=2, spawn_rate=2, duration_seconds=30, workers=2,
    )  # fmt: skip

    with pytest.raises(LocustStartError, match="2 Locust workers did not connect within 15 s"):
        backend.start(spec)

    assert target.total_requests() == 0
    assert list(base.iterdir()) == []  # torn down: process group and work dir
