"""Several `load-manager serve` processes on one data directory (the README's way to real
concurrency) leave each other's runs alone: a second one starting, or stopping, fails none of the
first one's active runs."""

from __future__ import annotations

import time

import pytest
import requests
from support.scripts import SIMPLE, b64
from support.serve import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_a_second_serve_neither_fails_nor_stops_the_first_ones_runs(tmp_path, target):
    data = tmp_path / "data"
    with serve(data) as first:
        test = requests.post(f"{first}/v1/load-tests", json={"name": "t", "scriptContent": b64(SIMPLE), "targetUrl": target.url}, timeout=10).json()
        run = requests.post(f"{first}/v1/load-tests/{test['id']}/runs", json={"targetUsers": 2, "durationSeconds": 8}, timeout=10).json()
        with serve(data) as second:  # starts while the run is active, then stops
            assert requests.get(f"{second}/v1/runs/{run['id']}", timeout=10).json()["status"] in {"Pending", "Starting", "Running"}
        deadline = time.monotonic() + 60
        while (current := requests.get(f"{first}/v1/runs/{run['id']}", timeout=10).json())["status"] not in {"Finished", "Failed", "Cancelled"}:
            assert time.monotonic() < deadline, current
            time.sleep(0.5)
    assert current["status"] == "Finished", current.get("failureReason")
    assert current["summary"]["totalRequests"] > 0
