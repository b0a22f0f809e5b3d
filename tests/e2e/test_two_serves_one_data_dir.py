"""Several `load-manager serve` processes on one data directory (the README's way to real
concurrency) leave each other's runs alone: a second one starting, or stopping, fails none of the
first one's active runs."""

from __future__ import annotations

import time

import pytest
import requests
from support.scripts import SIMPLE, b64
from support.serve import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _wait_for(url: str, run_id: str, statuses: set[str]) -> dict:
    deadline = time.monotonic() + 90  # generous: a loaded 2-core CI boots Locust slowly
    while (current := requests.get(f"{url}/v1/runs/{run_id}", timeout=10).json())["status"] not in statuses:
        assert time.monotonic() < deadline, current
        time.sleep(0.3)
    return current


def _wait_for_load(target, more_than: int) -> None:
    deadline = time.monotonic() + 60
    while target.total_requests() <= more_than:
        assert time.monotonic() < deadline, f"no load reached the target past {more_than} requests"
        time.sleep(0.2)


def test_a_second_serve_neither_fails_nor_stops_the_first_ones_runs(tmp_path, target):
    data = tmp_path / "data"
    with serve(data) as first:
        test = requests.post(f"{first}/v1/load-tests", json={"name": "t", "scriptContent": b64(SIMPLE), "targetUrl": target.url}, timeout=10).json()
        # Long enough to outlast a second serve's start and stop however slow the machine; stopped below.
        run = requests.post(f"{first}/v1/load-tests/{test['id']}/runs", json={"targetUsers": 2, "durationSeconds": 300}, timeout=10).json()
        _wait_for(first, run["id"], {"Running", "Finished", "Failed", "Cancelled"})
        with serve(data) as second:  # starts while the run is active, then stops
            assert requests.get(f"{second}/v1/runs/{run['id']}", timeout=10).json()["status"] == "Running"
        # The first serve's Locust still loads the target, and its run is still active.
        _wait_for_load(target, target.total_requests())
        assert requests.get(f"{first}/v1/runs/{run['id']}", timeout=10).json()["status"] == "Running"
        assert requests.post(f"{first}/v1/runs/{run['id']}/stop", timeout=10).status_code == 202
        current = _wait_for(first, run["id"], {"Finished", "Failed", "Cancelled"})
    assert current["status"] == "Cancelled", current.get("failureReason")  # stopped on request, by us alone
    assert current["summary"]["totalRequests"] > 0
