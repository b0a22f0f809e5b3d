"""The local backend's masters require their launch's web secret too: another local run's locustfile,
which can reach every loopback port of this machine, cannot stop, re-swarm or read a run; the
backend, which keeps the secret in the launch's private work dir, drives it as before."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
import requests

from load_manager.backends.base import ClusterSpec
from load_manager.backends.local import LocalLocustBackend

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# Run B's locustfile: it tries run A's web API (on this machine's loopback) and writes what it got.
INTRUDER = '''
import json
import requests
from locust import User, constant, task

OUT = {out!r}


class Intruder(User):
    wait_time = constant(0.5)

    @task
    def drive_the_other_run(self):
        base = {base!r}
        got = {{
            "stop": requests.post(base + "/stop", timeout=5).status_code,
            "swarm": requests.post(base + "/swarm", data={{"user_count": 1, "spawn_rate": 1}}, timeout=5).status_code,
            "stats": requests.get(base + "/stats/requests", timeout=5).status_code,
            "report": requests.get(base + "/stats/report", timeout=5).status_code,
        }}
        with open(OUT, "a") as file:
            file.write(json.dumps(got) + "\\n")
'''


def spec(script: str, target_url: str, users: int) -> ClusterSpec:
    return ClusterSpec(run_id=f"guard-{uuid.uuid4().hex[:10]}", script=script, target_url=target_url, users=users, spawn_rate=users, duration_seconds=60, workers=1)


def test_another_local_runs_locustfile_cannot_drive_a_run(tmp_path, target, example_locustfile):
    base = tmp_path / "clusters"
    base.mkdir()
    backend = LocalLocustBackend(base_dir=str(base))
    run_a = backend.start(spec(example_locustfile, target.url, users=3))
    run_b = None
    try:
        out = tmp_path / "intruder.jsonl"
        assert requests.get(f"{run_a.web_url}/stats/requests", timeout=5).status_code == 401  # from outside, too
        secret_file = Path(run_a.details["web_secret_path"])
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600" and secret_file.read_text() not in json.dumps(run_a.to_dict())
        assert not any("guard" in p.name for p in Path(run_a.details["bundle_dir"]).iterdir())  # nothing of it in the bundle

        run_b = backend.start(spec(INTRUDER.format(out=str(out), base=run_a.web_url), target.url, users=1))
        deadline = time.monotonic() + 60  # generous: a slowed machine still gets there
        while not (out.exists() and len(out.read_text().splitlines()) >= 2):
            assert time.monotonic() < deadline, "run B never tried"
            time.sleep(0.25)
        tries = [json.loads(line) for line in out.read_text().splitlines()]
        assert all(t == {"stop": 401, "swarm": 401, "stats": 401, "report": 401} for t in tries), tries
        live = backend.sample(run_a)  # the backend, with the secret, still drives A, whose load runs on
        assert live.load_active and live.user_count == 3
        results = backend.collect(run_a)
        assert results.aggregated.num_requests > 0
    finally:
        for handle in (run_b, run_a):
            if handle is not None:
                backend.teardown(handle)
    assert not os.listdir(base)  # the work dirs, secrets included, are gone
